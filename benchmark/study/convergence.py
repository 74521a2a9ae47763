"""Had training converged? Training as long again, under the same schedule, must not still raise the
validation metric clearly.

A cosine schedule anneals the learning rate to about zero, which flattens the end of any validation
curve whether or not more training would help; a slope test on the last epochs is fooled by it. So
training runs its schedule in ``cycles`` identical cosine cycles (``TrainConfig.cycles``,
:func:`benchmark.training.schedule.learning_rate_schedule`), each annealed alike, and records at the
end of every cycle each Valid video's PCK@0.1 sums with every decoder (``valid_cycles.csv``). The
cycles after the midpoint are the same schedule over the same steps as those before it, so what
they add is what "train as long again" bought, measured between two equally annealed points: no
schedule can fake it, and more, shorter cycles cannot either (the comparison point stays at half the
budget).

Rule (:func:`check`): ``gain`` = Valid PCK@0.1 at the end of the last cycle minus at the end of the
last cycle at or before half of the epochs, with its paired 95 % video-bootstrap interval ``[low,
high]`` (the same videos at both points), decoded by the decoder that scores best at the end (the
arm's own, as the claims choose it). The experiment is **not converged** when ``low > 0`` (the gain
is more than the videos' noise) **and** ``gain > tolerance`` (0.01 by default, settable per claim: a
gain too small to change a conclusion does not count); converged otherwise. Untested (``converged``
None) when no cycle ended by half of the epochs (one cycle) or the run left no record.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from benchmark.study.bootstrap import Cell, difference

METRIC = "Valid PCK@0.1"
TOLERANCE = 0.01


@dataclass(frozen=True)
class Convergence:
    """What the second half of training added, with its interval, or why there is none (``untested``)."""

    gain: float = np.nan
    low: float = np.nan
    high: float = np.nan
    epochs: tuple[int, int] = (0, 0)  # the two cycle ends compared: at or before half the epochs, and the last
    untested: str = ""
    cap: int | None = None  # the most epochs the run could train (max_epochs), when known

    def converged(self, tolerance: float = TOLERANCE) -> bool | None:
        if self.untested:
            return None
        return not (self.low > 0 and self.gain > tolerance)

    def reason(self, tolerance: float = TOLERANCE) -> str:
        """A sentence for a reader: what the second half of training added and what that means."""
        if self.untested:
            return f"convergence untested: {self.untested}"
        first, last = self.epochs[0] + 1, self.epochs[1]
        span = f"epochs {first}-{last}" if first < last else f"epoch {last}"
        added = (f"training as long again ({span}, the same schedule) added {self.gain:+.3f} "
                 f"[{self.low:+.3f}, {self.high:+.3f}] {METRIC}")
        if self.converged(tolerance):
            return f"converged after {last} epochs: {added}, not clearly more than {tolerance:g}"
        capped = " (its cap, max_epochs)" if self.cap and last >= self.cap else ""
        return f"not converged after {last} epochs{capped}: {added}, more than {tolerance:g}"


def check(curve: pd.DataFrame | None, seed: int = 0, cap: int | None = None) -> Convergence:
    """Apply the rule above to a run's ``valid_cycles.csv`` (None or empty: untested); ``cap``, the
    run's most epochs, lets the reason say that it stopped there."""
    if curve is None or curve.empty:
        return Convergence(untested="no per-cycle validation record (results of an older version, or no training)")
    ends = curve.groupby("cycle")["epoch"].max()
    last = int(ends.max())
    earlier = ends[ends <= last / 2]
    if earlier.empty:
        return Convergence(untested="trained in one learning-rate cycle: nothing to compare its end with "
                                    "(set `cycles: 2` or more)")
    if "decoder" in curve:  # the decoder that suits the arm: the best at the end
        final = curve[curve["epoch"] == last].groupby("decoder")[["correct", "scored"]].sum()
        curve = curve[curve["decoder"] == (final["correct"] / final["scored"]).idxmax()]
    cells = []
    for epoch in (int(earlier.max()), last):
        part = curve[curve["epoch"] == epoch].groupby("video")[["correct", "scored"]].sum()
        cells.append(Cell(part.index.to_numpy(), part["correct"].to_numpy(), part["scored"].to_numpy()))
    early, late = cells
    videos = np.array(sorted(set(early.videos.tolist()) | set(late.videos.tolist())), dtype=object)
    d = difference(late.on(videos), early.on(videos), paired=True, seed=seed)
    return Convergence(d.estimate, d.low, d.high, (int(earlier.max()), last), cap=cap)
