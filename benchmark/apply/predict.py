"""``python -m benchmark predict --model MODEL --input VIDEO_OR_FOLDER --out DIR``.

Runs a trained model over every frame of a video or a folder of images, streaming (frames are read,
predicted in batches and drawn one batch at a time), and writes into ``DIR``:

- ``keypoints.csv``: one row per frame and keypoint: ``frame, time_s, keypoint, x, y,
  confidence``, in original image pixels (predictions in the letterbox padding are clamped to the
  picture's border); confidence as :func:`benchmark.apply.pose_model.predict` defines it;
- ``keypoints_<filter>.csv``: the same, smoothed over time by a filter of
  :mod:`benchmark.apply.filters` (``--filter``); the raw file is always kept;
- ``overlay.mp4``: every frame with its predicted (raw) pose drawn and its face mosaicked as
  ``deidentify`` does (:func:`benchmark.data.mosaic.deidentify_frame`: the face or head
  region of the confident keypoints, else the whole frame), so it can be shared; ``--no-mosaic``
  leaves faces visible;
- ``summary.json``: frames, video seconds, wall time and achieved frames per second, mean
  confidence per keypoint, the options used (and the image files of a folder, in frame order).

``DIR`` is written through a temporary folder renamed at the end, so it is complete or absent;
an existing non-empty ``DIR`` is refused unless ``--overwrite`` and it holds nothing but a
previous prediction's outputs. A video that stops early (corrupt or truncated) still gets the
outputs of its decoded frames; the command then reports the error and exits with status 1.
docs/PREDICT.md describes the options.
"""

from __future__ import annotations

import fnmatch
import json
import shutil
import time
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from benchmark.apply.filters import FILTERS, parameters
from benchmark.apply.pose_model import PoseModel, load_pose_model, predict
from benchmark.common.atomic import OutputError, check_output, staged_folder
from benchmark.data.drawing import draw_pose
from benchmark.data.mosaic import deidentify_frame
from benchmark.data.video import FOLDER_FPS, Frames, VideoError, batches
from benchmark.study.keypoints import LABELS, NUM_KEYPOINTS

KEYPOINTS, OVERLAY, SUMMARY = "keypoints.csv", "overlay.mp4", "summary.json"  # the files of DIR
OUTPUTS = (KEYPOINTS, "keypoints_*.csv", OVERLAY, SUMMARY)  # what DIR may hold


def keypoint_table(coords: np.ndarray, confidence: np.ndarray, times: np.ndarray) -> pd.DataFrame:
    """The long table of ``keypoints.csv`` from keypoints ``(T, 22, 2)``, confidences ``(T, 22)``
    and frame times ``(T,)``."""
    frames = len(coords)
    return pd.DataFrame({
        "frame": np.repeat(np.arange(frames), NUM_KEYPOINTS),
        "time_s": np.repeat(times, NUM_KEYPOINTS),
        "keypoint": np.tile(LABELS, frames),
        "x": coords[..., 0].ravel(), "y": coords[..., 1].ravel(),
        "confidence": confidence.ravel(),
    })


def overlay_frame(image: np.ndarray, keypoints: np.ndarray, confidence: np.ndarray, seed: str,
                  mosaic: bool = True) -> np.ndarray:
    """``image`` with its face mosaicked from the predicted pose (unless ``mosaic`` is False) and
    the pose drawn on it."""
    if mosaic:
        image, _ = deidentify_frame(image, keypoints, confidence, seed=seed)
    return draw_pose(image, keypoints)


def fit_into(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """``image`` scaled to fit ``width`` x ``height`` (aspect kept), centred on black."""
    scale = min(width / image.shape[1], height / image.shape[0])
    w, h = max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale))
    out = np.zeros((height, width, 3), np.uint8)
    y, x = (height - h) // 2, (width - w) // 2
    out[y:y + h, x:x + w] = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
    return out


class OverlayWriter:
    """An mp4 video (``mp4v``) of RGB frames. The first frame sets its size, rounded up to even
    numbers (the codec drops an odd last row or column); frames of another size (a folder of
    mixed images, or that odd row) are fitted into it."""

    def __init__(self, path: Path, fps: float):
        self.path, self.fps, self.writer, self.size = Path(path), fps, None, None

    def write(self, image: np.ndarray) -> None:
        if self.writer is None:
            self.size = image.shape[1] + image.shape[1] % 2, image.shape[0] + image.shape[0] % 2
            fourcc = cv2.VideoWriter_fourcc(*"mp4v")
            self.writer = cv2.VideoWriter(str(self.path), fourcc, self.fps, self.size)
            if not self.writer.isOpened():
                raise RuntimeError(f"OpenCV cannot write the mp4 video {self.path}")
        if (image.shape[1], image.shape[0]) != self.size:
            image = fit_into(image, *self.size)
        self.writer.write(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))

    def close(self) -> None:
        if self.writer is not None:
            self.writer.release()


