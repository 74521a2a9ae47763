"""The zero-shot baselines: name -> its code, its environment's requirements and its kernel.

A baseline runs in its own virtual environment (``.venv-<name>``, built from ``requirements`` by
:mod:`benchmark.baselines.environments`, which the README's set-up runs), registered as the
Jupyter kernel :attr:`Baseline.kernel`; when that environment cannot be built, the reason is left in
``.venv/<kernel>.failed`` and the runner reports the baseline as skipped with it. Its conda
mirror is ``environment-<name>.yml`` (kept in agreement by a test).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from benchmark.common.registry import register


@dataclass(frozen=True)
class Baseline:
    name: str
    title: str       # how tables name it
    module: str      # the module that runs it
    variants: tuple[str, ...]  # the first is the default
    requirements: tuple[str, ...]  # its environment, besides the suite's source (on PYTHONPATH)
    python: tuple[tuple[int, int], tuple[int, int]]  # the Python versions its packages have wheels for

    @property
    def kernel(self) -> str:
        """The Jupyter kernel (of its own environment) its notebook runs in."""
        return f"infant-pose-{self.name.replace('_', '-')}"

    def failure(self, prefix: Path) -> str | None:
        """Why its environment could not be built, as the set-up recorded it (None: no record)."""
        path = Path(prefix) / f"{self.kernel}.failed"
        return (path.read_text().strip() or "unknown reason") if path.is_file() else None


BASELINES: dict[str, Baseline] = {}

register(BASELINES, "baseline", Baseline(
    "mediapipe_pose", "MediaPipe Pose (BlazePose, zero-shot adult model, no training)",
    "benchmark.baselines.mediapipe_pose", ("full",),
    # 0.10.21: the last release with its models inside the wheel (offline);
    # it pins protobuf<5, which current TensorFlow does not accept.
    ("mediapipe==0.10.21", "numpy<2", "pandas>=2.1", "pillow>=10.0", "pydantic>=2.5", "tqdm>=4.66", "ipykernel>=6.25"),
    ((3, 9), (3, 12))))
