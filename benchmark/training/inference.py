"""Run a trained model and decode its heatmaps back to original image coordinates, on the whole
picture or on the body it finds there (``framed_predictions``)."""

from __future__ import annotations

from typing import Callable

import keras
import numpy as np

from benchmark.data import framing, transforms
from benchmark.study.codec import HeatmapCodec


def predict_heatmaps(model: keras.Model, images: np.ndarray, batch_size: int = 32) -> np.ndarray:
    """Heatmap logits of the final output (the last stack of a stacked hourglass).

    Every batch is padded to ``batch_size`` so the compiled predict step is traced only once.
    """
    chunks = []
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size].astype(np.float32) / 255.0
        count = len(batch)
        batch = np.concatenate([batch, np.zeros((batch_size - count,) + batch.shape[1:], np.float32)])
        out = model.predict_on_batch(batch)  # compiled; an eager call is slow for deep models
        chunks.append(np.asarray(out[-1] if isinstance(out, (list, tuple)) else out)[:count])
    return np.concatenate(chunks) if chunks else np.zeros((0,))


def decode_to_image(logits: np.ndarray, matrices: np.ndarray, codec: HeatmapCodec,
                    method: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints (N, 22, 2) in original image pixels and confidences (N, 22), decoded by ``codec``
    (with ``method``, default the codec's decoder) and mapped back through each frame's matrix."""
    coords, confidence = codec.decode(logits, method)
    coords = keras.ops.convert_to_numpy(coords).astype(np.float64)
    back = np.stack([transforms.apply(transforms.invert(m), c) for m, c in zip(matrices, coords)])
    return back, keras.ops.convert_to_numpy(confidence)


Inputs = Callable[[list | None], tuple[np.ndarray, np.ndarray]]


def framed_predictions(model: keras.Model, codec: HeatmapCodec, inputs: Inputs, groups: list,
                       passes: int, fill: float = framing.FILL,
                       batch_size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Heatmap logits and the matrices of the pictures they came from, for a model that sees the
    body (``TrainConfig.framing``): a first pass on the letterboxed pictures, then ``passes``
    passes on the crops around the body that the previous pass found, one box per group (video).

    ``inputs(boxes)`` gives the network's pictures (uint8) and their matrices: letterboxed for
    ``None``, else each cropped to its box."""
    images, matrices = inputs(None)
    logits = predict_heatmaps(model, images, batch_size)
    for _ in range(passes):
        coords, confidence = decode_to_image(logits, matrices, codec)
        images, matrices = inputs(framing.prediction_boxes(groups, coords, confidence, fill))
        logits = predict_heatmaps(model, images, batch_size)
    return logits, matrices
