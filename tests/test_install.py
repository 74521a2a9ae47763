"""The set-up's device choice (scripts/device.sh) and what scripts/bootstrap.sh installs for it: the
device's lock (locks/<device>.txt, hash-checked) by default, the newest allowed versions with
INFANT_POSE_DEPS=latest, and one line when an install fails (the registry unreachable).

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
    """A copy of the scripts, pyproject.toml and the locks, with a fake .venv whose python logs what it
    is asked, lists ``$PIP_LIST`` as installed, names ``$EXTRANEOUS`` as not in the lock, and fails a pip
    install printing ``$PIP_FAILS`` when that is set."""
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "scripts", root / "scripts")
    shutil.copytree(ROOT / "locks", root / "locks")
    shutil.copy(ROOT / "pyproject.toml", root)
    venv_bin = root / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "activate").write_text("")
    python = venv_bin / "python"
    python.write_text('#!/bin/sh\necho "$*" >> "$PIP_LOG"\n'
                      'case "$*" in *"pip list"*) cat "$PIP_LIST" 2>/dev/null ;;\n'
                      '  *"lock extraneous"*) cat "$EXTRANEOUS" 2>/dev/null ;;\n'
                      '  *"pip install"*) [ -n "$PIP_FAILS" ] && { echo "$PIP_FAILS"; exit 1; } ;; esac\n'
                      'exit 0\n')
    python.chmod(0o755)
    return root


def run_bootstrap(root: Path, tmp_path: Path, listing: str | None, installed: str = "", extraneous: str = "",
                  **variables) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Source the copied bootstrap; returns (the finished process, the fake python's calls)."""
    log, pip_list, extra = tmp_path / "pip.log", tmp_path / "pip-list.txt", tmp_path / "extraneous.txt"
    log.unlink(missing_ok=True)
    pip_list.write_text(installed)
    extra.write_text(extraneous)
    bin_folder = fake_nvidia_smi(tmp_path / f"bin-{listing is not None}", listing)
    env = environ(bin_folder, PIP_LOG=str(log), PIP_LIST=str(pip_list), EXTRANEOUS=str(extra),
                  PYTHON=sys.executable, **variables)
    done = subprocess.run(["bash", "-c", f"source {root}/scripts/bootstrap.sh"], env=env, capture_output=True,
                          text=True)
    return done, log.read_text().splitlines() if log.exists() else []


def bootstrap(root: Path, tmp_path: Path, listing: str | None, installed: str = "", extraneous: str = "",
              **variables) -> tuple[str, list[str]]:
    """:func:`run_bootstrap`, which must succeed: (what it printed, the fake python's calls)."""
    done, calls = run_bootstrap(root, tmp_path, listing, installed, extraneous, **variables)
    assert done.returncode == 0, done.stderr
    return done.stdout, calls


def locked(root: Path, device: str) -> list[str]:
    """The calls of a locked install of ``device``'s lock, after removing what the lock does not list."""
    lock = f"{root}/locks/{device}.txt"
    return [f"-m pip install --require-hashes --no-deps -r {lock}", f"-m pip install --no-deps --no-build-isolation -e {root}",
            f"-m benchmark.common.lock mark locked {lock} {device}", BASELINES]


def stamps(root: Path) -> list[str]:
    return [p.name.split("-", 2)[2] for p in (root / ".venv").glob(".installed-*")]


def test_bootstrap_installs_the_lock_of_the_device_and_reinstalls_on_a_switch(checkout, tmp_path):
    out, calls = bootstrap(checkout, tmp_path, None)
    assert "Device: cpu" in out and "locks/cpu.txt, hash-checked" in out
    assert calls == [f"-m benchmark.common.lock extraneous {checkout}/locks/cpu.txt", *locked(checkout, "cpu")]
    assert stamps(checkout) == ["cpu-locked"]
    assert bootstrap(checkout, tmp_path, None) == ("", [BASELINES])  # installed: nothing else to do

    # A GPU appears: what the gpu lock does not list (the CPU build) is removed, then the gpu lock installed.
    out, calls = bootstrap(checkout, tmp_path, TWO_GPUS, extraneous="tensorflow-cpu\n")
    assert "Device: gpu" in out and "locks/gpu.txt" in out
    assert calls[1:] == ["-m pip uninstall --yes tensorflow-cpu", *locked(checkout, "gpu")]
    assert stamps(checkout) == ["gpu-locked"]

    # An edited lock (scripts/lock.sh) reinstalls; so does an edited pyproject.toml.
    with (checkout / "locks" / "gpu.txt").open("a") as lock:
        lock.write("# regenerated\n")
    assert bootstrap(checkout, tmp_path, TWO_GPUS)[1][1:] == locked(checkout, "gpu")
    with (checkout / "pyproject.toml").open("a") as pyproject:
        pyproject.write("# edited\n")
    assert bootstrap(checkout, tmp_path, TWO_GPUS)[1][1:] == locked(checkout, "gpu")
    assert bootstrap(checkout, tmp_path, TWO_GPUS)[1] == [BASELINES]


