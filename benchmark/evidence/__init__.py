"""Evidence, not only tables: intervals, paired comparisons, convergence and the claims' verdicts.

- :mod:`benchmark.study.bootstrap` (re-exported here): video (cluster) bootstrap of the pooled
  metrics, paired differences, seeds;
- :mod:`benchmark.study.convergence` (re-exported here): the test for "not converged" (what the
  second half of training added), which training itself also applies to stop;
- :mod:`.sources`: the data-access protocol the claims read from, and its adapter for results;
- :mod:`.claims`: ``experiments/claims.yaml``, its schema and the verdict rules.
- :mod:`.shifts`: trained experiments on new videos of each named shift (``python -m benchmark shifts``).

See docs/EVIDENCE.md for the definitions.
"""

from benchmark.evidence.claims import ClaimsError, Verdicts, evaluate, load_claims
from benchmark.evidence.sources import PredictionsSource, StatsSource
from benchmark.study.bootstrap import (
    Cell,
    Interval,
    difference,
    format_interval,
    interval,
    mean_cell,
    metric_cell,
    metric_interval,
    pooled_cell,
    ratio,
    video_sums,
)
from benchmark.study.convergence import Convergence, check

__all__ = ["Cell", "ClaimsError", "Convergence", "Interval", "PredictionsSource", "StatsSource", "Verdicts",
           "check", "difference", "evaluate", "format_interval", "interval", "load_claims", "mean_cell",
           "metric_cell", "pooled_cell", "ratio", "metric_interval", "video_sums"]
