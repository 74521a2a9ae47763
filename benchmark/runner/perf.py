"""``python -m benchmark perf``: how fast this machine runs the data pipeline, the models and the suite.

Every table is headed by what its figures depend on (date, device, backend, package versions,
load), so they can be recorded as they are (docs/PERFORMANCE.md); ``--json`` saves them too. The
backend is Keras's: ``KERAS_BACKEND=jax python -m benchmark perf``.

- pipeline, per input size, images/s: decoding JPEGs and letterboxing (threads), the same with
  the face mosaic, reading the frame cache instead, and building batches of heatmap targets with
  and without augmentation (one thread);
- the machine's own rates: GFLOP/s of a large matrix product and of a 3x3 convolution, in float32
  and bfloat16 (:func:`peak_rates`), what the models' rates are measured against;
- models, per model and input size: training and inference images/s on random images, with the
  training step ``train`` compiles (same precision, XLA setting and loss); the training FLOPs of one
  image (:mod:`benchmark.models.flops`), the GFLOP/s that makes and its fraction of the machine's
  float32 and bfloat16 rates; the first step's time (tracing and compiling); and peak memory: the
  process's resident set since the model was built and, on a GPU, the device's;
- where a step's time goes (``--profile-layers``): each layer's forward pass alone on a batch, its
  FLOPs and rate (:func:`layer_profile`);
- suite (``--suite``): the runner on a fresh results folder (every experiment of a profile, cold
  frame cache), the same again (all cached), and after adding one experiment to a copy of the
  manifest, with where each experiment's time went.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from benchmark.common import environment
from benchmark.data.labelme import load_dataset
from benchmark.models import model_info
from benchmark.models.flops import layer_flops, model_layers, training_flops
from benchmark.study.codec import encode
from benchmark.training import frame_cache
from benchmark.training.config import TrainConfig
from benchmark.training.pipeline import HeatmapBatches, prepare
from benchmark.training.train import build_for_training, compile_for_training

MIB = 2**20


def machine() -> dict:
    """What the figures depend on: the environment record, the date and the load."""
    load = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    return {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), **environment.record(),
            "load_average": load}


def reset_peak_rss() -> None:
    """Restart the resident-set high-water mark (Linux; elsewhere it counts from process start)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def peak_rss_mib() -> float | None:
    """The process's resident-set high-water mark in MiB: ``VmHWM`` on Linux (which
    :func:`reset_peak_rss` restarts; ``getrusage`` keeps the peak of exited threads), else
    ``getrusage``."""
    try:
        status = Path("/proc/self/status").read_text()
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) * 1024 / MIB
    except (OSError, StopIteration):
        pass
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / MIB if platform.system() == "Darwin" else peak * 1024 / MIB  # bytes on macOS, KiB elsewhere


def reset_device_peak() -> None:
    """Restart the GPU's peak-memory counter where the backend can (JAX cannot)."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf
        if tf.config.list_physical_devices("GPU"):
            tf.config.experimental.reset_memory_stats("GPU:0")
    elif backend == "torch":
        import torch
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()


def device_peak_mib() -> float | None:
    """Peak GPU memory in MiB, or None on the CPU. JAX's counts from process start."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf
        if tf.config.list_physical_devices("GPU"):
            return tf.config.experimental.get_memory_info("GPU:0")["peak"] / MIB
    elif backend == "jax":
        import jax
        stats = jax.devices()[0].memory_stats() or {}
        if jax.default_backend() == "gpu" and "peak_bytes_in_use" in stats:
            return stats["peak_bytes_in_use"] / MIB
    elif backend == "torch":
        import torch
        if torch.cuda.is_available():
            return torch.cuda.max_memory_allocated() / MIB
    return None


