"""The Keras losses of the study's three heatmap losses, MSE, BCE and KCE (keypoint cross-entropy);
the registry that names them and says what else each loss is: :mod:`benchmark.study.losses`.

Every loss takes ``y_true``: Gaussian target heatmaps ``(B, h, w, K)`` from
:func:`benchmark.study.codec.encode` (channels equal to ``MISSING`` for missing keypoints), and
``y_pred``: raw logits ``(B, h, w, K)``. ``call`` returns one loss per keypoint ``(B, K)``.

Reduction: the batch loss is the mean of the per-keypoint losses over the visible keypoints of the
whole batch, ``sum(loss * visible) / sum(visible)``; missing keypoints contribute nothing and a
batch without any visible keypoint gives 0 (not NaN). It is Keras's
``"mean_with_sample_weight"`` reduction with the visibility mask (times any ``sample_weight`` of
shape ``(B,)``) as weights, so ``reduction=None`` yields the per-keypoint losses, zero where missing.
"""

from __future__ import annotations

import keras
from keras import ops

from benchmark.study.heatmaps import MISSING, normalise, spatial_log_softmax


class HeatmapLoss(keras.losses.Loss):
    """Base: per-keypoint loss in ``call``, averaged over visible keypoints (module docstring)."""

    def __init__(self, name=None, reduction="mean_with_sample_weight", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def __call__(self, y_true, y_pred, sample_weight=None):
        weights = ops.cast(ops.any(ops.not_equal(y_true, MISSING), axis=(1, 2)), self.dtype)
        if sample_weight is not None:
            weights = weights * ops.reshape(ops.cast(sample_weight, self.dtype), (-1, 1))
        return super().__call__(y_true, y_pred, sample_weight=weights)


@keras.saving.register_keras_serializable(package="benchmark")
class HeatmapMSE(HeatmapLoss):
    """Mean over pixels of ``(logit - target)^2``, per keypoint (logits used as heatmaps)."""

    def call(self, y_true, y_pred):
        return ops.mean(ops.square(y_pred - y_true), axis=(1, 2))


@keras.saving.register_keras_serializable(package="benchmark")
class HeatmapBCE(HeatmapLoss):
    """Mean over pixels of the binary cross-entropy of ``sigmoid(logit)`` against the target.

    Computed from logits in the numerically stable form
    ``max(z, 0) - z * t + log(1 + exp(-|z|))``.
    """

    def call(self, y_true, y_pred):
        return ops.mean(ops.binary_crossentropy(y_true, y_pred, from_logits=True), axis=(1, 2))


@keras.saving.register_keras_serializable(package="benchmark")
class HeatmapKCE(HeatmapLoss):
    """Keypoint cross-entropy: ``-sum_ij q_ij log softmax(z)_ij`` per keypoint.

    ``q = normalise(target)`` (:func:`benchmark.study.heatmaps.normalise`) is the label distribution and the softmax runs over the
    spatial positions of the channel (log-softmax form). A ``MISSING`` channel (all -1) normalises
    to a uniform ``q``, so its masked value stays finite and its gradient zero.
    """

    def call(self, y_true, y_pred):
        return -ops.sum(normalise(y_true) * spatial_log_softmax(y_pred), axis=(1, 2))
