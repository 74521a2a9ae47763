"""Trained experiments on more named-shift videos than their dataset holds (``python -m benchmark shifts``).

The report's generalisation table rests on the dataset's DomainShift split (20 videos per shift in the
quick dataset), and one or two hard videos move a shift's share of Test by tens of points. Here new
DomainShift videos are generated per named shift, drawn like the experiments' synthetic dataset (its
frames per video, frame step and picture size) with another generator seed, and each experiment's
model is scored on them as training's evaluation does (its framing and decoder): per shift, PCK@0.1
with its 95 % video-bootstrap interval and the share of the experiment's own Test PCK@0.1 it keeps.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from benchmark.common.errors import InputError
from benchmark.common.metrics_file import ResultsError, read_metrics
from benchmark.common.result_files import MODEL
from benchmark.data.info import synthetic_shifts
from benchmark.data.labelme import load_dataset
from benchmark.data.layout import SYNTH_SETTINGS
from benchmark.data.synth.generate import ensure_dataset
from benchmark.data.synth.style import SHIFTS
from benchmark.study.bootstrap import metric_interval
from benchmark.study.smoothness import keypoint_arrays
from benchmark.training.config import TrainConfig
from benchmark.training.train import evaluate_model

METRIC = "pck@0.1"


def _summary(folder: Path) -> dict:
    try:
        return read_metrics(folder)
    except ResultsError as err:
        raise InputError(f"{folder}: not a finished experiment ({err})") from None


def source_dataset(folders: list[Path]) -> Path:
    """The one dataset the experiments in ``folders`` were trained on; InputError when they differ."""
    sources = {Path(_summary(folder)["dataset"]["root"]) for folder in folders}
    if len(sources) > 1:
        raise InputError("the experiments were trained on different datasets: " + ", ".join(map(str, sorted(sources))))
    return sources.pop()


def shift_videos(source: Path, per_shift: int, seed: int, data_dir: Path) -> Path:
    """The folder of ``per_shift`` DomainShift videos per named shift, drawn like the synthetic dataset
    at ``source`` (frames per video, frame step, size), generated on first use and again when the
    generator's version changed."""
    if per_shift < 1:
        raise InputError("--videos-per-shift must be at least 1")
    try:
        settings = json.loads((source / SYNTH_SETTINGS).read_text())
        shape = {name: settings[name] for name in ("frames_per_video", "frame_step", "size")}
        shape["frames_per_video"] = settings.get("domain_shift_frames") or shape["frames_per_video"]
    except (OSError, ValueError, KeyError) as err:
        raise InputError(f"{source / SYNTH_SETTINGS}: the experiments' dataset is not a synthetic one ({err}); "
                         "named shifts exist only there") from None
    root = data_dir / (f"seed{seed}-{per_shift}x{len(SHIFTS)}-{shape['frames_per_video']}f"
                       f"-step{shape['frame_step']}-{shape['size']}px")
    return ensure_dataset(root, videos=3, seed=seed, domain_shift_videos=per_shift * len(SHIFTS), **shape)


def shift_scores(folder: Path, root: Path) -> pd.DataFrame:
    """One row per named shift: the experiment's PCK@0.1 there with its interval, and the share of its
    Test PCK@0.1 (from its ``metrics.json``) that this is."""
    summary = _summary(folder)
    config = TrainConfig(**summary["config"])
    test = summary["metrics"][config.decoder]["Test"]["annotation"][METRIC]
    model = keras.saving.load_model(folder / MODEL, compile=False)
    predictions, _ = evaluate_model(model, load_dataset(root, ["DomainShift"]), config)
    predictions = predictions[predictions["decoder"] == config.decoder]
    shifts = synthetic_shifts(root)
    rows = []
    for shift, part in predictions.groupby(predictions["video"].map(shifts), sort=False):
        index, arrays = keypoint_arrays(part)
        videos = index.get_level_values("video")
        found = metric_interval(arrays["prediction"], arrays["annotation"], videos, METRIC, config.eval_subset)
        rows.append({"experiment": folder.name, "shift": shift, "videos": videos.nunique(),
                     METRIC: found.estimate, "low": found.low, "high": found.high, "Test": test,
                     "kept": found.estimate / test if test else np.nan})
    return pd.DataFrame(rows)
