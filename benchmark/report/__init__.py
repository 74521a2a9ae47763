"""The report stage: the study's tables and figures, rendered from ``results/<dataset>/<profile>/`` alone.

:func:`table_names` and :func:`figure_names` read the registries of :mod:`.tables`, :mod:`.verdicts`
and :mod:`.figures` from their sources, and ``build_report`` (:mod:`.render`) is imported lazily, so
that checking a manifest's lists, or finding a report up to date, loads no plotting library.
"""

from pathlib import Path

from benchmark.common.registry import decorated_names

HERE = Path(__file__).resolve().parent


def table_names() -> list[str]:
    """The tables a manifest may list."""
    return [name for module in ("tables.py", "verdicts.py")
            for name in decorated_names(HERE / module, "register_table")]


def figure_names() -> list[str]:
    """The figures a manifest may list (the figures package imports its modules in this order)."""
    return [name for path in sorted((HERE / "figures").glob("*.py"))
            for name in decorated_names(path, "register_figure")]


def __getattr__(name: str):
    if name == "build_report":
        from benchmark.report.render import build_report

        return build_report
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
