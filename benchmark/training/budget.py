"""How long a run trains: its ``epochs``, then twice as many, and so on, until it has converged.

Training runs its learning-rate schedule in identical cycles (:mod:`benchmark.training.schedule`).
After each budget the convergence test (:func:`benchmark.study.convergence.check`, the one the claims
apply) compares the end of the run with the end of its first half; while it says "not converged"
(or cannot tell yet), the budget doubles, up to ``TrainConfig.max_epochs``. Each doubling trains
more of the same cycles from where the run stands, so stopping at a budget gives the same model as a
run planned for that budget from the start, and a run resumed from a cached shorter one
(:func:`benchmark.training.train.train`, ``resume_from``) equals one that trained that long at once.
"""

from __future__ import annotations

import pandas as pd

from benchmark.study.convergence import check
from benchmark.training.config import TrainConfig


def next_budget(cycles: pd.DataFrame, epochs_run: int, config: TrainConfig) -> int | None:
    """The epochs to train to next, or None to stop: the run has converged on ``cycles`` (its
    ``valid_cycles.csv`` so far), or the next doubling would pass ``config.epoch_cap``."""
    if 2 * epochs_run > config.epoch_cap or check(cycles).converged():
        return None
    return 2 * epochs_run
