"""Face mosaic: the "occluded" condition of the experiments, and de-identification.

The face region is an ellipse derived from the facial keypoints. Inside it the image becomes coarse
blocks of their mean colour plus strong random noise, and every pixel is forced to differ from the
original, so nothing of the face survives; outside it the image is untouched. Applied at load time
to any image, synthetic or real, with keypoints in that image's pixel coordinates.

Ellipses are ``((cx, cy), (a, b), angle_deg)`` as in ``cv2.ellipse``: semi-axis ``a`` points along
``(cos angle, sin angle)`` in image coordinates (x right, y down); a pixel belongs to the region
when its centre ``(i + 0.5, j + 0.5)`` lies inside.
"""

from __future__ import annotations

import zlib

import cv2
import numpy as np

from benchmark.study.keypoints import FACIAL_IDX, INDEX

Ellipse = tuple[tuple[float, float], tuple[float, float], float]

FOREHEAD = 0.5           # forehead point above the eyes, relative to the eyes-to-mouth vector
MIN_SIZE = 0.75          # smallest semi-axis, relative to the largest distance between facial keypoints
FALLBACK_CENTRE = 0.6    # fallback face centre: this fraction of the way from Head to the shoulders' midpoint
FALLBACK_RADIUS = 0.35   # fallback face radius (before margin), relative to the Head-shoulders distance
BLOCK_NOISE = 64         # amplitude of the uniform colour noise added to each block
PIXEL_NOISE = 32         # amplitude of the uniform noise added to each pixel

_EYES = [INDEX["Eye_L"], INDEX["Eye_R"]]
_MOUTH = [INDEX["Nose"], INDEX["Upper_Lip"], INDEX["Lower_Lip"]]


def _visible(points: np.ndarray) -> np.ndarray:
    return points[~np.isnan(points[:, 0])]


