"""Pose overlays and image grids for contact sheets and reports.

Colours: the infant's left side orange, right side blue, the midline (head, face, the shoulder
and hip lines) green. Marker and line sizes scale with the image, so a drawing reads the same at
any resolution. Images are RGB uint8; functions return new images.
"""

from __future__ import annotations

import cv2
import numpy as np

from benchmark.study.keypoints import LABELS, SKELETON_IDX

LEFT, RIGHT, MIDDLE = (255, 140, 0), (30, 144, 255), (50, 205, 50)
SINGLE = (255, 0, 255)
BACKDROP = (32, 32, 32)
SHIFT = 4  # fractional bits of coordinates given to cv2


def side_colour(label: str) -> tuple[int, int, int]:
    """Colour of a keypoint by side of the body."""
    return LEFT if label.endswith("_L") else RIGHT if label.endswith("_R") else MIDDLE


def _edge_colour(a: str, b: str) -> tuple[int, int, int]:
    return side_colour(a) if side_colour(a) == side_colour(b) else MIDDLE


def _fixed(point: np.ndarray) -> tuple[int, int]:
    """Our pixel-centre convention (``i + 0.5``) to cv2's (integer centres), fixed point."""
    return tuple(int(v) for v in np.round((np.asarray(point) - 0.5) * (1 << SHIFT)))


def draw_pose(image: np.ndarray, keypoints: np.ndarray, color_by_side: bool = True,
              radius: float | None = None, thickness: int | None = None,
              labels: bool = False) -> np.ndarray:
    """A copy of ``image`` with the skeleton and keypoints ``(22, 2)`` drawn on it.

    Missing (NaN) keypoints and the edges touching them are skipped. ``radius``/``thickness``
    default to sizes proportional to the image; ``labels`` writes each keypoint's name.
    """
    out = np.ascontiguousarray(image, dtype=np.uint8).copy()
    if out.ndim == 2:
        out = cv2.cvtColor(out, cv2.COLOR_GRAY2RGB)
    keypoints = np.asarray(keypoints, dtype=float)
    side = min(out.shape[:2])
    radius = radius or max(2, round(side / 110))
    thickness = int(thickness or max(1, round(side / 220)))
    marker = int(round(radius * (1 << SHIFT)))
    visible = np.isfinite(keypoints).all(axis=1)
    for i, j in SKELETON_IDX:
        if visible[i] and visible[j]:
            colour = _edge_colour(LABELS[i], LABELS[j]) if color_by_side else SINGLE
            cv2.line(out, _fixed(keypoints[i]), _fixed(keypoints[j]), colour, thickness, cv2.LINE_AA, SHIFT)
    for k in np.flatnonzero(visible):
        colour = side_colour(LABELS[k]) if color_by_side else SINGLE
        cv2.circle(out, _fixed(keypoints[k]), marker, colour, -1, cv2.LINE_AA, SHIFT)
        cv2.circle(out, _fixed(keypoints[k]), marker, (0, 0, 0), 1, cv2.LINE_AA, SHIFT)
        if labels:
            x, y = (int(v) for v in keypoints[k] + radius)
            cv2.putText(out, LABELS[k], (x, y), cv2.FONT_HERSHEY_SIMPLEX, max(0.3, side / 1200),
                        colour, 1, cv2.LINE_AA)
    return out


def fit(image: np.ndarray, cell: int) -> np.ndarray:
    """``image`` scaled to fit a ``cell`` x ``cell`` square, centred on a dark backdrop."""
    h, w = image.shape[:2]
    scale = cell / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    if small.ndim == 2:
        small = cv2.cvtColor(small, cv2.COLOR_GRAY2RGB)
    out = np.full((cell, cell, 3), BACKDROP, np.uint8)
    y, x = (cell - size[1]) // 2, (cell - size[0]) // 2
    out[y:y + size[1], x:x + size[0]] = small
    return out


TITLE_SUPERSAMPLE = 4  # titles are drawn this many times larger, then shrunk: crisp small text


def _title(cell_image: np.ndarray, text: str) -> np.ndarray:
    """A title bar above a cell, text shrunk to fit its width. The text is drawn at
    ``TITLE_SUPERSAMPLE`` times the size with as thick strokes and shrunk by area averaging, so
    that small titles stay bright and legible (OpenCV's own anti-aliasing of text a few pixels high
    draws strokes at 70-75 % of the colour since OpenCV 5.1)."""
    width, up = cell_image.shape[1], TITLE_SUPERSAMPLE
    bar = max(12, width // 14)
    font = cv2.FONT_HERSHEY_SIMPLEX
    scale = 0.6 * bar / cv2.getTextSize("Ag", font, 1.0, 1)[0][1]
    scale = min(scale, 0.95 * width / max(1, cv2.getTextSize(text, font, 1.0, 1)[0][0]))
    strip = np.full((bar * up, width * up, 3), BACKDROP, np.uint8)
    cv2.putText(strip, text, (3 * up, int(bar * 0.75) * up), font, scale * up, (235, 235, 235), up, cv2.LINE_AA)
    return np.concatenate([cv2.resize(strip, (width, bar), interpolation=cv2.INTER_AREA), cell_image])


def grid(images: list[np.ndarray], cols: int, titles: list[str] | None = None,
         cell: int = 256) -> np.ndarray:
    """Images tiled ``cols`` per row, each fitted into a ``cell`` square (aspect kept), with an
    optional title bar above each; missing cells of the last row stay dark."""
    if not images:
        raise ValueError("grid needs at least one image")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"{len(titles)} titles for {len(images)} images")
    cells = [fit(image, cell) for image in images]
    if titles is not None:
        cells = [_title(c, t) for c, t in zip(cells, titles)]
    cols = max(1, min(cols, len(cells)))
    cells += [np.full_like(cells[0], BACKDROP)] * (-len(cells) % cols)
    rows = [np.concatenate(cells[i:i + cols], axis=1) for i in range(0, len(cells), cols)]
    return np.concatenate(rows, axis=0)
