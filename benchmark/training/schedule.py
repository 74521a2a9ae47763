"""The learning rate of a run: ``cycles`` identical cycles, each a linear warm-up and a cosine decay to 0.

One cycle (``cycles: 1``) is the familiar warm-up + cosine schedule. With two or more, each cycle
starts again from the peak and anneals to 0 over the same number of steps, so the end of training
and the end of its first half are two equally annealed points, the second with twice the training:
what the second half added to the validation metric says whether training had converged, and no
schedule can fake that (:mod:`benchmark.study.convergence`). Cycle ends fall on epoch ends
(``TrainConfig`` requires ``epochs`` to be a multiple of ``cycles``).
"""

from __future__ import annotations

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="benchmark")
class WarmupCosineCycles(keras.optimizers.schedules.LearningRateSchedule):
    """``cycles`` cycles over ``steps``: in each, ``warmup_steps`` from 0 to ``peak``, then cosine to 0."""

    def __init__(self, peak: float, steps: int, cycles: int = 1, warmup_steps: int = 0):
        self.peak, self.steps, self.cycles, self.warmup_steps = float(peak), int(steps), int(cycles), int(warmup_steps)
        self.cycle_steps = max(1, self.steps // self.cycles)
        self.warmup_steps = min(self.warmup_steps, self.cycle_steps - 1)

    def __call__(self, step):
        step = ops.minimum(ops.cast(step, "float32"), float(self.cycles * self.cycle_steps))  # the end stays annealed
        within = ops.where(step >= self.cycles * self.cycle_steps, float(self.cycle_steps),
                           ops.mod(step, float(self.cycle_steps)))
        warmup = float(max(self.warmup_steps, 1))
        decay = float(self.cycle_steps - self.warmup_steps)
        progress = ops.clip((within - self.warmup_steps) / decay, 0.0, 1.0)
        cosine = 0.5 * self.peak * (1.0 + ops.cos(math.pi * progress))
        return ops.where(within < self.warmup_steps, self.peak * within / warmup, cosine)

    def get_config(self) -> dict:
        return {"peak": self.peak, "steps": self.steps, "cycles": self.cycles, "warmup_steps": self.warmup_steps}


def learning_rate_schedule(config, steps_per_epoch: int) -> WarmupCosineCycles:
    """The schedule of ``config``: cycles of ``config.cycle_epochs`` epochs of ``steps_per_epoch`` steps
    (``learning_rate``; ``warmup_epochs`` at the start of every cycle), as many as fit in the most
    epochs the run may train (``epoch_cap``), so a run that stops at any doubling of ``epochs`` followed
    the same schedule up to there."""
    return WarmupCosineCycles(config.learning_rate, config.epoch_cap * steps_per_epoch,
                              config.epoch_cap // config.cycle_epochs, round(config.warmup_epochs * steps_per_epoch))
