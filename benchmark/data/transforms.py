"""Affine geometry between original images and the network input.

All matrices are 2x3 in the continuous pixel convention of ``docs/CONVENTIONS.md`` (pixel ``i``
covers ``[i, i+1)``). Preprocessing is a single matrix ``A`` (letterbox, then augmentation), so
predictions map back to the original image through the exact inverse ``invert(A)``.
The photometric augmentation (:func:`photometric`, :func:`cutout`) changes pixels only, never labels.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from benchmark.study.keypoints import FLIP_PERMUTATION


def to3x3(matrix: np.ndarray) -> np.ndarray:
    return np.vstack([matrix, [0.0, 0.0, 1.0]])


def compose(*matrices: np.ndarray) -> np.ndarray:
    """``compose(A, B)`` applies ``B`` first, then ``A``."""
    out = np.eye(3)
    for m in matrices:
        out = out @ to3x3(m)
    return out[:2]


def invert(matrix: np.ndarray) -> np.ndarray:
    return np.linalg.inv(to3x3(matrix))[:2]


def apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Transform ``(..., 2)`` points by a 2x3 affine matrix or a 3x3 homography; NaN (missing)
    points stay NaN."""
    points = np.asarray(points, dtype=np.float64)
    moved = points @ matrix[:2, :2].T + matrix[:2, 2]
    if matrix.shape[0] == 3:
        moved = moved / (points @ matrix[2, :2] + matrix[2, 2])[..., None]
    return moved


