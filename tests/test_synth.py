"""The synthetic dataset generator: layout, labels, noise, motion, determinism, safety."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from benchmark import commands as cli
from benchmark.data import contact_sheet as sheet
from benchmark.data.labelme import load_dataset, load_image
from benchmark.data.synth import generate, generate_dataset
from benchmark.data.synth.annotator import NOISE_SIGMA, annotate
from benchmark.data.synth.body import LENGTH_RANGE, sample_body, skeleton
from benchmark.data.synth.generate import assign_splits
from benchmark.data.synth.motion import band_limited, joint_angles
from benchmark.study.keypoints import INDEX, LABELS, NUM_KEYPOINTS

SMALL = dict(videos=4, frames_per_video=12, size=96, seed=0, frame_step=5, domain_shift_videos=2,
             workers=1, progress=False)
LIMBS = [("Shoulder_L", "Elbow_L"), ("Elbow_R", "Wrist_R"), ("Wrist_L", "MP_joint_L"),
         ("Hip_R", "Knee_R"), ("Knee_L", "Ankle_L"), ("Ankle_R", "MTP_joint_R")]  # widths: cos(roll)


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def settings(root: Path) -> dict:
    return json.loads((root / "synth.json").read_text())


def video_settings(root: Path) -> dict[str, dict]:
    return {v["id"]: v for v in settings(root)["video_settings"]}


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synth") / "data"
    generate_dataset(root, **SMALL)
    return root


@pytest.fixture(scope="module")
def dense(tmp_path_factory) -> Path:
    """Every frame of 25 fps videos (frame_step 1)."""
    root = tmp_path_factory.mktemp("dense") / "data"
    generate_dataset(root, videos=3, frames_per_video=25, size=64, seed=3, frame_step=1,
                     domain_shift_videos=0, workers=1, progress=False)
    return root


def test_layout_splits_and_summary(tmp_path):
    summary = generate_dataset(tmp_path / "d", **{**SMALL, "frames_per_video": 2})
    assert summary["videos"] == {"Train": 2, "Valid": 1, "Test": 1, "DomainShift": 2}
    assert summary["frames"] == {"Train": 4, "Valid": 2, "Test": 2, "DomainShift": 4}
    assert summary["frames_per_s"] > 0 and summary["out"] == str(tmp_path / "d")
    root = tmp_path / "d"
    for split, n in summary["frames"].items():
        for folder, ext in (("img", "jpg"), ("ann", "json"), ("truth", "json")):
            names = sorted(p.name for p in (root / split / folder).iterdir())
            assert len(names) == n and all(re.fullmatch(rf"\d{{3}}_\d{{8}}\.{ext}", s) for s in names)


def test_every_file_has_22_labels_inside_the_picture(small):
    dataset = load_dataset(small)
    meta = video_settings(small)
    assert set(dataset.splits) == {"Train", "Valid", "Test", "DomainShift"}
    for split in dataset.splits:
        for frame in dataset.frames(split):
            x0, y0, x1, y1 = meta[frame.video]["picture"]
            doc = json.loads(frame.annotation_path.read_text())
            labels = [shape["label"] for shape in doc["shapes"]]
            assert len(labels) == len(set(labels)) and set(labels) <= set(LABELS)
            assert doc["imagePath"] == frame.image_path.name and doc["imageData"] is None
            assert frame.truth.shape == (NUM_KEYPOINTS, 2) and np.isfinite(frame.truth).all()
            inside = ((frame.truth[:, 0] >= x0) & (frame.truth[:, 0] < x1)
                      & (frame.truth[:, 1] >= y0) & (frame.truth[:, 1] < y1))
            np.testing.assert_array_equal(frame.visible, inside)  # missing = outside the picture
            assert len(labels) == inside.sum()
            kp = frame.keypoints[frame.visible]
            assert (kp >= (x0, y0)).all() and (kp <= (x1, y1)).all()
            assert (frame.width, frame.height) == Image.open(frame.image_path).size


def test_most_keypoints_are_visible(small):
    dataset = load_dataset(small)
    visible = np.concatenate([[f.visible for f in dataset.frames(s)] for s in dataset.splits])
    assert visible.mean() > 0.9  # the camera frames the whole infant, zoomed-in videos aside


def test_videos_grouped_and_ordered_by_frame(small):
    dataset = load_dataset(small)
    for split in dataset.splits:
        for video, frames in dataset.videos(split).items():
            indices = [f.frame for f in frames]
            assert len(indices) == SMALL["frames_per_video"]
            assert np.all(np.diff(indices) == SMALL["frame_step"])
            assert settings(small)["video_settings"][int(video)]["frames"] == indices


def test_no_video_in_two_splits_and_domain_shift_exists(small):
    dataset = load_dataset(small)
    videos = {split: set(dataset.videos(split)) for split in dataset.splits}
    splits = list(videos)
    for i, a in enumerate(splits):
        for b in splits[i + 1:]:
            assert not videos[a] & videos[b], (a, b)
    assert videos["DomainShift"]
    assert {s: sorted(v) for s, v in videos.items()} == settings(small)["splits"]


def test_split_assignment():
    splits = assign_splits(24, 4)
    assert {s: len(v) for s, v in splits.items()} == {"Train": 16, "Valid": 4, "Test": 4, "DomainShift": 4}
    assert sorted(sum(splits.values(), [])) == list(range(28))
    assert {s: len(v) for s, v in assign_splits(3).items()} == {"Train": 1, "Valid": 1, "Test": 1}
    with pytest.raises(ValueError, match="at least 3 videos"):
        assign_splits(2)


def test_label_noise_has_the_stated_size(small):
    dataset = load_dataset(small)
    meta = video_settings(small)
    residuals = []
    for split in ("Train", "Valid", "Test"):  # similarity cameras: one pixel scale per video
        for frame in dataset.frames(split):
            residuals.append((frame.keypoints - frame.truth) / meta[frame.video]["noise_unit_px"])
    residuals = np.array(residuals)  # (frames, 22, 2), NaN where missing
    sigma = np.sqrt(np.nanmean(residuals ** 2, axis=(0, 2)))
    stated = np.array([NOISE_SIGMA[k] for k in LABELS])
    np.testing.assert_allclose(sigma, stated, rtol=0.3)
    assert abs(np.nanmean(residuals)) < 0.01
    hips = [INDEX["Hip_L"], INDEX["Hip_R"]]
    assert sigma[hips].min() > 1.5 * np.delete(sigma, hips).max()


def test_annotate_omits_outside_keypoints_and_clips_labels():
    truth = np.full((NUM_KEYPOINTS, 2), 50.0)
    truth[0] = (-1.0, 50.0)  # left of the picture
    truth[1] = (99.9, 0.0)  # inside, on the edges
    labels = annotate(truth, unit_px=400.0, box=(0, 0, 100, 100), rng=np.random.default_rng(0))
    assert np.isnan(labels[0]).all() and np.isfinite(labels[1:]).all()
    assert (labels[1:] >= 0).all() and (labels[1:] <= 100).all()
    assert np.abs(labels[2:] - 50).max() > 1  # noise was added (sigma >= 6 px here)


def test_motion_is_smooth_at_the_frame_rate(dense):
    dataset = load_dataset(dense)
    meta = video_settings(dense)
    for split in dataset.splits:
        for video, frames in dataset.videos(split).items():
            truth = np.stack([f.truth for f in frames]) / meta[video]["noise_unit_px"]
            speed = np.linalg.norm(np.diff(truth, axis=0), axis=-1)  # trunk lengths per frame
            jerk = np.linalg.norm(np.diff(truth, 2, axis=0), axis=-1)
            assert speed.max() < 0.2
            assert speed.mean() > 1e-3  # it does move
            # Band-limited to 3 Hz at 25 fps: |second difference| / |first| <= 2 pi 3 / 25 = 0.75,
            # mostly far less; a random walk (or frame-wise jitter) gives sqrt(2) or more.
            assert np.median(jerk) < 0.6 * np.median(speed)


def test_limb_lengths_are_constant_within_a_video(dense):
    rng = np.random.default_rng(4)  # exact in the body frame
    body = sample_body(rng)
    points = skeleton(body, joint_angles(rng, np.arange(50) / 25))
    for a, b in LIMBS:
        length = np.linalg.norm(points[a] - points[b], axis=-1)
        np.testing.assert_allclose(length, length[0], rtol=1e-6, err_msg=f"{a}-{b}")
    dataset = load_dataset(dense)  # in the picture, up to the camera's perspective and lens
    for split in dataset.splits:
        for frames in dataset.videos(split).values():
            truth = np.stack([f.truth for f in frames])
            for a, b in LIMBS:
                length = np.linalg.norm(truth[:, INDEX[a]] - truth[:, INDEX[b]], axis=-1)
                np.testing.assert_allclose(length, length[0], rtol=0.15, err_msg=f"{a}-{b}")


def test_body_proportions_are_infant_like():
    for seed in range(20):
        body = sample_body(np.random.default_rng(seed))
        assert LENGTH_RANGE[0] <= body.length <= LENGTH_RANGE[1]
        assert 0.2 < body.head_length / body.length < 0.3  # large head
        assert body.head_width > 0.85 * body.shoulder_width
        arm = body.upper_arm + body.forearm + body.hand
        assert arm < 1.1 * body.trunk  # short limbs


def test_band_limited_noise_stays_in_its_band():
    times = np.arange(0, 400, 1 / 25)
    signal = band_limited(np.random.default_rng(1), times, (0.2, 3.0))
    power = np.abs(np.fft.rfft(signal)) ** 2
    freqs = np.fft.rfftfreq(len(times), 1 / 25)
    in_band = (freqs >= 0.18) & (freqs <= 3.1)
    assert power[in_band].sum() > 0.99 * power.sum()
    assert np.sqrt(np.mean(signal ** 2)) == pytest.approx(1.0, rel=0.3)


def test_same_seed_same_bytes_whatever_the_workers(small, tmp_path):
    again = tmp_path / "again"
    generate_dataset(again, **{**SMALL, "workers": 2})
    assert files(again) == files(small)


def test_different_seed_different_data(small, tmp_path):
    other = tmp_path / "other"
    generate_dataset(other, **{**SMALL, "seed": 1, "frames_per_video": 1})
    first = sorted((small / "Train" / "img").iterdir())[0].read_bytes()
    assert first != sorted((other / "Train" / "img").iterdir())[0].read_bytes()
    assert settings(other)["seed"] == 1


def test_letterboxed_frames_have_black_pillars(small):
    meta = video_settings(small)
    kinds = {v["letterbox"] for v in meta.values()}
    assert kinds == {True, False}, "seed 0 of SMALL should give both frame shapes"
    for frame in (f for s in ("Train", "Valid", "Test", "DomainShift")
                  for f in load_dataset(small, [s]).frames(s)):
        image = load_image(frame).astype(float)
        x0, _, x1, _ = meta[frame.video]["picture"]
        if meta[frame.video]["letterbox"]:
            assert (frame.width, frame.height) == (round(SMALL["size"] * 4 / 3), SMALL["size"])
            pillars = np.concatenate([image[:, :x0 - 2], image[:, x1 + 2:]], axis=1)
            assert pillars.mean() < 3 and image[:, x0 + 2:x1 - 2].mean() > 20
            assert x1 - x0 == round(SMALL["size"] * 9 / 16)
        else:
            assert frame.width == frame.height == SMALL["size"] and (x0, x1) == (0, SMALL["size"])
            assert image[:, :4].mean() > 10  # no pillars


def test_refuses_a_foreign_folder(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not a synthetic"):
        generate_dataset(out, **SMALL)
    assert files(out) == {"notes.txt": b"keep me"}
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError, match="not a folder"):
        generate_dataset(tmp_path / "file", **SMALL)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "mine"]  # no temp folders left


def test_replaces_a_previous_dataset(tmp_path):
    out = tmp_path / "data"
    out.mkdir()  # an empty folder is fine too
    generate_dataset(out, **{**SMALL, "frames_per_video": 1})
    generate_dataset(out, **{**SMALL, "frames_per_video": 2, "seed": 5})
    assert settings(out)["seed"] == 5 and settings(out)["frames_per_video"] == 2
    assert len(list((out / "Train" / "img").iterdir())) == 4
    assert [p.name for p in tmp_path.iterdir()] == ["data"]


def test_interrupted_run_leaves_nothing(tmp_path, monkeypatch):
    calls = []

    def failing(job, root):
        calls.append(job.video)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(job, root)

    real = generate.make_video
    monkeypatch.setattr(generate, "make_video", failing)
    with pytest.raises(KeyboardInterrupt):
        generate_dataset(tmp_path / "data", **SMALL)
    assert len(calls) == 2 and list(tmp_path.iterdir()) == []


def test_invalid_arguments(tmp_path):
    with pytest.raises(ValueError, match="frame_step"):
        generate_dataset(tmp_path / "d", **{**SMALL, "frame_step": 0})
    with pytest.raises(ValueError, match="fps"):
        generate_dataset(tmp_path / "d", **{**SMALL, "fps": 0})
    assert not (tmp_path / "d").exists()


def test_cli(tmp_path, capsys):
    out = tmp_path / "d"
    args = ["synth", "--out", str(out), "--videos", "3", "--frames-per-video", "1", "--size", "64",
            "--domain-shift-videos", "0", "--workers", "1", "--seed", "7"]
    assert cli.main(args) == 0
    assert "frames/s" in capsys.readouterr().out
    assert settings(out)["seed"] == 7 and settings(out)["size"] == 64
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "x").write_text("x")
    assert cli.main(["synth", "--out", str(tmp_path / "foreign"), "--videos", "3"]) == 2
    assert "not a synthetic" in capsys.readouterr().err


def test_contact_sheet_mosaics_every_face(small, tmp_path, monkeypatch):
    seen = []

    def spy(image, keypoints, seed):
        seen.append(seed)
        return np.zeros_like(image)

    monkeypatch.setattr(sheet, "safe_to_show", spy)
    out = sheet.contact_sheet(small, tmp_path / "s.png", split="Train", n=3, cols=2, cell=64)
    image = np.asarray(Image.open(out))
    assert image.shape[1] == 2 * 64 and image.shape[0] > 2 * 64  # two rows with title bars
    assert len(seen) == 3 and len(set(seen)) == 3 and all(s.startswith("Train/") for s in seen)


def test_contact_sheet_cli_spreads_over_videos(small, tmp_path):
    out = tmp_path / "sheet.png"
    assert cli.main(["contact-sheet", str(small), "--out", str(out), "--n", "4", "--cols", "4",
                     "--cell", "48"]) == 0
    assert np.asarray(Image.open(out)).shape[1] == 4 * 48
    frames = [f for s in ("Train", "Valid", "Test", "DomainShift") for f in load_dataset(small).frames(s)]
    picked = sheet.pick_frames(frames, 4, seed=0)
    assert len({(f.split, f.video) for f in picked}) == 4  # one frame per video first
