"""One split's predictions as the rows of ``predictions.csv``, and their scores: shared by every
experiment kind (trained models and zero-shot baselines), so all are read and scored alike."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark.study.keypoints import LABELS
from benchmark.study.metrics import evaluate


def prediction_rows(split: str, videos, frames, method: str, coords, confidence, labels, truth) -> pd.DataFrame:
    """One row per frame and keypoint: the prediction (``x``, ``y``, ``confidence``) in image pixels
    beside the annotation (``label_*``) and the exact truth (``truth_*``, NaN on real data).
    ``coords``, ``labels``, ``truth``: ``(N, 22, 2)``; ``confidence``: ``(N, 22)``."""
    n = len(videos)
    return pd.DataFrame({
        "split": split,
        "video": np.repeat(videos, len(LABELS)),
        "frame": np.repeat(frames, len(LABELS)),
        "keypoint": np.tile(LABELS, n),
        "decoder": method,
        "x": coords[..., 0].ravel(), "y": coords[..., 1].ravel(),
        "confidence": np.asarray(confidence).ravel(),
        "label_x": labels[..., 0].ravel(), "label_y": labels[..., 1].ravel(),
        "truth_x": truth[..., 0].ravel(), "truth_y": truth[..., 1].ravel(),
    })


def split_scores(coords, labels, truth, subset: str) -> dict[str, dict]:
    """``{"annotation": metrics}``, plus ``"truth"`` when every frame has the exact truth (synthetic
    data), scored only where annotated: keypoints outside the picture have truth but no label."""
    scores = {"annotation": evaluate(coords, labels, subset=subset)}
    if len(truth) and not np.isnan(truth).all(axis=(1, 2)).any():
        scores["truth"] = evaluate(coords, np.where(np.isnan(labels), np.nan, truth), subset=subset)
    return scores

