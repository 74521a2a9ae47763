"""Build each baseline's own environment and register it as a Jupyter kernel of the suite's.

``python -m benchmark.baselines.environments`` (run by ``scripts/bootstrap.sh``, so by both README
commands) creates ``.venv-<name>`` beside ``.venv`` from the baseline's requirements, and installs
the kernel :attr:`~benchmark.baselines.registry.Baseline.kernel` into the running environment with
the repository on its ``PYTHONPATH``. It is quick when nothing changed (a stamp file records the
requirements). A baseline that cannot be built (an unsupported Python, no wheel, no network) is
not an error: the reason goes to ``<prefix>/<kernel>.failed``, the runner reports the baseline as
skipped with it, and everything else runs. ``INFANT_POSE_BASELINES=0`` skips building them.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from benchmark.baselines.registry import BASELINES, Baseline

ROOT = Path(__file__).resolve().parents[2]


def kernel_file(spec: Baseline, prefix: Path) -> Path:
    return Path(prefix) / "share" / "jupyter" / "kernels" / spec.kernel / "kernel.json"


def _unsupported(spec: Baseline, version: tuple[int, int]) -> str | None:
    low, high = spec.python
    if low <= version <= high:
        return None
    return (f"{spec.requirements[0]} has wheels for Python {low[0]}.{low[1]}-{high[0]}.{high[1]} only; this "
            f"environment's Python is {version[0]}.{version[1]} (rebuild with PYTHON=/path/to/python3.{high[1]})")


def _run(command: list, what: str) -> None:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True)
    if done.returncode:
        tail = [line for line in (done.stderr or done.stdout).strip().splitlines() if line.strip()][-3:]
        raise RuntimeError(f"{what} failed (exit {done.returncode}): {' | '.join(tail)}")


def build(spec: Baseline, root: Path = ROOT, prefix: Path = Path(sys.prefix),
          python: str = sys.executable, version: tuple[int, int] = sys.version_info[:2]) -> str | None:
    """Build ``spec``'s environment unless it is up to date; None when ready, else why not (also
    written to ``<prefix>/<kernel>.failed``)."""
    env = Path(root) / f".venv-{spec.name}"
    failed = Path(prefix) / f"{spec.kernel}.failed"
    stamp = env / f".installed-{hashlib.sha256(repr((spec.requirements, str(root))).encode()).hexdigest()[:16]}"
    if stamp.is_file() and kernel_file(spec, prefix).is_file():
        return None
    reason = _unsupported(spec, version)
    if reason is None:
        print(f"Building {env.name} for the {spec.name} baseline (first run: about a minute) ...", flush=True)
        bin_dir = env / ("Scripts" if os.name == "nt" else "bin")
        try:
            _run([python, "-m", "venv", "--clear", env], f"creating {env}")
            _run([bin_dir / "python", "-m", "pip", "install", "--quiet", *spec.requirements],
                 f"installing {', '.join(spec.requirements)} into {env}")
            _run([bin_dir / "python", "-m", "ipykernel", "install", "--prefix", prefix, "--name", spec.kernel,
                  "--display-name", spec.title, "--env", "PYTHONPATH", root], f"registering the kernel {spec.kernel}")
        except RuntimeError as err:
            reason = str(err)
    if reason is not None:
        failed.write_text(reason + "\n")
        print(f"warning: the {spec.name} baseline will be skipped: {reason}", file=sys.stderr)
        return reason
    stamp.touch()
    failed.unlink(missing_ok=True)
    return None


def main() -> int:
    if os.environ.get("INFANT_POSE_BASELINES", "1") == "0":
        return 0
    for spec in BASELINES.values():
        build(spec)
    return 0


if __name__ == "__main__":
    sys.exit(main())
