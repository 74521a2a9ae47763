"""The suite's wall times (``python -m benchmark perf --suite``): the runner on a fresh results folder,
the same again with everything cached, and with one experiment added to a copy of the manifest;
then where each experiment's time went."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from benchmark.common.result_files import COMPLETE, METRICS
from benchmark.runner.execute import run
from benchmark.runner.perf import environment_variable
from benchmark.runner.plan import plan
from benchmark.training import frame_cache


def _with_added_experiment(manifest: Path, folder: Path) -> Path:
    """A copy of the manifest with one more experiment (the recommended setting, another seed)."""
    doc = yaml.safe_load(Path(manifest).read_text())
    doc["experiments"].append({"group": "perf_added", "base": {"loss": "kce"},
                               "rows": [{"model": "simple_baseline", "seed": 12345}]})
    path = folder / "manifest.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _overheads(results: Path) -> pd.DataFrame:
    """Per experiment of a results folder that ran: the runner's wall time split into kernel start and imports (what is
    left outside ``train``) and ``train``'s own parts."""
    rows = []
    for complete in sorted(results.glob(f"*/*/*/{COMPLETE}")):  # <dataset>/<profile>/<experiment>
        summary = json.loads((complete.parent / METRICS).read_text())
        runner_s = json.loads(complete.read_text())["wall_time_s"]
        rows.append({"experiment": complete.parent.name, "runner (s)": runner_s,
                     "kernel+imports": runner_s - summary["wall_time_s"],
                     **summary.get("timings_s", {}), "epoch (s)": summary["epoch_time_s"]})
    return pd.DataFrame(rows)


def measure_suite(manifest: Path, profile: str, data_dir: Path, only: str | None = None) -> dict:
    """Wall times of the runner: a fresh grid, a rerun with nothing to do, one added experiment.

    ``only`` selects experiments as ``run --only`` does; the added one is a Simple Baseline. The
    profile's dataset is expected to be ready (``main`` prepares it)."""
    def timed_run(path: Path, results: Path) -> dict:
        start = time.perf_counter()
        outcomes = run(plan(path, profile, only=only, results=results, run=True, data_dir=data_dir, progress=False),
                       progress=False)
        failed = [o.id for o in outcomes if o.status == "failed"]
        if failed:
            raise RuntimeError(f"experiments failed while timing the suite: {', '.join(failed)}")
        return {"wall (s)": time.perf_counter() - start, "experiments": len(outcomes),
                "trained": sum(o.status == "ran" for o in outcomes)}

    with tempfile.TemporaryDirectory() as tmp, environment_variable(frame_cache.ENV, str(Path(tmp) / "cache")):
        results = Path(tmp) / "results"
        runs = {"whole grid": timed_run(manifest, results),
                "cached rerun": timed_run(manifest, results),
                "one added row": timed_run(_with_added_experiment(manifest, Path(tmp)), results)}
        overheads = _overheads(results)
    return {"profile": profile, "only": only, "runs": runs,
            "per experiment": overheads.to_dict(orient="records")}
