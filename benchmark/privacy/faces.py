"""Is the face in a frame mosaicked? A test from the facial keypoints, no face detector needed.

The face is :mod:`benchmark.data.mosaic`'s ellipse without margin (the face itself, well inside any
mosaic drawn with the default margin); a ring around the default mosaic region holds the natural
texture of the same picture (same camera noise, same JPEG grid) as the reference. A mosaic leaves
one of two signatures there, each measured relative to the ring:

- **blocks**: piecewise-constant cells make strong colour steps on a regular grid and small steps
  inside the cells. For each block size ``b`` and grid offset, the mean step across the grid lines
  over the mean step elsewhere is the *boundary ratio* (about 1 for natural texture); the region's
  ratio is divided by the ring's on the same grid (cancelling the JPEG 8x8 grid, which covers the
  whole picture). ``blockiness`` is the best such score over block sizes and offsets, taking the
  weaker of the horizontal and vertical grids (a mosaic has both).
- **noise**: mosaics that add random colour noise (:func:`benchmark.data.mosaic.mosaic_face`, the
  reference dataset's noisy oval) hold far more pixel-level noise than skin. ``noise`` is the
  median, over the region, of the absolute difference from a 3x3 median filter (summed over RGB);
  it must reach :data:`NOISE_LEVEL` and :data:`NOISE_RATIO` times the ring's. The ring's level
  counts only up to :data:`NOISE_CAP`: a ring noisier than that is no camera noise but part of a
  mosaic covering the whole picture.

The region counts as mosaicked when either score passes its threshold. The thresholds were chosen
on synthetic frames, and docs/PRIVACY.md gives the error rates measured on others
(:mod:`benchmark.privacy.evaluate`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from benchmark.data.mosaic import Ellipse, ellipse_mask, face_ellipse

BLOCKINESS_THRESHOLD = 1.8  # region boundary ratio over the ring's, on the best grid
NOISE_LEVEL = 14.0          # median residual of a noisy mosaic, at least (grey levels, RGB summed)
NOISE_RATIO = 2.0           # ... and at least this times the ring's
NOISE_CAP = 10.0            # ring residual above this is a mosaic too, not camera noise
STEP_FLOOR = 3.0            # added to mean steps, so flat areas give ratios near 1, not 0/0
RING = (1.2, 2.0)           # the ring lies between these multiples of the default mosaic ellipse
MAX_BLOCK = 32              # largest block size tried (pixels)
MIN_PIXELS = 100            # smaller face regions are not judged (too small to identify anyone)


@dataclass(frozen=True)
class FaceCheck:
    """The verdict on one face region and the scores behind it (see the module docstring)."""

    mosaicked: bool
    blockiness: float  # best boundary-ratio score (about 1 without a grid)
    block: int         # block size of that score, pixels (0 when no grid was tried)
    noise: float       # median residual in the region (grey levels, RGB summed)
    ring_noise: float  # the same in the ring around it
    pixels: int        # size of the face region

    def describe(self) -> str:
        """The scores next to the levels a mosaic reaches."""
        needed = noise_threshold(self.ring_noise)
        return (f"noise {self.noise:.1f}, a noisy mosaic reaches {needed:.0f}; blockiness "
                f"{self.blockiness:.2f}, a block mosaic reaches {BLOCKINESS_THRESHOLD}")

    def as_dict(self) -> dict:
        return {"mosaicked": self.mosaicked, "blockiness": round(self.blockiness, 3),
                "block": self.block, "noise": round(self.noise, 2),
                "ring_noise": round(self.ring_noise, 2), "pixels": self.pixels}


def _scaled(ellipse: Ellipse, factor: float) -> Ellipse:
    centre, (a, b), angle = ellipse
    return centre, (a * factor, b * factor), angle


def _line_steps(pixels: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each vertical grid line ``x = 1 .. W-1``: the summed absolute colour step between the
    pixels on either side, over the pairs that both lie in ``mask``, and the number of such pairs."""
    step = np.abs(np.diff(pixels, axis=1)).sum(axis=2)
    both = mask[:, 1:] & mask[:, :-1]
    return np.where(both, step, 0.0).sum(axis=0), both.sum(axis=0)


