"""``python -m benchmark report``: render the study's tables and figures from finished experiments.

Reads the results of the run plan of ``--manifest``, ``--profile``, ``--dataset`` or ``--data`` and
``--results`` (:mod:`benchmark.runner.plan`: the experiments ``run`` was given, with the seeds it
recorded), never trains and never reads the dataset, and writes ``<out>/<dataset>/<profile>/index.html``
with the tables and figures the manifest lists. A report whose inputs have not changed since it was
rendered is left as it is (``--force`` renders it anyway). The run is compared with the reference
result of its dataset and profile, if the artifact ships one (:mod:`benchmark.report.reproduce`): the
comparison's lines, then its summary, are printed and are the report's section "Did it reproduce?".
Exit status 2 when no planned experiment has finished, or when a results file cannot be read (the
report is rendered without it and names it).
"""

from __future__ import annotations

import sys
from pathlib import Path

from benchmark.commands import plan_options
from benchmark.report import figure_names, table_names
from benchmark.report.freshness import CLAIMS, report_key, up_to_date
from benchmark.runner.plan import RunPlan


def configure(parser) -> None:
    plan_options.add_options(parser)
    parser.add_argument("--out", type=Path, default=Path("reports"), help="reports folder (default: reports)")
    parser.add_argument("--force", action="store_true", help="render even when the report is up to date")
    add_claims_option(parser)
    add_oks_option(parser)


def add_claims_option(parser) -> None:
    parser.add_argument("--claims", type=Path, default=CLAIMS,
                        help="the claims file the verdicts judge (default experiments/claims.yaml)")


def add_oks_option(parser) -> None:
    parser.add_argument("--oks", action="store_true",
                        help="add OKS AP, AP50 and AR to the loss and occlusion tables (on by itself for a dataset "
                             "converted from COCO; docs/CONVENTIONS.md, OKS)")


def finished_results(plan: RunPlan, claims: Path = CLAIMS):
    """The results of ``plan`` judged by ``claims``; None, said on stderr, when none of its experiments
    has finished."""
    from benchmark.report.results import results_of

    results = results_of(plan, claims)
    if results.experiments:
        return results
    print(f"error: no finished experiment of this plan in {plan.results}: run `python -m benchmark run` with the "
          "same --manifest, --profile, --dataset or --data and --results first", file=sys.stderr)
    return None


def name_unreadable(results, consequence: str) -> bool:
    """Say on stderr which results files cannot be read and that ``consequence`` (``{id}`` the
    experiment's); whether there was any."""
    unreadable = [p for p in results.problems if p.status == "unreadable"]
    for p in unreadable:
        print(f"error: {p.error}: {consequence.format(id=p.id)}; fix or delete that folder and run again",
              file=sys.stderr)
    return bool(unreadable)


def render(plan: RunPlan, out: Path, force: bool = False, claims: Path = CLAIMS, oks: bool = False) -> int:
    """Render the report of ``plan`` into ``<out>/<dataset>/<profile>/`` (with ``oks``, OKS AP beside
    PCKsh); the exit status."""
    plan.manifest.check_report(table_names(), figure_names())
    tables, figures = plan.manifest.data.tables, plan.manifest.data.figures
    results = finished_results(plan, claims)
    if results is None:
        return 2
    target = plan.report_folder(out)
    results.oks = oks
    from benchmark.report.render import INDEX, REPRODUCTION, build_report
    from benchmark.report.reproduce import announce, reference_path, reproduction

    key = report_key(plan, tables, figures, claims, oks, reference_path(plan))
    if force or not up_to_date(target, key):
        found, line = reproduction(results, plan, claims)  # beside the reference result, if any
        print(f"report written to {build_report(results, target, tables, figures, key, found, line)}")
    else:
        print(f"report up to date: {target / INDEX}")
    if (target / REPRODUCTION).is_file():
        announce((target / REPRODUCTION).read_text().splitlines())
    return 2 if name_unreadable(results, "the report leaves {id} out") else 0


def main(args) -> int:
    return render(plan_options.resolve(args), args.out, args.force, args.claims, args.oks)
