"""One training run: outputs, determinism, a clean stop on a diverging loss, and mixed precision."""

import json

import keras
import numpy as np
import pandas as pd
import pytest

from benchmark.common.environment import gpu_available
from benchmark.data.synth import generate_dataset
from benchmark.training import train as train_module
from benchmark.training.config import TrainConfig
from benchmark.training.train import TrainingDiverged, learning_rate_schedule, resolve_precision, train

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
    if not gpu_available():  # precision "auto" keeps the CPU in float32
        assert metrics["compute"]["precision"] == "float32"
    assert set(metrics["timings_s"]) == {"data", "build", "fit", "evaluate"}
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


def test_auto_precision_is_mixed_only_on_a_gpu():
    assert resolve_precision("auto", gpu=False) == "float32"
    assert resolve_precision("auto", gpu=True) == "mixed_bfloat16"
    assert resolve_precision("mixed_float16", gpu=False) == "mixed_float16"
    assert resolve_precision("float32", gpu=True) == "float32"


def _rates(schedule, steps):
    return np.array([float(keras.ops.convert_to_numpy(schedule(step))) for step in steps])


def test_default_schedule_is_the_plain_cosine_decay():
    config = CONFIG.model_copy(update={"learning_rate": 3e-3})
    steps = [0, 1, 25, 50, 99, 100]
    np.testing.assert_allclose(_rates(learning_rate_schedule(config, 100, 10), steps),
                               _rates(keras.optimizers.schedules.CosineDecay(3e-3, 100), steps), rtol=1e-6)


def test_warmup_rises_linearly_then_decays_by_cosine():
    config = CONFIG.model_copy(update={"learning_rate": 1e-2, "warmup_epochs": 1.5})
    rates = _rates(learning_rate_schedule(config, 100, 10), [0, 5, 10, 15, 15 + 85 // 2, 100])
    np.testing.assert_allclose(rates[:4], [0.0, 1e-2 / 3, 2e-2 / 3, 1e-2], rtol=1e-5)  # 15 warm-up steps
    assert rates[4] == pytest.approx(5e-3, rel=0.02) and rates[5] == pytest.approx(0.0, abs=1e-7)
    too_long = CONFIG.model_copy(update={"warmup_epochs": 50})  # never more than all the steps but one
    assert _rates(learning_rate_schedule(too_long, 20, 10), [19])[0] == pytest.approx(CONFIG.learning_rate)


@pytest.fixture(scope="module")
def overfit(dataset, tmp_path_factory):
    """Four frames, no augmentation, 30 epochs, in float32 and in mixed_bfloat16, counting how often
    the training step is traced (compiled)."""
    runs = {}
    for precision in ("float32", "mixed_bfloat16"):
        traces = []

        def counting_build(config, build=train_module.build_for_training):
            model = build(config)
            step = model.train_step
            model.train_step = lambda *args: traces.append(1) or step(*args)
            return model

        config = CONFIG.model_copy(update={"epochs": 30, "batch_size": 4, "max_train_frames": 4,
                                           "augment": False, "learning_rate": 3e-3, "precision": precision})
        out = tmp_path_factory.mktemp(precision)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(train_module, "build_for_training", counting_build)
            train(config, dataset, out, progress=False)
        runs[precision] = (pd.read_csv(out / "history.csv")["loss"].to_numpy(), len(traces), out)
    return runs


def test_training_step_is_compiled_once_for_all_epochs(overfit):
    if keras.backend.backend() == "torch":
        pytest.skip("the torch backend runs the step eagerly by default")
    assert {precision: traces for precision, (_, traces, _) in overfit.items()} == {
        "float32": 1, "mixed_bfloat16": 1}


def test_mixed_bfloat16_trains_like_float32(overfit):
    full, _, _ = overfit["float32"]
    mixed, _, out = overfit["mixed_bfloat16"]
    assert np.isfinite(mixed).all()
    assert mixed[-1] < 0.85 * mixed[0] and full[-1] < 0.85 * full[0]  # both overfit
    assert abs(mixed[-1] - full[-1]) < 0.02 * full[-1]
    model = keras.saving.load_model(out / "model.keras")
    assert model.layers[1].dtype_policy.name == "mixed_bfloat16"
    assert all(output.dtype == "float32" for output in model.outputs)  # losses and decoders get float32
    assert keras.config.dtype_policy().name == "float32"  # the global policy is restored


def test_a_model_that_sees_the_body_is_framed_by_its_own_predictions(dataset, tmp_path, monkeypatch):
    from benchmark.apply.pose_model import load_pose_model, predict
    from benchmark.data.labelme import load_dataset, load_image

    seen = []
    batches = train_module.HeatmapBatches
    monkeypatch.setattr(train_module, "HeatmapBatches", lambda data, *a, **k: seen.append(data) or batches(data, *a, **k))
    config = CONFIG.model_copy(update={"framing": "body", "epochs": 1})
    summary = train(config, dataset, tmp_path, progress=False)
    assert summary["config"]["framing"] == "body"
    # Every training frame twice: cropped around its video's labelled body, and whole (letterboxed).
    n = summary["dataset"]["train_frames_used"]
    assert len(seen[0].images) == 2 * n and seen[0].frames[:n] == seen[0].frames[n:]
    assert not np.array_equal(seen[0].matrices[:n], seen[0].matrices[n:])
    frames = load_dataset(dataset).frames("Test")
    predictions = pd.read_csv(tmp_path / "predictions.csv")
    assert predictions[["x", "y"]].notna().all().all() and set(predictions["split"]) == {"Valid", "Test", "DomainShift"}
    pose_model = load_pose_model(tmp_path)
    assert pose_model.framing == (config.framing_fill, config.framing_passes)
    images = [load_image(f) for f in frames[:3]]
    coords, confidence = predict(pose_model, images, video=True)
    assert coords.shape == (3, 22, 2) and np.isfinite(coords).all() and confidence.shape == (3, 22)
    # The same model on the whole picture alone (no framing) predicts differently.
    unframed, _ = predict(pose_model.__class__(pose_model.model, pose_model.codec, pose_model.facial), images)
    assert not np.allclose(unframed, coords)
