"""Procedural textures: fabric patterns for mats and clothes, hair, and the light falloff.

All functions return images of a given ``(height, width)``; sizes of pattern features are given
in pixels (callers convert from centimetres with the camera scale) so a pattern looks the same at
any image size.
"""

from __future__ import annotations

import cv2
import numpy as np

from benchmark.data.transforms import line_kernel

RGB = tuple[int, int, int]


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], feature_px: float) -> np.ndarray:
    """Zero-mean, unit-ish smooth noise ``(H, W)`` float32 with blobs about ``feature_px`` wide
    (value noise: a coarse random grid, bicubically enlarged)."""
    h, w = shape
    cells = (max(2, int(np.ceil(h / feature_px)) + 2), max(2, int(np.ceil(w / feature_px)) + 2))
    grid = rng.standard_normal(cells).astype(np.float32)
    big = cv2.resize(grid, (int(cells[1] * feature_px), int(cells[0] * feature_px)),
                     interpolation=cv2.INTER_CUBIC)
    return big[:h, :w]


def _grid(shape: tuple[int, int], period: float, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates rotated by ``angle`` and divided by ``period``."""
    y, x = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
    c, s = np.cos(angle), np.sin(angle)
    return (c * x + s * y) / period, (-s * x + c * y) / period


def pattern(rng: np.random.Generator, kind: str, shape: tuple[int, int], period: float) -> np.ndarray:
    """Weight ``(H, W)`` in [0, 1] of a fabric's second colour for a pattern ``kind``:
    plain, grain, stripes, checks, dots, quilt, print, spots, camo or zigzag; ``period`` in pixels."""
    u, v = _grid(shape, period, rng.uniform(0, np.pi))
    if kind in ("plain", "grain"):
        return np.zeros(shape, np.float32)
    if kind == "stripes":
        duty = rng.uniform(0.2, 0.5)
        return (np.mod(u, 1.0) < duty).astype(np.float32)
    if kind == "checks":  # gingham: half-tone where stripes cross one way, full where both
        return 0.5 * ((np.mod(u, 1.0) < 0.5).astype(np.float32) + (np.mod(v, 1.0) < 0.5))
    if kind == "dots":
        radius = rng.uniform(0.12, 0.3)
        return (np.hypot(np.mod(u, 1.0) - 0.5, np.mod(v + 0.5 * np.floor(u), 1.0) - 0.5)
                < radius).astype(np.float32)
    if kind == "quilt":  # diamond seams
        seam = np.minimum(np.abs(np.mod(u + v, 1.0) - 0.5), np.abs(np.mod(u - v, 1.0) - 0.5))
        return (seam < 0.04).astype(np.float32)
    if kind == "print":  # small scattered motifs
        blobs = smooth_noise(rng, shape, period / 3)
        return (blobs > 1.3).astype(np.float32)
    if kind == "spots":  # animal print
        return (smooth_noise(rng, shape, period / 2) > 0.6).astype(np.float32)
    if kind == "camo":
        return np.clip(np.round(smooth_noise(rng, shape, period) + 0.5), 0, 2) / 2
    if kind == "zigzag":  # chevron stripes
        return (np.mod(u + 2 * np.abs(np.mod(v, 1.0) - 0.5), 1.0) < 0.45).astype(np.float32)
    raise ValueError(f"unknown pattern {kind!r}")


def fabric(rng: np.random.Generator, shape: tuple[int, int], colour: RGB, second: RGB, kind: str,
           period: float, folds: float = 0.06, grain: float = 0.04) -> np.ndarray:
    """Textured cloth ``(H, W, 3)`` uint8: two colours mixed by :func:`pattern`, shaded by soft
    folds (low-frequency brightness, relative amplitude ``folds``) and a fine weave ``grain``."""
    weight = pattern(rng, kind, shape, period)[..., None]
    image = (1 - weight) * np.float32(colour) + weight * np.float32(second)
    fine = max(1.5, period / (4 if kind == "grain" else 12))
    shading = 1 + folds * smooth_noise(rng, shape, 4 * period) + grain * smooth_noise(rng, shape, fine)
    return np.clip(image * shading[..., None], 0, 255).astype(np.uint8)


def streaks(rng: np.random.Generator, shape: tuple[int, int], angle: float, length: float) -> np.ndarray:
    """Hair-like strands ``(H, W)`` float32 in about [-1, 1]: noise smeared along ``angle``
    (radians, image plane) over ``length`` pixels."""
    noise = rng.standard_normal(shape).astype(np.float32)
    smeared = cv2.filter2D(noise, -1, line_kernel(length, angle))
    return smeared / (smeared.std() + 1e-6)


def hair(rng: np.random.Generator, shape: tuple[int, int], colour: RGB, angle: float,
         strand_px: float) -> np.ndarray:
    """Hair texture ``(H, W, 3)`` uint8: ``colour`` with strands along ``angle``."""
    strands = streaks(rng, shape, angle, strand_px)
    image = np.float32(colour) * (1 + 0.22 * strands[..., None]) + 10 * strands[..., None]
    return np.clip(image, 0, 255).astype(np.uint8)


def light_map(shape: tuple[int, int], angle: float, gradient: float, vignette: float) -> np.ndarray:
    """Illumination ``(H, W)`` float32 around 1: a linear ramp of total relative change
    ``gradient`` towards ``angle`` times a radial ``vignette`` darkening of the corners."""
    h, w = shape
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    x, y = (x + 0.5 - w / 2) / max(h, w), (y + 0.5 - h / 2) / max(h, w)
    ramp = 1 + gradient * (np.cos(angle) * x + np.sin(angle) * y)
    return (ramp * (1 - vignette * 2 * (x ** 2 + y ** 2))).astype(np.float32)
