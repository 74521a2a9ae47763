"""``python -m benchmark deidentify --input VIDEO_OR_FOLDER --model MODEL.keras --out OUT``.

Mosaics the faces of unlabelled frames (a folder of images, or a video read with OpenCV) with the
facial keypoints a trained pose model predicts, so frames can be shared before anyone labels them.
Each frame is mosaicked over every region its confident predictions give (both, when it can: a
confidently misplaced face is then still covered by the head region), and never leaves untouched:

- ``face``: all five facial keypoints are confident: the face ellipse of
  :func:`benchmark.data.mosaic.face_ellipse`, with a safety margin (default 1.0, wider than the 0.6 of
  the experiments' occlusion);
- ``head``: Head and a shoulder are confident: the circle on the Head-to-shoulders line (the same
  function's fallback), with the margin;
- ``frame``: neither: the whole picture becomes :data:`benchmark.data.mosaic.FRAME_CELLS` noisy blocks across.

The model sees each frame and its mirror image (test-time flip, :func:`benchmark.apply.pose_model.predict`).
A keypoint is confident when, in both, the peak of its heatmap reaches ``threshold`` times the peak
of a perfect training target, and the two predictions agree within ``agreement`` times the
predicted Head-to-shoulders length. The model is loaded by :func:`benchmark.apply.pose_model.load_pose_model`
(a ``model.keras`` path or an experiment id; its ``metrics.json`` gives the loss, sigma and
decoder); a model trained with its facial keypoints omitted is never trusted with faces.

``OUT`` receives one JPEG per frame (quality 95, no metadata; ``<video>_<frame>.jpg`` for a
video, the same stem for an image) and ``deidentify.csv`` (file, region used, the lowest facial
confidence, the Head confidence), written in a temporary folder and renamed at the end. A video
that stops early (corrupt or truncated) still gets its decoded frames written; the command then
reports the error and exits with status 1.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from benchmark.apply.pose_model import AGREEMENT, load_pose_model, predict
from benchmark.common.atomic import check_output, staged_folder
from benchmark.data.mosaic import deidentify_frame
from benchmark.data.video import Frames, VideoError, batches
from benchmark.privacy.scrub import encode
from benchmark.study.keypoints import FACIAL_IDX, INDEX


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
