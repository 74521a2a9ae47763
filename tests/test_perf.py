"""``python -m benchmark perf``: every figure is measured and reported, the suite is timed as asked."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmark.commands import main as cli
from benchmark.models import build_model, model_info
from benchmark.runner import perf, suite_timing
from benchmark.runner.execute import Outcome
from benchmark.runner.manifest import MANIFEST, LoadedManifest
from benchmark.training import frame_cache
from benchmark.training.config import TrainConfig


@pytest.fixture
def dataset(tmp_path, write_frame):
    root = tmp_path / "data"
    for i in range(4):
        write_frame(f"000_{i:08d}", root=root, size=(96, 64))
    return root


def _entries(folder: Path) -> set:
    return set((folder / "frames").glob("*")) if (folder / "frames").exists() else set()


def test_pipeline_figures_use_a_private_cache(dataset):
    session_cache = Path(os.environ[frame_cache.ENV])
    before = _entries(session_cache)
    row = perf.measure_pipeline(dataset, 64, batch_size=2)
    assert row["frames"] == 4 and row["input"] == 64
    rates = [row[k] for k in ("decode+letterbox", "+face mosaic", "frame cache read", "batches+targets",
                              "+augmentation")]
    assert all(math.isfinite(r) and r > 0 for r in rates)
    assert os.environ[frame_cache.ENV] == str(session_cache) and _entries(session_cache) == before


def test_model_figures_describe_the_compiled_training_step():
    config = TrainConfig(model="simple_baseline", input_size=32, batch_size=2, pretrained=False)
    row = perf.measure_model(config, steps=1, warmup=1)
    assert row["params"] == model_info(build_model("simple_baseline", input_size=32, pretrained=False))["params"]
    assert row["train img/s"] > 0 and row["infer img/s"] > 0 and row["first step (s)"] > 0
    assert row["precision"] == "float32"  # auto on a CPU
    if sys.platform == "linux":
        assert row["peak RSS (MiB)"] > 50  # TensorFlow alone is hundreds of MiB


PEAK_AFTER_RESET = """
import numpy as np
from benchmark.runner import perf
big = np.ones(40 * 2**20 // 8)  # 40 MiB, touched
high = perf.peak_rss_mib()
del big
perf.reset_peak_rss()
print(high, perf.peak_rss_mib())
"""


@pytest.mark.skipif(sys.platform != "linux", reason="the high-water mark resets only on Linux")
def test_peak_rss_restarts_after_a_reset():
    # In a fresh interpreter: this process's memory is shared with every test before this one.
    out = subprocess.run([sys.executable, "-c", PEAK_AFTER_RESET], capture_output=True, text=True, check=True)
    high, after = map(float, out.stdout.split())
    assert after < high - 20


def test_added_experiment_is_one_new_simple_baseline(tmp_path):
    path = suite_timing._with_added_experiment(MANIFEST, tmp_path)
    before = {e.id for e in LoadedManifest(MANIFEST).experiments("smoke")}
    after = {e.id: e for e in LoadedManifest(path).experiments("smoke")}
    (new,) = set(after) - before
    assert before <= set(after) and "simple_baseline" in new
    assert after[new].config.model == "simple_baseline"


def test_suite_times_a_fresh_grid_a_cached_rerun_and_one_added_row(tmp_path, monkeypatch):
    """The runner is replaced by a fake that 'trains' what has no result yet."""
    calls = []

    def fake_run(plan, progress=True):
        calls.append((plan.manifest.path, os.environ[frame_cache.ENV]))
        outcomes = []
        for experiment in plan.experiments:
            out = plan.folder(experiment.id)
            if (out / "COMPLETE.json").exists():
                outcomes.append(Outcome(experiment.id, "cached", 0.0))
                continue
            out.mkdir(parents=True)
            (out / "metrics.json").write_text(json.dumps(
                {"wall_time_s": 3.0, "epoch_time_s": 1.0, "timings_s": {"data": 0.5, "fit": 2.0}}))
            (out / "COMPLETE.json").write_text(json.dumps({"wall_time_s": 5.0}))
            outcomes.append(Outcome(experiment.id, "ran", 5.0))
        return outcomes

    monkeypatch.setattr(suite_timing, "run", fake_run)
    suite = suite_timing.measure_suite(MANIFEST, "smoke", tmp_path, only="simple_baseline")
    runs = suite["runs"]
    assert [r["trained"] for r in runs.values()] == [3, 0, 1]
    assert runs["one added row"]["experiments"] == 4
    assert calls[0][0] == calls[1][0] == MANIFEST and calls[2][0] != MANIFEST
    cache = {c[1] for c in calls}
    assert len(cache) == 1 and cache != {os.environ[frame_cache.ENV]}  # a fresh cache, then restored
    assert len(suite["per experiment"]) == 4
    assert all(row["kernel+imports"] == 2.0 for row in suite["per experiment"])


def test_command_prints_and_saves_every_figure(tmp_path, capsys):
    out = tmp_path / "perf.json"
    assert cli(["perf", "--quick", "--models", "simple_baseline", "--sizes", "32", "--profile-layers",
                "--data-dir", str(tmp_path / "data"), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    report = json.loads(out.read_text())
    assert report["machine"]["backend"] in printed and report["machine"]["device"] in printed
    assert [r["model"] for r in report["models"]] == ["simple_baseline"]
    assert report["pipeline"][0]["input"] == 32 and "suite" not in report
    assert "train img/s" in printed and "decode+letterbox" in printed
    assert set(report["peak GFLOP/s"]) == {"matmul float32", "conv3x3 float32", "matmul bfloat16", "conv3x3 bfloat16"}
    assert all(rate > 0 for rate in report["peak GFLOP/s"].values())
    row = report["models"][0]
    assert row["train GFLOP/s"] == pytest.approx(row["train GFLOP/img"] * row["train img/s"], rel=1e-6)
    assert row["% of float32 peak"] > 0 and "% of bfloat16 peak" in printed
    layers = report["layers"]["simple_baseline 32"]
    assert {"deconv1_conv", "heatmaps"} <= {r["layer"] for r in layers} and all(r["ms"] > 0 for r in layers)
    assert sum(r["GFLOP"] for r in layers) * 3 == pytest.approx(row["train GFLOP/img"] * 8)  # batch 8


def test_flops_are_counted_from_each_layers_shapes():
    """Known counts: 2 x output pixels x kernel x input channels for a convolution, every input
    pixel's kernel for a transposed one, 2 x inputs x units for a dense layer, and attention's
    projections, scores and weighted sum."""
    import keras

    from benchmark.models.flops import layer_flops, training_flops

    x = keras.Input((8, 8, 3))
    y = keras.layers.Conv2D(4, 3, padding="same", name="conv")(x)
    y = keras.layers.Conv2DTranspose(2, 4, strides=2, padding="same", name="up")(y)
    y = keras.layers.BatchNormalization()(y)
    y = keras.layers.Dense(5, name="dense")(keras.layers.Reshape((256, 2))(y))
    tokens = keras.Input((6, 16))
    attended = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4, name="attention")(tokens, tokens)
    flops = layer_flops(keras.Model([x, tokens], [y, attended])).set_index("layer")["flops"]
    assert flops.to_dict() == {"conv": 2 * 8 * 8 * 4 * 9 * 3, "up": 2 * 8 * 8 * 4 * 16 * 2, "dense": 2 * 256 * 2 * 5,
                               "attention": 2 * 6 * 16 * 8 * 3 + 2 * 6 * 8 * 16 + 4 * 6 * 6 * 8}
    model = build_model("simple_baseline", input_size=160, pretrained=False)
    assert training_flops(model) / 3 == pytest.approx(0.291e9, rel=0.01)  # the tiny Simple Baseline at 160 px


def test_the_run_estimate_times_each_model_setting_once(monkeypatch):
    timed = []
    monkeypatch.setattr(perf, "measure_model",
                        lambda config, steps, warmup: timed.append(config.model) or {"train img/s": 10.0})
    configs = [TrainConfig(model="simple_baseline", variant="paper", epochs=2),
               TrainConfig(model="simple_baseline", variant="paper", epochs=2, loss="mse"),
               TrainConfig(model="hourglass", variant="paper", epochs=3, max_train_frames=20)]
    seconds = perf.estimated_training_s(configs, train_frames=100)
    assert timed == ["simple_baseline", "hourglass"]  # one timing per model setting, not per experiment
    assert seconds == pytest.approx(2 * 100 / 10 + 2 * 100 / 10 + 3 * 20 / 10)


def test_the_run_estimate_measures_a_real_training_step():
    seconds = perf.estimated_training_s([TrainConfig(input_size=64, batch_size=2, epochs=3)], train_frames=8, steps=1)
    assert 0 < seconds < 3600
