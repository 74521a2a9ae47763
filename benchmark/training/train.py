"""Train and evaluate one configuration: the entry point that every trained experiment runs.

``train(config, dataset_root, out_dir)`` writes into ``out_dir``, each file atomically (a crash or a
diverging loss leaves nothing half-written), ``metrics.json`` last:

- ``model.keras``       the trained model
- ``history.csv``       per epoch: loss, learning rate, validation PCKsh@0.1 (a body-framed model: on
                        crops by the labels), epoch time
- ``valid_cycles.csv``  at the end of every learning-rate cycle, each Valid video's PCK@0.1 sums with
                        every decoder: what the convergence test reads (``benchmark.study.convergence``)
- ``predictions.csv``   every Valid/Test/DomainShift frame, every decoder, in image pixels, beside
                        the annotation (and, on synthetic data, the exact truth)
- ``metrics.json``      the configuration, environment, and metrics per decoder, split and reference
                        (``benchmark.common.metrics_file``)

The loss's registry entry (``benchmark.study.losses``) gives the Keras loss, and the start of the
output layer: its bias at the constant that suits the loss for an all-background map, its kernel near
zero where the loss asks for it (``head_std``), so the first steps learn where the keypoints are
rather than how to silence a random output.
"""

from __future__ import annotations

import json
import math
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from benchmark.common import environment
from benchmark.common.atomic import staged_file
from benchmark.common.metrics_file import write_metrics
from benchmark.common.result_files import CYCLES, HISTORY, METRICS, MODEL, OPTIMIZER, PREDICTIONS
from benchmark.data import framing
from benchmark.data.labelme import Dataset, load_dataset, truth_array
from benchmark.data.layout import EVALUATED
from benchmark.data.oks_sigmas import oks_record
from benchmark.models import build_model, model_info
from benchmark.models.imagenet import check_imagenet_weights
from benchmark.study.codec import DECODERS, HeatmapCodec
from benchmark.study.losses import loss_of, mean_target
from benchmark.study.metrics import frame_sums
from benchmark.study.predictions import prediction_rows, split_scores
from benchmark.training.budget import next_budget
from benchmark.training.config import TrainConfig
from benchmark.training.inference import decode_to_image, framed_predictions, predict_heatmaps
from benchmark.training.pipeline import HeatmapBatches, Prepared, concatenate, prepare
from benchmark.training.schedule import learning_rate_schedule



class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


class _Monitor(keras.callbacks.Callback):
    """Per-epoch time, learning rate and validation PCK (the configured decoder); each Valid video's
    PCK@0.1 sums with every decoder at the end of every learning-rate cycle; a NaN guard, a time
    budget and a progress file."""

    def __init__(self, config: TrainConfig, codec: HeatmapCodec, valid: Prepared, status_file: Path | None):
        super().__init__()
        self.config, self.codec, self.valid, self.status_file = config, codec, valid, status_file
        self.rows: list[dict] = []
        self.cycles: list[pd.DataFrame] = []
        self.budget = config.epochs  # the epochs of the current doubling (benchmark.training.budget)
        self.started = time.perf_counter()

    def record(self) -> pd.DataFrame:
        """``valid_cycles.csv`` so far."""
        return pd.concat(self.cycles, ignore_index=True) if self.cycles else pd.DataFrame(
            columns=["cycle", "epoch", "decoder", "video", "correct", "scored"])

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            raise TrainingDiverged(f"loss became {loss} at batch {batch} of epoch {len(self.rows) + 1}")

    def on_epoch_end(self, epoch, logs=None):
        epoch_time = time.perf_counter() - self.epoch_start
        steps = self.params["steps"]  # per epoch; the rate of the epoch's last step:
        rate = learning_rate_schedule(self.config, steps)((epoch + 1) * steps - 1)
        row = {"epoch": epoch + 1, "loss": float(logs["loss"]), "epoch_time_s": epoch_time,
               "learning_rate": float(keras.ops.convert_to_numpy(rate))}
        if len(self.valid.frames):
            logits = predict_heatmaps(self.model, self.valid.images)
            per_cycle = self.config.cycle_epochs
            for decoder in DECODERS if (epoch + 1) % per_cycle == 0 else [self.codec.decoder]:
                predicted, _ = decode_to_image(logits, self.valid.matrices, self.codec, decoder)
                sums = pd.DataFrame({"video": [f.video for f in self.valid.frames]}
                                    | frame_sums(predicted, self.valid.labels, self.config.eval_subset, betas=(0.1,)))
                if decoder == self.codec.decoder:
                    row["val_pck@0.1"] = sums["pck@0.1"].sum() / max(sums["n"].sum(), 1)
                if (epoch + 1) % per_cycle == 0:  # a cycle's end: every decoder, per video
                    videos = sums.groupby("video", sort=True)[["pck@0.1", "n"]].sum()
                    self.cycles.append(pd.DataFrame({
                        "cycle": (epoch + 1) // per_cycle, "epoch": epoch + 1, "decoder": decoder,
                        "video": videos.index, "correct": videos["pck@0.1"].to_numpy(),
                        "scored": videos["n"].to_numpy()}))
        self.rows.append(row)
        if self.status_file:
            self.status_file.write_text(json.dumps({"epoch": epoch + 1, "epochs": self.budget, **row}))
        budget = self.config.time_budget_s
        if budget and time.perf_counter() - self.started > budget:
            self.model.stop_training = True


