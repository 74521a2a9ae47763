"""Atomic output: every file and folder the suite writes appears complete or not at all.

One policy for all of them: work happens in a hidden temporary sibling (same filesystem, so the
final rename is atomic), which gets the permissions of a normally created file or folder (the
umask's, not ``mkstemp``'s private ones) and is renamed into place only when the block succeeds;
on any error, Ctrl-C included, the temporary is removed and the target is left as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmark.common.errors import InputError


class OutputError(InputError):
    """The output folder would overwrite something or lie inside the input."""


def check_output(out: Path, source: Path) -> None:
    """Refuse an ``out`` that is ``source``, lies inside it (when it is a folder), or is anything
    but a new or empty folder. Both paths are resolved first."""
    out, source = Path(out).resolve(), Path(source).resolve()
    if source.is_dir() and out.is_relative_to(source):
        raise OutputError(f"--out {out} is the input folder {source} or inside it; choose another folder")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise OutputError(f"--out {out} exists and is not an empty folder; choose a new folder")


def _publish(path: Path) -> None:
    """Give a temporary the permissions of a file or folder created normally (umask applied)."""
    umask = os.umask(0)
    os.umask(umask)
    path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)


def swap_in(new: Path, target: Path) -> None:
    """Replace ``target`` (absent, a file or a folder) by ``new``: the old one is moved aside first
    and deleted last, so ``target`` is never missing once it existed, nor half-replaced."""
    new, target = Path(new), Path(target)
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        if old.is_dir():
            shutil.rmtree(old)
        os.replace(target, old)
    os.replace(new, target)
    if old is not None:
        shutil.rmtree(old) if old.is_dir() else old.unlink()


@contextmanager
def staged_folder(out: Path, replace: bool = False) -> Iterator[Path]:
    """A temporary folder next to ``out``, swapped in as ``out`` when the block succeeds and removed
    when it fails. ``out`` may exist only when empty, unless ``replace`` allows replacing it."""
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        yield tmp
        _publish(tmp)
        if out.exists() and not replace:
            out.rmdir()  # only an empty folder may be there (check_output refused anything else)
        swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextmanager
def staged_file(out: Path) -> Iterator[Path]:
    """A temporary file path next to ``out`` (keeping its suffix, so writers that pick a format from
    it work), renamed to ``out`` when the block succeeds and removed when it fails."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=f".partial{out.suffix}", dir=out.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        _publish(tmp)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def link_or_copy(source: str | Path, target: str | Path) -> None:
    """Hard-link a file (no second copy), or copy it where the filesystem cannot link; for files
    that are never changed in place (a shared model, a dataset split's frames)."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
