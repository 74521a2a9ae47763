"""What a result was computed with: backend, device, package versions; and determinism."""

from __future__ import annotations

import platform
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import keras

PACKAGES = ("keras", "tensorflow-cpu", "tensorflow", "jax", "torch", "numpy", "pandas",
            "opencv-python-headless", "papermill")


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def gpu_available() -> bool:
    """Whether the Keras backend computes on a GPU."""
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


def device() -> str:
    """The accelerator Keras computes on, or the CPU."""
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


@lru_cache(maxsize=1)
def git_commit() -> str:
    """The commit of the package's checkout (with ``+dirty`` for local changes), or ``unknown``."""
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "benchmark"], cwd=root,
                               capture_output=True, text=True).stdout.strip()
        return commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def describe() -> dict:
    return {"backend": keras.backend.backend(), "device": device(), "python": platform.python_version(),
            "platform": platform.platform(), "commit": git_commit(), "packages": package_versions()}


def enable_determinism() -> None:
    """Same seed, same numbers on the same machine and backend."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf
        tf.config.experimental.enable_op_determinism()
