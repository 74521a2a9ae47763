"""``python -m benchmark predict`` end to end with an untrained tiny model: outputs, faces mosaicked
in the overlay, portrait videos, folders, truncated and unreadable inputs, output folder safety."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from test_video import tag_rotation, truncate, write_video

from benchmark.apply import predict
from benchmark.commands import main
from benchmark.data.labelme import load_dataset, load_image
from benchmark.data.mosaic import ellipse_mask, face_ellipse
from benchmark.data.synth import generate_dataset
from benchmark.data.video import Frames, VideoError
from benchmark.study.keypoints import LABELS, NUM_KEYPOINTS

COLUMNS = ["frame", "time_s", "keypoint", "x", "y", "confidence"]


PLAN = "datasets: {synthetic: {path: data}}\nprofiles: {quick: {dataset: synthetic}}\n" \
       "experiments: [{group: tiny, rows: [{loss: kce}, {loss: mse}]}]\n"


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    """A results folder holding one untrained tiny model as experiment ``synthetic/quick/tiny-kce``
    of the manifest ``manifest.yaml`` beside it (whose ``tiny-mse`` has not run)."""
    from benchmark.models import build_model

    folder = tmp_path_factory.mktemp("results") / "synthetic" / "quick" / "tiny-kce"
    (folder.parents[3] / "manifest.yaml").write_text(PLAN)
    folder.mkdir(parents=True)
    build_model("simple_baseline", input_size=64, variant="tiny", pretrained=False).save(folder / "model.keras")
    config = {"loss": "kce", "sigma": 2.0, "decoder": "wa", "facial_keypoints": "preserved"}
    (folder / "metrics.json").write_text(json.dumps({"config": config}))
    return folder.parents[2]


@pytest.fixture(scope="module")
def model(results) -> Path:
    return results / "synthetic" / "quick" / "tiny-kce" / "model.keras"


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> list:
    """Synthetic labelled frames (faces visible) of three videos; each video has its own size."""
    root = tmp_path_factory.mktemp("predict") / "synth"
    generate_dataset(root, videos=3, frames_per_video=3, size=256, seed=0, domain_shift_videos=0,
                     workers=1, progress=False)
    return [frame for frames in load_dataset(root).splits.values() for frame in frames]


def clip(synth, orientation: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Six frames of one size (a letter-boxed video's, twice) and their exact poses, ``"landscape"``,
    or turned a quarter counter-clockwise (``"portrait"``) or clockwise (``"tagged"``: what a
    landscape video tagged as turned clockwise shows)."""
    landscape = next(f.video for f in synth if f.width > f.height)  # a letter-boxed video
    frames = [f for f in synth if f.video == landscape] * 2
    images, poses = [load_image(f) for f in frames], [f.truth for f in frames]
    height, width = images[0].shape[:2]
    if orientation == "portrait":
        images = [np.ascontiguousarray(np.rot90(image)) for image in images]
        poses = [np.stack([pose[:, 1], width - pose[:, 0]], axis=1) for pose in poses]
    if orientation == "tagged":
        images = [np.ascontiguousarray(np.rot90(image, -1)) for image in images]
        poses = [np.stack([height - pose[:, 1], pose[:, 0]], axis=1) for pose in poses]
    return images, poses


def run(capsys, *argv) -> tuple[int, str]:
    """Exit status and stderr of the command; its stdout is left in ``capsys``."""
    code = main(["predict", *map(str, argv)])
    captured = capsys.readouterr()
    print(captured.out, end="")
    return code, captured.err


def overlay_frames(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while (read := capture.read())[0]:
        frames.append(cv2.cvtColor(read[1], cv2.COLOR_BGR2RGB))
    return frames


def face_detail(frame: np.ndarray, original: np.ndarray, pose: np.ndarray) -> float:
    """Correlation, inside the face, of the fine detail (Laplacian of the smoothed grey picture) of an
    overlay frame and of the original: about 0.9 for a face shown through the video codec, about 0
    for one replaced by blocks and noise. Unlike ``check_face``, it also judges faces of a few
    hundred pixels under a whole-frame pixelation (an untrained model's overlay)."""
    def detail(image):
        grey = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY).astype(np.float32)
        return cv2.Laplacian(cv2.GaussianBlur(grey, (0, 0), 1.0), cv2.CV_32F)

    height, width = frame.shape[:2]  # the writer may drop an odd last column
    face = ellipse_mask(frame.shape, face_ellipse(pose, margin=0.0))
    return float(np.corrcoef(detail(frame)[face], detail(original[:height, :width])[face])[0, 1])


