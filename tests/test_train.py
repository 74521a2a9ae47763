"""One training run: outputs, determinism, and a clean stop on a diverging loss."""

import json

import keras
import numpy as np
import pandas as pd
import pytest

from benchmark import train as train_module
from benchmark.config import TrainConfig
from benchmark.synth import generate_dataset
from benchmark.train import TrainingDiverged, train

CONFIG = TrainConfig(model="simple_baseline", loss="kce", input_size=64, epochs=2, batch_size=8)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic") / "data"
    generate_dataset(root, videos=4, frames_per_video=3, size=96, domain_shift_videos=1, progress=False)
    return root


@pytest.fixture(scope="module")
def trained(dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    return train(CONFIG, dataset, out, progress=False), out


def test_writes_model_history_predictions_and_metrics(trained):
    summary, out = trained
    assert {p.name for p in out.iterdir()} == {"model.keras", "history.csv", "predictions.csv", "metrics.json"}
    history = pd.read_csv(out / "history.csv")
    assert list(history["epoch"]) == [1, 2] and {"loss", "val_pck@0.1", "epoch_time_s"} <= set(history)
    predictions = pd.read_csv(out / "predictions.csv")
    assert set(predictions["split"]) == {"Valid", "Test", "DomainShift"}
    assert set(predictions["decoder"]) == {"argmax", "wa", "dark"}
    assert predictions[["x", "y", "truth_x"]].notna().all().all()
    frames = predictions.groupby(["split", "video", "frame"]).ngroups
    assert len(predictions) == frames * 22 * 3
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["metrics"]["wa"]["Test"]["annotation"]["n_keypoints"] > 0
    assert 0.0 <= metrics["metrics"]["wa"]["Test"]["truth"]["mks"] <= 1.0
    assert metrics["model"]["name"] == "simple_baseline" and metrics["dataset"]["synthetic"]
    model = keras.saving.load_model(out / "model.keras")
    assert model.output_shape == (None, 16, 16, 22)


def test_same_seed_same_numbers(trained, dataset, tmp_path):
    _, first = trained
    train(CONFIG, dataset, tmp_path, progress=False)
    np.testing.assert_array_equal(pd.read_csv(first / "predictions.csv")[["x", "y"]],
                                  pd.read_csv(tmp_path / "predictions.csv")[["x", "y"]])
    np.testing.assert_array_equal(pd.read_csv(first / "history.csv")["loss"],
                                  pd.read_csv(tmp_path / "history.csv")["loss"])


class _NaNLoss(keras.losses.Loss):
    def call(self, y_true, y_pred):
        return keras.ops.mean(y_pred) * float("nan")


def test_a_diverging_loss_stops_with_a_clear_error_and_writes_nothing(dataset, tmp_path, monkeypatch):
    monkeypatch.setattr(train_module, "get_loss", lambda name: _NaNLoss())
    out = tmp_path / "run"
    with pytest.raises(TrainingDiverged, match="loss became nan"):
        train(CONFIG, dataset, out, progress=False)
    assert not out.exists() or not any(out.iterdir())
