"""Heatmap values: the fill of a target channel whose keypoint is missing, the label distribution of
a target, and what turns a network's raw logits into the heatmaps a decoder reads, one activation per
kind of loss (:mod:`benchmark.study.losses` says which loss uses which).

Written with ``keras.ops``, imported on first use, so these names load without a deep-learning
library (the runner validates and hashes configurations without one) and run on any backend.
"""

from __future__ import annotations


class _KerasOps:
    """``keras.ops``, imported on first use."""

    def __getattr__(self, name):
        from keras import ops

        return getattr(ops, name)


ops = _KerasOps()

MISSING = -1.0  # fill value of a target channel whose keypoint is missing


def normalise(heatmaps):
    """Target heatmaps ``(B, h, w, K)`` scaled so each channel sums to 1: the label distribution
    ``q`` of the KCE loss (``keras.ops``, so the loss computes its target with it). A
    :data:`MISSING` channel (all -1) becomes a uniform map: finite, and masked by the losses.
    """
    heatmaps = ops.convert_to_tensor(heatmaps, dtype="float32")
    return heatmaps / ops.sum(heatmaps, axis=(-3, -2), keepdims=True)


def spatial_log_softmax(logits):
    """Log-softmax over the spatial positions of each channel of ``(B, h, w, K)`` logits."""
    return logits - ops.logsumexp(logits, axis=(1, 2), keepdims=True)


def spatial_softmax(logits):
    """A probability distribution over each channel's positions (KCE)."""
    return ops.exp(spatial_log_softmax(ops.convert_to_tensor(logits, dtype="float32")))


def sigmoid(logits):
    """Each position's own probability (BCE)."""
    return ops.sigmoid(ops.convert_to_tensor(logits, dtype="float32"))


def relu(logits):
    """The logits as heatmap values, clipped at 0 (MSE regresses the heatmap itself)."""
    return ops.maximum(ops.convert_to_tensor(logits, dtype="float32"), 0.0)
