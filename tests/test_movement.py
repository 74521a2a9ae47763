"""Movement features against trajectories whose features are known analytically (speed of uniform
circular motion, frequency of sinusoids under gaps and uneven sampling, left-right symmetry), the
missing-share accounting, the robustness table, and the ``movement`` command end to end."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from test_video import write_video

from benchmark.commands import main
from benchmark.movement import features as F
from benchmark.movement import robustness
from benchmark.movement.trajectories import TrajectoryError, read_keypoints_csv
from benchmark.study.keypoints import INDEX, LABELS, NUM_KEYPOINTS

SHOULDERS, TRUNK = 40.0, 100.0
S = np.sqrt(SHOULDERS * TRUNK)  # reference scale of :func:`body`
KEYPOINTS_COLUMNS = ["frame", "time_s", "keypoint", "x", "y", "confidence"]


def body(frames: int, angle: float = 0.0, centre=(200.0, 150.0)) -> np.ndarray:
    """``(T, 22, 2)`` still body with ``S`` = :data:`S`, its head-hip axis turned by ``angle``
    (radians) from image up; limbs start at the body's centre."""
    pose = np.zeros((NUM_KEYPOINTS, 2))
    pose[INDEX["Head"]] = [0, -TRUNK / 2]
    pose[[INDEX["Shoulder_L"], INDEX["Shoulder_R"]]] = [[-SHOULDERS / 2, -30], [SHOULDERS / 2, -30]]
    pose[[INDEX["Hip_L"], INDEX["Hip_R"]]] = [[-15, TRUNK / 2], [15, TRUNK / 2]]
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return np.repeat((pose @ rotation.T + centre)[None], frames, axis=0)


def uneven_times(frames: int, rate: float = 30.0, seed: int = 0) -> np.ndarray:
    """Times with frame intervals varying by +-40 % around ``1 / rate``."""
    return np.cumsum(np.random.default_rng(seed).uniform(0.6, 1.4, frames) / rate)


def value(table: pd.DataFrame, part: str, feature: str) -> float:
    return float(table[(table["part"] == part) & (table["feature"] == feature)]["value"].iloc[0])


def share(table: pd.DataFrame, part: str, feature: str) -> float:
    return float(table[(table["part"] == part) & (table["feature"] == feature)]["missing_share"].iloc[0])


def test_uniform_circular_motion_has_its_speed_acceleration_and_area():
    times = uneven_times(600)
    frequency, radius = 0.5, 12.0
    keypoints = body(len(times))
    phase = 2 * np.pi * frequency * times
    keypoints[:, INDEX["Wrist_L"]] += radius * np.stack([np.cos(phase), np.sin(phase)], axis=1)
    table = F.video_features(keypoints, times, max_gap=0.1)
    speed = 2 * np.pi * frequency * radius / S
    for feature in ("speed_mean", "speed_median", "speed_p95", "quantity_of_motion"):
        assert value(table, "Wrist_L", feature) == pytest.approx(speed, rel=0.005)
    assert value(table, "Wrist_L", "acceleration_median") == pytest.approx(speed * 2 * np.pi * frequency, rel=0.01)
    assert value(table, "Wrist_L", "hull_area") == pytest.approx(np.pi * (radius / S) ** 2, rel=0.01)
    assert value(table, "Wrist_L", "ellipse_area") == pytest.approx(np.pi * (radius / S) ** 2 / 2, rel=0.02)
    assert value(table, "Wrist_L", "extent") == pytest.approx(2 * radius / S, rel=0.01)
    assert value(table, "Wrist_L", "speed_cv") < 0.01
    assert value(table, "Wrist", "speed_mean") == pytest.approx(speed / 2, rel=0.005)  # Wrist_R is still
    assert value(table, "Head", "speed_p95") == 0