def evaluate_model(model, dataset: Dataset, config: TrainConfig, progress: bool = True,
                   codec: HeatmapCodec | None = None) -> tuple[pd.DataFrame, dict]:
    """Predictions for every evaluation frame with every decoder, and their metrics; a model that
    sees the body frames every split by its own predictions (``framed_predictions``)."""
    codec = codec or HeatmapCodec.from_config(config)
    rows, metrics = [], {}
    for split in EVALUATED:
        if split not in dataset.splits:
            continue
        frames = dataset.frames(split)
        logits, matrices = split_logits(model, codec, frames, config, progress, split)
        videos, numbers = [f.video for f in frames], [f.frame for f in frames]
        labels, truth = np.stack([f.keypoints for f in frames]), truth_array(frames)
        for method in DECODERS:
            coords, confidence = decode_to_image(logits, matrices, codec, method)
            rows.append(prediction_rows(split, videos, numbers, method, coords, confidence, labels, truth))
            metrics.setdefault(method, {})[split] = split_scores(coords, labels, truth, config.eval_subset)
    return pd.concat(rows, ignore_index=True), metrics


def split_logits(model, codec: HeatmapCodec, frames: list, config: TrainConfig, progress: bool = False,
                 split: str = "") -> tuple[np.ndarray, np.ndarray]:
    """Heatmap logits of ``frames`` and the matrices of the pictures they came from, as the evaluation
    sees them: the whole letterboxed picture, or, for a model that sees the body, each video framed by
    the model's own predictions (``framed_predictions``)."""
    if config.framing == "body":
        return framed_predictions(model, codec, _inputs(frames, config, progress, split), [f.video for f in frames],
                                  config.framing_passes, config.framing_fill)
    data = prepare(frames, config.input_size, occlude=config.eval_face == "occluded", progress=progress,
                   desc=f"decoding {split}")
    return predict_heatmaps(model, data.images), data.matrices


def _inputs(frames: list, config: TrainConfig, progress: bool, split: str):
    """``framed_predictions``'s pictures of an evaluated split: letterboxed (cached) or cropped."""
    def inputs(boxes):
        data = prepare(frames, config.input_size, occlude=config.eval_face == "occluded", cache=boxes is None,
                       progress=progress, desc=f"{'framing' if boxes else 'decoding'} {split}", boxes=boxes)
        return data.images, data.matrices
    return inputs


def label_framing(frames: list, config: TrainConfig) -> list | None:
    """The boxes a body-framed model is trained (besides the whole pictures) and monitored on: each
    video's labels (None: the whole picture, or no frames)."""
    if config.framing != "body" or not frames:
        return None
    return framing.label_boxes([f.video for f in frames], np.stack([f.keypoints for f in frames]), config.framing_fill)


