"""``python -m benchmark gallery --model MODEL --input FOLDER --out FILE.png``: a model's predictions
on unlabelled pictures as one grid image, to see how it generalises beyond its test set.

Each cell shows a picture with its predicted pose (left side orange, right side blue, midline
green), titled with its name and the mean confidence of the model's keypoints. Faces are never
shown: they are mosaicked as ``deidentify`` does, from the confident predicted keypoints, else the
whole picture (:func:`benchmark.apply.predict.overlay_frame`). The report's ``domain_shift_gallery``
draws the same for the labelled DomainShift split, its faces mosaicked from the annotation.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from benchmark.apply.pose_model import load_pose_model, predict
from benchmark.apply.predict import overlay_frame
from benchmark.common.atomic import staged_file
from benchmark.data.drawing import grid
from benchmark.data.video import Frames, VideoError, batches
from benchmark.study.keypoints import NON_FACIAL_IDX


def gallery_image(images: list[np.ndarray], predictions: np.ndarray, confidence: np.ndarray,
                  titles: list[str], cols: int = 4, cell: int = 256) -> np.ndarray:
    """A grid (:func:`benchmark.data.drawing.grid`) of RGB ``images`` with their ``predictions``
    ``(N, 22, 2)`` drawn and faces mosaicked from the predictions and their ``confidence``
    ``(N, 22)`` (:func:`benchmark.apply.predict.overlay_frame`). Titles seed the mosaic noise."""
    cells = [overlay_frame(image, pose, c, seed=title)
             for image, pose, c, title in zip(images, predictions, confidence, titles)]
    return grid(cells, cols, titles, cell)


def spread(count: int | None, limit: int) -> np.ndarray:
    """Indices of ``limit`` frames spread evenly over ``count`` (the first ``limit`` when the count
    is unknown)."""
    if count is None or count <= limit:
        return np.arange(limit if count is None else count)
    return np.unique(np.linspace(0, count - 1, limit).round().astype(int))


def gallery(source: Path, model: str | Path, out: Path, cols: int = 4, limit: int = 16,
            cell: int = 256, batch_size: int = 16, progress: bool = False) -> int:
    """Write the gallery of up to ``limit`` pictures of ``source`` (a folder, or a video) to the
    image file ``out``; return the number of pictures shown. A video that stops early shows the
    picked frames decoded before, with a warning."""
    frames = Frames(source)
    pose_model = load_pose_model(model)
    picks = spread(frames.count, limit)
    images, predictions, confidences, titles = [], [], [], []
    shown = NON_FACIAL_IDX if not pose_model.facial else slice(None)
    try:
        with tqdm(desc="gallery", unit="picture", total=len(picks), disable=not progress) as bar:
            for batch in batches(frames.select(picks), batch_size):
                batch_images = [image for _, _, image in batch]
                coords, confidence = predict(pose_model, batch_images, batch_size=batch_size)
                images += batch_images
                predictions += list(coords)
                confidences += list(confidence)
                titles += [f"{frames.name(index)}  {c[shown].mean():.2f}"
                           for (index, _, _), c in zip(batch, confidence)]
                bar.update(len(batch))
    except VideoError as err:
        if not images:
            raise
        print(f"warning: {err}; showing the {len(images)} pictures picked before", file=sys.stderr)
    picture = gallery_image(images, np.stack(predictions), np.stack(confidences), titles, cols, cell)
    with staged_file(out) as partial:
        Image.fromarray(picture).save(partial)  # the format follows the suffix
    return len(images)