def _face_axis(keypoints: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Eyes' midpoint and the vector from it to the nose-and-lips midpoint: the line down the face,
    in frontal and profile views alike. None without an eye and a mouth keypoint."""
    eyes, mouth = _visible(keypoints[_EYES]), _visible(keypoints[_MOUTH])
    if len(eyes) == 0 or len(mouth) == 0:
        return None
    top = eyes.mean(axis=0)
    down = mouth.mean(axis=0) - top
    return (top, down) if down.any() else None


def _largest_distance(points: np.ndarray) -> float:
    """The largest distance between two of ``points`` ``(N, 2)``."""
    return float(np.linalg.norm(points[:, None] - points[None], axis=-1).max())


def _fit_ellipse(keypoints: np.ndarray, points: np.ndarray, margin: float) -> Ellipse:
    """Ellipse through the corners of the facial ``points``' bounding rectangle (half-sides times
    sqrt 2), grown by ``margin``.

    Where the face's axis is known, the rectangle is aligned with it and also spans a forehead
    point ``FOREHEAD`` times the axis above the eyes (the keypoints sit in the lower part of the
    face); otherwise it is the points' minimum-area rectangle. Each semi-axis is at least
    ``MIN_SIZE`` times the largest distance between the points, so a face seen in profile (points
    almost on a line) still gets a face-sized region; in a frontal face that distance is at least
    the eye distance."""
    axis = _face_axis(keypoints)
    if axis is None:
        angle = cv2.minAreaRect(points.astype(np.float32))[2]
        spanned = points
    else:
        top, down = axis
        angle = float(np.degrees(np.arctan2(down[1], down[0]))) - 90.0
        spanned = np.vstack([points, top - FOREHEAD * down])
    theta = np.deg2rad(angle)
    axes = np.array([[np.cos(theta), np.sin(theta)], [-np.sin(theta), np.cos(theta)]])
    local = spanned @ axes.T
    low, high = local.min(axis=0), local.max(axis=0)
    centre = (low + high) / 2 @ axes
    semi = np.maximum((high - low) / 2 * np.sqrt(2) * (1 + margin), MIN_SIZE * _largest_distance(points))
    return (float(centre[0]), float(centre[1])), (float(semi[0]), float(semi[1])), float(angle)


def _fallback_circle(keypoints: np.ndarray, face: np.ndarray, margin: float) -> Ellipse | None:
    """Circle on the Head-to-shoulders line (the face lies between the vertex and the shoulders),
    widened to cover a lone visible facial keypoint; None without Head and a shoulder."""
    head = keypoints[INDEX["Head"]]
    shoulders = _visible(keypoints[[INDEX["Shoulder_R"], INDEX["Shoulder_L"]]])
    if np.isnan(head[0]) or len(shoulders) == 0:
        return None
    neck = shoulders.mean(axis=0)
    length = np.linalg.norm(neck - head)
    if length == 0:
        return None
    centre = head + FALLBACK_CENTRE * (neck - head)
    radius = FALLBACK_RADIUS * length
    if len(face):
        radius = max(radius, np.linalg.norm(face - centre, axis=1).max())
    radius *= 1 + margin
    return (float(centre[0]), float(centre[1])), (float(radius), float(radius)), 0.0


def face_ellipse(keypoints: np.ndarray, margin: float = 0.6) -> Ellipse | None:
    """The face region of a pose ``(22, 2)``: an ellipse covering the visible facial keypoints
    (Eye_L, Eye_R, Nose, Upper_Lip, Lower_Lip) grown by ``margin``; with fewer than two distinct
    ones, a circle from the Head and shoulders (see :func:`_fallback_circle`). None only when
    neither is available."""
    keypoints = np.asarray(keypoints, dtype=float)
    face = _visible(keypoints[FACIAL_IDX])
    if len(face) >= 2 and np.ptp(face, axis=0).any():
        return _fit_ellipse(keypoints, face, margin)
    return _fallback_circle(keypoints, face, margin)


def ellipse_mask(shape: tuple[int, ...], ellipse: Ellipse) -> np.ndarray:
    """Boolean ``(H, W)`` mask of the pixels whose centres lie inside ``ellipse``."""
    (cx, cy), (a, b), angle = ellipse
    theta = np.deg2rad(angle)
    y, x = np.ogrid[: shape[0], : shape[1]]
    dx, dy = x + 0.5 - cx, y + 0.5 - cy
    u = dx * np.cos(theta) + dy * np.sin(theta)
    v = -dx * np.sin(theta) + dy * np.cos(theta)
    return (u / a) ** 2 + (v / b) ** 2 <= 1


def face_mask(shape: tuple[int, ...], keypoints: np.ndarray, margin: float = 0.6) -> np.ndarray:
    """Boolean ``(H, W)`` face region of an image of ``shape`` (all False if no region is found)."""
    ellipse = face_ellipse(keypoints, margin)
    if ellipse is None:
        return np.zeros(shape[:2], dtype=bool)
    return ellipse_mask(shape, ellipse)


def _rng(seed: int | str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(seed.encode()) if isinstance(seed, str) else seed)


def mosaic_region(image: np.ndarray, mask: np.ndarray, block: int, seed: int | str) -> np.ndarray:
    """A new uint8 image whose ``mask`` pixels are replaced by a noisy block mosaic.

    ``block``-pixel blocks of their mean colour, plus per-block and per-pixel uniform noise; any
    value that still equals the original is replaced by a random different one, so no original
    pixel inside ``mask`` survives. Deterministic for a given ``seed``.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"mosaic expects a uint8 image, got {image.dtype}")
    out = image.copy()
    rows, cols = np.nonzero(mask)
    if len(rows) == 0:
        return out
    rng = _rng(seed)
    original = image[rows, cols].reshape(len(rows), -1).astype(np.int64)   # (n, channels)
    _, cell = np.unique((rows // block) * (image.shape[1] // block + 1) + cols // block,
                        return_inverse=True)
    counts = np.bincount(cell)
    means = np.stack([np.bincount(cell, channel) for channel in original.T], axis=1) / counts[:, None]
    noise = (rng.uniform(-BLOCK_NOISE, BLOCK_NOISE, means.shape)[cell]
             + rng.uniform(-PIXEL_NOISE, PIXEL_NOISE, original.shape))
    values = np.clip(np.rint(means[cell] + noise), 0, 255).astype(np.int64)
    same = values == original
    values[same] = (original[same] + rng.integers(1, 256, same.sum())) % 256
    out[rows, cols] = values.astype(np.uint8).reshape(out[rows, cols].shape)
    return out


def mosaic_face(image: np.ndarray, keypoints: np.ndarray, seed: int | str,
                block: int | None = None, margin: float = 0.6) -> np.ndarray:
    """A new uint8 image with the face region mosaicked (see :func:`mosaic_region`).

    ``block`` defaults to a third of the ellipse's smaller semi-axis, about six blocks across the
    face. Deterministic for a given ``seed`` (an int, or a string such as the frame id, hashed with
    CRC-32). An image without a face region (see :func:`face_ellipse`) comes back as an unchanged
    copy: figures use :func:`safe_to_show` instead.
    """
    image = np.asarray(image)
    ellipse = face_ellipse(keypoints, margin)
    if ellipse is None:
        return mosaic_region(image, np.zeros(image.shape[:2], bool), 1, seed)
    block = block or max(2, round(min(ellipse[1]) / 3))
    return mosaic_region(image, ellipse_mask(image.shape, ellipse), block, seed)


def safe_to_show(image: np.ndarray, keypoints: np.ndarray, seed: int | str) -> np.ndarray:
    """The image as any figure may show it: face mosaicked, or, when no face region can be
    derived from the keypoints, the whole picture mosaicked (never an unknown face in the clear)."""
    image = np.asarray(image)
    if face_ellipse(keypoints) is not None:
        return mosaic_face(image, keypoints, seed)
    return mosaic_region(image, np.ones(image.shape[:2], bool), max(4, min(image.shape[:2]) // 24), seed)


FRAME_CELLS = 16  # cells across the longer side when a whole frame is pixelated


def pixelate(image: np.ndarray, seed: str, cells: int = FRAME_CELLS) -> np.ndarray:
    """The whole picture as coarse blocks, ``cells`` across its longer side, with the per-block
    and per-pixel colour noise of :func:`mosaic_face`, seeded by ``seed``."""
    height, width = image.shape[:2]
    scale = cells / max(height, width)
    small = cv2.resize(image, (max(1, round(width * scale)), max(1, round(height * scale))),
                       interpolation=cv2.INTER_AREA).astype(np.float32)
    rng = np.random.default_rng(zlib.crc32(seed.encode()))
    small += rng.uniform(-BLOCK_NOISE, BLOCK_NOISE, small.shape)
    blocks = cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST)
    blocks += rng.uniform(-PIXEL_NOISE, PIXEL_NOISE, blocks.shape)
    return np.clip(np.rint(blocks), 0, 255).astype(np.uint8)


def deidentify_frame(image: np.ndarray, keypoints: np.ndarray, confidence: np.ndarray,
                     threshold: float = 0.3, margin: float = 1.0,
                     seed: str = "") -> tuple[np.ndarray, str]:
    """Mosaic one frame from its predicted pose ``(22, 2)`` and confidences ``(22,)`` (de-identifying
    unlabelled frames, :mod:`benchmark.privacy.deidentify`): over the ``face`` ellipse when all five
    facial keypoints are confident, the ``head`` circle when Head and a shoulder are, both when it
    can, else the whole ``frame`` pixelated. Returns the new image and the regions used:
    ``"face+head"``, ``"face"``, ``"head"`` or ``"frame"``."""
    pose = np.where((confidence >= threshold)[:, None], keypoints, np.nan)
    head = pose.copy()
    head[FACIAL_IDX] = np.nan
    regions = {"face": pose if not np.isnan(pose[FACIAL_IDX]).any() else None,
               "head": head if face_ellipse(head) is not None else None}
    used = [name for name, region in regions.items() if region is not None]
    if not used:
        return pixelate(image, seed), "frame"
    for name in used:
        image = mosaic_face(image, regions[name], seed=seed, margin=margin)
    return image, "+".join(used)
