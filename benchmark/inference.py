"""Run a trained model and decode its heatmaps back to original image coordinates."""

from __future__ import annotations

import keras
import numpy as np

from . import transforms
from .heatmaps import decode, probabilities


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


def decode_to_image(logits: np.ndarray, matrices: np.ndarray, loss: str, method: str,
                    stride: int = 4, sigma: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints (N, 22, 2) in original image pixels and confidences (N, 22).

    ``sigma`` is the training target's (DARK smooths with it)."""
    coords, confidence = decode(probabilities(logits, loss), method=method, stride=stride, sigma=sigma)
    coords = keras.ops.convert_to_numpy(coords).astype(np.float64)
    back = np.stack([transforms.apply(transforms.invert(m), c) for m, c in zip(matrices, coords)])
    return back, keras.ops.convert_to_numpy(confidence)
