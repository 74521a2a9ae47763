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
from benchmark.study.codec import HeatmapCodec
from benchmark.study.losses import LOSSES, Loss
from benchmark.study.metrics import pck
from benchmark.training.schedule import learning_rate_schedule
from benchmark.training.train import (
    TrainingDiverged,
    build_for_training,
    compile_for_training,
    initialise_heads,
    resolve_precision,
    train,
)

CONFIG = TrainConfig(model="simple_baseline", loss="kce", input_size=64, epochs=2, cycles=2, batch_size=8)


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
    assert {p.name for p in out.iterdir()} == {"model.keras", "optimizer.npz", "history.csv", "valid_cycles.csv",
                                               "predictions.csv", "metrics.json"}
    history = pd.read_csv(out / "history.csv")
    assert list(history["epoch"]) == [1, 2] and {"loss", "learning_rate", "val_pck@0.1", "epoch_time_s"} <= set(history)
    cycles = pd.read_csv(out / "valid_cycles.csv", dtype={"video": str})  # each cycle's end: one epoch each here
    assert list(cycles["epoch"].unique()) == [1, 2] and set(cycles["video"]) == {"001"} or len(set(cycles["video"])) == 1
    valid = pd.read_csv(out / "predictions.csv")
    assert (cycles.groupby("cycle")["scored"].sum() > 0).all() and not valid.empty
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
    assert metrics["dataset"]["oks_sigmas"]["Head"] == 0.079 and metrics["dataset"]["coco"] is False  # for OKS AP
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


def _double_to_the_cap(cycles, epochs_run, config):
    """A planted convergence test that never passes: every run trains up to its max_epochs."""
    return 2 * epochs_run if 2 * epochs_run <= config.epoch_cap else None


def test_a_resumed_run_equals_one_trained_that_long_from_the_start(trained, dataset, tmp_path, monkeypatch):
    """A run whose max_epochs grew goes on from the cached shorter one (same weights, optimizer and
    record) and ends where a run of that cap from the start ends."""
    _, short = trained  # CONFIG: 2 epochs in 2 cycles, no max_epochs
    monkeypatch.setattr(train_module, "next_budget", _double_to_the_cap)
    longer = TrainConfig(**CONFIG.model_dump() | {"max_epochs": 8})
    resumed = train(longer, dataset, tmp_path / "resumed", progress=False, resume_from=short)
    scratch = train(longer, dataset, tmp_path / "scratch", progress=False)
    assert resumed["epochs_run"] == scratch["epochs_run"] == 8
    assert resumed["resumed_from"] == {"experiment": short.name, "epochs": 2} and scratch["resumed_from"] is None
    weights = [keras.saving.load_model(tmp_path / run / "model.keras", compile=False).get_weights()
               for run in ("resumed", "scratch")]
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    cycles = [pd.read_csv(tmp_path / run / "valid_cycles.csv") for run in ("resumed", "scratch")]
    np.testing.assert_allclose(cycles[0]["correct"], cycles[1]["correct"], atol=1e-6)
    assert list(cycles[0]["epoch"].unique()) == list(range(1, 9))
    with pytest.raises(ValueError, match=r"settings differ \(learning_rate\)"):
        train(TrainConfig(**longer.model_dump() | {"learning_rate": 0.1}), dataset, tmp_path / "other",
              progress=False, resume_from=short)


def test_training_stops_at_the_doubling_where_it_converged(trained, dataset, tmp_path, monkeypatch):
    """Training checks the convergence test after each doubling and stops when it passes."""
    budgets = []

    def converged_at_4(cycles, epochs_run, config):
        budgets.append((epochs_run, sorted(cycles["epoch"].unique().tolist())))
        return None if epochs_run >= 4 else 2 * epochs_run

    monkeypatch.setattr(train_module, "next_budget", converged_at_4)
    summary = train(TrainConfig(**CONFIG.model_dump() | {"max_epochs": 16}), dataset, tmp_path, progress=False)
    assert summary["epochs_run"] == 4 and budgets == [(2, [1, 2]), (4, [1, 2, 3, 4])]
    rates = pd.read_csv(tmp_path / "history.csv")["learning_rate"]
    assert rates.iloc[1] == pytest.approx(rates.iloc[3])  # the same annealed cycle end every time


class _NaNLoss(keras.losses.Loss):
    def call(self, y_true, y_pred):
        return keras.ops.mean(y_pred) * float("nan")


def test_a_diverging_loss_stops_with_a_clear_error_and_writes_nothing(dataset, tmp_path, monkeypatch):
    monkeypatch.setattr(Loss, "build", lambda self: _NaNLoss())
    out = tmp_path / "run"
    with pytest.raises(TrainingDiverged, match="loss became nan"):
        train(CONFIG, dataset, out, progress=False)
    assert not out.exists() or not any(out.iterdir())


def test_auto_precision_is_mixed_on_a_gpu_and_a_cpu_with_bfloat16_units():
    assert resolve_precision("auto", gpu=False) == "float32"
    assert resolve_precision("auto", gpu=False, cpu_bfloat16=True) == "mixed_bfloat16"  # bfloat16 units
    assert resolve_precision("auto", gpu=True) == "mixed_bfloat16"
    assert resolve_precision("mixed_float16", gpu=False) == "mixed_float16"
    assert resolve_precision("float32", gpu=True) == "float32"


def _rates(schedule, steps):
    return np.array([float(keras.ops.convert_to_numpy(schedule(step))) for step in steps])


