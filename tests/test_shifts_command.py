"""``python -m benchmark shifts``: a trained experiment on freshly generated videos of every named shift."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark.commands import main
from benchmark.evidence.shifts import shift_scores, shift_videos
from benchmark.data.info import synthetic_shifts
from benchmark.data.synth import generate_dataset
from benchmark.data.synth.style import SHIFTS
from benchmark.training.config import TrainConfig
from benchmark.training.train import train

CONFIG = TrainConfig(model="simple_baseline", loss="kce", input_size=64, epochs=1, batch_size=8, framing="body")

pytestmark = pytest.mark.slow  # generates videos and evaluates a trained model on them


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic") / "data"
    generate_dataset(root, videos=4, frames_per_video=3, size=96, domain_shift_videos=1, progress=False)
    out = tmp_path_factory.mktemp("results") / "tiny-kce"
    train(CONFIG, root, out, progress=False)
    return out


def summary(experiment) -> dict:
    return json.loads((experiment / "metrics.json").read_text())


def test_scores_every_shift_on_new_videos_against_the_experiments_test(experiment, tmp_path):
    root = shift_videos(Path(summary(experiment)["dataset"]["root"]), 2, 11, tmp_path)
    assert root.parent == tmp_path and sorted(synthetic_shifts(root).values()) == sorted(2 * list(SHIFTS))
    settings = json.loads((root / "synth.json").read_text())
    assert (settings["size"], settings["frames_per_video"], settings["seed"]) == (96, 3, 11)  # like the source
    table = shift_scores(experiment, root)
    assert list(table["shift"]) == list(SHIFTS) and (table["videos"] == 2).all()
    test = summary(experiment)["metrics"]["wa"]["Test"]["annotation"]["pck@0.1"]
    assert (table["Test"] == test).all()
    expected = table["pck@0.1"] / test if test else np.full(len(table), np.nan)
    np.testing.assert_allclose(table["kept"], expected)
    assert ((table["low"] <= table["pck@0.1"]) & (table["pck@0.1"] <= table["high"])).all()


def test_command_prints_the_table_and_reuses_the_generated_videos(experiment, tmp_path, capsys):
    args = ["shifts", str(experiment), str(experiment), "--videos-per-shift", "1", "--data-dir", str(tmp_path / "data")]
    assert main(args + ["--csv", str(tmp_path / "out" / "shifts.csv")]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in SHIFTS) and "mean share of Test kept" in out
    written = pd.read_csv(tmp_path / "out" / "shifts.csv")
    assert list(written["shift"]) == 2 * list(SHIFTS) and (written["experiment"] == experiment.name).all()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["shifts.csv"]  # no temporary left
    (folder,) = (tmp_path / "data").iterdir()
    stamp = (folder / "synth.json").stat().st_mtime_ns
    assert main(args) == 0 and (folder / "synth.json").stat().st_mtime_ns == stamp
    settings = json.loads((folder / "synth.json").read_text())
    (folder / "synth.json").write_text(json.dumps({**settings, "version": "0.0.1"}))  # an older generator's
    assert main(args) == 0 and json.loads((folder / "synth.json").read_text())["version"] == settings["version"]


def test_refuses_experiments_of_different_or_real_datasets(experiment, tmp_path, capsys):
    other = tmp_path / "other"
    other.mkdir()
    moved = summary(experiment)
    moved["dataset"]["root"] = str(tmp_path / "real")
    (other / "metrics.json").write_text(json.dumps(moved))
    assert main(["shifts", str(experiment), str(other), "--data-dir", str(tmp_path)]) == 2
    assert "different datasets" in capsys.readouterr().err
    assert main(["shifts", str(other), "--data-dir", str(tmp_path)]) == 2
    assert "not a synthetic one" in capsys.readouterr().err
    assert main(["shifts", str(tmp_path), "--data-dir", str(tmp_path)]) == 2
    assert "not a finished experiment" in capsys.readouterr().err