def letterbox(width: int, height: int, size: int) -> np.ndarray:
    """Scale the longer side to ``size`` and centre the picture in a ``size x size`` square.

    The resized picture has whole-pixel size and offset, so ``letterbox_image`` can use an
    area-averaging resize (no aliasing) and stay exactly on this matrix.
    """
    scale = size / max(width, height)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    return np.array([[new_w / width, 0.0, (size - new_w) // 2],
                     [0.0, new_h / height, (size - new_h) // 2]])


def letterbox_image(image: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The letterboxed ``size x size`` picture and its matrix (see ``letterbox``)."""
    height, width = image.shape[:2]
    matrix = letterbox(width, height, size)
    new_w, new_h = round(matrix[0, 0] * width), round(matrix[1, 1] * height)
    x0, y0 = int(matrix[0, 2]), int(matrix[1, 2])
    out = np.zeros((size, size) + image.shape[2:], dtype=image.dtype)
    out[y0:y0 + new_h, x0:x0 + new_w] = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA)
    return out, matrix


def random_augmentation(rng: np.random.Generator, size: int, rotation: float = 30.0,
                        scale: tuple[float, float] = (0.75, 1.25), translate: float = 0.1,
                        flip: bool = True) -> tuple[np.ndarray, bool]:
    """A random rotation/scale/translation about the input centre, and whether to mirror."""
    c = size / 2
    angle = rng.uniform(-rotation, rotation)
    s = rng.uniform(*scale)
    shift = rng.uniform(-translate, translate, size=2) * size
    matrix = cv2.getRotationMatrix2D((c, c), angle, s)  # exact about (c, c) in any convention
    matrix[:, 2] += shift
    mirror = bool(flip and rng.random() < 0.5)
    if mirror:
        matrix = compose(np.array([[-1.0, 0.0, size], [0.0, 1.0, 0.0]]), matrix)
    return matrix, mirror


def random_tilt(rng: np.random.Generator, size: int, strength: float) -> np.ndarray:
    """A 3x3 homography that tilts the ``size x size`` input about its centre in a random direction,
    as an oblique camera does: lengths scale by ``1 / w``, with ``w`` running linearly from
    ``1 - t / 2`` to ``1 + t / 2`` across the input, ``t`` uniform in ``[0, strength]``."""
    t, heading = rng.uniform(0, strength), rng.uniform(0, 2 * np.pi)
    centre = np.array([[1.0, 0.0, size / 2], [0.0, 1.0, size / 2], [0.0, 0.0, 1.0]])
    tilt = np.eye(3)
    tilt[2, :2] = t / size * np.array([np.cos(heading), np.sin(heading)])
    return centre @ tilt @ np.linalg.inv(centre)


def radial_distortion(points: np.ndarray, centre, radius: float, strength: float) -> np.ndarray:
    """Where a lens puts points ``(..., 2)``: moved along the ray from ``centre`` by the factor
    ``(1 + strength * r**2) / (1 + strength)``, with ``r`` the distance from ``centre`` divided by
    ``radius``. Negative strengths are barrel distortion (the middle magnified, points pulled towards
    the centre), positive ones pincushion; points at ``radius`` stay, and so does everything beyond
    it (where a strong barrel would fold back)."""
    offset = np.asarray(points, dtype=np.float64) - centre
    r2 = np.sum(offset ** 2, axis=-1, keepdims=True) / radius ** 2
    return centre + offset * np.where(r2 < 1, (1 + strength * r2) / (1 + strength), 1.0)


def radial_distortion_maps(picture: tuple[int, int], centre, radius: float,
                           strength: float) -> tuple[np.ndarray, np.ndarray]:
    """``cv2.remap`` maps that distort a picture ``(width, height)`` like :func:`radial_distortion`:
    for each output pixel, the source position. The radius is inverted by Newton's method, exact
    for ``|strength| < 1/3`` (where the lens's radius function is monotonic)."""
    width, height = picture
    offset = np.stack(np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5), axis=-1) - centre
    target = np.minimum(np.hypot(offset[..., 0], offset[..., 1]) / radius, 1.0)
    r = target.copy()
    for _ in range(6):
        r -= (r * (1 + strength * r ** 2) - target * (1 + strength)) / (1 + 3 * strength * r ** 2)
    source = centre + offset * (r / np.maximum(target, 1e-12))[..., None] - 0.5  # cv2: centres on integers
    return source[..., 0].astype(np.float32), source[..., 1].astype(np.float32)


def random_lens(rng: np.random.Generator, size: int, strength: float) -> tuple[np.ndarray, float, float]:
    """A random lens for a ``size x size`` input: ``(centre, radius, strength)`` for
    :func:`radial_distortion`, centre within a quarter of the input from its middle, radius the
    distance to its farthest corner, strength uniform in ``[-strength, strength]``."""
    centre = size / 2 + rng.uniform(-0.25, 0.25, 2) * size
    radius = float(np.max(np.hypot(*(np.array([[0, 0], [0, size], [size, 0], [size, size]]) - centre).T)))
    return centre, radius, float(rng.uniform(-strength, strength))


def mirror_labels(keypoints: np.ndarray) -> np.ndarray:
    """Swap left/right keypoints after a horizontal mirror of the picture."""
    return keypoints[..., FLIP_PERMUTATION, :]


def warp(image: np.ndarray, matrix: np.ndarray, size: int, lens: tuple | None = None) -> np.ndarray:
    """Warp ``image`` by a 2x3 affine matrix or a 3x3 homography into a ``size x size`` picture;
    black outside the source. ``lens`` ``(centre, radius, strength)`` (:func:`random_lens`) adds a
    :func:`radial_distortion` after the matrix, in the same resampling."""
    affine = matrix.shape[0] == 2
    matrix = to3x3(matrix) if affine else matrix
    if lens is not None:
        source = np.stack(radial_distortion_maps((size, size), *lens), axis=-1) + 0.5
        source = apply(np.linalg.inv(matrix), source) - 0.5
        return cv2.remap(image, source[..., 0].astype(np.float32), source[..., 1].astype(np.float32),
                         cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    # OpenCV puts pixel centres at integers: shift by half a pixel on both sides.
    half = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])
    cv_matrix = np.linalg.inv(half) @ matrix @ half
    if affine:
        return cv2.warpAffine(image, cv_matrix[:2], (size, size), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return cv2.warpPerspective(image, cv_matrix, (size, size), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0)


YIQ = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])


def hue_rotation(degrees: float) -> np.ndarray:
    """3x3 RGB matrix that turns hues by ``degrees`` (a rotation of the YIQ chroma plane; the
    luma stays)."""
    c, s = np.cos(np.deg2rad(degrees)), np.sin(np.deg2rad(degrees))
    return np.linalg.inv(YIQ) @ np.array([[1, 0, 0], [0, c, -s], [0, s, c]]) @ YIQ


def photometric(image: np.ndarray, rng: np.random.Generator, brightness: float = 0.25,
                contrast: float = 0.3, saturation: float = 0.3, gain: float = 0.0, hue: float = 0.0,
                blur: float = 0.0, noise: float = 0.0, motion_blur: float = 0.0) -> np.ndarray:
    """Random colour and sensor changes of a float32 image in [0, 1]: saturation, contrast and
    brightness times ``1 +- `` their fraction, per-channel gains ``1 +- gain`` (colour casts), hues
    turned by up to ``+-hue`` degrees, half the time a Gaussian blur of sigma up to ``blur``
    pixels, Gaussian noise of sigma up to ``noise``, and half the time a motion blur (a line
    ``2`` to ``motion_blur`` pixels long in a random direction). A range of 0 draws nothing, so it
    leaves the other draws as they were.

    The colour changes are all affine in the pixel's RGB, so they are composed into one 3x3 matrix
    and offset and applied in one pass of ``cv2.transform``."""
    s = rng.uniform(1 - saturation, 1 + saturation)
    matrix = s * np.eye(3) + (1 - s) / 3  # towards or away from the pixel's grey
    c = rng.uniform(1 - contrast, 1 + contrast)  # about the image's mean, which saturation keeps
    offset = (1 - c) * image.mean() * np.ones(3)
    matrix = c * matrix
    b = rng.uniform(1 - brightness, 1 + brightness)
    matrix, offset = b * matrix, b * offset
    if gain:
        gains = rng.uniform(1 - gain, 1 + gain, 3)
        matrix, offset = gains[:, None] * matrix, gains * offset
    if hue:
        turn = hue_rotation(rng.uniform(-hue, hue))
        matrix, offset = turn @ matrix, turn @ offset
    image = cv2.transform(image, np.hstack([matrix, offset[:, None]]))
    if blur and rng.random() < 0.5:
        image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.3, max(blur, 0.3)))
    if noise:
        image = image + rng.uniform(0, noise) * standard_normal_field(image.shape, rng)
    if motion_blur and rng.random() < 0.5:
        length = rng.uniform(2.0, max(motion_blur, 2.0))
        image = cv2.filter2D(image, -1, line_kernel(length, rng.uniform(0, np.pi)))
    return np.clip(image, 0.0, 1.0)


def line_kernel(length: float, angle: float) -> np.ndarray:
    """A normalised filter kernel: a line ``length`` pixels long at ``angle`` (radians)."""
    size = max(3, int(length) | 1)
    kernel = np.zeros((size, size), np.float32)
    half = size // 2
    end = half * np.array([np.cos(angle), np.sin(angle)])
    cv2.line(kernel, tuple(np.round(half - end).astype(int)), tuple(np.round(half + end).astype(int)), 1.0)
    return kernel / kernel.sum()


NOISE_BANK = 512  # side in pixels of the fixed noise field that sensor-noise augmentation crops


@functools.cache
def _noise_bank(channels: int) -> np.ndarray:
    return np.random.default_rng(0).standard_normal((NOISE_BANK, NOISE_BANK, channels), dtype=np.float32)


def standard_normal_field(shape: tuple[int, int, int], rng: np.random.Generator) -> np.ndarray:
    """Independent standard normal noise of ``shape`` (height, width, channels): a crop at a random
    place of a fixed field, with a random sign. Per pixel it is a fresh draw; only different images
    may share noise. 9 us instead of the 0.5 ms of drawing 128x128x3 values, which was half the
    photometric augmentation's time (fields larger than the bank are drawn)."""
    height, width, channels = shape
    if height > NOISE_BANK or width > NOISE_BANK:
        return rng.standard_normal(shape, dtype=np.float32)
    y, x = rng.integers(0, NOISE_BANK - np.array([height, width]) + 1)
    sign = np.float32(rng.choice([-1.0, 1.0]))
    return sign * _noise_bank(channels)[y:y + height, x:x + width]


def cutout(image: np.ndarray, rng: np.random.Generator, count: int = 0, size: float = 0.25) -> np.ndarray:
    """Up to ``count`` random rectangles (sides a quarter to all of ``size`` times the picture's)
    filled with a random flat colour; a copy of a float image in [0, 1]. Labels stay as they are."""
    image = image.copy()
    height, width = image.shape[:2]
    for _ in range(int(rng.integers(0, count + 1)) if count else 0):
        h, w = np.maximum(1, (rng.uniform(size / 4, size, 2) * (height, width)).astype(int))
        y, x = rng.integers(0, height - h + 1), rng.integers(0, width - w + 1)
        image[y:y + h, x:x + w] = rng.uniform(0, 1, image.shape[2:])
    return image
