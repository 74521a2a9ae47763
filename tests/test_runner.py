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

import pandas as pd
import pytest
import yaml

from conftest import render_report, run_manifest

from benchmark.common.metrics_file import read_metrics
from benchmark.evidence.sources import PredictionsSource
from benchmark.models import register_model
from benchmark.runner.execute import EpochBars, Job, missing_kernel
from benchmark.report.results import load_results
from benchmark.runner.manifest import REPO, Experiment, LoadedManifest
from benchmark.runner.plan import PlanError
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
    outcomes = run_manifest(root / "manifest.yaml", "smoke", results_dir=root / "results", data_dir=root / "data",
                            **kwargs)
    return {o.id: o.status for o in outcomes}


@pytest.fixture(scope="module")
def first_run(workspace):
    return _run(workspace)


@pytest.mark.slow
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


@pytest.mark.slow
def test_report_renders_from_the_results(workspace, first_run, tmp_path):
    index = render_report(workspace / "manifest.yaml", "smoke", workspace / "results", tmp_path,
                          ["loss", "decoder", "truth"], ["training_curves", "pck_curves"])
    html = index.read_text()
    assert "simple_baseline" in html and "notebooks/loss-simple_baseline-kce.html" in html
    assert (index.parent / "tables" / "loss.tex").read_text().count("\\midrule") >= 1


@pytest.mark.slow
def test_second_run_is_cached(workspace, first_run):
    started = time.perf_counter()
    assert set(_run(workspace).values()) == {"cached"}
    print(f"cached rerun: {time.perf_counter() - started:.1f} s")


@pytest.mark.slow
def test_an_added_row_trains_alone(workspace, first_run):
    manifest = workspace / "manifest.yaml"
    manifest.write_text(MANIFEST.replace("loss: [mse, kce]", "loss: [mse, kce, bce]"))
    try:
        assert _run(workspace) == {"loss-simple_baseline-mse": "cached", "loss-simple_baseline-kce": "cached",
                                   "loss-simple_baseline-bce": "ran"}
    finally:
        manifest.write_text(MANIFEST)


@pytest.mark.slow
def test_an_added_seed_trains_that_seed_alone(workspace, first_run):
    assert _run(workspace, only="kce", seeds=[0, 1]) == {"loss-simple_baseline-kce": "cached",
                                                         "loss-simple_baseline-kce-s1": "ran"}
    record = json.loads((workspace / "results" / "tiny" / "smoke" / "loss-simple_baseline-kce-s1" / "metrics.json").read_text())
    assert record["config"]["seed"] == 1
    shutil.rmtree(workspace / "results" / "tiny" / "smoke" / "loss-simple_baseline-kce-s1")  # the other tests count folders


@pytest.mark.slow
def test_a_higher_max_epochs_goes_on_from_the_cached_shorter_run(tmp_path):
    """Raising the cap resumes the cached result (its model, optimizer and record) instead of training
    from the start; --force trains from the start."""
    text = MANIFEST.replace("epochs: 1,", "epochs: 1, max_epochs: 1,").replace("loss: [mse, kce]", "loss: [kce]")
    (tmp_path / "manifest.yaml").write_text(text)
    folder = tmp_path / "results" / "tiny" / "smoke" / "loss-simple_baseline-kce"
    assert _run(tmp_path) == {"loss-simple_baseline-kce": "ran"}
    assert json.loads((folder / "metrics.json").read_text())["epochs_run"] == 1
    (tmp_path / "manifest.yaml").write_text(text.replace("max_epochs: 1,", "max_epochs: 2,"))
    assert _run(tmp_path) == {"loss-simple_baseline-kce": "ran"}
    resumed = json.loads((folder / "metrics.json").read_text())
    assert resumed["resumed_from"] == {"experiment": "loss-simple_baseline-kce", "epochs": 1}
    assert resumed["epochs_run"] == 2 and list(pd.read_csv(folder / "history.csv")["epoch"]) == [1, 2]
    assert _run(tmp_path) == {"loss-simple_baseline-kce": "cached"}
    assert _run(tmp_path, force=True) == {"loss-simple_baseline-kce": "ran"}
    again = json.loads((folder / "metrics.json").read_text())
    assert again["resumed_from"] is None and again["epochs_run"] == 2


