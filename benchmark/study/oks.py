"""COCO's keypoint AP and AR (object keypoint similarity, OKS) for our 22 keypoints, beside PCKsh.

Every frame holds one infant: one ground truth (its labels) and one detection (the prediction), so
COCO's matching reduces to "the frame's detection is a true positive at threshold t when its OKS is
at least t". Definitions (docs/CONVENTIONS.md, "OKS"):

- OKS of a frame: ``mean over scored keypoints of exp(-d^2 / (2 area (2 sigma)^2))``, pycocotools'
  ``computeOks`` with ``vars = (2 sigma)^2``; scored = labelled and in the experiment's ``eval_subset``.
  A missing prediction of a labelled keypoint scores 0.
- ``area``: COCO uses the segmentation area, we have none: the area of the bounding box of all the
  frame's labelled keypoints (all 22, not only the scored ones).
- sigmas: :data:`benchmark.study.keypoints.OKS_SIGMAS` (COCO's adult values where COCO has the
  keypoint), overridable per dataset (:mod:`benchmark.data.oks_sigmas`).
- score of a detection: the mean confidence (heatmap peak) of the subset's keypoints, NaN ignored,
  0 when none; it never looks at the labels.
- frames without a scored keypoint have no ground truth to match and are left out.

:func:`coco_ap` computes AP, AP50, AP75, AR, AR50, AR75 with pycocotools' ``COCOeval`` itself;
:func:`average_precision` and :func:`average_recall` compute the same numbers with NumPy from the
frames' OKS and scores for many weightings at once (a weight ``w`` counts a frame ``w`` times, as if
duplicated), which is what the video bootstrap needs (tests/test_oks.py proves both equal).
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Mapping

import numpy as np

from benchmark.study.keypoints import LABELS, OKS_SIGMAS, subset_indices

# COCOeval's keypoint parameters (pycocotools.cocoeval.Params.setKpParams), computed as it does.
THRESHOLDS = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True)
RECALLS = np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True)
STATISTICS = ("ap", "ap50", "ap75", "ar", "ar50", "ar75")  # COCOeval's summary, in its order


def sigma_vector(sigmas: Mapping[str, float] | None = None) -> np.ndarray:
    """``(22,)`` the sigma of each keypoint in :data:`LABELS` order: ``sigmas`` where given, else
    :data:`~benchmark.study.keypoints.OKS_SIGMAS`."""
    chosen = OKS_SIGMAS | dict(sigmas or {})
    return np.array([chosen[k] for k in LABELS], dtype=np.float64)


def box_area(labels) -> np.ndarray:
    """``(N,)`` the area of the bounding box of each frame's labelled keypoints (0 with fewer than two
    distinct ones, NaN with none): our stand-in for COCO's segmentation area."""
    labels = np.asarray(labels, dtype=np.float64)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "All-NaN", RuntimeWarning)  # a frame without labels: NaN area
        extent = np.nanmax(labels, axis=1) - np.nanmin(labels, axis=1)
    return extent[:, 0] * extent[:, 1]


def frame_oks(pred, labels, sigmas: Mapping[str, float] | None = None, subset: str = "non_facial") -> np.ndarray:
    """``(N,)`` each frame's OKS over its scored keypoints (module docstring); NaN where it has none.
    ``pred``, ``labels``: ``(N, 22, 2)``, NaN = missing."""
    pred, labels = np.asarray(pred, dtype=np.float64), np.asarray(labels, dtype=np.float64)
    keep = subset_indices(subset)
    area = box_area(labels)
    variances = (2 * sigma_vector(sigmas)[keep]) ** 2
    squared = ((pred[:, keep] - labels[:, keep]) ** 2).sum(axis=-1)
    e = squared / variances / (area[:, None] + np.spacing(1)) / 2
    scored = ~np.isnan(labels[:, keep]).any(axis=-1)
    similarity = np.where(scored, np.nan_to_num(np.exp(-e), nan=0.0), 0.0)  # missing prediction: 0
    with np.errstate(invalid="ignore", divide="ignore"):
        return similarity.sum(axis=1) / np.where(scored.any(axis=1), scored.sum(axis=1), np.nan)


