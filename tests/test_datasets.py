"""Which dataset a run uses and the folder its results go to (run, report, ./run_all.sh); the image
check before training; the report's exit status without results; quiet output (one-line warnings,
no backend start-up notices)."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import warnings

import pytest

from benchmark.data.info import check_images
from benchmark.data.labelme import AnnotationError, load_dataset
from benchmark.runner.datasets import dataset_name, resolve_dataset
from benchmark.runner.manifest import REPO, LoadedManifest, ManifestError

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


def test_a_dataset_of_the_manifest_is_named_by_its_entry(manifest):
    assert dataset_name(manifest, "quick") == "made"
    assert dataset_name(manifest, "quick", dataset="fixed") == "fixed"
    with pytest.raises(ManifestError, match="unknown dataset 'nope'.*made, fixed, real"):
        dataset_name(manifest, "quick", dataset="nope")


def test_a_root_from_outside_is_named_by_folder_and_fingerprint(manifest, dataset, tmp_path, monkeypatch):
    fingerprint = load_dataset(dataset).fingerprint()
    assert dataset_name(manifest, "quick", data=dataset) == f"my_data-{fingerprint[:8]}"
    # the real entry: its root from the environment or --data, the same name either way
    with pytest.raises(ManifestError, match=r"manifest.yaml:4: .*TEST_REAL_DATA, which is not set.*--data PATH"):
        dataset_name(manifest, "outside")
    assert dataset_name(manifest, "outside", data=dataset) == f"my_data-{fingerprint[:8]}"
    monkeypatch.setenv("TEST_REAL_DATA", str(dataset))
    assert dataset_name(manifest, "quick", dataset="real") == f"my_data-{fingerprint[:8]}"
    assert resolve_dataset(manifest, "outside") == dataset
    # a changed file is another dataset: its results are kept apart
    copy = shutil.copytree(dataset, tmp_path / "copy" / "my_data")
    (copy / "Test" / "ann" / "007_00000001.json").write_text(
        (copy / "Test" / "ann" / "007_00000001.json").read_text().replace('"flags": {}', '"flags": {"x": true}', 1))
    assert dataset_name(manifest, "quick", data=copy).startswith("my_data-")
    assert dataset_name(manifest, "quick", data=copy) != dataset_name(manifest, "quick", data=dataset)
    monkeypatch.setenv("TEST_REAL_DATA", str(tmp_path / "gone"))
    with pytest.raises(FileNotFoundError, match="TEST_REAL_DATA=.*gone: no such dataset folder"):
        resolve_dataset(manifest, "outside")


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


def test_a_report_without_finished_experiments_fails_naming_the_folder(tmp_path, dataset, capsys):
    from benchmark.commands import report

    (tmp_path / "manifest.yaml").write_text(MANIFEST)
    parser = argparse.ArgumentParser()
    report.configure(parser)
    args = parser.parse_args(["--manifest", str(tmp_path / "manifest.yaml"), "--data", str(dataset),
                              "--results", str(tmp_path / "results"), "--out", str(tmp_path / "reports")])
    assert report.main(args) == 1
    expected = tmp_path / "results" / dataset_name(LoadedManifest(tmp_path / "manifest.yaml"), "quick", data=dataset)
    assert f"no finished experiment in {expected / 'quick'}" in capsys.readouterr().err
    assert not (tmp_path / "reports").exists()


def test_warnings_print_one_line():
    from benchmark.commands import one_line

    with warnings.catch_warnings():
        warnings.formatwarning = one_line
        text = warnings.formatwarning("a.json: shapes: ignoring unknown labels", UserWarning, "x.py", 3, "_warn()")
    assert text == "UserWarning: a.json: shapes: ignoring unknown labels\n"


def test_run_all_gives_report_the_options_that_say_where_the_results_are(tmp_path):
    """./run_all.sh with a stand-in for `python`: `report` reads what `run` wrote, and the exit
    status is run's failure, else report's."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO / "run_all.sh", tmp_path)
    (tmp_path / "scripts" / "bootstrap.sh").write_text(
        'python() { echo "$*" >> calls.txt; [ "$3" = run ] && return "${RUN_STATUS:-0}"; return 3; }\n')
    options = ["--data", "../shared/sample_data", "--profile", "smoke", "--results=/tmp/r", "--only", "kce",
               "--force", "--manifest", "m.yaml", "--dataset", "real"]
    for run_status, expected in (("0", 3), ("1", 1)):
        (tmp_path / "calls.txt").unlink(missing_ok=True)
        done = subprocess.run(["bash", str(tmp_path / "run_all.sh"), *options], capture_output=True, text=True,
                              env={**os.environ, "RUN_STATUS": run_status})
        assert done.returncode == expected, done.stderr
        run, report = (tmp_path / "calls.txt").read_text().splitlines()
        assert run == "-m benchmark run " + " ".join(options)
        assert report == ("-m benchmark report --data ../shared/sample_data --profile smoke --results=/tmp/r "
                          "--manifest m.yaml --dataset real")


def test_backend_start_up_notices_are_dropped_and_other_lines_kept(capfd):
    from benchmark.common.environment import quiet_backend_start_up

    with quiet_backend_start_up():
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
                    b"I0000 port.cc:153] oneDNN custom operations are on. You may see...\n"
                    b"E0000 cuda_dnn.cc:1] a real problem\n")
    err = capfd.readouterr().err
    assert "oneDNN" not in err and "absl" not in err and "a real problem" in err
