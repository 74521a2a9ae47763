"""``python -m benchmark report``: render the study's tables and figures from finished experiments.

Reads ``<results>/<profile>/`` (written by ``python -m benchmark run``), never trains, and writes
``<out>/<profile>/index.html`` with the tables and figures the manifest lists.
"""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def read_lists(manifest: Path) -> tuple[list[str], list[str]]:
    """The manifest's ``tables`` and ``figures`` lists (empty when absent)."""
    data = yaml.safe_load(Path(manifest).read_text()) or {}
    return list(data.get("tables") or []), list(data.get("figures") or [])


def configure(parser) -> None:
    parser.add_argument("--profile", default="quick", help="manifest profile (default: quick)")
    parser.add_argument("--results", type=Path, default=Path("results"), help="results folder (default: results)")
    parser.add_argument("--out", type=Path, default=Path("reports"), help="reports folder (default: reports)")
    parser.add_argument("--manifest", type=Path, default=REPO / "experiments" / "manifest.yaml",
                        help="manifest whose `tables` and `figures` lists are rendered")


def main(args) -> int:
    from .render import build_report

    tables, figures = read_lists(args.manifest)
    index = build_report(args.results, args.out, tables, figures, args.profile)
    print(f"report written to {index}")
    return 0
