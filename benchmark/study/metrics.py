"""Accuracy metrics of the study: PCKsh and the mean keypoint similarity (mKS).

Inputs are NumPy arrays ``(N, 22, 2)`` of ``(x, y)`` in the same pixel space (any: image or network
input), NaN = missing. Which keypoints are scored is derived from the labels only: a keypoint counts
when its label is present (both coordinates not NaN) and it is in the chosen subset (``"all"`` or
``"non_facial"``, :func:`benchmark.study.keypoints.subset_indices`).

Reference scale ``S = sqrt(|Shoulder_R - Shoulder_L| * |Head - mid(Hip_R, Hip_L)|)`` of each frame,
from its labels. Frames whose ``S`` is undefined (one of the five keypoints missing, or ``S = 0``)
cannot be scored: they are excluded, counted in :func:`evaluate`'s ``excluded_frames``, and announced
with ``warnings.warn``.

- PCKsh@beta: a keypoint is correct when its distance is strictly less than ``beta * S``.
- mKS: keypoint similarity ``exp(-d^2 / (2 S^2 lambda))``; with the default lambda a keypoint at
  ``0.1 S`` scores 0.5. This is COCO's OKS with ``area = S^2`` and per-keypoint
  ``sigma = sqrt(lambda) / 2``.

Both are pooled over keypoints: the number (or summed similarity) of scored keypoints over all frames,
divided by their count, so every visible keypoint weighs the same. A predicted NaN for a present label
has infinite distance: it is wrong at every beta and has similarity 0.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from benchmark.study.keypoints import DISPLAY_NAMES, INDEX, LABELS, REGION_OF, REGIONS, subset_indices

BETAS = (0.1, 0.08, 0.06, 0.04, 0.02)
DEFAULT_LAMBDA = 0.01 / (2 * np.log(2))  # keypoint at distance 0.1 * S scores 0.5


def reference_scale(labels) -> np.ndarray:
    """``(N,)`` scale ``S`` of each frame from its labels; NaN where a reference keypoint is missing."""
    labels = np.asarray(labels, dtype=np.float64)
    point = {name: labels[..., INDEX[name], :]
             for name in ("Head", "Shoulder_R", "Shoulder_L", "Hip_R", "Hip_L")}
    shoulders = np.linalg.norm(point["Shoulder_R"] - point["Shoulder_L"], axis=-1)
    trunk = np.linalg.norm(point["Head"] - (point["Hip_R"] + point["Hip_L"]) / 2, axis=-1)
    return np.sqrt(shoulders * trunk)


def distances(pred, labels) -> np.ndarray:
    """``(N, 22)`` Euclidean distances: NaN where the label is missing, inf where only the prediction is."""
    pred = np.asarray(pred, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.float64)
    if pred.shape != labels.shape:
        raise ValueError(f"predictions {pred.shape} and labels {labels.shape} differ in shape")
    labelled = ~np.isnan(labels).any(axis=-1)
    d = np.linalg.norm(pred - labels, axis=-1)
    return np.where(labelled & np.isnan(d), np.inf, d)


def pck(pred, labels, beta: float = 0.1, subset: str = "non_facial") -> float:
    """PCKsh@beta: fraction of scored keypoints closer than ``beta * S`` (strict)."""
    return evaluate(pred, labels, subset, betas=(beta,))[f"pck@{beta:g}"]


def mks(pred, labels, lam: float = DEFAULT_LAMBDA, subset: str = "non_facial") -> float:
    """Mean keypoint similarity: mean of ``exp(-d^2 / (2 S^2 lam))`` over scored keypoints."""
    return evaluate(pred, labels, subset, betas=(), lam=lam)["mks"]


def evaluate(pred, labels, subset: str = "non_facial", betas=BETAS, lam: float = DEFAULT_LAMBDA) -> dict:
    """All metrics at once: ``pck@<beta>`` per beta, ``mks``, and the counts behind them.

    ``n_frames``: frames scored; ``n_keypoints``: keypoints scored; ``excluded_frames``: frames
    without a reference scale. Metrics are NaN when nothing can be scored.
    """
    ratio, excluded = _normalised_distances(pred, labels, subset)
    scored = ratio[~np.isnan(ratio)]
    result = {f"pck@{beta:g}": _mean(_correct(scored, beta)) for beta in betas}
    result["mks"] = _mean(_similarity(scored, lam))
    result.update(n_frames=len(ratio), n_keypoints=scored.size, excluded_frames=excluded)
    return result


def frame_sums(pred, labels, subset: str = "non_facial", betas=BETAS,
               lam: float = DEFAULT_LAMBDA) -> dict[str, np.ndarray]:
    """The sums behind the pooled metrics, per frame: ``{"n": scored keypoints, "pck@<beta>": correct
    keypoints, "mks": summed similarity}``, each ``(N,)`` and aligned with the input frames.

    Summing them over any group of frames (a video, a bootstrap resample) and dividing by the summed
    ``n`` gives exactly :func:`evaluate`'s pooled metric on that group. Frames without a reference
    scale have ``n = 0`` and add nothing.
    """
    usable = reference_scale(labels) > 0
    ratio, _ = _normalised_distances(pred, labels, subset)
    scored = ~np.isnan(ratio)
    per_frame = {"n": scored.sum(axis=1)}
    per_frame.update({f"pck@{beta:g}": _correct(ratio, beta).sum(axis=1) for beta in betas})
    per_frame["mks"] = np.where(scored, _similarity(ratio, lam), 0).sum(axis=1)
    out = {}
    for name, values in per_frame.items():
        out[name] = np.zeros(len(usable))
        out[name][usable] = values
    return out


def per_keypoint(pred, labels, subset: str = "non_facial", betas=BETAS,
                 lam: float = DEFAULT_LAMBDA) -> pd.DataFrame:
    """One row per keypoint of the subset (index: label): display name, region, pck@<beta>, mks, n.

    ``region`` is None for facial keypoints (no region in the study); ``n`` counts scored keypoints.
    """
    ratio, _ = _normalised_distances(pred, labels, subset)
    labelled = ~np.isnan(ratio)
    n = labelled.sum(axis=0)
    with np.errstate(invalid="ignore"):  # 0 / 0 -> NaN for a keypoint never labelled
        columns = {f"pck@{beta:g}": _correct(ratio, beta).sum(axis=0) / n for beta in betas}
        columns["mks"] = np.where(labelled, _similarity(ratio, lam), 0).sum(axis=0) / n
    names = [LABELS[i] for i in subset_indices(subset)]
    return pd.DataFrame({
        "name": [DISPLAY_NAMES[k] for k in names],
        "region": [REGION_OF.get(k) for k in names],
        **columns,
        "n": n,
    }, index=pd.Index(names, name="keypoint"))


def per_region(pred, labels, beta: float = 0.1) -> pd.DataFrame:
    """PCKsh@beta per body region (index: :data:`benchmark.study.keypoints.REGIONS`, in order): pck, n.

    Left and right are pooled: correct keypoints of both sides over their total count. This equals
    the mean of the two sides' PCK when both sides have the same count.
    """
    ratio, _ = _normalised_distances(pred, labels, "all")
    rows = {}
    for region, names in REGIONS.items():
        region_ratio = ratio[:, [INDEX[k] for k in names]]
        scored = region_ratio[~np.isnan(region_ratio)]
        rows[region] = {"pck": _mean(_correct(scored, beta)), "n": scored.size}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("region")


def _normalised_distances(pred, labels, subset: str) -> tuple[np.ndarray, int]:
    """``d / S`` for the subset's keypoints in frames with a defined ``S``, and the excluded count."""
    scale = reference_scale(labels)
    usable = scale > 0  # False for NaN
    excluded = int(np.count_nonzero(~usable))
    if excluded:
        warnings.warn(f"{excluded} of {len(scale)} frames excluded from the metrics: reference scale S "
                      "undefined (Head, a shoulder or a hip missing)", stacklevel=3)
    ratio = distances(pred, labels)[usable][:, subset_indices(subset)] / scale[usable, None]
    return ratio, excluded


def _correct(ratio, beta: float):
    """PCK criterion on ``d / S``: strictly less than ``beta`` (False where unlabelled, NaN)."""
    return ratio < beta


def correct_per_keypoint(pred: np.ndarray, labels: np.ndarray, beta: float) -> np.ndarray:
    """``(N, 22)`` 1 where a keypoint is within ``beta * S`` of its label, 0 where farther, NaN where
    not scored (no label, or no reference scale ``S``): the PCK counts, per frame and keypoint."""
    scale = reference_scale(labels)
    ratio = distances(pred, labels) / np.where(scale > 0, scale, np.nan)[:, None]
    return np.where(np.isnan(ratio), np.nan, _correct(ratio, beta))


def _similarity(ratio, lam: float):
    """Keypoint similarity ``exp(-(d/S)^2 / (2 lam))``."""
    return np.exp(-np.square(ratio) / (2 * lam))


def _mean(values: np.ndarray) -> float:
    return float(np.mean(values)) if values.size else float("nan")
