"""Error rates of the visible-face test (:mod:`.faces`) on synthetic frames.

``python -m benchmark face-test [--root DATASET | --videos N --frames-per-video F --seed S]``

The synthetic generator draws visible faces. Every frame is judged three times, from its
annotation's keypoints as the audit does: as generated (``visible``); mosaicked with
:func:`benchmark.data.mosaic.mosaic_face` (``mosaic``: blocks plus noise, seeded by the frame id); and
``pixelated`` (plain blocks of the mean colour, no noise, the same region and block size, to
exercise the block test alone). Mosaicked versions are re-encoded as JPEG at their video's quality,
as a published frame would be. A visible face judged mosaicked is a *missed leak*; a mosaicked or
pixelated face judged visible is a *false alarm*.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from benchmark.data.labelme import load_dataset, load_image
from benchmark.data.layout import SYNTH_SETTINGS
from benchmark.data.mosaic import ellipse_mask, face_ellipse, mosaic_face
from benchmark.privacy.faces import check_face


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1]


def pixelate_face(image: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    """The face region of :func:`benchmark.data.mosaic.mosaic_face` as plain blocks of their mean colour
    (same block size and grid, no noise)."""
    ellipse = face_ellipse(keypoints)
    block = max(2, round(min(ellipse[1]) / 3))
    height, width = image.shape[:2]
    padded = np.pad(image, ((0, -height % block), (0, -width % block), (0, 0)), mode="edge")
    rows, cols = padded.shape[0] // block, padded.shape[1] // block
    means = padded.reshape(rows, block, cols, block, 3).mean(axis=(1, 3))
    blocks = np.rint(means).astype(np.uint8).repeat(block, axis=0).repeat(block, axis=1)
    return np.where(ellipse_mask(image.shape, ellipse)[..., None], blocks[:height, :width], image)


def judge_frames(root: Path) -> pd.DataFrame:
    """One row per frame and version (``truth``: visible, mosaic, pixelated) of the synthetic
    dataset at ``root``: the verdict (None: not judged) and the scores."""
    dataset = load_dataset(root)
    settings = json.loads((Path(root) / SYNTH_SETTINGS).read_text())
    quality = {v["id"]: v["jpeg_quality"] for v in settings["video_settings"]}
    rows = []
    for split, frames in dataset.splits.items():
        for frame in frames:
            image = load_image(frame)
            versions = {
                "visible": image,
                "mosaic": _jpeg(mosaic_face(image, frame.keypoints, seed=frame.id), quality[frame.video]),
                "pixelated": _jpeg(pixelate_face(image, frame.keypoints), quality[frame.video]),
            }
            for truth, version in versions.items():
                verdict = check_face(version, frame.keypoints)
                scores = verdict.as_dict() if verdict else {"mosaicked": None}
                rows.append({"split": split, "frame": frame.id, "truth": truth, **scores})
    return pd.DataFrame(rows).rename(columns={"mosaicked": "judged_mosaicked"})


def error_rates(rows: pd.DataFrame) -> pd.DataFrame:
    """Per truth class: frames, frames not judged, and the error rate among the judged ones."""
    out = []
    for truth, group in rows.groupby("truth"):
        judged = group.dropna(subset=["judged_mosaicked"])
        wrong = judged["judged_mosaicked"] != (truth != "visible")
        out.append({"truth": truth, "frames": len(group), "not judged": len(group) - len(judged),
                    "errors": int(wrong.sum()),
                    "error rate": round(float(wrong.mean()), 4) if len(judged) else float("nan"),
                    "error": "missed leak" if truth == "visible" else "false alarm"})
    return pd.DataFrame(out)