def check_out(out: Path, source: Path, overwrite: bool) -> None:
    """Refuse an ``out`` that is not new or empty (see :func:`benchmark.common.atomic.check_output`),
    except, with ``overwrite``, a folder holding nothing but files named like our outputs."""
    out = Path(out)
    if overwrite and out.is_dir():
        foreign = [p.name for p in out.iterdir()
                   if not p.is_file() or not any(fnmatch.fnmatch(p.name, pattern) for pattern in OUTPUTS)]
        if foreign:
            raise OutputError(f"--out {out} holds {foreign[0]}, which predict does not write; "
                              "--overwrite only replaces a previous prediction")
        return
    check_output(out, source)


def stream(frames: Frames, pose_model: PoseModel, writer: OverlayWriter | None, batch_size: int = 16,
           flip: bool = True, mosaic: bool = True,
           progress: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, VideoError | None]:
    """Predict every frame in batches, writing the overlay as it goes: keypoints ``(T, 22, 2)``
    clamped to each picture, confidences ``(T, 22)``, times ``(T,)``, and the error that stopped
    a video early (None when it did not)."""
    coords, confidence, times, stopped = [], [], [], None
    try:
        with tqdm(desc="predict", unit="frame", total=frames.count, disable=not progress) as bar:
            for batch in batches(frames, batch_size):
                images = [image for _, _, image in batch]
                points, conf = predict(pose_model, images, flip=flip, batch_size=batch_size, video=True)
                sizes = np.array([image.shape[1::-1] for image in images], dtype=float)  # (W, H)
                points = np.clip(points, 0, sizes[:, None, :])
                if writer:
                    for (index, _, image), pose, c in zip(batch, points, conf):
                        writer.write(overlay_frame(image, pose, c, frames.name(index), mosaic))
                coords.append(points)
                confidence.append(conf)
                times.extend(t for _, t, _ in batch)
                bar.update(len(batch))
    except VideoError as err:
        if not err.decoded:
            raise
        stopped = err
    return np.concatenate(coords), np.concatenate(confidence), np.array(times), stopped


def predict_video(source: Path, model: str | Path, out: Path, filter_name: str | None = None,
                  filter_params: dict | None = None, batch_size: int = 16, fps: float = FOLDER_FPS,
                  overlay: bool = True, mosaic: bool = True, flip: bool = True, overwrite: bool = False,
                  progress: bool = False) -> dict:
    """Write the outputs of the module docstring for ``source`` into ``out``; return the summary.
    A video that stops early raises its :class:`VideoError` after the outputs are written."""
    frames = Frames(source, fps)
    check_out(out, source, overwrite)
    filter_params = {**parameters(filter_name), **(filter_params or {})} if filter_name else {}
    if filter_name:  # check the parameters now rather than after the whole video
        FILTERS[filter_name](np.zeros((1, NUM_KEYPOINTS, 2)), np.zeros(1), **filter_params)
    pose_model = load_pose_model(model)
    with staged_folder(out) as tmp:
        writer = OverlayWriter(tmp / OVERLAY, frames.fps) if overlay else None
        started = time.perf_counter()
        try:
            coords, confidence, times, stopped = stream(frames, pose_model, writer, batch_size, flip,
                                                        mosaic, progress)
        finally:
            if writer:
                writer.close()
        wall = time.perf_counter() - started
        tables = {KEYPOINTS: coords}
        if filter_name:
            tables[f"keypoints_{filter_name}.csv"] = FILTERS[filter_name](coords, times, **filter_params)
        for name, points in tables.items():
            keypoint_table(points, confidence, times).to_csv(tmp / name, index=False, float_format="%.3f")
        summary = {
            "input": str(source), "model": str(model), "frames": len(times),
            "video_s": float(times[-1] - times[0] + 1 / frames.fps),
            "wall_time_s": wall, "fps": len(times) / wall,
            "filter": {"name": filter_name, **filter_params} if filter_name else None,
            "flip": flip, "overlay": overlay, "mosaic": overlay and mosaic,
            "stopped": str(stopped) if stopped else None,
            "mean_confidence": dict(zip(LABELS, confidence.mean(axis=0).tolist())),
        }
        if not frames.is_video:
            summary["files"] = [p.name for p in frames.paths[:len(times)]]
        (tmp / SUMMARY).write_text(json.dumps(summary, indent=2))
        if overwrite and Path(out).exists():
            shutil.rmtree(out)  # only now that the new outputs are complete (check_out vetted it)
    if stopped:
        raise stopped
    return summary


def describe(summary: dict) -> str:
    """The printed summary: frames, seconds, speed, and mean confidence per keypoint."""
    lines = [f"{summary['frames']} frames ({summary['video_s']:.1f} s of video) in "
             f"{summary['wall_time_s']:.1f} s: {summary['fps']:.2f} frames/s",
             "mean confidence per keypoint:"]
    lines += [f"  {label:<12} {value:.3f}" for label, value in summary["mean_confidence"].items()]
    return "\n".join(lines)
