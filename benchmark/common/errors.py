"""The one base class of the problems a user can cause (a manifest, claims file, dataset, results
folder or option in error): every command prints its message, which names the file and what to do,
and exits 2, never with a traceback (``benchmark.commands.main``)."""


class InputError(ValueError):
    """Bad input or usage; the message names the file (and line or field) and what to do."""
