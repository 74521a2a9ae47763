"""Train and evaluate one configuration: the entry point that every experiment runs.

``train(config, dataset_root, out_dir)`` writes into ``out_dir`` (through a hidden temporary folder,
so a crash or a diverging loss leaves nothing half-written; ``metrics.json`` is written last):

- ``model.keras``       the trained model
- ``history.csv``       per epoch: loss, validation PCKsh@0.1 (a body-framed model: on crops
                        by the labels), epoch time
- ``predictions.csv``   every Valid/Test/DomainShift frame, every decoder, in image pixels, beside
                        the annotation (and, on synthetic data, the exact truth)
- ``metrics.json``      the configuration, environment, and metrics per decoder, split and reference
"""

from __future__ import annotations

import json
import math
import os
import time
from contextlib import contextmanager
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from benchmark.common import environment
from benchmark.common.atomic import staged_file
from benchmark.data import framing
from benchmark.data.labelme import Dataset, load_dataset, truth_array
from benchmark.data.layout import EVALUATED
from benchmark.models import build_model, model_info
from benchmark.models.imagenet import check_imagenet_weights
from benchmark.study.codec import DECODERS, HeatmapCodec
from benchmark.study.losses import get_loss
from benchmark.study.metrics import pck
from benchmark.study.predictions import prediction_rows, split_scores
from benchmark.training.config import TrainConfig
from benchmark.training.inference import decode_to_image, framed_predictions, predict_heatmaps
from benchmark.training.pipeline import HeatmapBatches, Prepared, concatenate, prepare


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


class _Monitor(keras.callbacks.Callback):
    """Per-epoch time and validation PCK, a NaN guard, a time budget and a progress file."""

    def __init__(self, config: TrainConfig, valid: Prepared, status_file: Path | None):
        super().__init__()
        self.config, self.valid, self.status_file = config, valid, status_file
        self.rows: list[dict] = []
        self.started = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            raise TrainingDiverged(f"loss became {loss} at batch {batch} of epoch {len(self.rows) + 1}")

    def on_epoch_end(self, epoch, logs=None):
        epoch_time = time.perf_counter() - self.epoch_start
        row = {"epoch": epoch + 1, "loss": float(logs["loss"]), "epoch_time_s": epoch_time}
        if len(self.valid.frames):
            logits = predict_heatmaps(self.model, self.valid.images)
            predicted, _ = decode_to_image(logits, self.valid.matrices, HeatmapCodec.from_config(self.config))
            row["val_pck@0.1"] = pck(predicted, self.valid.labels, 0.1, subset=self.config.eval_subset)
        self.rows.append(row)
        if self.status_file:
            self.status_file.write_text(json.dumps({"epoch": epoch + 1, "epochs": self.config.epochs, **row}))
        budget = self.config.time_budget_s
        if budget and time.perf_counter() - self.started > budget:
            self.model.stop_training = True


def evaluate_model(model, dataset: Dataset, config: TrainConfig, progress: bool = True,
                   prepared: dict[str, Prepared] | None = None) -> tuple[pd.DataFrame, dict]:
    """Predictions for every evaluation frame with every decoder, and their metrics.

    ``prepared`` holds letterboxed splits already decoded; a model that sees the body frames every
    split by its own predictions (``framed_predictions``)."""
    prepared = dict(prepared or {})
    codec = HeatmapCodec.from_config(config)
    rows, metrics = [], {}
    for split in EVALUATED:
        if split not in dataset.splits:
            continue
        frames = dataset.frames(split)
        if config.framing == "body":
            logits, matrices = framed_predictions(model, codec, _inputs(frames, config, progress, split),
                                                  [f.video for f in frames], config.framing_passes,
                                                  config.framing_fill)
        else:
            data = prepared.get(split) or prepare(frames, config.input_size, occlude=config.eval_face == "occluded",
                                                  progress=progress, desc=f"decoding {split}")
            logits, matrices = predict_heatmaps(model, data.images), data.matrices
        videos, numbers = [f.video for f in frames], [f.frame for f in frames]
        labels, truth = np.stack([f.keypoints for f in frames]), truth_array(frames)
        for method in DECODERS:
            coords, confidence = decode_to_image(logits, matrices, codec, method)
            rows.append(prediction_rows(split, videos, numbers, method, coords, confidence, labels, truth))
            metrics.setdefault(method, {})[split] = split_scores(coords, labels, truth, config.eval_subset)
    return pd.concat(rows, ignore_index=True), metrics


