"""The loss registry: everything a heatmap loss is, in one entry.

A :class:`Loss` says how the network's logits become heatmaps (``activation``), whether its target
is a distribution (``normalised``: KCE's label heatmap sums to 1, so a perfect peak is about
``1 / (2 pi sigma^2)``; MSE's and BCE's targets peak at 1), where the output layer starts (its bias
``initial_bias``, from the mean value of a target heatmap, and its kernel's spread ``head_std``),
which Keras loss trains it
(``keras_loss``, a class of :mod:`benchmark.study.heatmap_losses` or any ``keras.losses.Loss``), and
how the report names and orders it. ``TrainConfig`` accepts the registered names, the codec decodes
with the entry's activation, training builds the loss and the head from it, and the tables order
and name its rows by it. Adding a loss is one :func:`register_loss` call (and its Keras loss class):
docs/ADDING_A_MODEL.md.

Nothing here imports a deep-learning library.

The output layer's start is part of a loss's recipe, not of the model. A heatmap is almost all
background (a Gaussian of sigma 1.5 cells covers about 0.9 % of a 40 x 40 map): a sigmoid output that
starts at 0.5 everywhere spends its first hundreds of steps learning only that (RetinaNet's "prior"
initialisation, Lin et al. 2017), so each loss's bias starts at the constant that is optimal for an
all-background guess: the mean target for MSE, its logit for BCE, anything for KCE (a softmax ignores
constants). And a regression output that starts as noise of Keras's usual size makes MSE silence it
first, by shrinking the last layer, which starves the layers below of gradient: the quick profile's
Simple Baseline + MSE then never leaves the empty map (Valid PCK@0.1 0.011), while started near zero,
as the Simple Baseline's reference code starts it (std 0.001), it learns. Each loss's ``head_std``
was chosen on Valid from {Keras's default, 0.01, 0.001, 0.0001} (docs/EVIDENCE.md, "The recipe").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from benchmark.common.registry import lookup, register
from benchmark.study import heatmaps


@dataclass(frozen=True)
class Loss:
    name: str
    title: str                               # how tables and figures name it
    activation: Callable                     # logits -> heatmaps (benchmark.study.heatmaps)
    keras_loss: str | type                   # a class name of benchmark.study.heatmap_losses, or a class
    initial_bias: Callable[[float], float]   # the output bias, from the mean value of a target heatmap
    normalised: bool = False                 # the target is a distribution over positions
    head_std: float | None = None            # std of the output kernel's start (None: Keras's own initialiser)

    def target_peak(self, sigma: float) -> float:
        """Peak of a perfect target heatmap after the activation (a sampled unit Gaussian normalised
        to sum 1 peaks near ``1 / (2 pi sigma^2)``)."""
        return 1 / (2 * math.pi * sigma**2) if self.normalised else 1.0

    def build(self):
        """A new instance of its Keras loss."""
        from benchmark.study import heatmap_losses

        cls = self.keras_loss if isinstance(self.keras_loss, type) else getattr(heatmap_losses, self.keras_loss)
        return cls(name=f"{self.name}_heatmap_loss")


LOSSES: dict[str, Loss] = {}  # in table order


def register_loss(loss: Loss) -> Loss:
    """Add ``loss`` to the registry (a name taken already is an error)."""
    return register(LOSSES, "loss", loss)


def loss_of(name: str) -> Loss:
    """The registered loss ``name``; ValueError names the choices."""
    return lookup(LOSSES, "loss", name)


def mean_target(sigma: float, heatmap_size: tuple[int, int]) -> float:
    """The mean value of a target heatmap of one keypoint: a unit Gaussian of ``sigma`` cells sums
    to about ``2 pi sigma^2`` over an ``(h, w)`` map."""
    return min(0.5, 2 * math.pi * sigma**2 / (heatmap_size[0] * heatmap_size[1]))


register_loss(Loss("mse", "MSE", heatmaps.relu, "HeatmapMSE", initial_bias=lambda mean: mean, head_std=1e-4))
register_loss(Loss("bce", "BCE", heatmaps.sigmoid, "HeatmapBCE",
                   initial_bias=lambda mean: math.log(mean / (1 - mean))))
register_loss(Loss("kce", "KCE", heatmaps.spatial_softmax, "HeatmapKCE", initial_bias=lambda mean: 0.0,
                   normalised=True))
