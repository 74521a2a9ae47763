"""The report stage: the study's tables and figures, rendered from ``results/<profile>/`` alone.

``build_report`` (in :mod:`benchmark.report.render`) is imported lazily, so that loading results or
the table registry does not pull in matplotlib and nbconvert.
"""


def __getattr__(name: str):
    if name == "build_report":
        from .render import build_report

        return build_report
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