@pytest.mark.slow
def test_stale_folders_change_no_verdict_table_or_prediction_and_broken_inputs_exit_2(tmp_path, workspace, first_run):
    """The run plan reads only its experiments with its settings: a folder of an older manifest with
    the same settings, a seed no run asked for and a folder of other settings are named as ignored
    and change nothing, for `claims`, `report` and `predict` alike; a broken claims file or results
    file is exit status 2 naming the file."""
    results = tmp_path / "results"
    shutil.copytree(workspace / "results", results)
    base = results / "tiny" / "smoke"
    frames = tmp_path / "frames"
    frames.mkdir()
    for image in sorted((workspace / "data" / "tiny" / "Test" / "img").glob("*.jpg"))[:2]:
        shutil.copy(image, frames)
    plan = ["--manifest", str(workspace / "manifest.yaml"), "--profile", "smoke", "--results", str(results)]

    def benchmark(*args):
        return subprocess.run([sys.executable, "-m", "benchmark", *map(str, args)], capture_output=True, text=True,
                              cwd=REPO)

    def outputs(tag):
        claims = benchmark("claims", *plan)
        report = benchmark("report", *plan, "--out", tmp_path / f"reports-{tag}", "--force")
        predict = benchmark("predict", *plan, "--model", "loss-simple_baseline-kce", "--input", frames,
                            "--out", tmp_path / f"predict-{tag}", "--no-overlay", "--no-flip")
        for done in (claims, report, predict):
            assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-2000:]
        tables = tmp_path / f"reports-{tag}" / "tiny" / "smoke" / "tables"
        return (claims, report, predict, {name: (tables / f"{name}.csv").read_text() for name in ("loss", "decoder",
                "truth")}, (tmp_path / f"predict-{tag}" / "keypoints.csv").read_text())

    def ignored(stderr: str) -> set[str]:
        """The folders a command said it ignored."""
        line = next((line for line in stderr.splitlines() if "not in this plan" in line), "")
        return set(line.split("ignored: ")[1].split(", ")) if line else set()

    before = outputs("before")
    # planted: an older manifest's id of the same setting, a seed nobody asked for, other settings
    for name, change in (("loss-simple_baseline-kce-v1", {}), ("loss-simple_baseline-kce-s7", {"seed": 7}),
                         ("loss-simple_baseline-mse-s9", {"seed": 9, "input_size": 128})):
        shutil.copytree(base / name.rsplit("-", 1)[0], base / name)
        metrics = json.loads((base / name / "metrics.json").read_text())
        metrics["config"].update(change)
        (base / name / "metrics.json").write_text(json.dumps(metrics))
    after = outputs("after")
    assert after[3] == before[3] and after[4] == before[4]  # the same tables, verdicts and keypoints
    assert [line for line in after[0].stdout.splitlines()] == [line for line in before[0].stdout.splitlines()]
    planted = {"loss-simple_baseline-kce-v1", "loss-simple_baseline-kce-s7", "loss-simple_baseline-mse-s9"}
    for done, earlier in zip(after[:3], before[:3]):  # (other tests may have left a row of their own)
        assert "not in this plan" in done.stderr, done.stderr
        assert ignored(done.stderr) - ignored(earlier.stderr) == planted
    problems = (tmp_path / "reports-after" / "tiny" / "smoke" / "tables" / "problems.csv").read_text()
    assert problems.count("ignored") == len(ignored(after[0].stderr))
    # a seed that a run asks for is part of the plan from then on
    assert {o.id: o.status for o in run_manifest(workspace / "manifest.yaml", "smoke", results, workspace / "data",
                                                 only="kce", seeds=[7])} == {"loss-simple_baseline-kce-s7": "ran"}
    assert "loss-simple_baseline-kce-s7" not in ignored(benchmark("claims", *plan).stderr)

    broken = tmp_path / "claims.yaml"
    broken.write_text((REPO / "experiments" / "claims.yaml").read_text().replace("  direction: greater", "  direction: up", 1))
    for command in ("claims", "report"):
        done = benchmark(command, *plan, "--claims", broken, *(["--out", tmp_path / "r"] if command == "report" else []))
        assert done.returncode == 2 and f"{broken}:" in done.stderr and "Traceback" not in done.stderr, done.stderr
    (base / "loss-simple_baseline-mse" / "metrics.json").write_text("{\"config\": ")
    for command in ("claims", "report"):
        done = benchmark(command, *plan, *(["--out", tmp_path / "r2"] if command == "report" else []))
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert f"{base / 'loss-simple_baseline-mse' / 'metrics.json'}: not valid JSON" in done.stderr


@pytest.mark.slow
def test_only_and_force(workspace, first_run):
    assert _run(workspace, only="*-kce", force=True) == {"loss-simple_baseline-kce": "ran"}
    with pytest.raises(PlanError, match="matches no experiment"):
        _run(workspace, only="nothing-like-this")