def boundary_ratios(steps: np.ndarray, counts: np.ndarray, block: int) -> np.ndarray:
    """``(block,)``: for each offset ``o``, the mean step on the lines ``x % block == o`` over the
    mean step on the other lines (both plus :data:`STEP_FLOOR`); 1 where either set is empty."""
    phase = np.arange(1, len(steps) + 1) % block
    on_steps, on_counts = np.bincount(phase, steps, block), np.bincount(phase, counts, block)
    off_steps, off_counts = steps.sum() - on_steps, counts.sum() - on_counts
    on = on_steps / np.maximum(on_counts, 1) + STEP_FLOOR
    off = off_steps / np.maximum(off_counts, 1) + STEP_FLOOR
    return np.where((on_counts > 0) & (off_counts > 0), on / off, 1.0)


def blockiness(pixels: np.ndarray, region: np.ndarray, ring: np.ndarray) -> tuple[float, int]:
    """Best grid score of ``region`` relative to ``ring`` and its block size (see module docstring).

    Block sizes run from 2 to a third of the region's smaller extent (at least three cells across),
    up to :data:`MAX_BLOCK`. The ring's ratio is floored at 1 so that only grids the region has
    and the ring has not can score."""
    axes = [(pixels, region, ring), (pixels.transpose(1, 0, 2), region.T, ring.T)]
    lines = [(_line_steps(p, inside), _line_steps(p, around)) for p, inside, around in axes]
    rows, cols = np.nonzero(region)
    extent = min(np.ptp(rows), np.ptp(cols)) + 1
    best, best_block = 1.0, 0
    for block in range(2, min(MAX_BLOCK, extent // 3) + 1):
        score = min(np.max(boundary_ratios(*inside, block)
                           / np.maximum(boundary_ratios(*around, block), 1.0))
                    for inside, around in lines)
        if score > best:
            best, best_block = float(score), block
    return best, best_block


def residual(pixels: np.ndarray) -> np.ndarray:
    """``(H, W)`` absolute difference from the 3x3 median, summed over channels (uint8 input)."""
    return np.abs(pixels.astype(np.float32) - cv2.medianBlur(pixels, 3)).sum(axis=2)


def noise_threshold(ring_noise: float) -> float:
    """The region noise a noisy mosaic reaches, given the ring's (see the module docstring)."""
    return max(NOISE_LEVEL, NOISE_RATIO * min(ring_noise, NOISE_CAP))


def check_face(image: np.ndarray, keypoints: np.ndarray) -> FaceCheck | None:
    """Judge the face region of ``image`` (RGB uint8) given its pose ``(22, 2)`` (NaN = missing).

    None when the pose gives no face region (see :func:`benchmark.data.mosaic.face_ellipse`) or the region
    has fewer than :data:`MIN_PIXELS` pixels in the picture."""
    face = face_ellipse(keypoints, margin=0.0)
    if face is None:
        return None
    covered = face_ellipse(keypoints)  # the default mosaic region
    region = ellipse_mask(image.shape, face)
    if region.sum() < MIN_PIXELS:
        return None
    outer = ellipse_mask(image.shape, _scaled(covered, RING[1])) | region
    rows, cols = np.nonzero(outer)
    crop = slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1)
    pixels = np.ascontiguousarray(image[crop])
    region = region[crop]
    ring = outer[crop] & ~ellipse_mask(image.shape, _scaled(covered, RING[0]))[crop]

    score, block = blockiness(pixels.astype(np.float32), region, ring)
    noise_map = residual(pixels)
    noise = float(np.median(noise_map[region]))
    ring_noise = float(np.median(noise_map[ring])) if ring.any() else 0.0
    mosaicked = score >= BLOCKINESS_THRESHOLD or noise >= noise_threshold(ring_noise)
    return FaceCheck(bool(mosaicked), score, block, noise, ring_noise, int(region.sum()))
