"""What this installation will train with, and whether a GPU is wasted (``python -m benchmark doctor``).

Prints the Keras backend and the build of it that is installed, the devices it sees, whether
``nvidia-smi`` sees a GPU (the rule of scripts/device.sh), what precision and XLA ``auto`` resolve
to here, and the ImageNet weights in the Keras cache. A GPU that ``nvidia-smi`` lists but the backend
does not use is the costly mistake (paper-scale training on the CPU): it gets a WARNING with the
command that fixes it, and exit status 1. :func:`summary_line` is the one-line version the runner
prints before training.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import keras

from benchmark.common import environment
from benchmark.models.imagenet import cached_weights, keras_home
from benchmark.training.train import JIT_COMPILE, resolve_precision


def nvidia_gpus() -> list[str] | None:
    """The GPUs ``nvidia-smi -L`` lists (``GPU 0: ...`` lines); None when it is missing or fails."""
    try:
        listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, check=True,
                                 timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return [line.strip() for line in listing.splitlines() if line.startswith("GPU ")]


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


@dataclass
class Backend:
    """The Keras backend as installed: version, package build, devices it sees, GPUs among them, and
    how to make it use an NVIDIA GPU."""

    name: str
    version: str
    package: str
    devices: list[str]
    gpus: list[str]
    gpu_fix: str


def _tensorflow() -> Backend:
    import tensorflow as tf

    physical = tf.config.list_physical_devices()
    gpus = [tf.config.experimental.get_device_details(d).get("device_name", d.name)
            for d in physical if d.device_type == "GPU"]
    cpu_build = _version("tensorflow-cpu")
    if cpu_build:
        package = f"tensorflow-cpu {cpu_build} (CPU-only build)"
        fix = ("INFANT_POSE_DEVICE=gpu ./run_tests.sh  (reinstalls .venv with the gpu extra, tensorflow[and-cuda]; "
               "by hand: pip uninstall -y tensorflow-cpu && pip install -e '.[gpu]')")
    else:
        build = tf.sysconfig.get_build_info()
        cuda_libraries = "CUDA libraries from pip" if _version("nvidia-cudnn-cu12") else "no CUDA libraries from pip"
        package = (f"tensorflow {tf.__version__} (built with CUDA {build.get('cuda_version')}, {cuda_libraries})"
                   if build.get("is_cuda_build") else f"tensorflow {tf.__version__} (built without CUDA)")
        fix = ("pip install -e '.[gpu]'  (tensorflow[and-cuda]: TensorFlow's CUDA libraries), or "
               "INFANT_POSE_DEVICE=gpu ./run_tests.sh to reinstall .venv")
    return Backend("tensorflow", tf.__version__, package,
                   [d.name.removeprefix("/physical_device:") for d in physical], gpus, fix)


def _jax() -> Backend:
    import jax

    devices = jax.devices()
    plugin = next((f"{p} {_version(p)}" for p in ("jax-cuda12-plugin", "jax-cuda13-plugin") if _version(p)),
                  "no CUDA plugin")
    return Backend("jax", jax.__version__, f"jax {jax.__version__}, jaxlib {_version('jaxlib')}, {plugin}",
                   [f"{d.platform}:{d.id}" + (f" {d.device_kind}" if d.device_kind != d.platform else "")
                    for d in devices],
                   [d.device_kind for d in devices if d.platform == "gpu"], 'pip install -U "jax[cuda12]"')


def _torch() -> Backend:
    import torch

    gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] \
        if torch.cuda.is_available() else []
    build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "CPU-only build"
    return Backend("torch", torch.__version__, f"torch {torch.__version__} ({build})",
                   ["cpu"] + [f"cuda:{i} {name}" for i, name in enumerate(gpus)], gpus,
                   "a CUDA build of torch, e.g. pip install torch --index-url https://download.pytorch.org/whl/cu124")


def backend() -> Backend:
    name = keras.backend.backend()
    return {"tensorflow": _tensorflow, "jax": _jax, "torch": _torch}[name]()


def resolve_jit_compile(setting: str = "auto") -> bool:
    """Whether ``model.compile`` turns XLA on for ``TrainConfig.jit_compile=setting`` here.

    Asked of Keras on a one-layer model, with op determinism enabled as training enables it
    (TensorFlow then refuses XLA), and switched off again where it was off: a process that asks
    must not be left deterministic (its random ops would then need seeds)."""
    restore = None
    if keras.backend.backend() == "tensorflow":
        from tensorflow.python.framework import config  # as Keras's own tests switch it back

        restore = None if config.is_op_determinism_enabled() else config.disable_op_determinism
    environment.enable_determinism()
    try:
        inputs = keras.Input((1,))
        model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
        model.compile(jit_compile=JIT_COMPILE[setting])
        return bool(model.jit_compile)
    finally:
        if restore is not None:
            restore()


def _gpu_state(found: Backend, listed: list[str] | None) -> str:
    if found.gpus:
        return f"GPU ({', '.join(found.gpus)})"
    if listed:
        return f"CPU (WARNING: {len(listed)} GPU(s) present but unused, see python -m benchmark doctor)"
    return "CPU (no GPU found)"


def summary_line(precision: str = "auto", jit_compile: str = "auto") -> str:
    """One line for the runner to print before training, e.g.
    ``backend tensorflow 2.21.0 on CPU (no GPU found), float32, XLA off``."""
    found = backend()
    xla = "on" if resolve_jit_compile(jit_compile) else "off"
    return (f"backend {found.name} {found.version} on {_gpu_state(found, nvidia_gpus())}, "
            f"{resolve_precision(precision, bool(found.gpus), environment.cpu_bfloat16())}, XLA {xla}")


def _installed_extra() -> str:
    """The extra scripts/bootstrap.sh installed into this environment (read from its stamp)."""
    extras = [p.name.rsplit("-", 1)[-1] for p in Path(sys.prefix).glob(".installed-*")]
    extras = [e for e in extras if e in ("cpu", "gpu")]
    return f"{extras[0]} (scripts/bootstrap.sh, {sys.prefix})" if extras else "not chosen by scripts/bootstrap.sh"


def report() -> tuple[list[str], bool]:
    """The doctor's lines, and whether a GPU is present but unused."""
    found, listed = backend(), nvidia_gpus()
    gpu = bool(found.gpus)
    units = environment.bfloat16_units()
    lines = [
        f"Keras            {keras.__version__}, backend {found.name} (KERAS_BACKEND to change)",
        f"installed build  {found.package}",
        f"set-up extra     {_installed_extra()}; INFANT_POSE_DEVICE={os.environ.get('INFANT_POSE_DEVICE', 'auto')}",
        f"backend devices  {', '.join(found.devices) or 'none'}",
        "nvidia-smi       " + ("not found or failing: no NVIDIA driver" if listed is None else
                               "; ".join(listed) or "lists no GPU"),
        f"GPU used         {'yes: ' + ', '.join(found.gpus) if gpu else 'no'}",
        f"precision auto   {resolve_precision('auto', gpu, environment.cpu_bfloat16())}"
        + ("" if gpu else f" (CPU bfloat16 units: {', '.join(units) or 'none'})"),
        f"jit_compile auto XLA {'on' if resolve_jit_compile('auto') else 'off'}",
    ]
    if "CUDA_VISIBLE_DEVICES" in os.environ:
        lines.append(f"CUDA_VISIBLE_DEVICES={os.environ['CUDA_VISIBLE_DEVICES']!r} (limits the GPUs this process sees)")
    folder = keras_home() / "models"
    weights = cached_weights()
    lines.append(f"ImageNet weights {folder}/: " + ("none yet (fetched on first use by a paper-size ResNet; "
                                                     "offline, see docs/PERFORMANCE.md)" if not weights else ""))
    lines += [f"  {w.path.name}  sha256 {w.sha256[:16]}...  "
              f"{'Keras MD5 verified' if w.verified else 'WARNING: not Keras MD5, used anyway'}" for w in weights]
    unused = bool(listed) and not gpu
    if unused:
        lines += ["", f"WARNING: nvidia-smi lists {len(listed)} GPU(s) but {found.name} does not use them: training "
                      f"would run on the CPU.", f"  fix: {found.gpu_fix}"]
    elif not gpu:
        lines += ["", f"No GPU here: training runs on the CPU in {resolve_precision('auto', False, environment.cpu_bfloat16())}. Where "
                      "`nvidia-smi -L` lists an NVIDIA GPU, ./run_all.sh and ./run_tests.sh install TensorFlow with "
                      "CUDA (the gpu extra, INFANT_POSE_DEVICE=auto), and precision auto trains in "
                      f"{resolve_precision('auto', True)} there."]
    return lines, unused