@pytest.mark.slow
def test_a_setting_listed_twice_trains_once(tmp_path, workspace, first_run):
    doc = yaml.safe_load(MANIFEST)
    doc["experiments"] = [{"group": "loss", "rows": [{"model": "simple_baseline", "loss": "kce"}]},
                          {"group": "again", "base": {"model": "simple_baseline"}, "rows": [{"loss": "kce"}]}]
    (tmp_path / "manifest.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))

    def outcomes(**kwargs):
        return {o.id: o for o in run_manifest(tmp_path / "manifest.yaml", "smoke", results_dir=tmp_path / "results",
                                              data_dir=workspace / "data", **kwargs)}

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


@pytest.mark.slow
def test_a_deferred_experiment_is_not_run_and_its_claims_say_why(tmp_path, workspace, first_run):
    doc = yaml.safe_load(MANIFEST)
    doc["profiles"]["smoke"]["defer"] = {"*-mse": "9 minutes here"}
    (tmp_path / "manifest.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    outcomes = run_manifest(tmp_path / "manifest.yaml", "smoke", results_dir=tmp_path / "results",
                            data_dir=workspace / "data")
    assert {o.id: o.status for o in outcomes} == {"loss-simple_baseline-mse": "skipped",
                                                  "loss-simple_baseline-kce": "ran"}
    record = (outcomes[0].folder / "SKIPPED.json").read_bytes()
    skipped = json.loads(record)
    assert skipped["reason"] == "deferred in profile 'smoke': 9 minutes here" and skipped["config"]["loss"] == "mse"
    # a second run leaves the record as it is (a report of these results stays up to date)
    again = run_manifest(tmp_path / "manifest.yaml", "smoke", results_dir=tmp_path / "results",
                         data_dir=workspace / "data")
    assert {o.id: o.status for o in again} == {"loss-simple_baseline-mse": "skipped",
                                               "loss-simple_baseline-kce": "cached"}
    assert (outcomes[0].folder / "SKIPPED.json").read_bytes() == record
    results = load_results(outcomes[0].folder.parent)
    source = PredictionsSource([], not_run=[(p.config, p.error) for p in results.problems])
    with pytest.raises(LookupError, match=r"loss-simple_baseline-mse was not run \(deferred in profile 'smoke'"):
        source.cell({"group": "loss", "loss": "mse"}, "Test", "pck@0.1")


@register_model("unknown_to_the_kernel")
def _only_here(*args, **kwargs):
    raise AssertionError("never built in this process")


@pytest.mark.slow
def test_a_broken_experiment_is_reported_and_the_others_finish(tmp_path, workspace, first_run):
    # Registered in this process only: the manifest validates, but the notebook's kernel fails.
    (tmp_path / "manifest.yaml").write_text(
        MANIFEST.replace("model: [simple_baseline]", "model: [unknown_to_the_kernel, simple_baseline]")
        .replace("loss: [mse, kce]", "loss: [mse]"))
    outcomes = run_manifest(tmp_path / "manifest.yaml", "smoke", results_dir=tmp_path / "results",
                            data_dir=workspace / "data")
    status = {o.id: o for o in outcomes}
    assert status["loss-unknown_to_the_kernel-mse"].status == "failed"
    assert "unknown_to_the_kernel" in status["loss-unknown_to_the_kernel-mse"].detail
    assert status["loss-simple_baseline-mse"].status == "ran"
    failed = tmp_path / "results" / "tiny" / "smoke" / "loss-unknown_to_the_kernel-mse"
    assert (failed / "notebook.ipynb").exists() and (failed / "FAILED.json").exists()
    assert not (failed / "COMPLETE.json").exists()
    # It is retried next time, and the finished one is not.
    again = {o.id: o.status for o in run_manifest(tmp_path / "manifest.yaml", "smoke", results_dir=tmp_path / "results",
                                                  data_dir=workspace / "data")}
    assert again == {"loss-unknown_to_the_kernel-mse": "failed", "loss-simple_baseline-mse": "cached"}


@pytest.mark.slow
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


@pytest.mark.slow
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
    index = render_report(tmp_path / "manifest.yaml", "smoke", results, tmp_path / "reports", ["loss"], [])
    assert "not run yet" in (index.parent / "README.md").read_text()  # nothing partial is aggregated

    (tmp_path / "manifest.yaml").write_text(MANIFEST)
    resumed = run_manifest(tmp_path / "manifest.yaml", "smoke", results_dir=results, data_dir=workspace / "data")
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


@pytest.mark.slow
def test_the_smoke_profile_of_the_real_manifest_end_to_end(tmp_path):
    """experiments/manifest.yaml, profile smoke: every experiment through papermill, then the report
    with every table and figure the manifest lists (a few minutes on 2 cores)."""
    manifest = REPO / "experiments" / "manifest.yaml"
    outcomes = run_manifest(manifest, "smoke", results_dir=tmp_path / "results", data_dir=tmp_path / "data")
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
    # every metrics.json the run wrote follows the schema (docs/RESULTS.md), of every kind
    written = sorted((tmp_path / "results").glob("*/*/*/metrics.json"))
    assert {read_metrics(path.parent).get("kind", "train") for path in written} >= {"train", "reference"}
    assert len(written) == sum(o.status in ("ran", "shared") for o in outcomes)
    assert json.loads((tmp_path / "results" / "synthetic-smoke" / "smoke" / "occlusion-visible-occluded-omitted" /
                       "metrics.json").read_text())["trained_by"] == "occlusion-visible-visible-omitted"
    lists = LoadedManifest(manifest).data
    index = render_report(manifest, "smoke", tmp_path / "results", tmp_path / "reports", lists.tables, lists.figures)
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


@pytest.mark.slow
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
    name = next((tmp_path / "results").iterdir()).name
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
