"""Build each baseline's own environment and register it as a Jupyter kernel of the suite's.

``python -m benchmark.baselines.environments`` (run by ``scripts/bootstrap.sh``, so by both README
commands) creates ``.venv-<name>`` beside ``.venv`` from the baseline's requirements, and installs
the kernel :attr:`~benchmark.baselines.registry.Baseline.kernel` into the running environment with
the repository on its ``PYTHONPATH``. Like the main environment it installs the baseline's lock,
``locks/<name>.txt`` (exact versions, hash-checked; ``scripts/lock.sh`` writes it), or with
``INFANT_POSE_DEPS=latest`` the newest versions its requirements allow, into ``.venv-latest-<name>``
so the locked one stays as it is. It is quick when nothing changed (a stamp file records the
requirements, the lock and the mode). A baseline that cannot be built (an unsupported Python, no
wheel, no network) is not an error: the reason goes to ``<prefix>/<kernel>.failed``, the runner
reports the baseline as skipped with it, and everything else runs. ``INFANT_POSE_BASELINES=0`` skips building them.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from benchmark.baselines.registry import BASELINES, Baseline
from benchmark.common import lock

ROOT = Path(__file__).resolve().parents[2]


def kernel_file(spec: Baseline, prefix: Path) -> Path:
    return Path(prefix) / "share" / "jupyter" / "kernels" / spec.kernel / "kernel.json"


def _unsupported(spec: Baseline, version: tuple[int, int]) -> str | None:
    low, high = spec.python
    if low <= version <= high:
        return None
    return (f"{spec.requirements[0]} has wheels for Python {low[0]}.{low[1]}-{high[0]}.{high[1]} only; this "
            f"environment's Python is {version[0]}.{version[1]} (rebuild with PYTHON=/path/to/python3.{high[1]})")


def _run(command: list, what: str) -> str:
    """Run ``command``; its standard output, or RuntimeError naming ``what`` failed and why."""
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True)
    if done.returncode:
        tail = [line for line in (done.stderr or done.stdout).strip().splitlines() if line.strip()][-3:]
        raise RuntimeError(f"{what} failed (exit {done.returncode}): {' | '.join(tail)}")
    return done.stdout


def _install(spec: Baseline, env: Path, python: Path, deps: str) -> None:
    """Install ``spec``'s packages into ``env``: its lock exactly (what the lock does not list removed,
    e.g. the setuptools a new venv brings), or the newest its requirements allow."""
    pip, path = [python, "-m", "pip", "install", "--quiet"], lock.lock_file(spec.name)
    if deps == "latest":
        _run([*pip, "--upgrade", *spec.requirements], f"installing {', '.join(spec.requirements)} into {env}")
    else:
        if not path.is_file():
            raise RuntimeError(f"{path} not found: run scripts/lock.sh (or INFANT_POSE_DEPS=latest)")
        _run([*pip, "--require-hashes", "--no-deps", "-r", path], f"installing {path.name} into {env}")
        listed = _run([python, "-m", "pip", "list", "--format=freeze"], f"listing {env}") or ""
        present = {lock.canonical(line.split("==")[0]): line.split("==")[-1] for line in listed.split()}
        extraneous = lock.extraneous(lock.pins(path), present)
        if extraneous:
            _run([python, "-m", "pip", "uninstall", "--quiet", "--yes", *extraneous], f"removing {extraneous} from {env}")
    if path.is_file():
        lock.write_marker(deps, path, "cpu", prefix=env)


def build(spec: Baseline, root: Path = ROOT, prefix: Path = Path(sys.prefix),
          python: str = sys.executable, version: tuple[int, int] = sys.version_info[:2],
          deps: str = "locked") -> str | None:
    """Build ``spec``'s environment (``deps``: ``locked`` or ``latest``, as the set-up's
    ``INFANT_POSE_DEPS``) unless it is up to date; None when ready, else why not (also written to
    ``<prefix>/<kernel>.failed``)."""
    env = Path(root) / (f".venv-{spec.name}" if deps == "locked" else f".venv-{deps}-{spec.name}")
    failed = Path(prefix) / f"{spec.kernel}.failed"
    path = lock.lock_file(spec.name)
    state = (spec.requirements, str(root), deps, lock.digest(path) if path.is_file() else None)
    stamp = env / f".installed-{hashlib.sha256(repr(state).encode()).hexdigest()[:16]}"
    if stamp.is_file() and kernel_file(spec, prefix).is_file():
        return None
    reason = _unsupported(spec, version)
    if reason is None:
        print(f"Building {env.name} for the {spec.name} baseline (first run: about a minute) ...", flush=True)
        bin_dir = env / ("Scripts" if os.name == "nt" else "bin")
        try:
            _run([python, "-m", "venv", env], f"creating {env}")  # kept if it exists: the install syncs it
            _install(spec, env, bin_dir / "python", deps)
            _run([bin_dir / "python", "-m", "ipykernel", "install", "--prefix", prefix, "--name", spec.kernel,
                  "--display-name", spec.title, "--env", "PYTHONPATH", root], f"registering the kernel {spec.kernel}")
        except RuntimeError as err:
            reason = str(err)
    if reason is not None:
        failed.write_text(reason + "\n")
        print(f"warning: the {spec.name} baseline will be skipped: {reason}", file=sys.stderr)
        return reason
    for old in env.glob(".installed-*"):
        old.unlink()
    stamp.touch()
    failed.unlink(missing_ok=True)
    return None


def main() -> int:
    if os.environ.get("INFANT_POSE_BASELINES", "1") == "0":
        return 0
    for spec in BASELINES.values():
        build(spec, deps=os.environ.get("INFANT_POSE_DEPS", "locked"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
