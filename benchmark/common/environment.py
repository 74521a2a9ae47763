"""What computes a result: the Keras backend, the device, the packages; and determinism.

:func:`record` is the one description of a machine that results, provenance and performance
figures carry. Functions that must ask the backend import it when called, so that commands that
train nothing (a cached run, a report) never load a deep-learning library.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from benchmark.common.lock import install_record

# TensorFlow's native start-up notices: logged through absl before TF_CPP_MIN_LOG_LEVEL applies,
# so that level cannot silence them (TensorFlow 2.17 and later).
START_UP_NOISE = re.compile(r"oneDNN custom operations are on|All log messages before absl::InitializeLog"
                            r"|cpu_feature_guard|To enable the following instructions")

PACKAGES = ("keras", "tensorflow-cpu", "tensorflow", "jax", "torch", "numpy", "pandas",
            "opencv-python-headless", "papermill")


def backend_name() -> str:
    """The Keras backend that will be used, read as Keras reads it (``KERAS_BACKEND``, then
    ``$KERAS_HOME/keras.json``, else TensorFlow) without importing Keras."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    config = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "keras.json"
    try:
        return json.loads(config.read_text()).get("backend", "tensorflow")
    except (OSError, ValueError):
        return "tensorflow"


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def visible_gpus() -> list[str]:
    """The GPUs this process may use: ``CUDA_VISIBLE_DEVICES`` when set, else what ``nvidia-smi`` lists."""
    if "CUDA_VISIBLE_DEVICES" in os.environ:
        return [d.strip() for d in os.environ["CUDA_VISIBLE_DEVICES"].split(",") if d.strip() not in ("", "-1")]
    try:
        listing = subprocess.run(["nvidia-smi", "--query-gpu=uuid", "--format=csv,noheader"],
                                 capture_output=True, text=True, check=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return listing.split()


def gpu_available() -> bool:
    """Whether the Keras backend computes on a GPU (imports the backend)."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf
        return bool(tf.config.list_physical_devices("GPU"))
    if backend == "jax":
        import jax
        return jax.default_backend() == "gpu"
    if backend == "torch":
        import torch
        return torch.cuda.is_available()
    return False


def gpu_computes() -> bool:
    """:func:`gpu_available`, asked only where a GPU is visible at all (on a CPU machine it costs no
    backend import)."""
    return bool(visible_gpus()) and gpu_available()


def device() -> str:
    """The accelerator Keras computes on, or the CPU (imports the backend)."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf
        gpus = tf.config.list_physical_devices("GPU")
        return f"GPU x{len(gpus)}" if gpus else f"CPU ({platform.processor() or platform.machine()})"
    if backend == "jax":
        import jax
        return ", ".join(sorted({d.device_kind for d in jax.devices()}))
    if backend == "torch":
        import torch
        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU"
    return "unknown"


def cpu_name() -> str:
    """The CPU model (from /proc/cpuinfo on Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# The instruction-set extensions that change what a CPU computes with (TensorFlow's and XLA's kernels).
CPU_FEATURES = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile", "amx_bf16",
                "asimd", "sve")
BFLOAT16_FEATURES = ("avx512_bf16", "amx_bf16")  # bfloat16 arithmetic in the CPU, which oneDNN uses


def cpu_features() -> list[str]:
    """Which of :data:`CPU_FEATURES` this CPU has (from /proc/cpuinfo's flags; empty elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                flags = set(line.split(":", 1)[1].split())
                return [f for f in CPU_FEATURES if f in flags]
    except OSError:
        pass
    return []


def bfloat16_units() -> list[str]:
    """This CPU's features of :data:`BFLOAT16_FEATURES`: its bfloat16 arithmetic, if any."""
    return [feature for feature in cpu_features() if feature in BFLOAT16_FEATURES]


def cpu_bfloat16() -> bool:
    """Whether this CPU computes in bfloat16 natively (:func:`bfloat16_units`);
    ``INFANT_POSE_CPU_BFLOAT16=0`` (or ``1``) overrides what the CPU's flags say."""
    told = os.environ.get("INFANT_POSE_CPU_BFLOAT16")
    if told in ("0", "1"):
        return told == "1"
    return bool(bfloat16_units())


@lru_cache(maxsize=1)
def git_commit() -> str:
    """The commit of the package's checkout (with ``+dirty`` for local changes), or ``unknown``."""
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "benchmark"], cwd=root,
                               capture_output=True, text=True).stdout.strip()
        return commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def record(backend: str | None = None, device_name: str | None = None, packages: dict | None = None) -> dict:
    """The machine and software a result or a figure comes from. By default the Keras backend,
    its device (imports the backend) and :data:`PACKAGES`; code that computes without Keras (a
    zero-shot baseline in its own environment) names its own. ``lock``: how the environment was
    installed and whether it matches its lock (:func:`benchmark.common.lock.install_record`)."""
    return {"backend": backend or backend_name(), "device": device_name or device(), "cpu": cpu_name(),
            "cpu_features": cpu_features(), "cores": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "commit": git_commit(),
            "packages": package_versions() if packages is None else packages, "lock": install_record()}


def enable_determinism() -> None:
    """Same seed, same numbers on the same machine and backend."""
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf
        tf.config.experimental.enable_op_determinism()


@contextmanager
def quiet_backend_start_up():
    """Drop the backend's native start-up notices (:data:`START_UP_NOISE`) from this process's
    stderr (file descriptor 2) while the block runs (where the backend is first imported); every
    other line written to it meanwhile is written on to it when the block ends."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode(errors="replace").splitlines(keepends=True)
            os.write(2, "".join(line for line in lines if not START_UP_NOISE.search(line)).encode())