def resolve_precision(precision: str, gpu: bool, cpu_bfloat16: bool = False) -> str:
    """The Keras dtype policy of a run: ``auto`` is mixed_bfloat16 on a GPU and on a CPU with bfloat16
    units (``environment.cpu_bfloat16``: the same converged Valid PCK@0.1 as float32, in about 60 % of
    the time: docs/PERFORMANCE.md), float32 elsewhere."""
    if precision != "auto":
        return precision
    return "mixed_bfloat16" if gpu or cpu_bfloat16 else "float32"


def precision_here(precision: str = "auto") -> str:
    """:func:`resolve_precision` on this machine."""
    return resolve_precision(precision, environment.gpu_available(), environment.cpu_bfloat16())


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
    policy = precision_here(config.precision)
    with _dtype_policy(policy):
        model = build_model(config.model, input_size=config.input_size, variant=config.variant,
                            pretrained=config.pretrained)
        if policy == "float32":
            return model
        logits = [keras.layers.Activation("linear", dtype="float32", name=f"float32_logits_{i}")(out)
                  for i, out in enumerate(model.outputs)]
        return keras.Model(model.input, logits if len(logits) > 1 else logits[0], name=model.name)


def initialise_heads(model: keras.Model, config: TrainConfig) -> None:
    """Start every output layer as the loss's registry entry says (``benchmark.study.losses``): its
    bias at the loss's constant for a target heatmap's mean value, its kernel of ``head_std``."""
    loss = loss_of(config.loss)
    rng = np.random.default_rng(config.seed)
    for output in model.outputs:
        layer = output._keras_history.operation
        while not layer.weights:  # a float32 cast under mixed precision
            layer = layer._inbound_nodes[0].parent_nodes[0].operation
        kernel, bias = layer.get_weights()
        if loss.head_std is not None:
            kernel = rng.normal(0, loss.head_std, kernel.shape).astype(kernel.dtype)
        mean = mean_target(config.sigma, tuple(output.shape[1:3]))
        layer.set_weights([kernel, np.full_like(bias, loss.initial_bias(mean))])


def compile_for_training(model: keras.Model, config: TrainConfig, example, steps_per_epoch: int) -> None:
    """Adam with the learning-rate schedule of ``config`` for epochs of ``steps_per_epoch`` steps
    (``learning_rate_schedule``), the loss on every output, and XLA as configured.

    What the training step would otherwise create when first traced (the optimizer's slots, the
    loss's per-output trackers) is built here, from ``example``, an ``(images, targets)`` batch:
    variables created inside a ``tf.function`` make TensorFlow trace it twice (2 s for the tiny
    Simple Baseline, over 15 s for the tiny hourglass, on 2 CPU cores).
    """
    schedule = learning_rate_schedule(config, steps_per_epoch)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=[loss_of(config.loss).build()] * len(model.outputs),
                  jit_compile=JIT_COMPILE[config.jit_compile])
    images, targets = example
    one = keras.tree.map_structure(lambda array: array[:1], targets)
    model.compute_loss(images[:1], one, model(images[:1]))
    model.optimizer.build(model.trainable_variables)


def _lap(timings: dict, name: str, started: float) -> None:
    """Record under ``name`` the seconds since ``started`` not yet in ``timings``."""
    timings[name] = time.perf_counter() - started - sum(timings.values())


@dataclass
class Trained:
    """A trained model and the record of its training."""

    model: keras.Model
    history: pd.DataFrame  # history.csv
    cycles: pd.DataFrame   # valid_cycles.csv
    facts: dict            # what metrics.json says of the training


