"""``python -m benchmark claims``: the verdict of each of the study's claims on a profile's results.

Prints the report's ``claims`` table (verdict, our comparisons, the published evidence, a dagger where
an experiment had not converged) and the paired comparisons behind it (the difference a - b with its
paired interval), from ``<results>/<dataset>/<profile>/`` alone (docs/EVIDENCE.md). Exit status 0; with
``--strict``, 1 when any claim is contradicted; 1 when no experiment has finished there.
"""

from __future__ import annotations

import sys
from pathlib import Path

from benchmark.report.results import load_results
from benchmark.report.tables import STALLED_NOTE, Table, claims_table, comparisons_table, display
from benchmark.runner.datasets import dataset_name
from benchmark.runner.manifest import MANIFEST, LoadedManifest


def configure(parser) -> None:
    parser.add_argument("--profile", default="quick", help="manifest profile (default: quick)")
    parser.add_argument("--data", type=Path, help="the dataset root given to `run --data`")
    parser.add_argument("--dataset", metavar="NAME", help="the manifest dataset given to `run --dataset`")
    parser.add_argument("--results", type=Path, default=Path("results"), help="results folder (default: results)")
    parser.add_argument("--manifest", type=Path, default=MANIFEST, help="the manifest `run` was given")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a claim is contradicted")


def _text(table: Table, columns: list[str]) -> str:
    """The table's displayed cells of ``columns``, one left-aligned line per row, its title above."""
    if table.data is None:
        return f"{table.title}: {table.note}"
    shown = display(table)
    rows = [[" / ".join(map(str, key)) if isinstance(key, tuple) else str(key), *cells]
            for key, cells in zip(shown.index, shown[columns].itertuples(index=False))]
    widths = [max(len(str(r[i])) for r in rows + [["", *columns]]) for i in range(len(columns) + 1)]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip()
             for row in [["", *columns], *rows]]
    return "\n".join([table.title, *lines])


def main(args) -> int:
    name = dataset_name(LoadedManifest(args.manifest), args.profile, args.dataset, args.data)
    results = load_results(args.results / name, args.profile)
    if not results.experiments:
        print(f"error: no finished experiment in {results.root}: run `python -m benchmark run` with the same "
              "--profile, --data or --dataset, --results and --manifest first", file=sys.stderr)
        return 1
    claims = claims_table(results)
    print(_text(claims, ["verdict", "comparisons", "published"]))
    print()
    print(_text(comparisons_table(results), ["b", "metric", "a - b", "videos", "verdict", "note"]))
    if claims.stalled is not None and claims.stalled.any():
        print(f"\n{STALLED_NOTE}")
    contradicted = [] if claims.data is None else list(claims.data.index[claims.data["verdict"] == "contradicted"])
    if contradicted:
        print(f"\ncontradicted: {', '.join(contradicted)}")
    return 1 if args.strict and contradicted else 0
