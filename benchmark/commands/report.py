"""``python -m benchmark report``: render the study's tables and figures from finished experiments.

Reads ``<results>/<dataset>/<profile>/`` (written by ``python -m benchmark run`` given the same
``--profile``, ``--data`` or ``--dataset``, ``--results`` and ``--manifest``; the dataset named by
:func:`benchmark.runner.datasets.dataset_name`), never trains, and writes
``<out>/<dataset>/<profile>/index.html`` with the tables and figures the manifest lists. A report
whose inputs have not changed since it was rendered is left as it is (``--force`` renders it
anyway); a results folder without a finished experiment is an error (exit 1). Folders of experiments
the manifest no longer lists are left out of the tables and listed as problems.
"""

from __future__ import annotations

import sys
from pathlib import Path

from benchmark.report import figure_names, table_names
from benchmark.report.freshness import report_key, up_to_date
from benchmark.runner.datasets import dataset_name
from benchmark.runner.manifest import MANIFEST, LoadedManifest


def configure(parser) -> None:
    parser.add_argument("--profile", default="quick", help="manifest profile (default: quick)")
    parser.add_argument("--data", type=Path, help="the dataset root given to `run --data`")
    parser.add_argument("--dataset", metavar="NAME", help="the manifest dataset given to `run --dataset`")
    parser.add_argument("--results", type=Path, default=Path("results"), help="results folder (default: results)")
    parser.add_argument("--out", type=Path, default=Path("reports"), help="reports folder (default: reports)")
    parser.add_argument("--manifest", type=Path, default=MANIFEST,
                        help="manifest whose `tables` and `figures` lists are rendered")
    parser.add_argument("--force", action="store_true", help="render even when the report is up to date")


def main(args) -> int:
    manifest = LoadedManifest(args.manifest)
    manifest.check_report(table_names(), figure_names())
    tables, figures = manifest.data.tables, manifest.data.figures
    name = dataset_name(manifest, args.profile, args.dataset, args.data)
    results, target = args.results / name / args.profile, args.out / name / args.profile
    if not any(results.glob("*/COMPLETE.json")):
        print(f"error: no finished experiment in {results}: run `python -m benchmark run` with the same "
              "--profile, --data or --dataset, --results and --manifest first", file=sys.stderr)
        return 1
    experiments = [e.id for e in manifest.experiments(args.profile, seeds=[0])]  # any seed is kept
    key = report_key(results, tables, figures, experiments)
    if not args.force and up_to_date(target, key):
        print(f"report up to date: {target / 'index.html'}")
        return 0
    from benchmark.report.render import build_report

    index = build_report(args.results / name, args.out / name, tables, figures, args.profile, key=key,
                         experiments=experiments)
    print(f"report written to {index}")
    return 0