def _inputs(frames: list, config: TrainConfig, progress: bool, split: str):
    """``framed_predictions``'s pictures of an evaluated split: letterboxed (cached) or cropped."""
    def inputs(boxes):
        data = prepare(frames, config.input_size, occlude=config.eval_face == "occluded", cache=boxes is None,
                       progress=progress, desc=f"{'framing' if boxes else 'decoding'} {split}", boxes=boxes)
        return data.images, data.matrices
    return inputs


def label_framing(frames: list, config: TrainConfig) -> list | None:
    """The boxes a body-framed model is trained (besides the whole pictures) and monitored on: each
    video's labels (None: the whole picture)."""
    if config.framing != "body":
        return None
    return framing.label_boxes([f.video for f in frames], np.stack([f.keypoints for f in frames]), config.framing_fill)


def resolve_precision(precision: str, gpu: bool) -> str:
    """The Keras dtype policy of a run: ``auto`` is mixed_bfloat16 on a GPU, float32 elsewhere."""
    if precision != "auto":
        return precision
    return "mixed_bfloat16" if gpu else "float32"


JIT_COMPILE = {"auto": "auto", "on": True, "off": False}  # TrainConfig.jit_compile -> model.compile


@contextmanager
def _dtype_policy(name: str):
    """Build layers under a global dtype policy, restoring the previous one afterwards."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def build_for_training(config: TrainConfig) -> keras.Model:
    """The model of ``config`` in its precision; under mixed precision its logits are cast to float32."""
    policy = resolve_precision(config.precision, environment.gpu_available())
    with _dtype_policy(policy):
        model = build_model(config.model, input_size=config.input_size, variant=config.variant,
                            pretrained=config.pretrained)
        if policy == "float32":
            return model
        logits = [keras.layers.Activation("linear", dtype="float32", name=f"float32_logits_{i}")(out)
                  for i, out in enumerate(model.outputs)]
        return keras.Model(model.input, logits if len(logits) > 1 else logits[0], name=model.name)


def learning_rate_schedule(config: TrainConfig, steps: int, steps_per_epoch: int):
    """The learning rate per step of a run of ``steps`` steps: cosine decay from
    ``config.learning_rate`` to 0, after a linear warm-up from 0 over ``config.warmup_epochs``
    epochs of ``steps_per_epoch`` steps (at most ``steps - 1`` steps) where set."""
    warmup = min(round(config.warmup_epochs * steps_per_epoch), steps - 1)
    if warmup <= 0:
        return keras.optimizers.schedules.CosineDecay(config.learning_rate, steps)
    return keras.optimizers.schedules.CosineDecay(0.0, steps - warmup, warmup_target=config.learning_rate,
                                                  warmup_steps=warmup)


def compile_for_training(model: keras.Model, config: TrainConfig, steps: int, example,
                         steps_per_epoch: int | None = None) -> None:
    """Adam with the learning-rate schedule of ``config`` over ``steps`` (``learning_rate_schedule``;
    ``steps_per_epoch``, default ``steps``, sizes the warm-up), the loss on every output, and XLA as
    configured.

    What the training step would otherwise create when first traced (the optimizer's slots, the
    loss's per-output trackers) is built here, from ``example``, an ``(images, targets)`` batch:
    variables created inside a ``tf.function`` make TensorFlow trace it twice (2 s for the tiny
    Simple Baseline, over 15 s for the tiny hourglass, on 2 CPU cores).
    """
    schedule = learning_rate_schedule(config, steps, steps_per_epoch or steps)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=[get_loss(config.loss)] * len(model.outputs),
                  jit_compile=JIT_COMPILE[config.jit_compile])
    images, targets = example
    one = keras.tree.map_structure(lambda array: array[:1], targets)
    model.compute_loss(images[:1], one, model(images[:1]))
    model.optimizer.build(model.trainable_variables)


def _lap(timings: dict, name: str, started: float) -> None:
    """Record under ``name`` the seconds since ``started`` not yet in ``timings``."""
    timings[name] = time.perf_counter() - started - sum(timings.values())


def train(config: TrainConfig, dataset_root: Path, out_dir: Path, progress: bool = True,
          status_file: Path | None = None) -> dict:
    """Train ``config`` on the dataset, evaluate it, and write the results into ``out_dir``."""
    out_dir = Path(out_dir)
    started = time.perf_counter()
    timings = {}
    keras.utils.set_random_seed(config.seed)
    environment.enable_determinism()
    dataset = load_dataset(dataset_root)
    train_frames = dataset.frames("Train")
    if config.max_train_frames and config.max_train_frames < len(train_frames):
        # Spread over all videos rather than the first few.
        pick = np.linspace(0, len(train_frames) - 1, config.max_train_frames).round().astype(int)
        train_frames = [train_frames[i] for i in pick]
    train_data = prepare(train_frames, config.input_size, occlude=config.train_face == "occluded",
                         progress=progress, desc="decoding Train", boxes=label_framing(train_frames, config))
    if config.framing == "body":  # and the whole pictures, which its first pass sees (framing.py)
        train_data = concatenate(train_data, prepare(train_frames, config.input_size, progress=progress,
                                                     occlude=config.train_face == "occluded", desc="decoding Train"))
    valid_frames = dataset.frames("Valid")
    valid_data = prepare(valid_frames, config.input_size, occlude=config.eval_face == "occluded",
                         progress=progress, desc="decoding Valid", boxes=label_framing(valid_frames, config))
    _lap(timings, "data", started)

    model = build_for_training(config)
    # One endless stream of batches, built ahead by worker threads (Keras's enqueuer): Keras then
    # keeps one data iterator for the whole run, and TensorFlow no tf.data prefetch thread, whose
    # iterator blocks for seconds when it is dropped (at every epoch start, or at the end of fit).
    workers = max(2, os.cpu_count() or 1)
    batches = HeatmapBatches(train_data, config.batch_size, HeatmapCodec.from_config(config), augment=config.augment,
                             shuffle=True, outputs=len(model.outputs), seed=config.seed,
                             omit_facial=config.facial_keypoints == "omitted", drop_remainder=True,
                             repeat=True, workers=workers, max_queue_size=2 * workers,
                             **config.augmentation())
    compile_for_training(model, config, config.epochs * len(batches), batches[0], steps_per_epoch=len(batches))
    _lap(timings, "build", started)
    monitor = _Monitor(config, valid_data, status_file)
    model.fit(batches, epochs=config.epochs, steps_per_epoch=len(batches), shuffle=False, callbacks=[monitor],
              verbose=2 if progress else 0)
    _lap(timings, "fit", started)

    predictions, metrics = evaluate_model(model, dataset, config, progress,
                                          {"Valid": valid_data} if config.framing == "picture" else None)
    _lap(timings, "evaluate", started)
    history = pd.DataFrame(monitor.rows)
    # The first epoch includes graph compilation; leave it out of the epoch time when we can.
    epoch_time = float(history["epoch_time_s"].iloc[1:].median() if len(history) > 1 else history["epoch_time_s"].iloc[0])
    summary = {
        "config": config.model_dump(),
        "dataset": {"root": str(dataset_root), "fingerprint": dataset.fingerprint(),
                    "synthetic": dataset.is_synthetic,
                    "frames": {s: len(f) for s, f in dataset.splits.items()},
                    "train_frames_used": len(train_frames)},
        "model": model_info(model),
        "imagenet_weights": check_imagenet_weights([config]),
        "codec": HeatmapCodec.from_config(config).to_dict(),
        "environment": environment.record(),
        "compute": {"precision": model.dtype_policy.name, "jit_compile": bool(model.jit_compile)},
        "epochs_run": len(history),
        "epoch_time_s": epoch_time,
        "train_images_per_s": len(train_data.images) / epoch_time,  # a body-framed epoch: each frame twice
        "timings_s": timings,
        "wall_time_s": time.perf_counter() - started,
        "metrics": metrics,
    }
    _write_results(out_dir, model, history, predictions, summary)
    return summary


def _write_results(out_dir: Path, model, history, predictions, summary) -> None:
    """Write every result file atomically; ``metrics.json`` lands last."""
    writers = {
        "model.keras": model.save,
        "history.csv": lambda path: history.to_csv(path, index=False),
        "predictions.csv": lambda path: predictions.to_csv(path, index=False, float_format="%.3f"),
        "metrics.json": lambda path: path.write_text(json.dumps(summary, indent=2, default=float)),
    }
    for name, write in writers.items():
        with staged_file(out_dir / name) as tmp:
            write(tmp)
