"""Was training still improving when it stopped? A stated slope test on the validation curve.

Rule (:func:`check`), on the last ``k`` epochs that have the validation metric, ``k = max(3,
ceil(0.3 * epochs))`` by default (all epochs when fewer):

1. fit ``metric = a + slope * epoch`` by ordinary least squares;
2. one-sided lower bound ``lower = slope - t(level, k - 2) * SE(slope)`` (Student t, ``level = 0.95``);
3. projected gain ``= slope * k``: what the same trend would add over ``k`` more epochs.

The experiment is **not converged** when ``lower > 0`` (the metric is still rising, beyond its
epoch-to-epoch noise) **and** the projected gain exceeds ``tolerance`` (0.01 PCK by default: a rise
too small to change a table's conclusions does not count). Otherwise it is converged. With fewer
than 3 epochs the test cannot run and ``converged`` is None.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import t as student_t

METRIC = "val_pck@0.1"
TOLERANCE = 0.01


@dataclass(frozen=True)
class Convergence:
    """Outcome of :func:`check`; ``converged`` is None when there were too few epochs to test."""

    slope: float            # metric per epoch over the window
    lower: float            # one-sided lower confidence bound of the slope
    projected_gain: float   # slope * window
    window: int             # epochs in the fit
    converged: bool | None
    reason: str


def check(history: pd.DataFrame, metric: str = METRIC, window: int | None = None,
          tolerance: float = TOLERANCE, level: float = 0.95) -> Convergence:
    """Apply the rule above to a training history (columns ``epoch`` and ``metric``)."""
    curve = history[["epoch", metric]].dropna().sort_values("epoch")
    n = len(curve)
    k = min(n, window or max(3, math.ceil(0.3 * n)))
    if k < 3:
        return Convergence(np.nan, np.nan, np.nan, k, None,
                           f"untested: {n} epoch(s) with {metric}, the slope test needs at least 3")
    x = curve["epoch"].to_numpy(float)[-k:]
    y = curve[metric].to_numpy(float)[-k:]
    dx = x - x.mean()
    slope = float(dx @ (y - y.mean()) / (dx @ dx))
    residual = y - y.mean() - slope * dx
    se = math.sqrt(residual @ residual / (k - 2) / (dx @ dx))
    lower = slope - float(student_t.ppf(level, k - 2)) * se
    gain = slope * k
    rising = f"slope {slope:+.4f}/epoch over the last {k} epochs, {level:.0%} lower bound {lower:+.4f}"
    if lower <= 0:
        return Convergence(slope, lower, gain, k, True, f"converged: {rising} is not above 0")
    if gain <= tolerance:
        return Convergence(slope, lower, gain, k, True,
                           f"converged: {rising}, but {k} more epochs would add only {gain:.4f} <= {tolerance:g}")
    return Convergence(slope, lower, gain, k, False,
                       f"not converged: {rising} > 0; {k} more epochs would add {gain:.4f} > {tolerance:g}")
