"""``python -m benchmark reproduce``: did this run reproduce the reference result shipped with the artifact?

Compares the finished experiments of the run plan with ``experiments/reference_results/<dataset>/<profile>.json``
(:mod:`benchmark.report.reproduce`): per experiment whether its Test and Valid PCK@0.1 and mKS lie in the
reference's 95 % intervals and the reference's in its, which claims changed verdict, and what differs in
the environment; then one summary line. ``--write`` writes that file from this run instead (review it and
commit it). Exit status 0 when everything reproduced, or when there is no reference (said in one line);
1 when an experiment differs or is missing, or a verdict changed; 2 when no planned experiment has
finished, a results or reference file cannot be read, or (``--write``) a planned experiment has not finished.
"""

from __future__ import annotations

from benchmark.commands import plan_options
from benchmark.commands.report import add_claims_option, finished_results
from benchmark.common.errors import InputError
from benchmark.report.reproduce import announce, describe, reference_path, reproduction, write_reference


def configure(parser) -> None:
    plan_options.add_options(parser)
    add_claims_option(parser)
    parser.add_argument("--write", action="store_true",
                        help="write this run as the reference result of its dataset and profile "
                             "(experiments/reference_results/<dataset>/<profile>.json) instead of comparing")


def main(args) -> int:
    plan = plan_options.resolve(args)
    results = finished_results(plan, args.claims)
    if results is None:
        return 2
    if args.write:
        finished = {e.id for e in results.experiments}
        unfinished = [e.id for e in plan.experiments if e.id not in finished and not e.deferred]
        if unfinished:
            raise InputError(f"{plan.results}: not finished: {', '.join(unfinished)}; a reference result holds every "
                             "experiment the plan runs: run `python -m benchmark run` with the same options first")
        document = describe(results, plan.name, args.claims)
        path = write_reference(document, reference_path(plan))
        print(f"reference result written to {path}: {len(document['experiments'])} experiments, "
              f"{len(document['verdicts'])} verdicts (commit {document['commit']}); review the diff and commit it")
        return 0
    found, line = reproduction(results, plan, args.claims)
    announce(found.lines() if found else [line])
    return 0 if found is None or found.reproduced else 1