def check_table(table: pd.DataFrame, frames: int, width: int, height: int, fps: float) -> None:
    assert list(table.columns) == COLUMNS and len(table) == frames * NUM_KEYPOINTS
    assert list(table["keypoint"][:NUM_KEYPOINTS]) == list(LABELS)
    np.testing.assert_array_equal(table["frame"], np.repeat(np.arange(frames), NUM_KEYPOINTS))
    np.testing.assert_allclose(table["time_s"], table["frame"] / fps, atol=1e-3)
    assert table["x"].between(0, width).all() and table["y"].between(0, height).all()
    assert table["confidence"].between(0, np.inf).all()


@pytest.mark.parametrize("orientation", ["landscape", "portrait", "tagged"])
def test_predict_on_a_video_writes_keypoints_and_a_mosaicked_overlay(synth, model, tmp_path, capsys,
                                                                      orientation):
    images, poses = clip(synth, orientation)
    height, width = images[0].shape[:2]
    assert (height > width) == (orientation != "landscape")
    if orientation == "tagged":  # written as landscape frames, shown turned
        landscape = [np.ascontiguousarray(np.rot90(image)) for image in images]
        video = tag_rotation(write_video(tmp_path / "clip.mp4", landscape, fps=5))
    else:
        video = write_video(tmp_path / "clip.mp4", images, fps=5)
    code, _ = run(capsys, "--model", model, "--input", video, "--out", tmp_path / "out",
                  "--filter", "savgol", "--window", 5)
    assert code == 0
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["keypoints.csv", "keypoints_savgol.csv",
                                                     "overlay.mp4", "summary.json"]
    raw = pd.read_csv(out / "keypoints.csv")
    check_table(raw, len(images), width, height, fps=5)
    smooth = pd.read_csv(out / "keypoints_savgol.csv")
    assert list(smooth.columns) == COLUMNS and len(smooth) == len(raw)
    overlay = overlay_frames(out / "overlay.mp4")
    decoded = next(iter(Frames(video)))[2]  # the writer drops an odd last column
    assert len(overlay) == len(images) and overlay[0].shape == decoded.shape
    assert all(face_detail(frame, image, pose) < 0.5 for frame, image, pose in zip(overlay, images, poses))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["frames"] == len(images) and summary["fps"] > 0 and summary["mosaic"]
    assert summary["video_s"] == pytest.approx(len(images) / 5, abs=1e-3)
    assert summary["filter"] == {"name": "savgol", "window": 5, "polyorder": 2}
    assert list(summary["mean_confidence"]) == list(LABELS)
    printed = capsys.readouterr().out
    assert f"{len(images)} frames" in printed and "frames/s" in printed and "Shoulder_R" in printed


def test_no_mosaic_leaves_faces_visible_and_warns(synth, model, tmp_path, capsys):
    images, poses = clip(synth, "landscape")
    video = write_video(tmp_path / "clip.mp4", images, fps=5)
    code, err = run(capsys, "--model", model, "--input", video, "--out", tmp_path / "out", "--no-mosaic")
    assert code == 0 and "warning: --no-mosaic" in err
    overlay = overlay_frames(tmp_path / "out" / "overlay.mp4")
    assert all(face_detail(frame, image, pose) > 0.7 for frame, image, pose in zip(overlay, images, poses))


def test_predict_on_a_folder_by_experiment_id(synth, results, tmp_path, capsys):
    """Frames in natural order, at --fps; frames of other sizes fit into the overlay's."""
    folder = tmp_path / "frames"
    folder.mkdir()
    for number, frame in zip((10, 2, 1), synth[::3]):  # one frame of each video
        shutil.copy(frame.image_path, folder / f"frame{number}.jpg")
    code, _ = run(capsys, "--model", "tiny-kce", "--results", results, "--manifest", results.parent / "manifest.yaml",
                  "--input", folder, "--out", tmp_path / "out", "--fps", 4, "--no-flip")
    assert code == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["files"] == ["frame1.jpg", "frame2.jpg", "frame10.jpg"] and not summary["flip"]
    table = pd.read_csv(tmp_path / "out" / "keypoints.csv")
    shapes = [load_image(folder / name).shape for name in summary["files"]]
    assert len(set(shapes)) > 1
    sizes = np.repeat([shape[1::-1] for shape in shapes], NUM_KEYPOINTS, axis=0)  # (width, height)
    assert ((table[["x", "y"]].to_numpy() >= 0) & (table[["x", "y"]].to_numpy() <= sizes)).all()
    np.testing.assert_allclose(table["time_s"], table["frame"] / 4)
    overlay = overlay_frames(tmp_path / "out" / "overlay.mp4")
    height, width, _ = shapes[0]
    assert [frame.shape for frame in overlay] == [(height + height % 2, width + width % 2, 3)] * 3


