"""``python -m benchmark claims``: the verdict of each of the study's claims on a profile's results.

Prints the report's ``claims`` table (verdict, our comparisons, the published evidence, a dagger where
an experiment had not converged) and the paired comparisons behind it (the difference a - b with its
paired interval), from the results of the run plan alone (the same experiments as the report:
:mod:`benchmark.runner.plan`; docs/EVIDENCE.md). Exit status 0; with ``--strict``, 1 when any claim is
contradicted; 2 when no planned experiment has finished, a results file cannot be read, or the claims
file has an error.
"""

from __future__ import annotations

from benchmark.commands import plan_options
from benchmark.commands.report import add_claims_option, finished_results, name_unreadable
from benchmark.evidence.claims import VERDICTS
from benchmark.report.evidence_table import STALLED_NOTE, Table
from benchmark.report.formatting import display
from benchmark.report.verdicts import claims_table, comparisons_table


def configure(parser) -> None:
    plan_options.add_options(parser)
    add_claims_option(parser)
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
    plan = plan_options.resolve(args)
    results = finished_results(plan, args.claims)
    if results is None:
        return 2
    claims = claims_table(results)
    print(_text(claims, ["verdict", "comparisons", "published"]))
    print()
    print(_text(comparisons_table(results), ["b", "metric", "a - b", "videos", "verdict", "why"]))
    print("\nconvergence of each trained experiment (docs/EVIDENCE.md):")
    for e in results.experiments:
        if e.trained or e.kind == "labelling":  # a labelling simulation: its last retrain
            print(f"  {e.id}: {e.convergence.reason()}")
    if claims.stalled is not None and claims.stalled.any():
        print(f"\n{STALLED_NOTE}")
    verdicts = [] if claims.data is None else list(claims.data["verdict"])
    print("\nclaims: " + ", ".join(f"{verdicts.count(v)} {v}" for v in VERDICTS))
    contradicted = [] if claims.data is None else list(claims.data.index[claims.data["verdict"] == "contradicted"])
    if contradicted:
        print(f"contradicted: {', '.join(contradicted)}")
    unreadable = name_unreadable(results, "left out of the verdicts")
    return 2 if unreadable else 1 if args.strict and contradicted else 0