def frame_scores(confidence, subset: str = "non_facial") -> np.ndarray:
    """``(N,)`` each detection's score: the mean confidence of the subset's keypoints (NaN ignored, 0
    when none). ``confidence``: ``(N, 22)``."""
    chosen = np.asarray(confidence, dtype=np.float64)[:, subset_indices(subset)]
    present = ~np.isnan(chosen)
    return np.where(present, chosen, 0).sum(axis=1) / np.maximum(present.sum(axis=1), 1)


def coco_ap(pred, labels, scores, sigmas: Mapping[str, float] | None = None, subset: str = "non_facial") -> dict:
    """``{ap, ap50, ap75, ar, ar50, ar75}`` of the frames, computed by pycocotools' ``COCOeval``
    (:func:`coco_evaluation`); NaN for each when no frame has a scored keypoint."""
    evaluation = coco_evaluation(pred, labels, scores, sigmas, subset)
    if evaluation is None:
        return dict.fromkeys(STATISTICS, float("nan"))
    stats = evaluation.stats  # AP, AP50, AP75, AP medium, AP large, AR, AR50, AR75, AR medium, AR large
    return dict(zip(STATISTICS, (float(stats[i]) for i in (0, 1, 2, 5, 6, 7))))


def coco_evaluation(pred, labels, scores, sigmas: Mapping[str, float] | None = None, subset: str = "non_facial"):
    """pycocotools' ``COCOeval`` of the frames, evaluated, accumulated and summarised (None when no
    frame has a scored keypoint): ``iouType="keypoints"``, our sigmas and areas, frame ``i`` is image
    ``i + 1`` with one ground truth and one detection (both of id ``i + 1``), area range "all".

    ``pred``, ``labels``: ``(N, 22, 2)``; ``scores``: ``(N,)`` (:func:`frame_scores`). Only the subset's
    keypoints are given to COCOeval; a missing prediction is placed far enough away to score 0. Needs
    pycocotools (the ``test`` extra, which scripts/bootstrap.sh installs); the report and the claims
    use :func:`average_precision`, which does not.
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    pred, labels = np.asarray(pred, dtype=np.float64), np.asarray(labels, dtype=np.float64)
    keep = subset_indices(subset)
    area = box_area(labels)
    scored = ~np.isnan(labels[:, keep]).any(axis=-1)
    frames = np.flatnonzero(scored.any(axis=1))
    if not frames.size:
        return None
    far = np.nan_to_num(labels[:, keep], nan=0.0) + 1e6 * (np.sqrt(area) + 1)[:, None, None]
    placed = np.where(np.isnan(pred[:, keep]), far, pred[:, keep])
    images = [{"id": int(i) + 1} for i in frames]
    categories = [{"id": 1, "name": "infant"}]
    truths, detections = [], []
    for i in frames:
        visible = np.where(scored[i], 2, 0)
        box = [0.0, 0.0, float(np.sqrt(area[i])), float(np.sqrt(area[i]))]  # only its area is read
        truths.append({"id": int(i) + 1, "image_id": int(i) + 1, "category_id": 1, "iscrowd": 0,
                       "area": float(area[i]), "bbox": box, "num_keypoints": int(scored[i].sum()),
                       "keypoints": np.column_stack([np.nan_to_num(labels[i, keep]), visible]).ravel().tolist()})
        detections.append({"id": int(i) + 1, "image_id": int(i) + 1, "category_id": 1, "score": float(scores[i]),
                           "area": float(area[i]), "bbox": box,  # inside the range "all": never ignored
                           "keypoints": np.column_stack([placed[i], np.ones(len(keep))]).ravel().tolist()})
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints its progress
        truth, found = COCO(), COCO()
        truth.dataset = {"images": images, "categories": categories, "annotations": truths}
        found.dataset = {"images": images, "categories": categories, "annotations": detections}
        truth.createIndex()
        found.createIndex()
        evaluation = COCOeval(truth, found, iouType="keypoints")
        evaluation.params.kpt_oks_sigmas = sigma_vector(sigmas)[keep]
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return evaluation


def _weights(weights, oks: np.ndarray) -> np.ndarray:
    """``(B, N)`` float weights (one row of ones when None), 0 for a frame without OKS (no scored keypoint)."""
    weights = np.ones((1, len(oks))) if weights is None else np.atleast_2d(np.asarray(weights, dtype=np.float64))
    return weights * ~np.isnan(oks)


def _matched(oks: np.ndarray, thresholds) -> np.ndarray:
    """``(T, N)`` whether each frame's detection matches its ground truth at each threshold (COCOeval
    matches at ``oks >= min(t, 1 - 1e-10)``)."""
    return oks[None, :] >= np.minimum(np.asarray(thresholds, dtype=np.float64), 1 - 1e-10)[:, None]


def average_precision(oks, scores, weights=None, thresholds=THRESHOLDS) -> np.ndarray:
    """``(B,)`` COCO's AP of the frames under each row of ``weights`` ``(B, N)`` (default: one row of
    ones): the precision, made non-increasing, at the 101 recall points :data:`RECALLS`, averaged
    over those points and ``thresholds``. NaN where a row weighs no frame.

    Detections are ranked by score, ties in frame order (COCOeval's stable sort); a frame of weight
    ``w`` counts as ``w`` copies, so the result equals COCOeval on the duplicated frames.
    """
    oks, scores = np.asarray(oks, dtype=np.float64), np.asarray(scores, dtype=np.float64)
    order = np.argsort(-scores, kind="mergesort")
    weights = _weights(weights, oks)[:, order]
    rows, n = np.arange(len(weights)), len(oks)
    detections = np.cumsum(weights, axis=1)  # tp + fp, integer-valued
    truths = detections[:, -1] if n else np.zeros(len(weights))  # the ground truths that count (npig)
    with np.errstate(invalid="ignore", divide="ignore"):
        # The first detection whose recall tp / npig reaches each recall point r, found exactly on the
        # integer-valued counts: the least k with float(k / npig) >= r (as COCOeval compares), then
        # the first k in the row's tp; rows are offset so that one sorted search serves them all.
        needed = np.ceil(RECALLS[None, :] * truths[:, None])
        needed = np.where((needed - 1) / truths[:, None] >= RECALLS, needed - 1, needed)
        needed = np.where(needed / truths[:, None] < RECALLS, needed + 1, needed)
    offset = (truths.max(initial=0) + 1) * rows[:, None]
    precision = []
    for matched in _matched(oks[order], thresholds):
        tp = np.cumsum(weights * matched, axis=1)
        envelope = np.maximum.accumulate((tp / (detections + np.spacing(1)))[:, ::-1], axis=1)[:, ::-1]
        first = np.searchsorted((tp + offset).ravel(), (needed + offset).ravel(), side="left")
        first = first.reshape(needed.shape) - n * rows[:, None]
        picked = envelope[rows[:, None], np.minimum(first, n - 1)] if n else 0.0
        precision.append(np.where(first < n, picked, 0.0).mean(axis=1))  # recall never reached: 0
    with np.errstate(invalid="ignore"):
        return np.where(truths > 0, np.mean(precision, axis=0), np.nan)


def average_recall(oks, weights=None, thresholds=THRESHOLDS) -> np.ndarray:
    """``(B,)`` COCO's AR of the frames under each row of ``weights``: the share of ground truths
    matched, averaged over ``thresholds`` (one detection per frame: the score plays no part)."""
    oks = np.asarray(oks, dtype=np.float64)
    weights = _weights(weights, oks)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (weights @ _matched(oks, thresholds).T).mean(axis=1) / weights.sum(axis=1)


def statistic(name: str, oks, scores, weights=None) -> np.ndarray:
    """``(B,)`` one of :data:`STATISTICS` (``ap``, ``ap50``, ``ap75``, ``ar``, ``ar50``, ``ar75``)."""
    if name not in STATISTICS:
        raise ValueError(f"unknown OKS statistic {name!r}; allowed: {', '.join(STATISTICS)}")
    thresholds = {"50": THRESHOLDS[[0]], "75": THRESHOLDS[[5]]}.get(name[2:], THRESHOLDS)
    if name.startswith("ap"):
        return average_precision(oks, scores, weights, thresholds)
    return average_recall(oks, weights, thresholds)

