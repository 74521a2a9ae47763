"""Camera above the mat: a fixed homography from the body frame (cm) to picture pixels.

A video's camera is a similarity (scale, rotation, offset), optionally with a small perspective
tilt (an oblique camera: the side nearer the camera looks larger). It is chosen after the motion,
from the extent of the whole video's keypoints, so the infant normally stays inside the picture;
``fill`` > 1 zooms in so that hands or feet can leave it at times. A radial lens distortion
(:func:`distort`, applied to the rendered picture by :func:`distortion_maps`) bends straight lines:
negative strengths are barrel distortion (points pulled towards the centre).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from benchmark.data.transforms import radial_distortion, radial_distortion_maps


@dataclass(frozen=True)
class Camera:
    """``matrix`` maps homogeneous body-frame points (cm) to picture pixel coordinates
    (continuous, pixel ``i`` covers ``[i, i + 1)``)."""

    matrix: np.ndarray
    px_per_cm: float  # scale at the body centre

    def project(self, points: np.ndarray) -> np.ndarray:
        """Map points ``(..., 2)`` in cm to pixels ``(..., 2)``."""
        return apply(self.matrix, points)


def apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a 3x3 homography to points ``(..., 2)``."""
    points = np.asarray(points, dtype=float)
    h = points @ matrix[:2, :2].T + matrix[:2, 2]
    w = points @ matrix[2, :2] + matrix[2, 2]
    return h / w[..., None]


def _similarity(scale: float, angle: float, offset=(0.0, 0.0)) -> np.ndarray:
    c, s = scale * np.cos(angle), scale * np.sin(angle)
    return np.array([[c, -s, offset[0]], [s, c, offset[1]], [0.0, 0.0, 1.0]])


def frame_camera(rng: np.random.Generator, points: np.ndarray, picture: tuple[int, int],
                 rotation: float, fill: float, tilt: float = 0.0, margin: float = 5.0) -> Camera:
    """Camera that shows every point of ``points`` ``(N, 2)`` (cm; all frames of a video), padded
    by ``margin`` cm, at ``fill`` times the largest scale that fits the picture ``(width, height)``,
    rotated by ``rotation`` (radians, image plane) and shifted at random within the middle 60 %
    of the slack.
    ``tilt`` (1/cm) is the perspective strength, in a random direction."""
    centre = (points.min(axis=0) + points.max(axis=0)) / 2
    perspective = np.eye(3)
    if tilt:
        heading = rng.uniform(0, 2 * np.pi)
        perspective[2, :2] = tilt * np.array([np.cos(heading), np.sin(heading)])
    matrix = _similarity(1.0, rotation) @ perspective @ _similarity(1.0, 0.0, -centre)
    seen = apply(matrix, points)
    low, high = seen.min(axis=0) - margin, seen.max(axis=0) + margin
    size = np.asarray(picture, dtype=float)
    scale = fill * np.min(size / (high - low))
    slack = size - scale * (high - low)
    shift = np.where(slack > 0, slack * rng.uniform(0.2, 0.8, 2), slack / 2)  # off-centre at times
    matrix = _similarity(scale, 0.0, shift - scale * low) @ matrix
    return Camera(matrix=matrix, px_per_cm=scale)


def _lens(picture: tuple[int, int]) -> tuple[np.ndarray, float]:
    """The lens's centre and radius: the picture's centre and half diagonal (the corners stay)."""
    centre = np.asarray(picture, dtype=float) / 2
    return centre, float(np.hypot(*centre))


def distort(points: np.ndarray, picture: tuple[int, int], strength: float) -> np.ndarray:
    """Where the lens puts picture points ``(..., 2)`` (continuous pixel coordinates)."""
    return radial_distortion(points, *_lens(picture), strength) if strength else np.asarray(points, dtype=float)


def distortion_maps(picture: tuple[int, int], strength: float) -> tuple[np.ndarray, np.ndarray]:
    """``cv2.remap`` maps that distort a picture ``(width, height)`` like :func:`distort`."""
    return radial_distortion_maps(picture, *_lens(picture), strength)


def remap(image: np.ndarray, maps: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Apply :func:`distortion_maps` to an image (edges replicated)."""
    return cv2.remap(image, maps[0], maps[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