def test_one_cycle_without_warm_up_is_the_plain_cosine_decay():
    config = CONFIG.model_copy(update={"learning_rate": 3e-3, "epochs": 10, "cycles": 1})
    steps = [0, 1, 25, 50, 99, 100]
    np.testing.assert_allclose(_rates(learning_rate_schedule(config, 10), steps),
                               _rates(keras.optimizers.schedules.CosineDecay(3e-3, 100), steps), rtol=1e-6)


def test_warmup_rises_linearly_then_decays_by_cosine():
    config = CONFIG.model_copy(update={"learning_rate": 1e-2, "warmup_epochs": 1.5, "epochs": 10, "cycles": 1})
    rates = _rates(learning_rate_schedule(config, 10), [0, 5, 10, 15, 15 + 85 // 2, 100])
    np.testing.assert_allclose(rates[:4], [0.0, 1e-2 / 3, 2e-2 / 3, 1e-2], rtol=1e-5)  # 15 warm-up steps
    assert rates[4] == pytest.approx(5e-3, rel=0.02) and rates[5] == pytest.approx(0.0, abs=1e-7)
    too_long = CONFIG.model_copy(update={"warmup_epochs": 50, "cycles": 1})  # never more than a cycle's steps but one
    assert _rates(learning_rate_schedule(too_long, 10), [19])[0] == pytest.approx(CONFIG.learning_rate)


def test_cycles_repeat_the_same_schedule():
    """Each cycle warms up and anneals alike, so the end of the last and of the one before are equally
    annealed points, the last with twice the training (benchmark.study.convergence)."""
    config = CONFIG.model_copy(update={"learning_rate": 1e-2, "warmup_epochs": 0.5, "epochs": 4, "cycles": 2})
    schedule = learning_rate_schedule(config, 20)  # 40 steps a cycle, 10 of them warming up
    first, second = _rates(schedule, range(40)), _rates(schedule, range(40, 80))
    np.testing.assert_allclose(first, second, rtol=1e-6)
    assert first[0] == 0 and first[10] == pytest.approx(1e-2, rel=1e-5) and first[-1] < 5e-5
    with pytest.raises(ValueError, match=r"epochs \(5\) must be a multiple of cycles \(2\)"):
        TrainConfig(epochs=5, cycles=2)


@pytest.mark.parametrize("loss", list(LOSSES))
def test_each_loss_learns_one_batch_through_its_whole_path(loss):
    """The loss's head start, activation, target and decoder together: a few steps on four pictures
    bring the decoded keypoints onto their targets (the path a loss comparison relies on)."""
    keras.utils.set_random_seed(0)
    config = CONFIG.model_copy(update={"loss": loss, "sigma": 1.5, "learning_rate": 3e-3, "decoder": "argmax"})
    codec = HeatmapCodec.from_config(config)
    rng = np.random.default_rng(0)
    images = np.repeat(rng.random((4, 64, 64, 1), dtype=np.float32), 3, axis=-1)
    keypoints = rng.uniform(6, 58, (4, 22, 2))
    targets = codec.encode(keypoints, (64, 64))
    model = build_for_training(config)
    initialise_heads(model, config)
    compile_for_training(model, config, (images, targets), 30)  # 2 epochs: 60 steps in 2 cycles

    def decoded():
        coords, _ = codec.decode(model(images, training=True))
        return keras.ops.convert_to_numpy(coords)

    before = pck(decoded(), keypoints, 0.2, "all")
    model.fit(images, targets, batch_size=4, epochs=60, verbose=0)
    after = pck(decoded(), keypoints, 0.2, "all")
    assert after > max(0.8, before + 0.5), (loss, before, after)


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
    config = CONFIG.model_copy(update={"framing": "body", "epochs": 1, "cycles": 1})
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


def test_a_new_loss_is_one_registry_entry_that_trains_evaluates_and_appears_in_the_tables(dataset, tmp_path,
                                                                                           monkeypatch):
    """docs/ADDING_A_MODEL.md, "Adding a loss": a Keras loss class and one registry entry."""
    import json as json_module

    from benchmark.common.metrics_file import read_metrics
    from benchmark.report.results import load_results
    from benchmark.report.tables import decoder_table, loss_table
    from benchmark.study import heatmaps
    from benchmark.study.heatmap_losses import HeatmapLoss

    class HeatmapL1(HeatmapLoss):
        def call(self, y_true, y_pred):
            return keras.ops.mean(keras.ops.abs(y_pred - y_true), axis=(1, 2))

    monkeypatch.setitem(LOSSES, "l1", Loss("l1", "L1", heatmaps.relu, HeatmapL1, initial_bias=lambda mean: 0.0,
                                           head_std=1e-4))
    config = TrainConfig(model="simple_baseline", loss="l1", input_size=64, epochs=2, cycles=2, batch_size=8)
    folder = tmp_path / "quick" / "loss-simple_baseline-l1"
    summary = train(config, dataset, folder, progress=False)
    assert summary["codec"]["loss"] == "l1" and read_metrics(folder)["config"]["loss"] == "l1"
    (folder / "COMPLETE.json").write_text(json_module.dumps({"id": folder.name, "group": "loss"}))
    results = load_results(tmp_path / "quick")
    assert ("simple_baseline", "l1", "ours") in loss_table(results).data.index
    assert ("loss", "simple_baseline / l1") in decoder_table(results).data.index