def test_latest_installs_the_newest_allowed_versions_and_switches_the_backend_build(checkout, tmp_path):
    out, calls = bootstrap(checkout, tmp_path, None, INFANT_POSE_DEPS="latest")
    assert "newest versions pyproject.toml allows (cpu extra)" in out
    assert calls[-3:] == [f"-m pip install --upgrade --upgrade-strategy eager -e {checkout}[test,export,cpu]",
                          f"-m benchmark.common.lock mark latest {checkout}/locks/cpu.txt cpu", BASELINES]
    assert stamps(checkout) == ["cpu-latest"]

    # A GPU appears: the CPU build is removed and the GPU extra installed.
    out, calls = bootstrap(checkout, tmp_path, TWO_GPUS, installed="tensorflow_cpu==2.21.0\nkeras==3.15.1\n",
                           INFANT_POSE_DEPS="latest")
    assert "-m pip uninstall --yes tensorflow_cpu" in calls
    assert calls[-3] == f"-m pip install --upgrade --upgrade-strategy eager -e {checkout}[test,export,gpu]"

    # Forced back to the CPU build on that machine.
    out, calls = bootstrap(checkout, tmp_path, TWO_GPUS, installed="tensorflow==2.21.0\n", INFANT_POSE_DEVICE="cpu",
                           INFANT_POSE_DEPS="latest")
    wanted = "tensorflow_cpu" if os.uname().sysname == "Linux" and os.uname().machine == "x86_64" else "tensorflow"
    assert ("-m pip uninstall --yes tensorflow" in calls) == (wanted == "tensorflow_cpu")
    assert calls[-3] == f"-m pip install --upgrade --upgrade-strategy eager -e {checkout}[test,export,cpu]"

    # Back to the lock: the mode is part of the stamp.
    assert bootstrap(checkout, tmp_path, None)[1][1:] == locked(checkout, "cpu")


def test_another_environment_folder(checkout, tmp_path):
    """INFANT_POSE_VENV: scripts/test_latest.sh's .venv-latest, created beside the locked .venv."""
    shutil.copytree(checkout / ".venv", checkout / ".venv-latest")
    bootstrap(checkout, tmp_path, None, INFANT_POSE_DEPS="latest", INFANT_POSE_VENV=str(checkout / ".venv-latest"))
    assert [p.name for p in (checkout / ".venv-latest").glob(".installed-*")][0].endswith("-cpu-latest")
    assert stamps(checkout) == []  # the locked .venv untouched


@pytest.mark.parametrize("pip_says, expected", [
    ("WARNING: Retrying after connection broken by 'NewConnectionError(...: Failed to establish a new connection: "
     "[Errno -3] Temporary failure in name resolution')'\nERROR: No matching distribution found for absl-py==2.5.1",
     "the package registry cannot be reached"),
    ("ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE.", "pip install failed: ERROR: THESE"),
])
def test_a_failed_install_is_one_line_and_installs_nothing_else(checkout, tmp_path, pip_says, expected):
    done, calls = run_bootstrap(checkout, tmp_path, None, PIP_FAILS=pip_says)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and expected in done.stderr and "install.log" in done.stderr
    assert pip_says.splitlines()[-1] in (checkout / ".venv" / "install.log").read_text()
    assert stamps(checkout) == [] and BASELINES not in calls  # the next run tries again


def test_an_unknown_deps_mode_is_named(checkout, tmp_path):
    done, _ = run_bootstrap(checkout, tmp_path, None, INFANT_POSE_DEPS="newest")
    assert done.returncode == 2 and "INFANT_POSE_DEPS=newest: expected locked (the default) or latest" in done.stderr