def fit(config: TrainConfig, dataset: Dataset, codec: HeatmapCodec, progress: bool = True,
        status_file: Path | None = None, resume_from: Path | None = None) -> Trained:
    """Train ``config`` on the dataset's Train split, monitoring Valid (framed by its labels, faces
    as in training, so the record does not depend on how the model is evaluated afterwards), for
    ``epochs``, then doubling them until converged or ``max_epochs`` (:mod:`benchmark.training.budget`).
    ``resume_from``: a results folder of the same training settings but a lower ``max_epochs``, whose
    model, optimizer and record training goes on from."""
    started = time.perf_counter()
    timings = {}
    keras.utils.set_random_seed(config.seed)
    environment.enable_determinism()
    train_frames = dataset.frames("Train")
    if config.max_train_frames and config.max_train_frames < len(train_frames):
        # Spread over all videos rather than the first few.
        pick = np.linspace(0, len(train_frames) - 1, config.max_train_frames).round().astype(int)
        train_frames = [train_frames[i] for i in pick]
    occlude = config.train_face == "occluded"
    train_data = prepare(train_frames, config.input_size, occlude=occlude,
                         progress=progress, desc="decoding Train", boxes=label_framing(train_frames, config))
    if config.framing == "body":  # and the whole pictures, which its first pass sees (framing.py)
        train_data = concatenate(train_data, prepare(train_frames, config.input_size, progress=progress,
                                                     occlude=occlude, desc="decoding Train"))
    valid_frames = dataset.frames("Valid")
    valid_data = prepare(valid_frames, config.input_size, occlude=occlude,
                         progress=progress, desc="decoding Valid", boxes=label_framing(valid_frames, config))
    _lap(timings, "data", started)

    model = build_for_training(config)
    initialise_heads(model, config)
    # One endless stream of batches, built ahead by worker threads (Keras's enqueuer): Keras then
    # keeps one data iterator for each doubling, and TensorFlow no tf.data prefetch thread, whose
    # iterator blocks for seconds when it is dropped (at every epoch start, or at the end of fit).
    workers = max(2, os.cpu_count() or 1)
    batches = HeatmapBatches(train_data, config.batch_size, codec, augment=config.augment,
                             shuffle=True, outputs=len(model.outputs), seed=config.seed,
                             omit_facial=config.facial_keypoints == "omitted", drop_remainder=True,
                             repeat=True, workers=workers, max_queue_size=2 * workers,
                             **config.augmentation())
    compile_for_training(model, config, batches[0], steps_per_epoch=len(batches))
    monitor = _Monitor(config, codec, valid_data, status_file)
    budget, resumed = config.epochs, None
    if resume_from is not None:
        history, cycles = _resume(model, config, Path(resume_from))
        monitor.rows, monitor.cycles = history.to_dict("records"), [cycles]
        resumed = {"experiment": Path(resume_from).name, "epochs": len(history)}  # what metrics.json records
        budget = next_budget(cycles, len(history), config)
    _lap(timings, "build", started)
    while budget:  # each doubling goes on from where the last one stopped, in the same cycles
        epochs_run = len(monitor.rows)
        batches.epoch, monitor.budget = epochs_run, budget
        model.fit(batches, initial_epoch=epochs_run, epochs=budget, steps_per_epoch=len(batches), shuffle=False,
                  callbacks=[monitor], verbose=2 if progress else 0)
        budget = None if model.stop_training else next_budget(monitor.record(), len(monitor.rows), config)
    _lap(timings, "fit", started)
    history = pd.DataFrame(monitor.rows)
    # The first epoch includes graph compilation; leave it out of the epoch time when we can.
    epoch_time = float(history["epoch_time_s"].iloc[1:].median() if len(history) > 1 else history["epoch_time_s"].iloc[0])
    return Trained(model, history, monitor.record(), {
        "train_frames_used": len(train_frames), "epochs_run": len(history), "steps": len(history) * len(batches),
        "epoch_time_s": epoch_time,
        "train_images_per_s": len(train_data.images) / epoch_time,  # a body-framed epoch: each frame twice
        "timings_s": timings, "resumed_from": resumed})


def _record(folder: Path) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """A trained experiment's ``metrics.json``, history and per-cycle Valid record."""
    return (json.loads((folder / METRICS).read_text()), pd.read_csv(folder / HISTORY),
            pd.read_csv(folder / CYCLES, dtype={"video": str}))


