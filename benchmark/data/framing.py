"""Body framing: a square crop around the infant, so the network sees the body at one scale.

Top-down pose models (Simple Baseline, HRNet, ViTPose) see a crop of the person, not the whole
picture. Letterboxing the whole picture wastes the input on the mat and shrinks the PCK threshold
with the infant: at a 128 px input, 0.1 S is about 3 input pixels for an infant filling the picture
and under 2 (half a heatmap pixel) for one filling half of it.

A *box* is ``(centre (2,), side)`` in image pixels: the square whose side is the extent of the
body's keypoints over a video divided by ``fill`` (the share of the crop the body spans). Training
frames are framed by their labels (:func:`label_boxes`); evaluation and unlabelled videos by the
model's own predictions (:func:`predicted_box`): a first pass on the letterboxed picture, then
passes on the crop the previous pass found (``benchmark.training.inference.framed_predictions``).
So that first pass finds small infants too, the model also trains on every whole picture
(``benchmark.training.train``): without them, it framed the held-out far camera's infants (half the
usual size) so badly that it kept 16-32 % of its test accuracy there, against 62-72 % with them
(docs/SYNTHETIC.md). One box per video, not per frame: the camera does not move, and per-frame
boxes of a first pass are too noisy.
"""

from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

from benchmark.data.transforms import letterbox_image

FILL = 0.8  # share of the crop's side the body's keypoint extent spans
CONFIDENT = 0.2  # a predicted keypoint frames the body when its peak is this share of its frame's best
TRIM = 2.0  # percent of the confident predicted points left out at each end (stray peaks)

Box = tuple[np.ndarray, float]


def body_box(points: np.ndarray, fill: float = FILL, trim: float = 0.0) -> Box:
    """The box of keypoints ``(..., 2)`` (NaN = missing): centred on their extent, side
    ``max(width, height) / fill``; the extent leaves out ``trim`` % of the points at each end."""
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    points = points[np.isfinite(points).all(axis=1)]
    if not len(points):
        raise ValueError("no keypoint to frame the body by")
    low, high = np.percentile(points, trim, axis=0), np.percentile(points, 100 - trim, axis=0)
    return (low + high) / 2, max(float(np.max(high - low)), 1.0) / fill


def predicted_box(coords: np.ndarray, confidence: np.ndarray, fill: float = FILL) -> Box:
    """The box (:func:`body_box`) of predicted keypoints ``(N, 22, 2)`` of one video: those whose
    confidence ``(N, 22)`` is at least ``CONFIDENT`` times their frame's best, ``TRIM`` % left out
    at each end (a stray peak must not widen the box)."""
    confidence = np.asarray(confidence, dtype=float)
    keep = confidence >= CONFIDENT * confidence.max(axis=1, keepdims=True)
    return body_box(np.where(keep[..., None], coords, np.nan), fill, TRIM)


def group_boxes(groups: list, box: Callable[[np.ndarray], Box]) -> list[Box]:
    """One box per frame: ``box(indices of the group's frames)``, shared by the frames of each
    group (a video)."""
    groups = np.asarray(groups, dtype=object)
    boxes: list = [None] * len(groups)
    for group in dict.fromkeys(groups):
        members = np.flatnonzero(groups == group)
        shared = box(members)
        for i in members:
            boxes[i] = shared
    return boxes


def label_boxes(videos: list[str], labels: np.ndarray, fill: float = FILL) -> list[Box]:
    """One box per frame from the labels ``(N, 22, 2)`` of its whole video."""
    return group_boxes(videos, lambda members: body_box(labels[members], fill))


def prediction_boxes(groups: list, coords: np.ndarray, confidence: np.ndarray, fill: float = FILL) -> list[Box]:
    """One box per frame from the predictions ``(N, 22, 2)`` of its whole group (video)."""
    return group_boxes(groups, lambda members: predicted_box(coords[members], confidence[members], fill))


def crop_image(image: np.ndarray, box: Box, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``size x size`` picture of ``box`` (black outside the image) and its 2x3 matrix from
    image to input pixels. The box is rounded to whole pixels, so the area-averaging resize (no
    aliasing) stays exactly on the matrix, as ``transforms.letterbox_image`` does."""
    centre, side = box
    side = max(1, int(round(side)))
    x0, y0 = (np.round(np.asarray(centre, dtype=float) - side / 2)).astype(int)
    height, width = image.shape[:2]
    pad = max(0, -x0, -y0, x0 + side - width, y0 + side - height)
    if pad:
        image = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    cut = image[y0 + pad:y0 + pad + side, x0 + pad:x0 + pad + side]
    scale = size / side
    interpolation = cv2.INTER_AREA if side >= size else cv2.INTER_LINEAR
    out = cv2.resize(cut, (size, size), interpolation=interpolation)
    return out, np.array([[scale, 0.0, -x0 * scale], [0.0, scale, -y0 * scale]])


def frame_image(image: np.ndarray, box: Box | None, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The network's picture of ``image`` and its matrix: cropped to ``box``, or the whole picture
    letterboxed when there is none."""
    return crop_image(image, box, size) if box else letterbox_image(image, size)
