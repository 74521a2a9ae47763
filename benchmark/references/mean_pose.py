"""The mean pose: the Train split's average keypoints, drawn in every evaluated frame.

Each Train frame's labels are mapped into the letterboxed square the models see first (every
trained model's first look at a picture, :func:`benchmark.data.transforms.letterbox`), averaged per
keypoint over the frames that have it, and mapped back into each evaluated frame through that
frame's own letterbox. Nothing about the frame's content is used: a model that does not beat this
has learned nothing about where the infant is. (A body-framed model finds its crop with its own
predictions, so no model-free crop exists to place the mean pose in.)

``evaluate_mean_pose(config, dataset_root, out_dir)`` writes ``predictions.csv`` (decoder
:data:`DECODER`) and ``metrics.json`` like any experiment, in seconds.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.common import environment
from benchmark.common.atomic import staged_file
from benchmark.common.metrics_file import write_metrics
from benchmark.common.result_files import PREDICTIONS
from benchmark.data import transforms
from benchmark.data.labelme import load_dataset, truth_array
from benchmark.data.layout import EVALUATED
from benchmark.data.oks_sigmas import oks_record
from benchmark.references.config import ReferenceConfig
from benchmark.study.predictions import prediction_rows, split_scores

DECODER = "reference"  # the decoder column of a reference: no heatmap is decoded
UNIT = 1.0  # the letterboxed square's side the mean is taken in


def mean_pose(frames) -> np.ndarray:
    """``(22, 2)`` the mean of the frames' labels in the unit letterboxed square (NaN where no frame
    has the keypoint)."""
    unit = np.stack([transforms.apply(transforms.letterbox(f.width, f.height, 1), f.keypoints) for f in frames])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a keypoint no frame has: its mean is NaN
        return np.nanmean(unit, axis=0)


def placed(pose: np.ndarray, frames) -> np.ndarray:
    """``(N, 22, 2)`` the unit-square ``pose`` in each frame's image pixels."""
    return np.stack([transforms.apply(transforms.invert(transforms.letterbox(f.width, f.height, 1)), pose)
                     for f in frames])


def evaluate_mean_pose(config: ReferenceConfig, dataset_root: Path, out_dir: Path) -> dict:
    """Score the mean pose on every evaluated split and write the results (module docstring)."""
    started = time.perf_counter()
    dataset = load_dataset(dataset_root)
    pose = mean_pose(dataset.frames("Train"))
    rows, metrics = [], {}
    for split in (s for s in EVALUATED if s in dataset.splits):
        frames = dataset.frames(split)
        coords = placed(pose, frames)
        labels, truth = np.stack([f.keypoints for f in frames]), truth_array(frames)
        confidence = np.zeros(coords.shape[:2])
        rows.append(prediction_rows(split, [f.video for f in frames], [f.frame for f in frames], DECODER,
                                    coords, confidence, labels, truth))
        metrics[split] = split_scores(coords, labels, truth, config.eval_subset)
    summary = {
        "kind": "reference",
        "config": config.model_dump() | {"model": config.reference, "loss": "chance level", "decoder": DECODER},
        "reference": {"name": config.reference, "placed_by": "each frame's letterbox (the models' first view)",
                      "train_frames": len(dataset.frames("Train")),
                      "pose": {"unit_square": np.round(pose, 4).tolist()}},
        "dataset": {"root": str(dataset_root), "fingerprint": dataset.fingerprint(),
                    "synthetic": dataset.is_synthetic, "frames": {s: len(f) for s, f in dataset.splits.items()},
                    **oks_record(dataset_root)},
        "environment": environment.record("numpy", "CPU", {"numpy": np.__version__}),
        "wall_time_s": time.perf_counter() - started,
        "metrics": {DECODER: metrics},
    }
    out_dir = Path(out_dir)
    with staged_file(out_dir / PREDICTIONS) as tmp:
        pd.concat(rows, ignore_index=True).to_csv(tmp, index=False, float_format="%.3f")
    write_metrics(out_dir, summary)
    return summary
