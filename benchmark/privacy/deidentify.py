"""``python -m benchmark deidentify --input VIDEO_OR_FOLDER --model MODEL.keras --out OUT``.

Mosaics the faces of unlabelled frames (a folder of images, or a video read with OpenCV) with the
facial keypoints a trained pose model predicts, so frames can be shared before anyone labels them.
Each frame is mosaicked over every region its confident predictions give (both, when it can: a
confidently misplaced face is then still covered by the head region), and never leaves untouched:

- ``face``: all five facial keypoints are confident: the face ellipse of
  :func:`benchmark.mosaic.face_ellipse`, with a safety margin (default 1.0, wider than the 0.6 of
  the experiments' occlusion);
- ``head``: Head and a shoulder are confident: the circle on the Head-to-shoulders line (the same
  function's fallback), with the margin;
- ``frame``: neither: the whole picture becomes :data:`FRAME_CELLS` noisy blocks across.

The model sees each frame and its mirror image (test-time flip). A keypoint is confident when, in
both, the peak of its heatmap reaches ``threshold`` times the peak of a perfect training target (1
for MSE and BCE, ``1 / (2 pi sigma^2)`` for KCE's normalised Gaussian), and the two predictions
agree within ``agreement`` times the predicted Head-to-shoulders length: a model outside its
training domain is often confident, but rarely consistently so. Positions are the mean of the
two. The loss, sigma and decoder come from the ``metrics.json`` that training writes next to
``model.keras`` (defaults: kce, 2.0, wa); a model trained with its facial keypoints omitted is
never trusted with faces. The input size is the model's.

``OUT`` receives one JPEG per frame (quality 95, no metadata; ``<video>_<frame>.jpg`` for a
video, the same stem for an image) and ``deidentify.csv`` (file, region used, the lowest facial
confidence, the Head confidence), written in a temporary folder and renamed at the end.
"""

from __future__ import annotations

import argparse
import json
import math
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import keras
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .. import models  # noqa: F401  (registers the custom layers load_model needs)
from ..inference import decode_to_image, predict_heatmaps
from ..keypoints import FACIAL_IDX, FLIP_PERMUTATION, INDEX
from ..labelme import load_image
from ..mosaic import BLOCK_NOISE, PIXEL_NOISE, face_ellipse, mosaic_face
from ..transforms import letterbox_image, mirror_labels
from .audit import IMAGE_SUFFIXES
from .output import check_output, staged_folder
from .scrub import encode

FRAME_CELLS = 16  # cells across the longer side when a whole frame is pixelated
AGREEMENT = 0.15  # largest distance between the predictions on a frame and on its mirror image,
                  # relative to the predicted Head-to-shoulders length


@dataclass(frozen=True)
class PoseModel:
    """A trained model and what decoding its heatmaps needs."""

    model: keras.Model
    loss: str
    sigma: float
    decoder: str
    facial: bool  # trained with the facial keypoints

    @property
    def input_size(self) -> int:
        return int(self.model.inputs[0].shape[1])

    @property
    def target_peak(self) -> float:
        """Peak of a perfect target heatmap after the loss's activation (a sampled unit Gaussian
        normalised to sum 1 has its peak near ``1 / (2 pi sigma^2)``)."""
        return 1 / (2 * math.pi * self.sigma**2) if self.loss == "kce" else 1.0


