"""The runner end to end on the smoke scale: manifest -> papermill -> results -> report.

These tests train real (tiny) models through papermill, about 10 s per experiment on 2 cores.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from benchmark.models import register_model
from benchmark.report import build_report
from benchmark.runner.datasets import dataset_name
from benchmark.runner.execute import EpochBars, Job, missing_kernel, run
from benchmark.runner.manifest import REPO, Experiment, LoadedManifest
from benchmark.training.config import TrainConfig

MANIFEST = """\
datasets:
  tiny:
    synthetic: {videos: 4, frames_per_video: 3, size: 96, domain_shift_videos: 1}
profiles:
  smoke:
    dataset: tiny
    train: {variant: tiny, input_size: 64, epochs: 1, batch_size: 8, augment: false}
experiments:
  - group: loss
    grid:
      model: [simple_baseline]
      loss: [mse, kce]
tables: [loss, decoder, truth]
figures: [training_curves, pck_curves]
"""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("runner")
    (root / "manifest.yaml").write_text(MANIFEST)
    return root


def _run(root: Path, **kwargs):
    outcomes = run(root / "manifest.yaml", "smoke", results_dir=root / "results", data_dir=root / "data",
                   progress=False, **kwargs)
    return {o.id: o.status for o in outcomes}


@pytest.fixture(scope="module")
def first_run(workspace):
    return _run(workspace)


def test_runs_every_experiment_and_writes_complete_results(workspace, first_run):
    assert first_run == {"loss-simple_baseline-mse": "ran", "loss-simple_baseline-kce": "ran"}
    for exp_id in first_run:
        folder = workspace / "results" / "tiny" / "smoke" / exp_id
        names = {p.name for p in folder.iterdir()}
        assert {"COMPLETE.json", "metrics.json", "history.csv", "predictions.csv", "model.keras",
                "notebook.ipynb"} <= names
        record = json.loads((folder / "COMPLETE.json").read_text())
        metrics = json.loads((folder / "metrics.json").read_text())
        assert record["id"] == exp_id and len(record["hash"]) == 16
        assert metrics["environment"]["backend"] and metrics["environment"]["packages"]["keras"]
        assert metrics["config"]["seed"] == 0 and metrics["epoch_time_s"] > 0
        assert set(metrics["metrics"]) == {"argmax", "wa", "dark"}
        assert set(metrics["metrics"]["wa"]) == {"Valid", "Test", "DomainShift"}
    assert not (workspace / "results" / "tiny" / "smoke" / ".staging").exists() or \
        not any((workspace / "results" / "tiny" / "smoke" / ".staging").iterdir())


def test_report_renders_from_the_results(workspace, first_run, tmp_path):
    index = build_report(workspace / "results" / "tiny", tmp_path, ["loss", "decoder", "truth"],
                         ["training_curves", "pck_curves"], "smoke")
    html = index.read_text()
    assert "simple_baseline" in html and "notebooks/loss-simple_baseline-kce.html" in html
    assert (index.parent / "tables" / "loss.tex").read_text().count("\\midrule") >= 1


def test_second_run_is_cached(workspace, first_run):
    started = time.perf_counter()
    assert set(_run(workspace).values()) == {"cached"}
    print(f"cached rerun: {time.perf_counter() - started:.1f} s")


def test_an_added_row_trains_alone(workspace, first_run):
    manifest = workspace / "manifest.yaml"
    manifest.write_text(MANIFEST.replace("loss: [mse, kce]", "loss: [mse, kce, bce]"))
    try:
        assert _run(workspace) == {"loss-simple_baseline-mse": "cached", "loss-simple_baseline-kce": "cached",
                                   "loss-simple_baseline-bce": "ran"}
    finally:
        manifest.write_text(MANIFEST)


def test_an_added_seed_trains_that_seed_alone(workspace, first_run):
    assert _run(workspace, only="kce", seeds=[0, 1]) == {"loss-simple_baseline-kce": "cached",
                                                         "loss-simple_baseline-kce-s1": "ran"}
    record = json.loads((workspace / "results" / "tiny" / "smoke" / "loss-simple_baseline-kce-s1" / "metrics.json").read_text())
    assert record["config"]["seed"] == 1
    shutil.rmtree(workspace / "results" / "tiny" / "smoke" / "loss-simple_baseline-kce-s1")  # the other tests count folders


def test_only_and_force(workspace, first_run):
    assert _run(workspace, only="*-kce", force=True) == {"loss-simple_baseline-kce": "ran"}
    with pytest.raises(ValueError, match="matches no experiment"):
        _run(workspace, only="nothing-like-this")


def test_a_setting_listed_twice_trains_once(tmp_path, workspace, first_run):
    doc = yaml.safe_load(MANIFEST)
    doc["experiments"] = [{"group": "loss", "rows": [{"model": "simple_baseline", "loss": "kce"}]},
                          {"group": "again", "base": {"model": "simple_baseline"}, "rows": [{"loss": "kce"}]}]
    (tmp_path / "manifest.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))

    def outcomes(**kwargs):
        return {o.id: o for o in run(tmp_path / "manifest.yaml", "smoke", results_dir=tmp_path / "results",
                                     data_dir=workspace / "data", progress=False, **kwargs)}

    first = outcomes()
    assert {i: o.status for i, o in first.items()} == {"loss-simple_baseline-kce": "ran",
                                                       "again-kce": "shared"}
    trained, twin = first["loss-simple_baseline-kce"].folder, first["again-kce"].folder
    assert sorted(p.name for p in twin.iterdir()) == sorted(p.name for p in trained.iterdir())
    assert (twin / "metrics.json").read_bytes() == (trained / "metrics.json").read_bytes()
    record = json.loads((twin / "COMPLETE.json").read_text())
    assert record["id"] == "again-kce" and record["same_as"] == "loss-simple_baseline-kce"
    assert json.loads((trained / "COMPLETE.json").read_text())["id"] == "loss-simple_baseline-kce"
    assert {o.status for o in outcomes().values()} == {"cached"}
    # A lost twin is restored from the complete one, without training.
    shutil.rmtree(trained)
    assert {i: o.status for i, o in outcomes().items()} == {"loss-simple_baseline-kce": "shared",
                                                            "again-kce": "cached"}
    assert json.loads((trained / "COMPLETE.json").read_text())["same_as"] == "again-kce"
    assert {o.status for o in outcomes(force=True).values()} == {"ran", "shared"}


@register_model("unknown_to_the_kernel")
def _only_here(*args, **kwargs):
    raise AssertionError("never built in this process")


def test_a_broken_experiment_is_reported_and_the_others_finish(tmp_path, workspace, first_run):
    # Registered in this process only: the manifest validates, but the notebook's kernel fails.
    (tmp_path / "manifest.yaml").write_text(
        MANIFEST.replace("model: [simple_baseline]", "model: [unknown_to_the_kernel, simple_baseline]")
        .replace("loss: [mse, kce]", "loss: [mse]"))
    outcomes = run(tmp_path / "manifest.yaml", "smoke", results_dir=tmp_path / "results",
                   data_dir=workspace / "data", progress=False)
    status = {o.id: o for o in outcomes}
    assert status["loss-unknown_to_the_kernel-mse"].status == "failed"
    assert "unknown_to_the_kernel" in status["loss-unknown_to_the_kernel-mse"].detail
    assert status["loss-simple_baseline-mse"].status == "ran"
    failed = tmp_path / "results" / "tiny" / "smoke" / "loss-unknown_to_the_kernel-mse"
    assert (failed / "notebook.ipynb").exists() and (failed / "FAILED.json").exists()
    assert not (failed / "COMPLETE.json").exists()
    # It is retried next time, and the finished one is not.
    again = {o.id: o.status for o in run(tmp_path / "manifest.yaml", "smoke", results_dir=tmp_path / "results",
                                         data_dir=workspace / "data", progress=False)}
    assert again == {"loss-unknown_to_the_kernel-mse": "failed", "loss-simple_baseline-mse": "cached"}


def test_cli_exit_status_is_non_zero_when_an_experiment_fails(tmp_path, workspace, first_run):
    # A dataset without a Train split: the runner starts, every experiment fails in its notebook.
    data = tmp_path / "no_train"
    shutil.copytree(workspace / "data" / "tiny", data, ignore=shutil.ignore_patterns("Train"))
    (tmp_path / "manifest.yaml").write_text(MANIFEST)
    done = subprocess.run([sys.executable, "-m", "benchmark", "run", "--profile", "smoke", "--manifest",
                           str(tmp_path / "manifest.yaml"), "--data", str(data), "--only", "mse",
                           "--results", str(tmp_path / "results"), "--no-progress"],
                          capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "loss-simple_baseline-mse" in done.stdout and "failed" in done.stdout


def test_cli_reports_a_bad_manifest_without_a_traceback(tmp_path):
    (tmp_path / "manifest.yaml").write_text(MANIFEST.replace("loss: [mse, kce]", "loss: [mse, l2]"))
    done = subprocess.run([sys.executable, "-m", "benchmark", "run", "--profile", "smoke", "--manifest",
                           str(tmp_path / "manifest.yaml")], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 2
    assert "manifest.yaml:12" in done.stderr and "'l2'" in done.stderr and "Traceback" not in done.stderr


def test_an_interrupted_run_resumes_and_never_counts_partial_results(tmp_path, workspace, first_run):
    (tmp_path / "manifest.yaml").write_text(MANIFEST.replace("epochs: 1", "epochs: 30"))
    results = tmp_path / "results"
    command = [sys.executable, "-m", "benchmark", "run", "--profile", "smoke", "--manifest",
               str(tmp_path / "manifest.yaml"), "--data-dir", str(workspace / "data"),
               "--results", str(results), "--no-progress"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    staging = results / "tiny" / "smoke" / ".staging" / "loss-simple_baseline-mse"
    deadline = time.time() + 120
    while not (staging / "status.json").exists() and time.time() < deadline:
        time.sleep(0.2)
    assert (staging / "status.json").exists(), "training never started"
    os.killpg(process.pid, signal.SIGKILL)  # like a power loss: no clean-up at all
    process.wait()
    assert not (results / "tiny" / "smoke" / "loss-simple_baseline-mse").exists()
    build_report(results / "tiny", tmp_path / "reports", ["loss"], [], "smoke")  # nothing partial is aggregated
    assert "not run yet" in (tmp_path / "reports" / "smoke" / "README.md").read_text()

    (tmp_path / "manifest.yaml").write_text(MANIFEST)
    resumed = run(tmp_path / "manifest.yaml", "smoke", results_dir=results, data_dir=workspace / "data",
                  progress=False)
    assert {o.status for o in resumed} == {"ran"}
    assert not any((results / "tiny" / "smoke" / ".staging").glob("*"))


def test_epoch_bars_follow_the_staging_status_files(tmp_path):
    running, waiting = (Job(Experiment(f"loss-{name}", "loss", TrainConfig(epochs=3)), "0" * 16, tmp_path,
                            tmp_path / "smoke" / f"loss-{name}", "smoke") for name in ("a", "b"))
    running.staging.mkdir(parents=True)
    (running.staging / "status.json").write_text(json.dumps({"epoch": 2, "epochs": 3, "loss": 0.5}))
    with EpochBars([running, waiting]) as bars:
        deadline = time.time() + 30
        while getattr(bars.bars.get("loss-a"), "n", 0) != 2 and time.time() < deadline:
            time.sleep(0.1)
        assert (bars.bars["loss-a"].n, bars.bars["loss-a"].total) == (2, 3)
        assert "loss-b" not in bars.bars  # not started: no staging folder yet
        bars.finished("loss-a")
        assert not bars.bars


def test_the_smoke_profile_of_the_real_manifest_end_to_end(tmp_path):
    """experiments/manifest.yaml, profile smoke: every experiment through papermill, then the report
    with every table and figure the manifest lists (a few minutes on 2 cores)."""
    manifest = REPO / "experiments" / "manifest.yaml"
    outcomes = run(manifest, "smoke", results_dir=tmp_path / "results", data_dir=tmp_path / "data", progress=False)
    assert len(outcomes) == len(LoadedManifest(manifest).experiments("smoke"))
    # A baseline runs where the set-up could build its environment, and is skipped with the reason otherwise;
    # a setting that an earlier row already lists (the occlusion table's visible/visible/preserved) is shared.
    first = {}
    for experiment in LoadedManifest(manifest).experiments("smoke"):
        first.setdefault(experiment.config.model_dump_json(), experiment.id)
    expected = {o.id: "skipped" if o.id.startswith("baseline-") and missing_kernel("mediapipe_pose")
                else "ran" if o.id in first.values() else "shared" for o in outcomes}
    assert "shared" in expected.values()
    assert {o.id: o.status for o in outcomes} == expected, [(o.id, o.detail) for o in outcomes]
    lists = LoadedManifest(manifest).data
    index = build_report(tmp_path / "results" / "synthetic-smoke", tmp_path / "reports", lists.tables, lists.figures,
                         "smoke")
    folder = index.parent
    for table in lists.tables:
        assert (folder / "tables" / f"{table}.tex").exists()
    for figure in lists.figures:
        assert (folder / "figures" / f"{figure}.png").exists(), figure
    assert len(list((folder / "notebooks").glob("*.html"))) == sum(o.status in ("ran", "shared") for o in outcomes)
    assert "NOT comparable" in (folder / "README.md").read_text()


# The study's dataset as the manifest knows it, and the paper-size Simple Baseline (ResNet50) made
# small enough for the CPU: untrained, one epoch on two frames of 64 x 64.
REAL_MANIFEST = """\
datasets:
  real: {env: INFANT_POSE_REAL_DATA}
