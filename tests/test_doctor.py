"""``python -m benchmark doctor`` and the runner's one-line summary, on this machine and with a fake GPU.

A fake ``nvidia-smi`` on ``PATH`` plays a machine whose GPU the installed backend does not use."""

from __future__ import annotations

import keras
import pytest

from benchmark.commands import main as cli_main
from benchmark.common import environment
from benchmark.models.imagenet import file_name
from benchmark.runner import doctor

pytestmark = pytest.mark.skipif(environment.gpu_available(), reason="the backend computes on a GPU here")


@pytest.fixture
def path_with(tmp_path, monkeypatch):
    """PATH with only a folder of ours and the system folders: ``path_with(listing)`` adds a fake
    ``nvidia-smi`` listing those GPUs; without calling it there is no nvidia-smi at all."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", f"{folder}:/usr/bin:/bin")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))

    def fake(listing: str):
        script = folder / "nvidia-smi"
        script.write_text(f"#!/bin/sh\ncat <<'END'\n{listing}END\n")
        script.chmod(0o755)

    return fake


def test_cpu_machine(path_with, capsys, tmp_path):
    (tmp_path / "keras" / "models").mkdir(parents=True)
    (tmp_path / "keras" / "models" / file_name("resnet50")).write_bytes(b"not the real file")
    assert doctor.nvidia_gpus() is None
    assert cli_main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert f"backend {keras.backend.backend()}" in out and "GPU used         no" in out
    assert "precision auto   float32" in out and "nvidia-smi       not found" in out
    assert file_name("resnet50") in out and "not Keras MD5" in out  # the cache, listed
    assert "WARNING: nvidia-smi" not in out
    # How a GPU would be used.
    assert "INFANT_POSE_DEVICE=auto" in out and "mixed_bfloat16" in out
    xla = "on" if keras.backend.backend() == "jax" else "off"
    assert doctor.summary_line() == (f"backend {keras.backend.backend()} {doctor.backend().version} on CPU "
                                     f"(no GPU found), float32, XLA {xla}")


def test_the_cpu_s_bfloat16_units_choose_the_precision(path_with, capsys, monkeypatch):
    """precision auto follows the CPU's flags (avx512_bf16 or amx_bf16), and says which it saw."""
    monkeypatch.delenv("INFANT_POSE_CPU_BFLOAT16")
    for flags, precision in ((["avx2", "avx512f", "avx512_bf16"], "mixed_bfloat16"), (["avx2", "amx_bf16"], "mixed_bfloat16"),
                             (["avx2", "avx512f"], "float32")):
        monkeypatch.setattr(environment, "cpu_features", lambda flags=flags: flags)
        assert environment.cpu_bfloat16() == (precision != "float32")
        assert cli_main(["doctor"]) == 0
        units = ", ".join(f for f in flags if f.endswith("bf16")) or "none"
        assert f"precision auto   {precision} (CPU bfloat16 units: {units})" in capsys.readouterr().out
        assert f"(no GPU found), {precision}, XLA" in doctor.summary_line()
    monkeypatch.setenv("INFANT_POSE_CPU_BFLOAT16", "0")  # the override wins over the flags
    monkeypatch.setattr(environment, "cpu_features", lambda: ["avx512_bf16"])
    assert not environment.cpu_bfloat16()


def test_gpu_present_but_unused(path_with, capsys):
    path_with("GPU 0: NVIDIA H200 (UUID: GPU-0a)\nGPU 1: NVIDIA H200 (UUID: GPU-1b)\n")
    assert doctor.nvidia_gpus() == ["GPU 0: NVIDIA H200 (UUID: GPU-0a)", "GPU 1: NVIDIA H200 (UUID: GPU-1b)"]
    assert cli_main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "WARNING: nvidia-smi lists 2 GPU(s)" in out and "training would run on the CPU" in out
    assert f"fix: {doctor.backend().gpu_fix}" in out
    if keras.backend.backend() == "tensorflow" and "tensorflow-cpu" in environment.package_versions():
        assert "INFANT_POSE_DEVICE=gpu ./run_tests.sh" in out
    assert "2 GPU(s) present but unused" in doctor.summary_line()


def test_nvidia_smi_without_gpus(path_with):
    path_with("No devices were found\n")
    assert doctor.nvidia_gpus() == []


def test_asking_leaves_the_process_as_it_was(path_with):
    """The doctor enables op determinism to ask Keras about XLA; it must not stay on (random ops in
    the same process would then need seeds)."""
    if keras.backend.backend() != "tensorflow":
        pytest.skip("op determinism is TensorFlow's")
    from tensorflow.python.framework import config

    before = config.is_op_determinism_enabled()
    doctor.summary_line()
    assert config.is_op_determinism_enabled() == before
