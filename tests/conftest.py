"""Fixtures shared by the test modules."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from benchmark.data.labelme import annotation_dict
from benchmark.study.keypoints import NUM_KEYPOINTS


@pytest.fixture(scope="session", autouse=True)
def frame_cache_in_tmp(tmp_path_factory):
    """Point the frame cache (benchmark.training.frame_cache) at a temporary folder: tests never write home;
    precision ``auto`` trains in float32 whatever the CPU (``INFANT_POSE_CPU_BFLOAT16``).

    Session-scoped so it is in place before module-scoped fixtures train, and inherited by the
    notebook kernels the runner starts."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("INFANT_POSE_CACHE", str(tmp_path_factory.mktemp("frame-cache")))
        patch.setenv("INFANT_POSE_LOGS", str(tmp_path_factory.mktemp("logs")))  # commands' logs (common/console.py)
        patch.setenv("INFANT_POSE_CPU_BFLOAT16", "0")  # precision auto is float32 on every CPU, unless a test asks
        yield


# The published sample frames live next to the repository, never inside it.
SAMPLE_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "sample_data"


@pytest.fixture
def sample_root() -> Path:
    """Root of the nine real sample frames (read-only); skips the test when they are absent."""
    if not SAMPLE_DATA.is_dir():
        pytest.skip(f"real sample data not found at {SAMPLE_DATA}")
    return SAMPLE_DATA


def random_pose(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A ``(22, 2)`` pose with every keypoint strictly inside a ``width`` x ``height`` image."""
    rng = np.random.default_rng(seed)
    return rng.uniform([1, 1], [width - 1, height - 1], size=(NUM_KEYPOINTS, 2))


@pytest.fixture
def write_frame(tmp_path):
    """Factory writing ``<root>/<split>/img/<stem>.jpg`` (a small random JPEG) and its LabelMe file.

    ``keypoints`` defaults to :func:`random_pose`; keyword ``overrides`` replace top-level fields of
    the LabelMe document (e.g. ``shapes=[...]``, ``imageData="..."``). Returns
    ``(image_path, annotation_path, keypoints)``.
    """
    def write(stem="000_00000001", split="Train", keypoints=None, size=(64, 48), root=None,
              **overrides):
        root = Path(root or tmp_path)
        width, height = size
        keypoints = random_pose(width, height) if keypoints is None else keypoints
        image_path = root / split / "img" / f"{stem}.jpg"
        annotation_path = root / split / "ann" / f"{stem}.json"
        image_path.parent.mkdir(parents=True, exist_ok=True)
        annotation_path.parent.mkdir(parents=True, exist_ok=True)
        pixels = np.random.default_rng(len(stem)).integers(0, 256, (height, width, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(image_path, quality=90)
        doc = annotation_dict(keypoints, image_path.name, width, height) | overrides
        annotation_path.write_text(json.dumps(doc))
        return image_path, annotation_path, keypoints

    return write


def run_manifest(manifest, profile, results_dir=Path("results"), data_dir=Path("data"), only=None, seeds=None,
                 data=None, dataset=None, force=False, progress=False, **kwargs):
    """``benchmark.runner.execute.run`` on the plan of these options (as ``python -m benchmark run``)."""
    from benchmark.runner.execute import run
    from benchmark.runner.plan import plan

    resolved = plan(manifest, profile, dataset, data, results_dir, seeds, only, run=True, data_dir=data_dir,
                    progress=progress)
    return run(resolved, force, progress=progress, **kwargs)


def render_report(manifest, profile, results_dir, out, tables, figures, **plan_options) -> Path:
    """The report of a run plan's results (as ``python -m benchmark report``): its index.html."""
    from benchmark.report import build_report
    from benchmark.report.results import results_of
    from benchmark.runner.plan import plan

    resolved = plan(manifest, profile, results=results_dir, **plan_options)
    return build_report(results_of(resolved), resolved.report_folder(out), tables, figures)