profiles:
  sample:
    dataset: real
    train: {variant: paper, pretrained: false, input_size: 64, epochs: 1, batch_size: 2, max_train_frames: 2,
            augment: false}
experiments:
  - group: loss
    grid: {model: [simple_baseline], loss: [kce]}
"""


def test_the_real_sample_through_the_whole_chain(tmp_path, sample_root):
    """The real layout (no truth/, no DomainShift, no synth.json) from `run` to `report` on the
    command line, as ./run_all.sh calls them, with every table and figure of experiments/manifest.yaml
    (and the claims where that command exists); no TensorFlow start-up notice reaches the console."""
    from benchmark.commands import COMMANDS

    study = LoadedManifest(REPO / "experiments" / "manifest.yaml").data
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(REAL_MANIFEST + yaml.safe_dump({"tables": study.tables, "figures": study.figures}))
    select = ["--profile", "sample", "--dataset", "real", "--manifest", str(manifest),
              "--results", str(tmp_path / "results")]
    env = {**os.environ, "INFANT_POSE_REAL_DATA": str(sample_root)}

    def benchmark(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "benchmark", *args], capture_output=True, text=True,
                              cwd=REPO, env=env)

    done = benchmark("run", *select)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    for noise in ("oneDNN", "absl::InitializeLog", "Traceback"):
        assert noise not in done.stderr, done.stderr[-2000:]
    name = dataset_name(LoadedManifest(manifest), "sample", data=sample_root)
    assert name.startswith("sample_data-") and f"results in {tmp_path / 'results' / name / 'sample'}" in done.stdout
    folder = tmp_path / "results" / name / "sample" / "loss-simple_baseline-kce"
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["config"]["variant"] == "paper" and not metrics["dataset"]["synthetic"]
    assert set(metrics["metrics"]["wa"]) == {"Valid", "Test"}
    assert all(set(scores) == {"annotation"} for scores in metrics["metrics"]["wa"].values())
    assert "oneDNN" in (folder / "kernel.log").read_text()  # kept, not shown

    done = benchmark("report", *select, "--out", str(tmp_path / "reports"))
    assert done.returncode == 0, done.stderr[-2000:]
    page = tmp_path / "reports" / name / "sample"
    readme = (page / "README.md").read_text()
    assert "real data" in readme and "NOT comparable" not in readme
    assert {"loss", "decoder", "audit"} <= {p.stem for p in (page / "tables").glob("*.tex")}
    assert {"training_curves", "pck_curves", "sample_predictions"} <= {p.stem for p in (page / "figures").glob("*.png")}
    assert "no DomainShift split" in readme and "real data has no exact truth" in readme
    if "claims" in COMMANDS:
        done = benchmark("claims", *select)
        assert done.returncode in (0, 1) and "Traceback" not in done.stderr, done.stderr[-2000:]
