"""The set-up's device choice (scripts/device.sh) and what scripts/bootstrap.sh installs for it.

A fake ``nvidia-smi`` on ``PATH`` plays a GPU machine; a copy of the scripts with a fake
``.venv/bin/python`` that logs its arguments plays the virtual environment, so nothing is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TWO_GPUS = "GPU 0: NVIDIA H200 (UUID: GPU-0a)\nGPU 1: NVIDIA H200 (UUID: GPU-1b)\n"


def fake_nvidia_smi(folder: Path, listing: str | None, status: int = 0) -> Path:
    """An ``nvidia-smi`` in ``folder`` printing ``listing`` for ``-L``; ``None``: no nvidia-smi."""
    folder.mkdir(parents=True, exist_ok=True)
    if listing is not None:
        text = folder / "listing.txt"
        text.write_text(listing)
        script = folder / "nvidia-smi"
        script.write_text(f'#!/bin/sh\n[ "$1" = -L ] && cat "{text}"\nexit {status}\n')
        script.chmod(0o755)
    return folder


def environ(bin_folder: Path, **variables) -> dict:
    """This environment with only ``bin_folder`` and the system folders on PATH (no real nvidia-smi)."""
    env = {k: v for k, v in os.environ.items() if k != "INFANT_POSE_DEVICE"}
    env["PATH"] = f"{bin_folder}:/usr/bin:/bin"
    return env | variables


def device(tmp_path, listing=None, status=0, **variables) -> tuple[str, str]:
    bin_folder = fake_nvidia_smi(tmp_path / "bin", listing, status)
    out = subprocess.run(["bash", str(ROOT / "scripts" / "device.sh")], env=environ(bin_folder, **variables),
                         capture_output=True, text=True, check=True).stdout
    choice, why = out.splitlines()
    return choice, why


@pytest.mark.parametrize("listing, status, expected", [
    (None, 0, "cpu"),                                    # no driver: no nvidia-smi
    ("No devices were found\n", 6, "cpu"),               # driver, no GPU
    ("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver\n", 9, "cpu"),
    (TWO_GPUS, 0, "gpu"),
])
def test_auto_choice_follows_nvidia_smi(tmp_path, listing, status, expected):
    choice, why = device(tmp_path, listing, status)
    assert choice == expected
    assert "INFANT_POSE_DEVICE=" in why  # says how to override
    if expected == "gpu":
        assert "2 GPU(s)" in why and "NVIDIA H200" in why


def test_override(tmp_path):
    assert device(tmp_path, TWO_GPUS, INFANT_POSE_DEVICE="cpu")[0] == "cpu"
    assert device(tmp_path, None, INFANT_POSE_DEVICE="gpu")[0] == "gpu"
    assert device(tmp_path, TWO_GPUS, INFANT_POSE_DEVICE="auto")[0] == "gpu"
    bad = subprocess.run(["bash", str(ROOT / "scripts" / "device.sh")],
                         env=environ(tmp_path, INFANT_POSE_DEVICE="cuda"), capture_output=True, text=True)
    assert bad.returncode == 2 and "auto, cpu or gpu" in bad.stderr


BASELINES = "-m benchmark.baselines.environments"


@pytest.fixture
def checkout(tmp_path):
    """A copy of the scripts and pyproject.toml, with a fake .venv whose python logs what it is asked."""
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "scripts", root / "scripts")
    shutil.copy(ROOT / "pyproject.toml", root)
    venv_bin = root / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "activate").write_text("")
    python = venv_bin / "python"
    python.write_text('#!/bin/sh\necho "$*" >> "$PIP_LOG"\n'
                      'case "$*" in *"pip list"*) cat "$PIP_LIST" 2>/dev/null ;; esac\n')
    python.chmod(0o755)
    return root


def bootstrap(root: Path, tmp_path: Path, listing: str | None, installed: str = "", **variables):
    """Source the copied bootstrap; returns (what it printed, the fake python's calls)."""
    log, pip_list = tmp_path / "pip.log", tmp_path / "pip-list.txt"
    log.unlink(missing_ok=True)
    pip_list.write_text(installed)
    bin_folder = fake_nvidia_smi(tmp_path / f"bin-{listing is not None}", listing)
    env = environ(bin_folder, PIP_LOG=str(log), PIP_LIST=str(pip_list), PYTHON=sys.executable,
                  **variables)
    out = subprocess.run(["bash", "-c", f"source {root}/scripts/bootstrap.sh"], env=env, capture_output=True,
                         text=True, check=True).stdout
    return out, log.read_text().splitlines() if log.exists() else []


def test_bootstrap_installs_the_extra_of_the_device_and_reinstalls_on_a_switch(checkout, tmp_path):
    out, calls = bootstrap(checkout, tmp_path, None)
    assert "Device: cpu" in out
    assert calls[-2] == f"-m pip install --quiet -e {checkout}[test,export,cpu]"
    assert [p.name.endswith("-cpu") for p in (checkout / ".venv").glob(".installed-*")] == [True]

    assert calls[-1] == BASELINES  # then the baselines' environments (quick when they are up to date)
    assert bootstrap(checkout, tmp_path, None) == ("", [BASELINES])  # installed: nothing else to do

    # A GPU appears: the CPU build is removed and the GPU extra installed.
    out, calls = bootstrap(checkout, tmp_path, TWO_GPUS, installed="tensorflow_cpu==2.21.0\nkeras==3.15.1\n")
    assert "Device: gpu" in out and "gpu extra" in out
    assert "-m pip uninstall --quiet --yes tensorflow_cpu" in calls
    assert calls[-2] == f"-m pip install --quiet -e {checkout}[test,export,gpu]"
    assert [p.name.endswith("-gpu") for p in (checkout / ".venv").glob(".installed-*")] == [True]

    # Forced back to the CPU build on that machine.
    out, calls = bootstrap(checkout, tmp_path, TWO_GPUS, installed="tensorflow==2.21.0\n", INFANT_POSE_DEVICE="cpu")
    wanted = "tensorflow_cpu" if os.uname().sysname == "Linux" and os.uname().machine == "x86_64" else "tensorflow"
    assert ("-m pip uninstall --quiet --yes tensorflow" in calls) == (wanted == "tensorflow_cpu")
    assert calls[-2] == f"-m pip install --quiet -e {checkout}[test,export,cpu]"
