"""``python -m benchmark run``: the command line of :mod:`benchmark.runner.execute`."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from benchmark.report import figure_names, table_names
from benchmark.runner.execute import Outcome, run
from benchmark.runner.executors import DaskExecutor, LocalExecutor
from benchmark.runner.manifest import MANIFEST, LoadedManifest


def summary_table(outcomes: list[Outcome]) -> str:
    frame = pd.DataFrame([{"experiment": o.id, "status": o.status, "wall time (s)": round(o.wall_time_s, 1),
                           "detail": o.detail} for o in outcomes])
    return frame.to_string(index=False)


def configure(parser) -> None:
    parser.add_argument("--profile", default="quick", help="manifest profile (default: quick)")
    parser.add_argument("--manifest", type=Path, default=MANIFEST)
    parser.add_argument("--only", metavar="PATTERN", help="run experiments whose id matches (glob or substring)")
    parser.add_argument("--data", type=Path, help="a dataset root in the LabelMe layout instead of the profile's")
    parser.add_argument("--seeds", type=int, nargs="+", metavar="SEED",
                        help="train every selected experiment with these seeds instead of the manifest's (seed 0 "
                             "keeps the plain experiment id, seed s adds -s<s>; each seed is cached on its own)")
    parser.add_argument("--dataset", metavar="NAME",
                        help="a dataset of the manifest instead of the profile's (e.g. real: its root from "
                             "$INFANT_POSE_REAL_DATA or --data)")
    parser.add_argument("--force", action="store_true", help="retrain even when a complete result exists")
    parser.add_argument("--results", type=Path, default=Path("results"),
                        help="results folder (default: results); experiments go to <results>/<dataset>/<profile>/")
    parser.add_argument("--data-dir", type=Path, default=Path("data"), help="where synthetic datasets are generated")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--executor", choices=("local", "dask"), default="local",
                        help="local: one experiment at a time in this process (default); dask: one per Dask "
                             "worker at a time (docs/SCALING.md)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="dask: connect to a running cluster (e.g. tcp://host:8786) instead of starting one here")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="dask: worker processes of the cluster started here (default: one per visible GPU, "
                             "else 1)")
    parser.add_argument("--gpus-per-worker", type=int, metavar="N",
                        help="dask: GPUs each worker owns and each experiment asks for (default: 1 when GPUs are "
                             "visible here, else 0; give it with --scheduler when the workers declare GPU=N)")


def executor_from(args) -> LocalExecutor | DaskExecutor:
    dask_options = {"scheduler": args.scheduler, "workers": args.workers, "gpus_per_worker": args.gpus_per_worker}
    if args.executor == "local":
        given = [f"--{k.replace('_', '-')}" for k, v in dask_options.items() if v is not None]
        if given:
            raise ValueError(f"{', '.join(given)} need(s) --executor dask")
        return LocalExecutor()
    return DaskExecutor(**dask_options)


def main(args) -> int:
    # The report's lists are checked now, not after hours of training.
    LoadedManifest(args.manifest).check_report(table_names(), figure_names())
    try:
        executor = executor_from(args)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        with executor:
            outcomes = run(args.manifest, args.profile, args.only, args.data, args.force, args.results,
                           args.data_dir, progress=not args.no_progress, executor=executor,
                           seeds=args.seeds, dataset=args.dataset)
    except KeyboardInterrupt:
        print("\ninterrupted: finished experiments are kept, unfinished ones are discarded; "
              "run the same command again to resume", file=sys.stderr)
        return 130
    print(summary_table(outcomes))
    print(f"results in {outcomes[0].folder.parent}")
    for o in outcomes:
        if o.status == "skipped":
            print(f"\nskipped {o.id}: {o.detail} (the report shows it as skipped; nothing else is affected)")
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        print(f"\n{len(failed)} experiment(s) failed: {', '.join(o.id for o in failed)}; "
              "their executed notebooks are in <experiment>/notebook.ipynb there")
    return 1 if failed else 0
