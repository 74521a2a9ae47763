"""``python -m benchmark report``: render the study's tables and figures from finished experiments.

Reads ``<results>/<profile>/`` (written by ``python -m benchmark run``), never trains, and writes
``<out>/<profile>/index.html`` with the tables and figures the manifest lists. A report whose
inputs have not changed since it was rendered is left as it is (``--force`` renders it anyway).
"""

from __future__ import annotations

from pathlib import Path

from benchmark.report import figure_names, table_names
from benchmark.report.freshness import report_key, up_to_date
from benchmark.runner.manifest import MANIFEST, LoadedManifest


def configure(parser) -> None:
    parser.add_argument("--profile", default="quick", help="manifest profile (default: quick)")
    parser.add_argument("--results", type=Path, default=Path("results"), help="results folder (default: results)")
    parser.add_argument("--out", type=Path, default=Path("reports"), help="reports folder (default: reports)")
    parser.add_argument("--manifest", type=Path, default=MANIFEST,
                        help="manifest whose `tables` and `figures` lists are rendered")
    parser.add_argument("--force", action="store_true", help="render even when the report is up to date")


def main(args) -> int:
    manifest = LoadedManifest(args.manifest)
    manifest.check_report(table_names(), figure_names())
    tables, figures = manifest.data.tables, manifest.data.figures
    results, target = args.results / args.profile, args.out / args.profile
    key = report_key(results, tables, figures)
    if not args.force and up_to_date(target, key):
        print(f"report up to date: {target / 'index.html'}")
        return 0
    from benchmark.report.render import build_report

    index = build_report(args.results, args.out, tables, figures, args.profile, key=key)
    print(f"report written to {index}")
    return 0
