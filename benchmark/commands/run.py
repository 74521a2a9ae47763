"""``python -m benchmark run``: the command line of :mod:`benchmark.runner.execute`.

With ``--report`` it then renders the report of the same plan (``python -m benchmark report``), so
``./run_all.sh`` passes its options straight through and the two stages never disagree about where
the results are.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from benchmark.commands import plan_options
from benchmark.commands.report import add_claims_option, add_oks_option, render
from benchmark.common.errors import InputError
from benchmark.report import figure_names, table_names
from benchmark.runner.execute import Outcome, run
from benchmark.runner.executors import DaskExecutor, LocalExecutor
from benchmark.runner.plan import to_read, warn_ignored


def summary_table(outcomes: list[Outcome]) -> str:
    frame = pd.DataFrame([{"experiment": o.id, "status": o.status, "wall time (s)": round(o.wall_time_s, 1),
                           "detail": o.detail} for o in outcomes])
    return frame.to_string(index=False)


def configure(parser) -> None:
    plan_options.add_options(parser, run=True)
    parser.add_argument("--force", action="store_true", help="retrain even when a complete result exists")
    parser.add_argument("--report", action="store_true",
                        help="then render the report of the same results (as `python -m benchmark report`)")
    parser.add_argument("--out", type=Path, default=Path("reports"), help="with --report: reports folder (default reports)")
    add_claims_option(parser)
    add_oks_option(parser)
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
            raise InputError(f"{', '.join(given)} need(s) --executor dask")
        return LocalExecutor()
    return DaskExecutor(**dask_options)


def main(args) -> int:
    executor = executor_from(args)
    plan = plan_options.resolve(args, run=True, progress=not args.no_progress)
    # The report's lists are checked now, not after hours of training.
    plan.manifest.check_report(table_names(), figure_names())
    try:
        with executor:
            outcomes = run(plan, args.force, progress=not args.no_progress, executor=executor)
    except KeyboardInterrupt:
        print("\ninterrupted: finished experiments are kept, unfinished ones are discarded; "
              "run the same command again to resume", file=sys.stderr)
        return 130
    print(summary_table(outcomes))
    print(f"results in {plan.results}")
    for o in outcomes:
        if o.status == "skipped":
            print(f"\nskipped {o.id}: {o.detail} (the report shows it as skipped; nothing else is affected)")
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        print(f"\n{len(failed)} experiment(s) failed: {', '.join(o.id for o in failed)}; "
              "their executed notebooks are in <experiment>/notebook.ipynb there")
    status = 1 if failed else 0
    if args.report:
        reading = to_read(plan)  # every planned experiment, not only those run now
        warn_ignored(reading)
        reported = render(reading, args.out, claims=args.claims, oks=args.oks)
        status = status or reported
    return status
