"""Run a zero-shot baseline over the evaluated splits and write a trained experiment's result files.

``evaluate_baseline(config, dataset_root, out_dir)`` writes ``predictions.csv`` (decoder
``landmarks``) and ``metrics.json`` (written last, atomically) with, beyond a trained experiment's
fields, the keypoint ``mapping`` and per split the ``detection`` counts (frames where the model
found a person; the others are missing predictions, scored wrong) and ``mapped`` metrics (on the
keypoints it can produce only). Runs in the baseline's own environment: imports no deep-learning
backend of the suite.
"""

from __future__ import annotations

import json
import time
from importlib import import_module
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from benchmark.baselines.config import BaselineConfig
from benchmark.baselines.registry import BASELINES
from benchmark.common import environment
from benchmark.common.atomic import staged_file
from benchmark.common.result_files import METRICS, PREDICTIONS
from benchmark.data.labelme import load_dataset, load_image, truth_array
from benchmark.data.layout import EVALUATED
from benchmark.data.mosaic import mosaic_face
from benchmark.data.oks_sigmas import oks_record
from benchmark.study.keypoints import subset_indices
from benchmark.study.metrics import per_keypoint
from benchmark.study.predictions import prediction_rows, split_scores

DECODER = "landmarks"  # the decoder column of a baseline: the model's own output, no heatmap


def mapped_scores(coords, labels, subset: str, mapping: dict) -> dict:
    """The pooled metrics over only the subset's keypoints that the baseline produces (``mapping``'s
    keys), each frame's reference scale still from all its labels."""
    table = per_keypoint(coords, labels, subset)
    table = table[table.index.isin(list(mapping))]
    n = table["n"].sum()
    metrics = [c for c in table.columns if c.startswith("pck@") or c == "mks"]
    return {m: float((table[m] * table["n"]).sum() / n) if n else float("nan") for m in metrics} | {
        "n_keypoints": int(n), "keypoints": len(table)}


def evaluate_baseline(config: BaselineConfig, dataset_root: Path, out_dir: Path, progress: bool = True) -> dict:
    """Predict every frame of the evaluated splits with the baseline, score it, write the results."""
    started = time.perf_counter()
    spec = BASELINES[config.baseline]
    module = import_module(spec.module)
    estimator = module.Estimator(config.variant, config.min_detection_confidence)
    dataset = load_dataset(dataset_root)
    rows, metrics, detection, mapped = [], {}, {}, {}
    try:
        for split in (s for s in EVALUATED if s in dataset.splits):
            frames = dataset.frames(split)
            coords, confidence = np.empty((len(frames), 22, 2)), np.empty((len(frames), 22))
            found = 0
            for i, frame in enumerate(tqdm(frames, desc=f"{spec.name} {split}", disable=not progress, leave=False)):
                image = load_image(frame)
                if config.eval_face == "occluded":
                    image = mosaic_face(image, frame.keypoints, seed=frame.id)
                landmarks = estimator(image)
                found += landmarks is not None
                coords[i], confidence[i] = module.to_keypoints(landmarks, image.shape[1], image.shape[0])
            labels, truth = np.stack([f.keypoints for f in frames]), truth_array(frames)
            rows.append(prediction_rows(split, [f.video for f in frames], [f.frame for f in frames], DECODER,
                                        coords, confidence, labels, truth))
            metrics[split] = split_scores(coords, labels, truth, config.eval_subset)
            detection[split] = {"frames": len(frames), "found": found}
            mapped[split] = mapped_scores(coords, labels, config.eval_subset, module.MAPPING)
    finally:
        estimator.close()
    wall = time.perf_counter() - started
    summary = {
        "kind": "baseline",
        "config": config.model_dump() | {"model": config.baseline, "loss": "zero-shot", "decoder": DECODER},
        "baseline": {"name": spec.name, "title": spec.title, "variant": config.variant},
        "dataset": {"root": str(dataset_root), "fingerprint": dataset.fingerprint(),
                    "synthetic": dataset.is_synthetic, "frames": {s: len(f) for s, f in dataset.splits.items()},
                    **oks_record(dataset_root)},
        "mapping": {"keypoints": {k: list(v) for k, v in module.MAPPING.items()}, "unmapped": module.UNMAPPED,
                    "subset": len(subset_indices(config.eval_subset))},
        "detection": detection,
        "environment": environment.record("mediapipe", "CPU (TensorFlow Lite)", module.versions()),
        "frames_per_s": sum(d["frames"] for d in detection.values()) / wall,
        "wall_time_s": wall,
        "metrics": {DECODER: metrics},
        "mapped": {DECODER: mapped},
    }
    out_dir = Path(out_dir)
    with staged_file(out_dir / PREDICTIONS) as tmp:
        pd.concat(rows, ignore_index=True).to_csv(tmp, index=False, float_format="%.3f")
    with staged_file(out_dir / METRICS) as tmp:
        tmp.write_text(json.dumps(summary, indent=2, default=float))
    return summary
