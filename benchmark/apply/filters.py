"""Temporal filters for keypoint trajectories: ``(T, 22, 2)`` pixels over times ``(T,)`` seconds.

Pure functions of ``(trajectories, times, **parameters)`` returning new trajectories of the same
shape. NaN marks a missing keypoint and stays NaN; every keypoint is filtered on its own frames.
Times must increase strictly.

- :func:`savgol`: Savitzky-Golay smoothing (``scipy.signal.savgol_filter``): a least-squares
  polynomial of degree ``polyorder`` over a centred window of ``window`` frames (odd), fitted
  separately on each run of consecutive frames where the keypoint is present. Polynomials up to
  ``polyorder`` pass unchanged, so it removes jitter with little bias on smooth motion, but it
  looks ``window // 2`` frames ahead (offline only) and counts frames, not seconds: meant for a
  steady frame rate. Defaults: ``window=9`` (0.3 s at 30 fps), ``polyorder=2``.
- :func:`oneeuro`: the One Euro filter (Casiez, Roussel and Vogel, CHI 2012): a first-order
  low-pass filter whose cutoff rises with the keypoint's speed, ``min_cutoff + beta * speed``
  (Hz, speed in pixels per second, low-passed at ``d_cutoff``), so slow movement loses its jitter
  and fast movement its lag. Causal, and it uses the actual time between frames, so variable frame
  rates and missing frames work. Speed is the 2-D speed of the keypoint (x and y share one cutoff).
  Defaults: ``min_cutoff=1.0`` Hz, ``beta=0.01`` per pixel (at 100 px/s the cutoff doubles),
  ``d_cutoff=1.0`` Hz (the paper's). Tune as the paper advises: ``beta=0`` and lower
  ``min_cutoff`` until a still keypoint stops jittering, then raise ``beta`` until fast movements
  stop lagging.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable

import numpy as np
from scipy.signal import savgol_filter

from benchmark.common.errors import InputError


def _checked(trajectories: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    trajectories = np.asarray(trajectories, dtype=float)
    times = np.asarray(times, dtype=float)
    if trajectories.ndim != 3 or trajectories.shape[2] != 2 or times.shape != trajectories.shape[:1]:
        raise ValueError(f"expected trajectories (T, K, 2) and times (T,), got {trajectories.shape} "
                         f"and {times.shape}")
    if (np.diff(times) <= 0).any():
        raise ValueError(f"times must increase strictly; frame {np.argmax(np.diff(times) <= 0) + 1} does not")
    return trajectories, times


def _runs(present: np.ndarray) -> list[slice]:
    """The runs of consecutive True values of a boolean ``(T,)`` array, as slices."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], present.astype(int), [0]])))
    return [slice(start, stop) for start, stop in zip(edges[::2], edges[1::2])]


def savgol(trajectories: np.ndarray, times: np.ndarray, window: int = 9, polyorder: int = 2) -> np.ndarray:
    """Savitzky-Golay smoothing over ``window`` frames (see the module docstring). A run shorter
    than ``window`` uses the largest odd window it holds; one of at most ``polyorder`` frames is
    left as it is."""
    if window < 1 or window % 2 == 0 or not 0 <= polyorder < window:
        raise InputError(f"savgol needs an odd window > polyorder >= 0, got window={window}, "
                         f"polyorder={polyorder}")
    trajectories, _ = _checked(trajectories, times)
    out = trajectories.copy()
    for k in range(trajectories.shape[1]):
        for run in _runs(~np.isnan(trajectories[:, k, 0])):
            length = run.stop - run.start
            size = min(window, length - 1 + length % 2)
            if size > polyorder:
                out[run, k] = savgol_filter(trajectories[run, k], size, polyorder, axis=0)
    return out


def _low_pass(value: np.ndarray, previous: np.ndarray, cutoff: np.ndarray | float,
              dt: np.ndarray) -> np.ndarray:
    """One step of an exponential low-pass filter with ``cutoff`` Hz after ``dt`` seconds."""
    alpha = 1 / (1 + 1 / (2 * math.pi * cutoff * dt))
    return alpha * value + (1 - alpha) * previous


def oneeuro(trajectories: np.ndarray, times: np.ndarray, min_cutoff: float = 1.0, beta: float = 0.01,
            d_cutoff: float = 1.0) -> np.ndarray:
    """The One Euro filter (see the module docstring). Each keypoint starts at its first present
    value with speed 0; after a gap it goes on from its last present frame."""
    if min_cutoff <= 0 or d_cutoff <= 0 or beta < 0:
        raise InputError(f"oneeuro needs min_cutoff > 0, d_cutoff > 0, beta >= 0, got "
                         f"min_cutoff={min_cutoff}, beta={beta}, d_cutoff={d_cutoff}")
    trajectories, times = _checked(trajectories, times)
    keypoints = trajectories.shape[1]
    out = np.full_like(trajectories, np.nan)
    raw = np.full((keypoints, 2), np.nan)       # last present raw value
    smooth = np.full((keypoints, 2), np.nan)    # last filtered value
    velocity = np.zeros((keypoints, 2))         # last filtered velocity, pixels per second
    seen = np.full(keypoints, np.nan)           # time of the last present value
    for i, (x, t) in enumerate(zip(trajectories, times)):
        present = ~np.isnan(x[:, 0])
        step = present & ~np.isnan(seen)
        start = present & np.isnan(seen)
        dt = (t - seen[step])[:, None]
        velocity[step] = _low_pass((x[step] - raw[step]) / dt, velocity[step], d_cutoff, dt)
        cutoff = min_cutoff + beta * np.linalg.norm(velocity[step], axis=1, keepdims=True)
        smooth[step] = _low_pass(x[step], smooth[step], cutoff, dt)
        smooth[start] = x[start]
        raw[present], seen[present] = x[present], t
        out[i, present] = smooth[present]
    return out


FILTERS: dict[str, Callable[..., np.ndarray]] = {"savgol": savgol, "oneeuro": oneeuro}


def parameters(name: str) -> dict[str, float]:
    """The parameters of filter ``name`` and their defaults, e.g. ``{"window": 9, "polyorder": 2}``."""
    signature = inspect.signature(FILTERS[name]).parameters.values()
    return {p.name: p.default for p in signature if p.default is not inspect.Parameter.empty}
