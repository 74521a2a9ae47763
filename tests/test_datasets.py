"""Which dataset a run uses and the folder its results go to (the run plan of run, report and
./run_all.sh); the image check before training; the report's exit status without results; quiet
output (one-line warnings, no backend start-up notices)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from benchmark.data.info import check_images
from benchmark.data.labelme import AnnotationError, load_dataset
from benchmark.runner.datasets import resolve_dataset
from benchmark.runner.manifest import REPO, LoadedManifest, ManifestError
from benchmark.runner.plan import PlanError, plan
from benchmark.runner.snapshot import files_state, write_snapshot

MANIFEST = """\
datasets:
  made: {synthetic: {videos: 3, frames_per_video: 2, size: 64}}
  fixed: {path: somewhere}
  real: {env: TEST_REAL_DATA}
profiles:
  quick: {dataset: made}
  outside: {dataset: real}
experiments: []
"""


@pytest.fixture
def manifest(tmp_path) -> LoadedManifest:
    (tmp_path / "manifest.yaml").write_text(MANIFEST)
    return LoadedManifest(tmp_path / "manifest.yaml")


@pytest.fixture
def dataset(tmp_path, write_frame):
    for split in ("Train", "Valid", "Test"):
        write_frame(stem="007_00000001", split=split, root=tmp_path / "my_data")
    return tmp_path / "my_data"


def test_a_dataset_of_the_manifest_is_named_by_its_entry(manifest, tmp_path):
    assert plan(manifest.path, "quick").name == "made"
    assert plan(manifest.path, "quick", dataset="fixed").results == (Path("results") / "fixed" / "quick").resolve()
    with pytest.raises(ManifestError, match="--dataset nope: neither a dataset of .*made, fixed, real"):
        plan(manifest.path, "quick", dataset="nope", results=tmp_path)


def test_a_root_from_outside_is_named_by_folder_and_fingerprint(manifest, dataset, tmp_path, monkeypatch):
    fingerprint = load_dataset(dataset).fingerprint()
    results = tmp_path / "results"

    def name(**options):
        return plan(manifest.path, results=results, run=True, **options).name

    assert name(profile="quick", data=dataset) == f"my_data-{fingerprint[:8]}"
    # the real entry: its root from the environment or --data, the same name either way
    with pytest.raises(ManifestError, match=r"manifest.yaml:4: .*TEST_REAL_DATA, which is not set.*--data PATH"):
        name(profile="outside")
    assert name(profile="outside", data=dataset) == f"my_data-{fingerprint[:8]}"
    monkeypatch.setenv("TEST_REAL_DATA", str(dataset))
    assert name(profile="quick", dataset="real") == f"my_data-{fingerprint[:8]}"
    assert resolve_dataset(manifest, "outside") == dataset
    # a changed file is another dataset: its results are kept apart
    copy = shutil.copytree(dataset, tmp_path / "copy" / "my_data")
    (copy / "Test" / "ann" / "007_00000001.json").write_text(
        (copy / "Test" / "ann" / "007_00000001.json").read_text().replace('"flags": {}', '"flags": {"x": true}', 1))
    assert name(profile="quick", data=copy).startswith("my_data-")
    assert name(profile="quick", data=copy) != name(profile="quick", data=dataset)
    monkeypatch.setenv("TEST_REAL_DATA", str(tmp_path / "gone"))
    with pytest.raises(FileNotFoundError, match="TEST_REAL_DATA=.*gone: no such dataset folder"):
        resolve_dataset(manifest, "outside")


def test_reading_results_never_reads_the_dataset(manifest, dataset, tmp_path, monkeypatch):
    """report and claims find a root's results by what the run recorded beside them, so the images
    are not hashed again (the run itself reuses a recorded name while the files are unchanged)."""
    results = tmp_path / "results"
    with pytest.raises(PlanError, match="no results of the dataset .*my_data.*run `python -m benchmark run`"):
        plan(manifest.path, "quick", data=dataset, results=results)
    ran = plan(manifest.path, "quick", data=dataset, results=results, run=True)
    write_snapshot(load_dataset(dataset), ran.name[-8:], ran.results, files_state(dataset), progress=False)
    monkeypatch.setattr("benchmark.data.labelme.load_dataset", lambda *a, **k: pytest.fail("the dataset was read"))
    assert plan(manifest.path, "quick", data=dataset, results=results).results == ran.results
    assert plan(manifest.path, "quick", dataset=ran.name, results=results).results == ran.results
    assert plan(manifest.path, "quick", data=dataset, results=results, run=True).name == ran.name


def test_the_check_decodes_every_image_and_names_the_broken_ones(dataset):
    assert check_images(load_dataset(dataset)) == 3
    broken = dataset / "Valid" / "img" / "007_00000001.jpg"
    data = broken.read_bytes()
    broken.write_bytes(data[:len(data) // 2])  # truncated: the header still reads
    loaded = load_dataset(dataset)  # reading looks at headers only
    with pytest.raises(AnnotationError, match=r"1 of 3 images .*\n.*Valid/img/007_00000001.jpg: image: cannot decode"):
        check_images(loaded)
    done = subprocess.run([sys.executable, "-m", "benchmark", "info", str(dataset)], capture_output=True,
                          text=True, cwd=REPO)
    assert done.returncode == 2 and "007_00000001.jpg" in done.stderr and "Traceback" not in done.stderr


def test_a_report_without_finished_experiments_fails_naming_the_folder(tmp_path, capsys):
    from benchmark.commands import main

    (tmp_path / "manifest.yaml").write_text(MANIFEST)
    status = main(["report", "--manifest", str(tmp_path / "manifest.yaml"), "--results", str(tmp_path / "results"),
                   "--out", str(tmp_path / "reports")])
    assert status == 2
    expected = tmp_path / "results" / "made" / "quick"
    assert f"no finished experiment of this plan in {expected.resolve()}" in capsys.readouterr().err
    assert not (tmp_path / "reports").exists()


def test_warnings_print_one_line():
    from benchmark.commands import one_line

    with warnings.catch_warnings():
        warnings.formatwarning = one_line
        text = warnings.formatwarning("a.json: shapes: ignoring unknown labels", UserWarning, "x.py", 3, "_warn()")
    assert text == "UserWarning: a.json: shapes: ignoring unknown labels\n"


def test_run_all_passes_every_option_to_one_run_that_renders_the_report(tmp_path):
    """./run_all.sh with a stand-in for `python`: one `run --report` call gets the options as given
    (the run and its report resolve one plan), and its exit status is the script's."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO / "run_all.sh", tmp_path)
    (tmp_path / "scripts" / "bootstrap.sh").write_text('python() { echo "$*" >> calls.txt; return "${RUN_STATUS:-0}"; }\n')
    options = ["--data", "../shared/sample_data", "--profile", "smoke", "--results=/tmp/r", "--only", "kce",
               "--force", "--manifest", "m.yaml", "--dataset", "real"]
    for run_status in ("0", "1", "2"):
        (tmp_path / "calls.txt").unlink(missing_ok=True)
        done = subprocess.run(["bash", str(tmp_path / "run_all.sh"), *options], capture_output=True, text=True,
                              env={**os.environ, "RUN_STATUS": run_status})
        assert done.returncode == int(run_status), done.stderr
        assert (tmp_path / "calls.txt").read_text().splitlines() == ["-m benchmark run --report " + " ".join(options)]


def test_backend_start_up_notices_are_dropped_and_other_lines_kept(capfd):
    from benchmark.common.environment import quiet_backend_start_up

    with quiet_backend_start_up():
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
                    b"I0000 port.cc:153] oneDNN custom operations are on. You may see...\n"
                    b"E0000 cuda_dnn.cc:1] a real problem\n")
    err = capfd.readouterr().err
    assert "oneDNN" not in err and "absl" not in err and "a real problem" in err


@pytest.mark.parametrize("command", [["doctor"], ["predict", "--help"], ["shifts", "--help"]])
def test_no_backend_start_up_notice_reaches_a_commands_output(command):
    done = subprocess.run([sys.executable, "-m", "benchmark", *command], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    for noise in ("oneDNN", "absl::InitializeLog", "Traceback"):
        assert noise not in done.stdout + done.stderr, (noise, done.stderr[-2000:])