def _seconds(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


@contextmanager
def environment_variable(name: str, value: str):
    """Set an environment variable (inherited by the notebook kernels) for the duration."""
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            del os.environ[name]
        else:
            os.environ[name] = previous


def measure_pipeline(root: Path, size: int, batch_size: int) -> dict:
    """Images/s of each pipeline stage on the Train frames of ``root`` at input ``size``."""
    frames = load_dataset(root).frames("Train")
    n = len(frames)
    row = {"input": size, "frames": n}
    row["decode+letterbox"] = n / _seconds(lambda: prepare(frames, size, progress=False, cache=False))
    row["+face mosaic"] = n / _seconds(lambda: prepare(frames, size, occlude=True, progress=False, cache=False))
    with tempfile.TemporaryDirectory() as cache, environment_variable(frame_cache.ENV, cache):
        data = prepare(frames, size, progress=False)  # fills the cache
        row["frame cache read"] = n / _seconds(lambda: prepare(frames, size, progress=False))
    for name, augment in (("batches+targets", False), ("+augmentation", True)):
        batches = HeatmapBatches(data, batch_size, augment=augment, shuffle=True)
        row[name] = n / _seconds(lambda: [batches[i] for i in range(len(batches))])
    return row


def peak_rates(size: int = 4096, repeats: int = 3) -> dict:
    """GFLOP/s of this machine's backend, the best of ``repeats``: a ``size`` x ``size`` matrix product
    and a 3x3 convolution of 128 channels on a batch of 16 maps of 40 x 40, each in float32 and
    bfloat16 (on a CPU with bfloat16 units, oneDNN uses them)."""
    rng = np.random.default_rng(0)
    conv_flops = 2.0 * 16 * 40 * 40 * 128 * 9 * 128
    rates = {}
    for dtype in ("float32", "bfloat16"):
        a, b = (keras.ops.convert_to_tensor(rng.random((size, size), dtype=np.float32), dtype=dtype) for _ in "ab")
        maps = keras.ops.convert_to_tensor(rng.random((16, 40, 40, 128), dtype=np.float32), dtype=dtype)
        kernel = keras.ops.convert_to_tensor(rng.random((3, 3, 128, 128), dtype=np.float32), dtype=dtype)
        for name, run, flops in (("matmul", lambda: keras.ops.matmul(a, b), 2.0 * size**3),
                                 ("conv3x3", lambda: keras.ops.conv(maps, kernel, padding="same"), conv_flops)):
            keras.ops.convert_to_numpy(run())  # warm-up (and compilation)
            best = min(_seconds(lambda: keras.ops.convert_to_numpy(run())) for _ in range(repeats))
            rates[f"{name} {dtype}"] = flops / best / 1e9
    return rates


def layer_profile(model: keras.Model, batch: int, repeats: int = 3) -> pd.DataFrame:
    """Where a forward pass's time goes: each layer call alone on random inputs of its shapes and
    ``batch`` (best of ``repeats``, eager), with its FLOPs and GFLOP/s, slowest first. Layers that
    compute little (normalisation, activations, additions) show what memory traffic costs."""
    rng = np.random.default_rng(0)
    counted = layer_flops(model).groupby("layer")["flops"].sum()
    rows = []
    for layer in model_layers(model):
        if isinstance(layer, keras.layers.InputLayer):
            continue
        for node in layer._inbound_nodes:
            values = {id(t): keras.ops.convert_to_tensor(rng.random((batch, *t.shape[1:]), dtype=np.float32),
                                                         dtype=t.dtype) for t in node.input_tensors}
            args, kwargs = node.arguments.fill_in(values)
            call = lambda: keras.tree.map_structure(keras.ops.convert_to_numpy, layer(*args, **kwargs))
            call()
            seconds = min(_seconds(call) for _ in range(repeats))
            flops = batch * counted.get(layer.name, 0.0) / len(layer._inbound_nodes)
            rows.append({"layer": layer.name, "kind": type(layer).__name__, "ms": 1e3 * seconds,
                         "GFLOP": flops / 1e9, "GFLOP/s": flops / seconds / 1e9})
    table = pd.DataFrame(rows)
    table["share"] = table["ms"] / table["ms"].sum()
    return table.sort_values("ms", ascending=False, ignore_index=True)


def measure_model(config: TrainConfig, steps: int, warmup: int, peaks: dict | None = None) -> dict:
    """Training and inference images/s of one model with the training step ``train`` compiles; with
    ``peaks`` (:func:`peak_rates`), the fraction of them its training FLOPs achieve."""
    keras.utils.set_random_seed(0)
    reset_peak_rss()
    reset_device_peak()
    model = build_for_training(config)
    size, batch = config.input_size, config.batch_size
    rng = np.random.default_rng(0)
    images = rng.random((batch, size, size, 3), dtype=np.float32)
    targets = encode(rng.uniform(8, size - 8, (batch, 22, 2)), (size, size))
    targets = tuple(targets for _ in model.outputs) if len(model.outputs) > 1 else targets
    compile_for_training(model, config, (images, targets), steps + warmup)
    first_step = _seconds(lambda: model.train_on_batch(images, targets))
    for _ in range(warmup - 1):
        model.train_on_batch(images, targets)
    train_s = _seconds(lambda: [model.train_on_batch(images, targets) for _ in range(steps)])
    model.predict_on_batch(images)  # compiles the inference step
    infer_s = _seconds(lambda: [model.predict_on_batch(images) for _ in range(steps)])
    flops = training_flops(model)
    achieved = flops * steps * batch / train_s / 1e9
    fractions = {f"% of {dtype} peak": 100 * achieved / max(peaks[f"conv3x3 {dtype}"], peaks[f"matmul {dtype}"])
                 for dtype in ("float32", "bfloat16")} if peaks else {}
    return {"model": config.model, "variant": config.variant, "input": size, "batch": batch,
            "params": model_info(model)["params"], "precision": model.dtype_policy.name,
            "xla": bool(model.jit_compile), "first step (s)": first_step,
            "train img/s": steps * batch / train_s, "infer img/s": steps * batch / infer_s,
            "train GFLOP/img": flops / 1e9, "train GFLOP/s": achieved, **fractions,
            "peak RSS (MiB)": peak_rss_mib(), "peak device (MiB)": device_peak_mib()}


def estimated_training_s(configs: list[TrainConfig], train_frames: int, steps: int = 2) -> float:
    """A rough duration of training ``configs`` on this machine, in seconds: each distinct model
    setting's training rate timed over ``steps`` steps after one warm-up step (:func:`measure_model`,
    random initialisation), times its epochs of ``train_frames`` images (``max_train_frames`` where
    smaller). Start-up and evaluation are not counted, so the run takes somewhat longer."""
    rates: dict[tuple, float] = {}
    total = 0.0
    for config in configs:
        key = (config.model, config.variant, config.input_size, config.batch_size, config.precision,
               config.jit_compile)
        if key not in rates:
            rates[key] = measure_model(config.model_copy(update={"pretrained": False}), steps, warmup=1)["train img/s"]
        total += config.epochs * min(train_frames, config.max_train_frames or train_frames) / rates[key]
    return total


def text_table(rows: list[dict]) -> str:
    """Rows as a text table; columns with no value at all (device memory on a CPU) are left out."""
    frame = pd.DataFrame(rows).dropna(axis=1, how="all")
    return frame.to_string(index=False, float_format=lambda x: f"{x:,.1f}", na_rep="-")

