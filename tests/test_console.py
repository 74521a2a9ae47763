"""The console of a command shows its own lines; TensorFlow's, absl's and tf2onnx's go to its log
(benchmark/common/console.py). Each command runs in a process of its own, as a user starts it, so
that native output on file descriptor 2 is what a terminal would show."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from test_export import frames, trained_folder
from test_labelling_simulation import LABELLING_ONLY

from benchmark.common.console import ENV, PACKAGE

REPO = Path(__file__).resolve().parents[1]
# What a library's line looks like: Python logging's and absl's prefixes, the notices named in issue 36.
THIRD_PARTY = re.compile(r"^(WARNING|INFO|ERROR|[WIEF]\d{4} )|absl|tf2onnx|deprecat|oneDNN|XNNPACK|"
                         r"Instructions for updating", re.M | re.I)


def benchmark(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """``python -m benchmark ARGS`` in ``tmp_path`` as a user runs it: its logs in the default ``logs/`` there."""
    env = {**{k: v for k, v in os.environ.items() if k != ENV}, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "benchmark", *args], capture_output=True, text=True, cwd=tmp_path,
                          env=env, timeout=600)


def assert_quiet(done: subprocess.CompletedProcess, folder: Path, command: str) -> str:
    """The command succeeded and showed no library's line; where the libraries said something, it
    named its log (``logs/<command>.log`` in ``folder``, where it ran). Returns the log's text."""
    console = done.stdout + done.stderr
    assert done.returncode == 0, console[-3000:]
    assert THIRD_PARTY.search(console) is None, console[-3000:]
    log = folder / "logs" / f"{command}.log"
    named = f"(messages of TensorFlow and the other libraries: logs/{command}.log)" in done.stderr
    assert named == log.is_file(), done.stderr[-3000:]
    return log.read_text() if named else ""


def test_the_libraries_lines_go_to_the_log_and_ours_stay_on_the_console(tmp_path):
    """Native output, a library's logging and a library's warning go to the log; this package's
    prints and warnings reach the console; everything is as before once the block ends."""
    library = tmp_path / "library.py"
    library.write_text("import warnings\ndef call():\n    warnings.warn('a library is deprecated', DeprecationWarning)\n")
    script = textwrap.dedent(f"""
        import logging, os, sys, warnings
        sys.path.insert(0, {str(tmp_path)!r})
        import library
        from benchmark.commands import one_line
        from benchmark.common.console import libraries_to_log
        warnings.formatwarning = one_line
        warnings.simplefilter("always")
        with libraries_to_log({str(tmp_path / "logs" / "x.log")!r}):
            os.write(2, b"native line from C++\\n")
            logging.getLogger("tensorflow").warning("extract_sub_graph is deprecated")
            library.call()
            exec(compile("import warnings; warnings.warn('our own warning')", {PACKAGE!r} + "/x.py", "exec"))
            print("our own line", file=sys.stderr)
        print("after the block", file=sys.stderr)
        os.write(2, b"native after the block\\n")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == ["UserWarning: our own warning", "our own line",
                                        f"(messages of TensorFlow and the other libraries: {tmp_path}/logs/x.log)",
                                        "after the block", "native after the block"]
    log = (tmp_path / "logs" / "x.log").read_text()
    assert "native line from C++" in log and "WARNING:tensorflow:extract_sub_graph is deprecated" in log
    assert "DeprecationWarning: a library is deprecated" in log and "our own" not in log


def test_an_empty_log_is_not_kept_or_named_and_an_unwritable_one_stops_nothing(tmp_path):
    done = benchmark(tmp_path, "run", "--help")
    assert done.returncode == 0 and "messages of" not in done.stderr and not (tmp_path / "logs").exists()
    (tmp_path / "logs").write_text("a file where the folder would be")
    done = benchmark(tmp_path, "run", "--help")
    assert done.returncode == 0 and "usage: python -m benchmark run" in done.stdout
    assert "UserWarning: logs/run.log: cannot write the libraries' log" in done.stderr


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> tuple[Path, Path]:
    """A tiny untrained model's experiment folder and a folder of pictures to run it on."""
    from PIL import Image

    root = tmp_path_factory.mktemp("console")
    pictures = root / "pictures"
    pictures.mkdir()
    for i, image in enumerate(frames(4)):
        Image.fromarray(image).save(pictures / f"frame_{i}.png")
    return trained_folder(root, "simple_baseline"), pictures


@pytest.mark.parametrize("fmt, notice", [("onnx", "extract_sub_graph"), ("tflite", "deprecated conversion path")])
def test_export_shows_no_library_line(tmp_path, model, fmt, notice):
    folder, pictures = model
    out = tmp_path / f"model.{fmt}"
    done = benchmark(tmp_path, "export", "--model", str(folder), "--format", fmt, "--calibration", str(pictures),
                     "--out", str(out))
    log = assert_quiet(done, tmp_path, "export")
    assert f"wrote {out}" in done.stdout and notice in log  # the notice the issue saw, kept in the log


def test_predict_and_doctor_show_no_library_line(tmp_path, model):
    folder, pictures = model
    done = benchmark(tmp_path, "predict", "--model", str(folder), "--input", str(pictures), "--out",
                     str(tmp_path / "predicted"), "--no-overlay")
    assert_quiet(done, tmp_path, "predict")
    assert "wrote keypoints.csv" in done.stdout and "predict:" in done.stderr  # its own progress bar stays
    done = benchmark(tmp_path, "doctor")
    assert_quiet(done, tmp_path, "doctor")
    assert "backend devices" in done.stdout


@pytest.mark.slow
def test_run_on_the_real_sample_exits_0_and_shows_no_library_line(tmp_path, sample_root):
    """The chance level runs (its notebook's kernel, TensorFlow asked for the summary line), the
    labelling simulation is not run for want of exact truth, and the run succeeds."""
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(LABELLING_ONLY.replace("experiments:\n", "experiments:\n  - group: reference\n"
                                               "    kind: reference\n    rows: [{reference: mean_pose}]\n"))
    done = benchmark(tmp_path, "run", "--manifest", str(manifest), "--profile", "sample", "--data", str(sample_root),
                     "--no-progress")
    assert_quiet(done, tmp_path, "run")
    assert re.search(r"reference-mean_pose +ran", done.stdout), done.stdout
    assert "skipped labelling-random: not applicable to this dataset: no synth.json" in done.stdout
