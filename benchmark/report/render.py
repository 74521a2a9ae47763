"""Render the report: tables as CSV, Markdown, LaTeX (booktabs) and HTML; figures as PNG; every
executed notebook as HTML; and one ``index.html`` (plus ``README.md``) from Jinja2 templates.

Layout of a report folder (``reports/<dataset>/<profile>/``)::

    index.html  README.md
    tables/<name>.csv .md .tex      figures/<name>.png      notebooks/<experiment>.html

The report is rendered into a temporary sibling folder and swapped in at the end, so an existing
report is only replaced by a complete one.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import jinja2

from benchmark.common.atomic import staged_folder
from benchmark.report import verdicts  # noqa: F401  (registers the claims' tables)
from benchmark.report.evidence_table import TABLES, Table
from benchmark.report.figures import FIGURES, Figure
from benchmark.report.formatting import EXPLANATION, display, folded_html, html, latex, markdown_rows, numbers
from benchmark.report.freshness import KEY_FILE
from benchmark.report.results import Results
from benchmark.report.tables import problems_table

TEMPLATES = Path(__file__).resolve().parent / "templates"
INDEX = "index.html"
HASHES = "hashes.json"  # in notebooks/: the hash of each executed notebook converted there
REPRODUCTION = "reproduction.txt"  # the comparison with the reference result, as the console shows it
NOT_COMPARABLE = ("These numbers come from SYNTHETIC data. They test the pipeline and are NOT comparable "
                  "to the published numbers shown beside them.")


@dataclass
class RenderedTable:
    """A table and its renderings; ``files`` maps a format (csv, md, tex) to a path in the report."""

    table: Table
    html: str = ""
    markdown: str = ""
    files: dict[str, str] | None = None


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), trim_blocks=True, lstrip_blocks=True,
                              autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",)),
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def write_table(table: Table, folder: Path, env: jinja2.Environment) -> RenderedTable:
    """Write ``<name>.csv`` (the numbers and their intervals), ``.md`` and ``.tex`` (the displayed strings)."""
    if table.data is None:
        return RenderedTable(table)
    folder.mkdir(parents=True, exist_ok=True)
    numbers(table).to_csv(folder / f"{table.name}.csv")
    shown = display(table)
    header, rows = markdown_rows(shown)
    markdown = env.get_template("table.md.j2").render(table=table, header=header, rows=rows,
                                                               levels=shown.index.nlevels)
    (folder / f"{table.name}.md").write_text(markdown)
    (folder / f"{table.name}.tex").write_text(latex(shown, table.title))
    files = {ext: f"{folder.name}/{table.name}.{ext}" for ext in ("csv", "md", "tex")}
    shown_html = (folded_html(shown, table.name, table.folds, table.short) if table.folds
                  else html(shown, table.name, table.compact, table.short))
    return RenderedTable(table, shown_html, markdown, files)


def convert_notebooks(results: Results, folder: Path, previous: Path | None = None) -> dict[str, str]:
    """Every executed notebook (finished and failed) as HTML: experiment id -> path in the report.

    A notebook whose bytes are those the ``previous`` report converted (``hashes.json`` there) is
    copied from it instead of converted again (nbconvert takes about a second per notebook)."""
    done = _read_json(previous / HASHES) if previous else {}
    exporter, links, hashes = None, {}, {}
    for item in [*results.experiments, *results.problems]:
        if item.notebook is None:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        hashes[item.id] = hashlib.sha256(item.notebook.read_bytes()).hexdigest()
        html = folder / f"{item.id}.html"
        if done.get(item.id) == hashes[item.id] and (previous / html.name).is_file():
            shutil.copy2(previous / html.name, html)
        else:
            if exporter is None:
                from nbconvert import HTMLExporter

                exporter = HTMLExporter()
            html.write_text(exporter.from_filename(str(item.notebook))[0], encoding="utf-8")
        links[item.id] = f"{folder.name}/{html.name}"
    if hashes:
        (folder / HASHES).write_text(json.dumps(hashes, indent=1))
    return links


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _check_names(tables: list[str], figures: list[str]) -> None:
    for kind, names, known in (("table", tables, TABLES), ("figure", figures, FIGURES)):
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"unknown {kind}(s) {', '.join(map(repr, unknown))}; known: {', '.join(known)}")


LEAD = ("claims", "verdicts")  # the table and figure that open the report: does the study hold?
UNDER_LEAD = ("comparisons",)  # then, folded, the comparisons behind them


def _render(results: Results, folder: Path, tables: list[str], figures: list[str], previous: Path,
            reproduction=None, reproduction_line: str = "") -> None:
    env = _environment()
    built = [TABLES[name](results) for name in tables]
    if results.problems:
        built.append(problems_table(results))
    rendered = [write_table(t, folder / "tables", env) for t in built]
    (folder / "figures").mkdir()
    drawn: list[Figure] = [FIGURES[name](results, folder / "figures") for name in figures]
    context = {
        "provenance": results.provenance(),
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "warning": NOT_COMPARABLE if results.synthetic else "",
        "evidence": EXPLANATION,
        "lead_tables": [t for t in rendered if t.table.name in LEAD],
        "lead_figures": [f for f in drawn if f.name in LEAD],
        "under_lead": [t for t in rendered if t.table.name in UNDER_LEAD],
        "tables": [t for t in rendered if t.table.name not in LEAD + UNDER_LEAD],
        "figures": [f for f in drawn if f.name not in LEAD],
        "notebooks": convert_notebooks(results, folder / "notebooks", previous),
        "experiments": results.experiments,
        "problems": results.problems,
        "reproduction": reproduction,
        "reproduction_line": reproduction_line,
    }
    if reproduction_line:
        (folder / REPRODUCTION).write_text("\n".join(reproduction.lines() if reproduction else [reproduction_line]) + "\n")
    (folder / INDEX).write_text(env.get_template("index.html.j2").render(**context), encoding="utf-8")
    (folder / "README.md").write_text(env.get_template("report.md.j2").render(**context), encoding="utf-8")


def build_report(results: Results, target: Path, tables: list[str], figures: list[str], key: str = "",
                 reproduction=None, reproduction_line: str = "") -> Path:
    """Render the report of ``results`` (:func:`benchmark.report.results.results_of`) into the folder
    ``target``; returns the path of its ``index.html``. Table and figure names are keys of
    ``TABLES`` and ``FIGURES``; ``key`` (:func:`benchmark.report.freshness.report_key`) is stored
    so that an unchanged report is not rendered again. ``reproduction`` (a
    :class:`benchmark.report.reproduce.Reproduction`, or None with ``reproduction_line`` saying why
    there is none) is the section "Did it reproduce?" and :data:`REPRODUCTION`."""
    _check_names(tables, figures)
    target = Path(target)
    with staged_folder(target, replace=True) as scratch:
        _render(results, scratch, tables, figures, target / "notebooks", reproduction, reproduction_line)
        (scratch / KEY_FILE).write_text(key)
    return target / INDEX
