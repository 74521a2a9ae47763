"""Jitter measures against trajectories whose jitter is known analytically."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.signal import savgol_coeffs

from benchmark.study import smoothness
from benchmark.study.keypoints import INDEX, LABELS, NUM_KEYPOINTS, REGIONS
from benchmark.study.metrics import reference_scale

K = NUM_KEYPOINTS


def tracks(function, frames) -> np.ndarray:
    """``(T, 22, 2)``: every keypoint follows ``function(frames)`` (T, 2), offset per keypoint."""
    offsets = np.arange(K)[:, None] * np.array([3.0, -2.0])
    return function(np.asarray(frames, dtype=float))[:, None, :] + offsets


def test_parabola_has_its_exact_acceleration_whatever_the_frame_gaps():
    frames = np.array([0, 1, 3, 8, 9, 15, 20, 21, 30])  # irregular labelling
    c = np.array([0.3, -0.4])  # p(f) = c f^2 + b f + a  =>  acceleration 2c, |2c| = 1.0
    keypoints = tracks(lambda f: c * f[:, None] ** 2 + [1.5, 2.0] * f[:, None] + 7, frames)
    acc = smoothness.acceleration(keypoints, frames)
    np.testing.assert_allclose(acc, np.broadcast_to(2 * c, acc.shape), atol=1e-9)
    scale = np.full(len(frames), 4.0)
    np.testing.assert_allclose(smoothness.acceleration_jitter(keypoints, frames, scale), 1.0 / 4.0)


def test_sparse_labelling_of_the_same_motion_gives_the_same_jitter():
    motion = lambda f: np.stack([0.05 * f**2, np.sin(f / 40) * 30], axis=1)  # smooth, not quadratic
    dense, sparse = np.arange(0, 200), np.arange(0, 200, 5)
    one = lambda frames: smoothness.acceleration_jitter(tracks(motion, frames), frames, np.ones(len(frames)))
    np.testing.assert_allclose(one(sparse), one(dense), rtol=0.01)
    assert one(dense)[0] == pytest.approx(np.hypot(0.1, 0.0), rel=0.05)  # dominated by 2 * 0.05


def test_straight_line_has_no_jitter_and_no_residual():
    frames = np.arange(0, 100, 5)
    keypoints = tracks(lambda f: np.stack([2 * f + 1, -0.5 * f], axis=1), frames)
    scale = np.linspace(20, 30, len(frames))
    np.testing.assert_allclose(smoothness.acceleration_jitter(keypoints, frames, scale), 0, atol=1e-12)
    np.testing.assert_allclose(smoothness.smoothing_residual(keypoints, frames, scale), 0, atol=1e-12)


def test_parabola_has_no_residual_after_second_order_smoothing():
    frames = np.arange(30)
    keypoints = tracks(lambda f: np.stack([0.2 * f**2, f**2 - 3 * f], axis=1), frames)
    np.testing.assert_allclose(smoothness.smoothing_residual(keypoints, frames, np.ones(30)), 0, atol=1e-9)


def test_white_noise_matches_its_analytic_jitter_and_residual():
    sigma, n = 0.5, 20000
    keypoints = np.random.default_rng(0).normal(0, sigma, (n, K, 2))
    frames, scale = np.arange(n), np.ones(n)
    acc = smoothness.acceleration(keypoints, frames)
    np.testing.assert_allclose(np.mean(acc**2), 6 * sigma**2, rtol=0.02)  # E[second diff^2] = 6 sigma^2
    jitter = smoothness.acceleration_jitter(keypoints, frames, scale)
    np.testing.assert_allclose(jitter, sigma * np.sqrt(3 * np.pi), rtol=0.03)  # Rayleigh mean
    # Savitzky-Golay is a projection: residual variance per coordinate is sigma^2 (1 - centre weight).
    centre = savgol_coeffs(smoothness.WINDOW, smoothness.POLYORDER)[smoothness.WINDOW // 2]
    residual = smoothness.smoothing_residual(keypoints, frames, scale)
    np.testing.assert_allclose(residual, sigma * np.sqrt(2 * (1 - centre)), rtol=0.03)


def test_measures_are_in_units_of_the_reference_scale():
    rng = np.random.default_rng(1)
    frames = np.arange(0, 60, 2)
    keypoints = rng.normal(0, 1, (len(frames), K, 2))
    scale = rng.uniform(1, 2, len(frames))
    for measure in (smoothness.acceleration_jitter, smoothness.smoothing_residual):
        np.testing.assert_allclose(measure(keypoints * 7, frames, scale * 7), measure(keypoints, frames, scale))
        assert not np.allclose(measure(keypoints, frames, scale * 2), measure(keypoints, frames, scale))


def test_missing_keypoints_are_skipped_without_touching_the_others():
    frames = np.arange(12)
    keypoints = np.random.default_rng(2).normal(0, 1, (12, K, 2))
    holed = keypoints.copy()
    holed[5, 3] = np.nan
    scale = np.ones(12)
    full = smoothness.acceleration_jitter(keypoints, frames, scale)
    part = smoothness.acceleration_jitter(holed, frames, scale)
    others = np.arange(K) != 3
    np.testing.assert_allclose(part[others], full[others])
    kept = [t for t in range(1, 11) if t not in (4, 5, 6)]  # triples around frame 5 are dropped
    magnitude = np.linalg.norm(smoothness.acceleration(keypoints, frames)[:, 3], axis=-1)
    assert part[3] == pytest.approx(magnitude[np.array(kept) - 1].mean())
    holed[:, 4] = np.nan
    assert np.isnan(smoothness.acceleration_jitter(holed, frames, scale)[4])
    assert np.isnan(smoothness.smoothing_residual(holed, frames, scale)[4])


def test_frames_must_increase():
    keypoints = np.zeros((3, K, 2))
    with pytest.raises(ValueError, match="increasing"):
        smoothness.acceleration_jitter(keypoints, [0, 5, 5], np.ones(3))


def _pose() -> np.ndarray:
    pose = np.zeros((K, 2))
    pose[:, 0] = np.linspace(10, 60, K)
    pose[:, 1] = np.linspace(20, 120, K)
    pose[INDEX["Shoulder_R"]], pose[INDEX["Shoulder_L"]] = (20, 40), (60, 40)
    pose[INDEX["Head"]], pose[INDEX["Hip_R"]], pose[INDEX["Hip_L"]] = (40, 10), (30, 100), (50, 100)
    return pose


def _predictions(videos=2, frames=np.arange(0, 50, 5), wobble=3.0) -> pd.DataFrame:
    """predictions.csv rows: truth and annotation move in a straight line; the prediction adds a
    horizontal +-wobble alternating from frame to frame (second difference 4 * wobble)."""
    rows = []
    for v in range(videos):
        for t, f in enumerate(frames):
            truth = _pose() + [0.5 * f, 0.2 * f + v]
            pred = truth + [wobble * (-1) ** t, 0]
            rows.append(pd.DataFrame({
                "split": "Test", "video": f"{v:03d}", "frame": f, "keypoint": LABELS, "decoder": "wa",
                "x": pred[:, 0], "y": pred[:, 1], "confidence": 1.0,
                "label_x": truth[:, 0], "label_y": truth[:, 1], "truth_x": truth[:, 0], "truth_y": truth[:, 1]}))
    return pd.concat(rows, ignore_index=True).sample(frac=1, random_state=0)  # order must not matter


def test_jitter_table_from_predictions():
    frames = np.arange(0, 50, 5)
    table = smoothness.jitter_table(_predictions(frames=frames))
    assert len(table) == 3 * K and set(table["source"]) == {"annotation", "prediction", "truth"}
    scale = reference_scale(_pose()[None])[0]
    by = table.set_index(["source", "keypoint"])
    np.testing.assert_allclose(by.loc["truth", "acceleration"], 0, atol=1e-9)
    np.testing.assert_allclose(by.loc["annotation", "residual"], 0, atol=1e-9)
    np.testing.assert_allclose(by.loc["prediction", "acceleration"], 4 * 3.0 / 5**2 / scale)
    assert (by.loc["prediction", "residual"] > 0).all()
    assert (table["videos"] == 2).all()
    assert by.loc[("truth", "Hip_R"), "region"] == "Hip" and pd.isna(by.loc[("truth", "Nose"), "region"])


def test_jitter_table_without_truth_and_by_region():
    predictions = _predictions()
    predictions[["truth_x", "truth_y"]] = np.nan  # real data
    table = smoothness.jitter_table(predictions)
    assert set(table["source"]) == {"annotation", "prediction"}
    regions = smoothness.by_region(table)
    assert list(regions["region"].unique()) == list(REGIONS)
    hips = table[(table["region"] == "Hip") & (table["source"] == "prediction")]["acceleration"].mean()
    row = regions[(regions["region"] == "Hip") & (regions["source"] == "prediction")]
    assert row["acceleration"].item() == pytest.approx(hips)


def test_compare_sources_puts_sources_side_by_side_with_ratios():
    predictions = _predictions()
    predictions["label_x"] += np.where(predictions["frame"] // 5 % 2 == 0, 1.0, -1.0)  # annotator noise
    table = smoothness.jitter_table(predictions)
    regions = smoothness.compare_sources(smoothness.by_region(table), "region")
    assert list(regions.index) == list(REGIONS)
    hip = regions.loc["Hip"]
    for measure in smoothness.MEASURES:
        assert hip[(measure, "prediction / annotation")] == pytest.approx(
            hip[(measure, "prediction")] / hip[(measure, "annotation")])
        # the truth moves in a straight line: all the annotation's jitter is annotator noise
        assert hip[(measure, "annotator noise")] == pytest.approx(1.0)
    keypoints = smoothness.compare_sources(table, "keypoint")
    assert list(keypoints.index) == list(LABELS)
    predictions[["truth_x", "truth_y"]] = np.nan  # real data: no truth, no noise share
    real = smoothness.compare_sources(smoothness.jitter_table(predictions), "keypoint")
    assert ("acceleration", "annotator noise") not in real.columns and ("residual", "truth") not in real.columns