def test_camera_distance_cancels_out():
    times = uneven_times(300)
    keypoints = body(len(times))
    keypoints[:, INDEX["Ankle_R"]] += 10 * np.sin(2 * np.pi * 1.3 * times)[:, None]
    near, far = F.video_features(keypoints * 2.5, times, 0.1), F.video_features(keypoints, times, 0.1)
    np.testing.assert_allclose(near["value"], far["value"], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("frequency", [0.7, 2.0])
def test_sinusoid_frequency_recovered_with_gaps_and_uneven_sampling(frequency):
    times = uneven_times(400, rate=25.0, seed=int(frequency * 10))  # 16 s
    keypoints = body(len(times))
    keypoints[:, INDEX["Ankle_L"]] += np.outer(8 * np.sin(2 * np.pi * frequency * times + 0.3), [1.0, 0.4])
    keypoints[60:90, INDEX["Ankle_L"]] = np.nan    # a 1.2 s gap
    keypoints[200:300:7, INDEX["Ankle_L"]] = np.nan  # scattered dropouts
    table = F.video_features(keypoints, times, max_gap=0.12)
    assert value(table, "Ankle_L", "dominant_frequency") == pytest.approx(frequency, abs=0.03)
    band = "low_band_share" if frequency < 1 else "high_band_share"
    assert value(table, "Ankle_L", band) > 0.9


def test_spectrum_power_is_the_sinusoid_variance():
    times = uneven_times(500, seed=3)
    values = 3.0 * np.sin(2 * np.pi * 1.1 * times)[:, None]
    freqs = F.frequencies(times)
    power = F.periodogram(times, values, freqs)
    assert power.max() == pytest.approx(3.0 ** 2 / 2, rel=0.05)
    assert freqs[0] >= F.F_MIN and freqs[-1] <= F.F_MAX


@pytest.mark.parametrize(("sign", "expected"), [(1, 1.0), (-1, -1.0)])
def test_mirrored_limbs_correlate_plus_one_opposite_phase_minus_one(sign, expected):
    angle = np.deg2rad(35)  # the infant lies turned in the picture: the body axis, not the image, mirrors
    times = uneven_times(300)
    keypoints = body(len(times), angle)
    along = np.array([np.sin(angle), -np.cos(angle)])   # hip -> head
    across = np.array([np.cos(angle), np.sin(angle)])   # towards the right shoulder
    motion = np.stack([np.sin(2 * np.pi * 0.8 * times), np.sin(2 * np.pi * 1.7 * times + 1)], axis=1) * 9
    left = motion[:, :1] * along + motion[:, 1:] * across
    mirror = motion[:, :1] * along - motion[:, 1:] * across
    keypoints[:, INDEX["Wrist_L"]] += left
    keypoints[:, INDEX["Wrist_R"]] += sign * mirror
    table = F.video_features(keypoints, times, 0.1)
    assert value(table, "Wrist_L-Wrist_R", "velocity_correlation") == pytest.approx(expected, abs=1e-6)
    assert np.isnan(value(table, "Knee_L-Knee_R", "velocity_correlation"))  # still: no variance


def test_missing_share_and_gaps_never_differenced():
    times = np.arange(200) / 25.0
    keypoints = body(len(times))
    keypoints[:, INDEX["Knee_L"], 0] += 0.2 * np.arange(200)  # steady 5 px/s
    keypoints[90:110, INDEX["Knee_L"]] = np.nan                 # 0.8 s gap ...
    keypoints[110:, INDEX["Knee_L"]] += [500.0, 0.0]            # ... across which the knee "jumps"
    table = F.video_features(keypoints, times, max_gap=0.1)
    for feature in ("speed_p95", "acceleration_mean", "hull_area", "dominant_frequency", "sample_entropy"):
        assert share(table, "Knee_L", feature) == pytest.approx(0.1)
    assert value(table, "Knee_L", "speed_p95") == pytest.approx(5 / S, rel=1e-6)  # the jump is never differenced
    bridged = F.video_features(keypoints, times, max_gap=1.0)
    assert value(bridged, "Knee_L", "speed_mean") > 1.5 * 5 / S  # bridged: the jump counts
    assert share(bridged, "Knee_L", "speed_mean") == pytest.approx(0.1)  # still 20 frames unused
    assert share(table, "Knee", "speed_mean") == pytest.approx(0.05)    # region: mean of L and R
    assert share(table, "Knee_L-Knee_R", "velocity_correlation") == pytest.approx(0.1)

    alternate = body(len(times))
    alternate[::2, INDEX["Elbow_R"]] = np.nan  # every other frame: isolated samples
    table = F.video_features(alternate, times, max_gap=0.05)
    assert share(table, "Elbow_R", "speed_mean") == 1 and np.isnan(value(table, "Elbow_R", "speed_mean"))
    assert share(table, "Elbow_R", "extent") == pytest.approx(0.5)


def direct_counts(x: np.ndarray, m: int, r: float) -> np.ndarray:
    """Template pairs within ``r`` of length ``m`` and ``m + 1`` among the first ``N - m`` templates."""
    count = lambda length: sum(np.max(np.abs(x[i:i + length] - x[j:j + length])) <= r
                               for i in range(len(x) - m) for j in range(i + 1, len(x) - m))
    return np.array([count(m), count(m + 1)], dtype=float)


def test_sample_entropy_matches_a_direct_count_and_ranks_regularity():
    rng = np.random.default_rng(1)
    signal = rng.normal(size=120)
    b, a = direct_counts(signal, 2, 0.2)
    assert F.sample_entropy([signal], 2, 0.2) == pytest.approx(-np.log(a / b))
    b, a = direct_counts(signal[:60], 2, 0.5) + direct_counts(signal[60:], 2, 0.5)  # no template spans a cut
    assert F.sample_entropy([signal[:60], signal[60:]], 2, 0.5) == pytest.approx(-np.log(a / b))
    regular = np.sin(np.arange(300) * 0.3)
    assert F.sample_entropy([regular], 2, 0.2 * regular.std()) < F.sample_entropy([rng.normal(size=300)], 2, 0.2)


def keypoints_csv(path: Path, keypoints: np.ndarray, times: np.ndarray, confidence=None) -> Path:
    frames = len(times)
    confidence = np.ones((frames, NUM_KEYPOINTS)) if confidence is None else confidence
    pd.DataFrame({"frame": np.repeat(np.arange(frames), NUM_KEYPOINTS),
                  "time_s": np.repeat(times, NUM_KEYPOINTS), "keypoint": np.tile(LABELS, frames),
                  "x": keypoints[..., 0].ravel(), "y": keypoints[..., 1].ravel(),
                  "confidence": confidence.ravel()}).to_csv(path, index=False)
    return path


def test_low_confidence_is_missing_and_errors_name_file_and_column(tmp_path):
    times = np.arange(50) / 30.0
    confidence = np.ones((50, NUM_KEYPOINTS))
    confidence[:5, INDEX["Wrist_L"]] = 0.2
    path = keypoints_csv(tmp_path / "keypoints.csv", body(50), times, confidence)
    video = read_keypoints_csv(path, "clip")
    assert np.isnan(video.keypoints[:5, INDEX["Wrist_L"]]).all() and not np.isnan(video.keypoints[5:]).any()
    assert video.max_gap == pytest.approx(2.5 / 30)
    table = pd.read_csv(path)
    table.drop(columns="confidence").to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(TrajectoryError, match=r"bad\.csv: no column 'confidence'"):
        read_keypoints_csv(tmp_path / "bad.csv", "bad")
    table.assign(x=table["x"].astype(str).where(table.index != 7, "oops")).to_csv(tmp_path / "text.csv", index=False)
    with pytest.raises(TrajectoryError, match=r"text\.csv: column 'x', data row 8"):
        read_keypoints_csv(tmp_path / "text.csv", "text")


def predictions_rows(videos: int = 6, frames: int = 40, fps: float = 25.0, step: int = 5) -> pd.DataFrame:
    """predictions.csv rows of one split and decoder: truth moving at 0.6 Hz, annotation with large
    noise, prediction with small noise."""
    rng = np.random.default_rng(0)
    tables = []
    for v in range(videos):
        index = 10 + step * np.arange(frames)
        truth = body(frames, angle=0.2 * v)
        truth += 15 * np.sin(2 * np.pi * 0.6 * index[:, None, None] / fps + rng.uniform(0, 6, (1, NUM_KEYPOINTS, 2)))
        label = truth + rng.normal(0, 4.0, truth.shape)
        prediction = truth + rng.normal(0, 1.0, truth.shape)
        tables.append(pd.DataFrame({
            "split": "Test", "video": f"{v:03d}", "frame": np.repeat(index, NUM_KEYPOINTS),
            "keypoint": np.tile(LABELS, frames), "decoder": "wa",
            "x": prediction[..., 0].ravel(), "y": prediction[..., 1].ravel(), "confidence": 0.05,
            "label_x": label[..., 0].ravel(), "label_y": label[..., 1].ravel(),
            "truth_x": truth[..., 0].ravel(), "truth_y": truth[..., 1].ravel()}))
    return pd.concat(tables, ignore_index=True)


def test_robustness_table_orders_sources_by_their_noise():
    table = robustness.robustness_table(predictions_rows(), fps=25.0, frame_step=5, resamples=200)
    assert set(table["source"]) == set(robustness.SOURCES)
    assert (table["videos"] == 6).all()
    assert ((table["ci_low"] <= table["error"]) & (table["error"] <= table["ci_high"])).all()
    speed = table[table["feature"] == "speed_mean"].set_index("source")["error"]
    assert speed["annotation"] > speed["prediction"] > 0
    assert table.loc[table["feature"] == "velocity_correlation", "error_kind"].eq("absolute").all()
    again = robustness.robustness_table(predictions_rows(), fps=25.0, frame_step=5, resamples=200)
    pd.testing.assert_frame_equal(table, again)  # seeded
    assert isinstance(robustness.robustness_figure(table), Figure)


def test_bootstrap_interval_is_seeded_and_covers_the_mean():
    values = np.random.default_rng(2).exponential(size=30)
    low, high = robustness.bootstrap_interval(values, 2000, seed=1)
    assert low < values.mean() < high
    assert (low, high) == robustness.bootstrap_interval(values, 2000, seed=1)
    assert np.isnan(robustness.bootstrap_interval([1.0, np.nan])).all()


def run(capsys, *argv) -> tuple[int, str]:
    code = main(["movement", *map(str, argv)])
    return code, capsys.readouterr().err


def assert_outputs(folder: Path, video: str) -> pd.DataFrame:
    for name in ("features.csv", "trajectories.png", "spectrum.png", "summary.png"):
        assert (folder / video / name).stat().st_size > 0, name
    table = pd.read_csv(folder / video / "features.csv")
    assert list(table.columns) == ["video", "level", "part", "feature", "value", "missing_share"]
    return table


def test_command_on_keypoints_csv_recovers_the_frequency_and_refuses_a_non_empty_out(tmp_path, capsys):
    times = uneven_times(300, rate=25.0)
    keypoints = body(len(times))
    for label in ("Wrist_L", "Wrist_R", "Ankle_L", "Ankle_R"):
        keypoints[:, INDEX[label], 1] += 10 * np.sin(2 * np.pi * 0.7 * times)
    (tmp_path / "in" / "clip").mkdir(parents=True)
    keypoints_csv(tmp_path / "in" / "clip" / "keypoints.csv", keypoints, times)
    code, err = run(capsys, "--input", tmp_path / "in", "--out", tmp_path / "out")
    assert code == 0, err
    table = assert_outputs(tmp_path / "out", "clip/keypoints")
    assert value(table, "Wrist", "dominant_frequency") == pytest.approx(0.7, abs=0.03)
    assert (table["video"] == "clip/keypoints").all()
    code, err = run(capsys, "--input", tmp_path / "in", "--out", tmp_path / "out")
    assert code == 2 and "not an empty folder" in err
    code, err = run(capsys, "--input", tmp_path / "none", "--out", tmp_path / "new")
    assert code == 2 and "no such file" in err and not (tmp_path / "new").exists()


def test_command_on_predictions_csv_reads_fps_from_synth_json(tmp_path, capsys):
    experiment, dataset = tmp_path / "results" / "exp", tmp_path / "data"
    experiment.mkdir(parents=True)
    dataset.mkdir()
    predictions_rows(videos=2).to_csv(experiment / "predictions.csv", index=False)
    (experiment / "metrics.json").write_text(json.dumps({"config": {"decoder": "wa"},
                                                         "dataset": {"root": str(dataset)}}))
    code, err = run(capsys, "--input", experiment / "predictions.csv", "--out", tmp_path / "out")
    assert code == 2 and "--fps" in err and "'frame'" in err
    code, err = run(capsys, "--input", experiment / "predictions.csv", "--out", tmp_path / "by-fps", "--fps", 25,
                    "--split", "Test", "--source", "truth")
    assert code == 0, err  # the gap limit from each video's median step
    assert share(assert_outputs(tmp_path / "by-fps", "Test/000"), "Ankle", "acceleration_mean") == 0
    (dataset / "synth.json").write_text(json.dumps({"fps": 25.0, "frame_step": 5}))
    code, err = run(capsys, "--input", experiment / "predictions.csv", "--out", tmp_path / "out", "--source", "truth")
    assert code == 0, err
    for video in ("Test/000", "Test/001"):
        table = assert_outputs(tmp_path / "out", video)
        assert value(table, "Wrist", "dominant_frequency") == pytest.approx(0.6, abs=0.06)


def blob_video(path: Path, fps: float = 25.0, frames: int = 100, frequency: float = 0.7) -> Path:
    """A white blob moving up and down at ``frequency`` Hz on black, 96 x 96."""
    images = []
    for i in range(frames):
        image = np.zeros((96, 96, 3), np.uint8)
        y = 48 + 20 * np.sin(2 * np.pi * frequency * i / fps)
        cv2.circle(image, (48, int(round(y))), 6, (255, 255, 255), -1)
        images.append(image)
    return write_video(path, images, fps)


def test_blob_video_through_predicts_output_format_recovers_its_frequency(tmp_path, capsys):
    from benchmark.apply.predict import keypoint_table  # predict's own writer of keypoints.csv
    from benchmark.data.video import Frames

    frames = list(Frames(blob_video(tmp_path / "blob.mp4")))
    times = np.array([t for _, t, _ in frames])
    keypoints = body(len(frames), centre=(48.0, 48.0)) * 0.5 + 24  # a small still body in the picture
    for i, (_, _, image) in enumerate(frames):  # the "model": the blob's centroid is every limb end
        ys, xs = np.nonzero(image[..., 0] > 127)
        for label in ("Wrist_L", "Wrist_R", "Ankle_L", "Ankle_R"):
            keypoints[i, INDEX[label]] = xs.mean(), ys.mean()
    (tmp_path / "predicted").mkdir()
    keypoint_table(keypoints, np.ones(keypoints.shape[:2]), times).to_csv(
        tmp_path / "predicted" / "keypoints.csv", index=False, float_format="%.3f")
    code, err = run(capsys, "--input", tmp_path / "predicted" / "keypoints.csv", "--out", tmp_path / "out")
    assert code == 0, err
    table = assert_outputs(tmp_path / "out", "predicted/keypoints")
    assert value(table, "Ankle", "dominant_frequency") == pytest.approx(0.7, abs=0.05)
    # both wrists move together along the body's axis: mirror-symmetric
    assert value(table, "Wrist_L-Wrist_R", "velocity_correlation") == pytest.approx(1, abs=1e-6)


def test_command_reads_every_keypoints_csv_that_predict_writes(tmp_path, capsys):
    """``predict`` itself (an untrained tiny model, so confidence is ignored) on the blob video, then
    ``movement`` on its output folder: the raw and the smoothed keypoints are two videos."""
    from benchmark.models import build_model

    model = tmp_path / "model" / "model.keras"
    model.parent.mkdir()
    build_model("simple_baseline", input_size=64, variant="tiny", pretrained=False).save(model)
    (model.parent / "metrics.json").write_text(json.dumps({"config": {"loss": "kce", "sigma": 2.0, "decoder": "wa"}}))
    assert main(["predict", "--model", str(model), "--input", str(blob_video(tmp_path / "blob.mp4", frames=40)),
                 "--out", str(tmp_path / "predicted"), "--filter", "savgol", "--no-overlay"]) == 0
    code, err = run(capsys, "--input", tmp_path / "predicted", "--out", tmp_path / "out", "--min-confidence", "0")
    assert code == 0, err
    for video in ("keypoints", "keypoints_savgol"):
        assert len(assert_outputs(tmp_path / "out", video)) > 0