def load_pose_model(path: Path) -> PoseModel:
    """Load ``model.keras`` and the training configuration in ``metrics.json`` beside it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {path} does not exist")
    metrics = path.with_name("metrics.json")
    config = json.loads(metrics.read_text()).get("config", {}) if metrics.is_file() else {}
    model = keras.saving.load_model(path, compile=False)
    height, width = model.inputs[0].shape[1:3]
    if height != width:
        raise ValueError(f"{path}: expected a square input, got {height}x{width}")
    return PoseModel(model, config.get("loss", "kce"), float(config.get("sigma", 2.0)),
                     config.get("decoder", "wa"), config.get("facial_keypoints", "preserved") == "preserved")


def _predict_once(pose_model: PoseModel, images: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints ``(N, 22, 2)`` in image pixels and heatmap peaks relative to the target peak."""
    boxed = [letterbox_image(image, pose_model.input_size) for image in images]
    logits = predict_heatmaps(pose_model.model, np.stack([b[0] for b in boxed]))
    stride = pose_model.input_size // logits.shape[1]
    coords, peaks = decode_to_image(logits, np.stack([b[1] for b in boxed]), pose_model.loss,
                                    pose_model.decoder, stride=stride)
    return coords, peaks / pose_model.target_peak


def predict(pose_model: PoseModel, images: list[np.ndarray],
            agreement: float = AGREEMENT) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints ``(N, 22, 2)`` in image pixels and their confidence ``(N, 22)``, from the
    predictions on each RGB image and on its mirror image (see the module docstring): the mean
    position, and the lower relative peak of the two, or 0 where the two lie further apart than
    ``agreement`` times the predicted Head-to-shoulders length."""
    coords, peaks = _predict_once(pose_model, images)
    mirrored, mirrored_peaks = _predict_once(pose_model, [np.ascontiguousarray(i[:, ::-1]) for i in images])
    mirrored, mirrored_peaks = mirror_labels(mirrored), mirrored_peaks[:, FLIP_PERMUTATION]
    widths = np.array([image.shape[1] for image in images], dtype=float)
    mirrored[..., 0] = widths[:, None] - mirrored[..., 0]  # x -> W - x undoes the mirror
    mean = (coords + mirrored) / 2
    neck = mean[:, [INDEX["Shoulder_R"], INDEX["Shoulder_L"]]].mean(axis=1)
    length = np.linalg.norm(mean[:, INDEX["Head"]] - neck, axis=-1)
    apart = np.linalg.norm(coords - mirrored, axis=-1)
    confidence = np.where(apart <= agreement * length[:, None], np.minimum(peaks, mirrored_peaks), 0.0)
    if not pose_model.facial:
        confidence[:, FACIAL_IDX] = 0.0
    return mean, confidence


def pixelate(image: np.ndarray, seed: str, cells: int = FRAME_CELLS) -> np.ndarray:
    """The whole picture as coarse blocks, ``cells`` across its longer side, with the per-block
    and per-pixel colour noise of :func:`benchmark.mosaic.mosaic_face`, seeded by ``seed``."""
    height, width = image.shape[:2]
    scale = cells / max(height, width)
    small = cv2.resize(image, (max(1, round(width * scale)), max(1, round(height * scale))),
                       interpolation=cv2.INTER_AREA).astype(np.float32)
    rng = np.random.default_rng(zlib.crc32(seed.encode()))
    small += rng.uniform(-BLOCK_NOISE, BLOCK_NOISE, small.shape)
    blocks = cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST)
    blocks += rng.uniform(-PIXEL_NOISE, PIXEL_NOISE, blocks.shape)
    return np.clip(np.rint(blocks), 0, 255).astype(np.uint8)


def deidentify_frame(image: np.ndarray, keypoints: np.ndarray, confidence: np.ndarray,
                     threshold: float = 0.3, margin: float = 1.0,
                     seed: str = "") -> tuple[np.ndarray, str]:
    """Mosaic one frame from its predicted pose ``(22, 2)`` and confidences ``(22,)``; returns the
    new image and the regions used: ``"face+head"``, ``"face"``, ``"head"`` or ``"frame"`` (see
    the module docstring)."""
    pose = np.where((confidence >= threshold)[:, None], keypoints, np.nan)
    head = pose.copy()
    head[FACIAL_IDX] = np.nan
    regions = {"face": pose if not np.isnan(pose[FACIAL_IDX]).any() else None,
               "head": head if face_ellipse(head) is not None else None}
    used = [name for name, region in regions.items() if region is not None]
    if not used:
        return pixelate(image, seed), "frame"
    for name in used:
        image = mosaic_face(image, regions[name], seed=seed, margin=margin)
    return image, "+".join(used)


def read_frames(source: Path) -> Iterator[tuple[str, np.ndarray]]:
    """``(stem, RGB uint8 image)`` for every image of a folder (sorted by name) or every frame of a
    video file (stems ``<video>_<8-digit frame index>``)."""
    source = Path(source)
    if source.is_dir():
        for path in sorted(p for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
            yield path.stem, load_image(path)
        return
    if not source.is_file():
        raise FileNotFoundError(f"input {source} does not exist")
    capture = cv2.VideoCapture(str(source))
    if not capture.isOpened():
        raise ValueError(f"{source}: OpenCV cannot read this video")
    try:
        index = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            yield f"{source.stem}_{index:08d}", cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            index += 1
    finally:
        capture.release()


def _batches(frames: Iterator, size: int) -> Iterator[list]:
    batch = []
    for item in frames:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def deidentify(source: Path, model_path: Path, out: Path, threshold: float = 0.3,
               margin: float = 1.0, agreement: float = AGREEMENT, batch_size: int = 16,
               progress: bool = False) -> pd.DataFrame:
    """Write the mosaicked frames of ``source`` and ``deidentify.csv`` to ``out`` (new or empty);
    return the per-frame table."""
    if not Path(source).exists():
        raise FileNotFoundError(f"input {source} does not exist")
    check_output(out, source)
    pose_model = load_pose_model(model_path)
    rows = []
    with staged_folder(out) as tmp, tqdm(desc="deidentify", unit="frame", disable=not progress) as bar:
        for batch in _batches(read_frames(source), batch_size):
            coords, confidence = predict(pose_model, [image for _, image in batch], agreement)
            for (stem, image), pose, conf in zip(batch, coords, confidence):
                clean, region = deidentify_frame(image, pose, conf, threshold, margin, seed=stem)
                (tmp / f"{stem}.jpg").write_bytes(encode(clean, ".jpg"))
                rows.append({"file": f"{stem}.jpg", "region": region,
                             "facial_confidence": float(conf[FACIAL_IDX].min()),
                             "head_confidence": float(conf[INDEX["Head"]])})
            bar.update(len(batch))
        table = pd.DataFrame(rows, columns=["file", "region", "facial_confidence", "head_confidence"])
        table.to_csv(tmp / "deidentify.csv", index=False, float_format="%.3f")
    return table


def configure(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--input", type=Path, required=True, help="a folder of images or a video file")
    add("--model", type=Path, required=True,
        help="model.keras written by training (its metrics.json beside it gives the loss)")
    add("--out", type=Path, required=True, help="new or empty output folder")
    add("--threshold", type=float, default=0.3,
        help="confidence, relative to a perfect heatmap peak, to trust a keypoint (default 0.3)")
    add("--margin", type=float, default=1.0, help="growth of the face region (default 1.0)")
    add("--agreement", type=float, default=AGREEMENT,
        help="largest distance between the predictions on a frame and its mirror image, relative "
             f"to the Head-to-shoulders length, to trust a keypoint (default {AGREEMENT})")
    add("--batch-size", type=int, default=16, help="frames per model call (default 16)")


def main(args: argparse.Namespace) -> int:
    try:
        table = deidentify(args.input, args.model, args.out, args.threshold, args.margin,
                           args.agreement, args.batch_size, progress=True)
    except ValueError as err:  # output folder refused, unreadable video, non-square model
        print(f"error: {err}")
        return 2
    counts = ", ".join(f"{n} {region}" for region, n in table["region"].value_counts().items())
    print(f"wrote {len(table)} frames to {args.out} (mosaic region: {counts or 'none'})")
    return 0