def test_a_truncated_video_keeps_the_outputs_of_its_decoded_frames(synth, model, tmp_path, capsys):
    images, _ = clip(synth, "landscape")
    video = truncate(write_video(tmp_path / "cut.avi", images * 2, fourcc="MJPG"))
    decoded = []
    with pytest.raises(VideoError):
        decoded.extend(Frames(video))
    assert 0 < len(decoded) < len(images) * 2
    code, err = run(capsys, "--model", model, "--input", video, "--out", tmp_path / "out", "--batch-size", 4)
    assert code == 1 and f"stops after {len(decoded)} of the 12 frames" in err
    assert len(pd.read_csv(tmp_path / "out" / "keypoints.csv")) == len(decoded) * NUM_KEYPOINTS
    assert len(overlay_frames(tmp_path / "out" / "overlay.mp4")) == len(decoded)
    assert "stops after" in json.loads((tmp_path / "out" / "summary.json").read_text())["stopped"]


def test_unreadable_or_missing_inputs_write_nothing(model, tmp_path, capsys):
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00not a video" * 400)
    code, err = run(capsys, "--model", model, "--input", garbage, "--out", tmp_path / "out")
    assert code == 2 and "garbage.mp4" in err and "cannot read" in err
    code, err = run(capsys, "--model", model, "--input", tmp_path / "none.mp4", "--out", tmp_path / "out")
    assert code == 2 and "none.mp4" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["garbage.mp4"]


def test_a_missing_model_names_what_was_looked_for(results, tmp_path, capsys):
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(tmp_path / "a.png")
    plan = ("--results", results, "--manifest", results.parent / "manifest.yaml")
    code, err = run(capsys, "--model", "tiny-mse", *plan, "--input", tmp_path / "a.png", "--out", tmp_path / "out")
    assert code == 2 and "tiny-mse" in err and "experiments with a model there: tiny-kce" in err
    code, err = run(capsys, "--model", "tiny-nothing", *plan, "--input", tmp_path / "a.png", "--out", tmp_path / "out")
    assert code == 2 and "neither a model file nor a trained experiment" in err
    code, err = run(capsys, "--model", tmp_path / "missing.keras", "--input", tmp_path / "a.png", "--out", tmp_path / "out")
    assert code == 2 and "missing.keras: no such model file" in err


def test_the_output_folder_is_replaced_only_when_asked(model, tmp_path, capsys):
    video = write_video(tmp_path / "clip.mp4", [np.full((48, 64, 3), 90, np.uint8)] * 3)
    out = tmp_path / "out"
    assert run(capsys, "--model", model, "--input", video, "--out", out, "--no-overlay")[0] == 0
    assert sorted(p.name for p in out.iterdir()) == ["keypoints.csv", "summary.json"]
    code, err = run(capsys, "--model", model, "--input", video, "--out", out)
    assert code == 2 and "not an empty folder" in err
    code, _ = run(capsys, "--model", model, "--input", video, "--out", out, "--overwrite",
                  "--filter", "oneeuro", "--beta", 0.1, "--no-overlay")
    assert code == 0 and sorted(p.name for p in out.iterdir()) == ["keypoints.csv", "keypoints_oneeuro.csv",
                                                                   "summary.json"]
    assert json.loads((out / "summary.json").read_text())["filter"]["beta"] == 0.1
    (out / "notes.txt").write_text("mine")
    code, err = run(capsys, "--model", model, "--input", video, "--out", out, "--overwrite")
    assert code == 2 and "notes.txt" in err and (out / "notes.txt").exists()
    code, err = run(capsys, "--model", model, "--input", video, "--out", tmp_path / "o2", "--window", 5)
    assert code == 2 and "--window" in err


def test_an_unexpected_error_leaves_no_half_written_folder(model, tmp_path, monkeypatch):
    video = write_video(tmp_path / "clip.mp4", [np.full((48, 64, 3), 90, np.uint8)] * 3)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(predict, "overlay_frame", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        predict.predict_video(video, model, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]
