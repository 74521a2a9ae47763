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

The model sees each frame and its mirror image (test-time flip, :func:`benchmark.pose_model.predict`).
A keypoint is confident when, in both, the peak of its heatmap reaches ``threshold`` times the peak
of a perfect training target, and the two predictions agree within ``agreement`` times the
predicted Head-to-shoulders length. The model is loaded by :func:`benchmark.pose_model.load_pose_model`
(a ``model.keras`` path or an experiment id; its ``metrics.json`` gives the loss, sigma and
decoder); a model trained with its facial keypoints omitted is never trusted with faces.

``OUT`` receives one JPEG per frame (quality 95, no metadata; ``<video>_<frame>.jpg`` for a
video, the same stem for an image) and ``deidentify.csv`` (file, region used, the lowest facial
confidence, the Head confidence), written in a temporary folder and renamed at the end. A video
that stops early (corrupt or truncated) still gets its decoded frames written; the command then
reports the error and exits with status 1.
"""

from __future__ import annotations

import argparse
import zlib
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..keypoints import FACIAL_IDX, INDEX
from ..mosaic import BLOCK_NOISE, PIXEL_NOISE, face_ellipse, mosaic_face
from ..pose_model import AGREEMENT, load_pose_model, predict
from ..video import Frames, VideoError, batches
from .output import check_output, staged_folder
from .scrub import encode

FRAME_CELLS = 16  # cells across the longer side when a whole frame is pixelated


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


def deidentify(source: Path, model_path: Path, out: Path, threshold: float = 0.3,
               margin: float = 1.0, agreement: float = AGREEMENT, batch_size: int = 16,
               progress: bool = False) -> pd.DataFrame:
    """Write the mosaicked frames of ``source`` and ``deidentify.csv`` to ``out`` (new or empty);
    return the per-frame table. A video that stops early raises its :class:`VideoError` after
    the frames decoded before are written."""
    frames = Frames(source)
    check_output(out, source)
    pose_model = load_pose_model(model_path)
    rows, stopped = [], None
    with staged_folder(out) as tmp, tqdm(desc="deidentify", unit="frame", total=frames.count,
                                         disable=not progress) as bar:
        try:
            for batch in batches(frames, batch_size):
                coords, confidence = predict(pose_model, [image for _, _, image in batch], agreement,
                                             batch_size=batch_size)
                for (index, _, image), pose, conf in zip(batch, coords, confidence):
                    stem = frames.name(index)
                    clean, region = deidentify_frame(image, pose, conf, threshold, margin, seed=stem)
                    (tmp / f"{stem}.jpg").write_bytes(encode(clean, ".jpg"))
                    rows.append({"file": f"{stem}.jpg", "region": region,
                                 "facial_confidence": float(conf[FACIAL_IDX].min()),
                                 "head_confidence": float(conf[INDEX["Head"]])})
                bar.update(len(batch))
        except VideoError as err:
            if not err.decoded:
                raise
            stopped = err
        table = pd.DataFrame(rows, columns=["file", "region", "facial_confidence", "head_confidence"])
        table.to_csv(tmp / "deidentify.csv", index=False, float_format="%.3f")
    if stopped:
        raise stopped
    return table


def configure(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--input", type=Path, required=True, help="a folder of images or a video file")
    add("--model", required=True,
        help="model.keras written by training (its metrics.json beside it gives the loss), or an "
             "experiment id under results/quick")
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
    except VideoError as err:
        print(f"error: {err}" + (f"; the {err.decoded} decoded frames were written to {args.out}"
                                 if err.decoded else ""))
        return 1 if err.decoded else 2
    except ValueError as err:  # output folder refused, non-square model
        print(f"error: {err}")
        return 2
    counts = ", ".join(f"{n} {region}" for region, n in table["region"].value_counts().items())
    print(f"wrote {len(table)} frames to {args.out} (mosaic region: {counts or 'none'})")
    return 0