def _resume(model: keras.Model, config: TrainConfig, folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Load ``folder``'s weights and optimizer state into ``model`` (compiled with ``config``) and return
    its history and per-cycle record; refused unless only ``max_epochs`` differs and it is not past it."""
    summary, history, cycles = _record(folder)
    mine = config.training_settings()
    theirs = TrainConfig.model_validate(summary["config"]).training_settings()
    differ = sorted(key for key in mine if key != "max_epochs" and mine[key] != theirs.get(key))
    if differ or len(history) > config.epoch_cap or not (folder / OPTIMIZER).is_file():
        why = f"its settings differ ({', '.join(differ)})" if differ else (
            f"it trained {len(history)} epochs, more than max_epochs" if len(history) > config.epoch_cap
            else f"it has no {OPTIMIZER}")
        raise ValueError(f"cannot resume from {folder}: {why}")
    model.load_weights(folder / MODEL)
    state = np.load(folder / OPTIMIZER)
    variables = model.optimizer.variables
    if len(state.files) != len(variables):
        raise ValueError(f"cannot resume from {folder / OPTIMIZER}: {len(state.files)} optimizer variables, "
                         f"the model's optimizer has {len(variables)}")
    for i, variable in enumerate(variables):
        variable.assign(state[str(i)])
    return history, cycles


def save_optimizer(optimizer: keras.optimizers.Optimizer, path: Path) -> None:
    """The optimizer's variables (step count, moments) in order, for a longer run to go on from."""
    np.savez(path, **{str(i): keras.ops.convert_to_numpy(v) for i, v in enumerate(optimizer.variables)})


def trained_by(folder: Path) -> Trained:
    """The model another experiment trained with the same training settings, and its record."""
    folder = Path(folder)
    summary, history, cycles = _record(folder)
    facts = {key: summary[key] for key in ("epochs_run", "epoch_time_s", "train_images_per_s", "timings_s")}
    return Trained(keras.saving.load_model(folder / MODEL, compile=False), history, cycles,
                   facts | {"train_frames_used": summary["dataset"].get("train_frames_used"),
                            "trained_by": folder.name, "resumed_from": summary.get("resumed_from")})


def train(config: TrainConfig, dataset_root: Path, out_dir: Path, progress: bool = True,
          status_file: Path | None = None, trained_in: Path | None = None, resume_from: Path | None = None) -> dict:
    """Train ``config`` on the dataset (or take the model of ``trained_in``, an experiment whose
    settings differ only in how it is evaluated; or go on from ``resume_from``, one that may train
    fewer epochs: :func:`fit`), evaluate it, and write the results into ``out_dir``."""
    started = time.perf_counter()
    dataset = load_dataset(dataset_root)
    oks = oks_record(dataset_root)  # an error in oks_sigmas.json is named before training
    codec = HeatmapCodec.from_config(config)
    done = trained_by(trained_in) if trained_in else fit(config, dataset, codec, progress, status_file, resume_from)
    evaluating = time.perf_counter()
    predictions, metrics = evaluate_model(done.model, dataset, config, progress, codec=codec)
    timings = done.facts["timings_s"] | {"evaluate": time.perf_counter() - evaluating}
    summary = {
        "kind": "train",
        "config": config.model_dump(),
        "dataset": {"root": str(dataset_root), "fingerprint": dataset.fingerprint(),
                    "synthetic": dataset.is_synthetic,
                    "frames": {s: len(f) for s, f in dataset.splits.items()},
                    "train_frames_used": done.facts["train_frames_used"], **oks},
        "model": model_info(done.model),
        "imagenet_weights": check_imagenet_weights([config]),
        "codec": codec.to_dict(),
        "environment": environment.record(),
        "compute": {"precision": done.model.dtype_policy.name, "jit_compile": bool(done.model.jit_compile)},
        **{key: done.facts[key] for key in ("epochs_run", "epoch_time_s", "train_images_per_s", "resumed_from")},
        "trained_by": done.facts.get("trained_by"),
        "timings_s": timings,
        "wall_time_s": time.perf_counter() - started,
        "metrics": metrics,
    }
    _write_results(Path(out_dir), done, predictions, summary)
    return summary


def _write_results(out_dir: Path, done: Trained, predictions, summary) -> None:
    """Write every result file atomically; ``metrics.json`` lands last."""
    writers = {
        MODEL: done.model.save,
        HISTORY: lambda path: done.history.to_csv(path, index=False),
        CYCLES: lambda path: done.cycles.to_csv(path, index=False),
        PREDICTIONS: lambda path: predictions.to_csv(path, index=False, float_format="%.3f"),
    }
    if not done.facts.get("trained_by"):  # trained here: a longer run may go on from its optimizer
        writers[OPTIMIZER] = lambda path: save_optimizer(done.model.optimizer, path)
    for name, write in writers.items():
        with staged_file(out_dir / name) as tmp:
            write(tmp)
    write_metrics(out_dir, summary)
