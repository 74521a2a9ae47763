"""``python -m benchmark shifts``: trained experiments on more named-shift videos than their dataset holds
(:mod:`benchmark.evidence.shifts`).

Generates ``--videos-per-shift`` new DomainShift videos per named shift (generator seed ``--seed``; kept
under ``--data-dir`` for the next call), and prints, per experiment and shift, PCK@0.1 with its 95 %
video-bootstrap interval and the share of the experiment's own Test PCK@0.1 it keeps; with several
experiments (the seeds of one setting), their mean share too. ``--csv`` also writes the table (one row
per experiment and shift).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from benchmark.commands import plan_options
from benchmark.common.atomic import staged_file
from benchmark.common.errors import InputError
from benchmark.common.result_files import COMPLETE
from benchmark.evidence.shifts import shift_scores, shift_videos, source_dataset
from benchmark.runner.manifest import select


def configure(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("experiments", nargs="+",
        help="experiment ids of the plan (--manifest, --profile, --dataset, --results; e.g. "
             "'loss-simple_baseline-kce*' for its seeds) or experiment folders, all trained on one synthetic dataset")
    add("--videos-per-shift", type=int, default=20, help="new videos per named shift (default %(default)s)")
    add("--seed", type=int, default=11, help="generator seed of the new videos (default %(default)s; the "
                                             "quick dataset's is 0, so its videos are not among them)")
    add("--data-dir", type=Path, default=Path("data/shifts"), help="where the videos are generated and kept")
    add("--csv", type=Path, help="also write the table to this CSV file")
    plan_options.add_options(parser)


def experiment_folders(args: argparse.Namespace) -> list[Path]:
    """The folders of ``args.experiments``: folders as given, ids (globs allowed) from the run plan."""
    given = [Path(e) for e in args.experiments if Path(e).is_dir()]
    patterns = [e for e in args.experiments if not Path(e).is_dir()]
    if not patterns:
        return given
    found = plan_options.resolve(args)
    for pattern in patterns:
        chosen = [e.id for e in select(list(found.experiments), pattern) if (found.folder(e.id) / COMPLETE).is_file()]
        if not chosen:
            raise InputError(f"{pattern}: no finished experiment of the plan matches it ({found.results}; "
                             f"its experiments: {', '.join(found.ids)})")
        given += [found.folder(i) for i in chosen]
    return given


def main(args: argparse.Namespace) -> int:
    folders = experiment_folders(args)
    root = shift_videos(source_dataset(folders), args.videos_per_shift, args.seed, args.data_dir)
    table = pd.concat([shift_scores(folder, root) for folder in folders], ignore_index=True)
    if args.csv:
        with staged_file(args.csv) as tmp:
            table.to_csv(tmp, index=False)
    with pd.option_context("display.width", 160, "display.max_rows", None):
        print(table.to_string(index=False, float_format="{:.3f}".format))
        if len(folders) > 1:
            print("\nmean share of Test kept:")
            print(table.groupby("shift", sort=False)["kept"].mean().map("{:.0%}".format).to_string())
    return 0
