"""Temporal filters: what they keep (polynomials, NaN), what they remove (jitter) and the lag they
add, with steady and variable frame rates."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmark.apply.filters import FILTERS, oneeuro, parameters, savgol


def track(values: np.ndarray, keypoints: int = 3) -> np.ndarray:
    """``(T, keypoints, 2)``: ``values`` as x, ``2 * values`` as y, for every keypoint."""
    values = np.asarray(values, dtype=float)
    return np.repeat(np.stack([values, 2 * values], axis=-1)[:, None], keypoints, axis=1)


def test_filters_are_named_with_their_defaults():
    assert set(FILTERS) == {"savgol", "oneeuro"}
    assert parameters("savgol") == {"window": 9, "polyorder": 2}
    assert parameters("oneeuro") == {"min_cutoff": 1.0, "beta": 0.01, "d_cutoff": 1.0}


@pytest.mark.parametrize("degree", [1, 2])
def test_savgol_keeps_lines_and_parabolas_even_around_gaps(degree):
    times = np.arange(40) / 30
    trajectories = track(5 + 40 * times + (60 * times**2 if degree == 2 else 0))
    trajectories[10:13, 1] = np.nan  # a gap: two runs of 10 and 27 frames
    trajectories[:34, 2] = np.nan    # a run of 6 frames: a smaller window
    trajectories[:38, 0] = np.nan    # a run of 2 frames: too short to fit, kept
    smooth = savgol(trajectories, times)
    np.testing.assert_array_equal(np.isnan(smooth), np.isnan(trajectories))
    np.testing.assert_allclose(smooth, trajectories, atol=1e-9)


def test_savgol_removes_jitter():
    rng = np.random.default_rng(0)
    times = np.arange(200) / 30
    truth = track(100 + 30 * np.sin(2 * np.pi * 0.5 * times))
    noisy = truth + rng.normal(0, 2, truth.shape)
    smooth = savgol(noisy, times)
    assert np.abs(smooth - truth).mean() < 0.6 * np.abs(noisy - truth).mean()


@pytest.mark.parametrize("params", [{"window": 8}, {"window": 5, "polyorder": 5}, {"polyorder": -1}])
def test_savgol_refuses_bad_parameters(params):
    with pytest.raises(ValueError, match="savgol"):
        savgol(track(np.arange(20)), np.arange(20), **params)


def test_oneeuro_reduces_the_jitter_of_a_still_keypoint():
    rng = np.random.default_rng(1)
    times = np.arange(300) / 30
    noisy = track(np.full(300, 50.0)) + rng.normal(0, 2, (300, 3, 2))
    smooth = oneeuro(noisy, times)
    assert smooth[30:].var(axis=0).max() < 0.2 * noisy[30:].var(axis=0).min()
    assert np.abs(smooth[30:].mean(axis=0) - [50, 100]).max() < 1.0


def steady_lag(velocity: np.ndarray, min_cutoff: float, beta: float) -> np.ndarray:
    """Lag, in pixels, of the filter on a ramp of constant ``velocity`` (x, y) pixels per second:
    velocity times the time constant of the cutoff that the 2-D speed sets."""
    return velocity / (2 * math.pi * (min_cutoff + beta * np.linalg.norm(velocity)))


@pytest.mark.parametrize("variable", [False, True])
def test_oneeuro_follows_a_ramp_with_the_lag_of_its_cutoff(variable):
    """On a ramp the filter settles ``speed * tau`` behind, whatever the time steps, when it is
    given the real times; with frame indices as times it would lag by another amount."""
    rng = np.random.default_rng(2)
    steps = rng.uniform(0.01, 0.07, 400) if variable else np.full(400, 1 / 30)
    times = np.cumsum(steps)
    trajectories = track(40.0 * times, keypoints=1)  # 40 px/s along x, 80 along y
    smooth = oneeuro(trajectories, times, min_cutoff=1.0, beta=0.01)
    expected = steady_lag(np.array([40.0, 80.0]), 1.0, 0.01)
    lag = (trajectories - smooth)[-1, 0]
    np.testing.assert_allclose(lag, expected, rtol=1e-3)
    # Never further behind than at the lowest cutoff (while the speed estimate settles).
    assert ((trajectories - smooth)[:, 0] <= steady_lag(np.array([40.0, 80.0]), 1.0, 0.0)).all()
    if variable:
        as_frames = oneeuro(trajectories, np.arange(400) / 30, min_cutoff=1.0, beta=0.01)
        assert abs((trajectories - as_frames)[-1, 0, 0] - lag[0]) > 0.1 * lag[0]


def test_oneeuro_keeps_nan_and_carries_on_after_a_gap():
    times = np.arange(60) / 30
    trajectories = track(np.full(60, 10.0), keypoints=2)
    trajectories[20:40, 0] = np.nan
    trajectories[:5, 1] = np.nan
    smooth = oneeuro(trajectories, times)
    np.testing.assert_array_equal(np.isnan(smooth), np.isnan(trajectories))
    np.testing.assert_allclose(smooth[~np.isnan(smooth)], trajectories[~np.isnan(trajectories)])


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_filters_need_increasing_times(name):
    with pytest.raises(ValueError, match="increase"):
        FILTERS[name](track(np.arange(5)), np.array([0, 1, 1, 2, 3]))
