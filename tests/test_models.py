"""Tests of the model registry and the pose models (tiny size trained briefly on CPU)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from benchmark.models import build_model, list_models, model_info, register_model, registry
from benchmark.models.vitpose import encoder_variables, save_encoder_weights
from benchmark.study.codec import decode, encode, probabilities
from benchmark.study.keypoints import NUM_KEYPOINTS
from benchmark.study.losses import loss_of
from benchmark.study.metrics import pck

MODELS = ("hourglass", "hrnet", "resunet", "simple_baseline", "vitpose")
REFERENCE_MODELS = ("hrnet", "vitpose")  # beyond the study


def outputs_of(model, images, training=False):
    """The model's outputs as a list of NumPy arrays (one per stack for the hourglass)."""
    out = model(images, training=training)
    return [keras.ops.convert_to_numpy(o) for o in (out if isinstance(out, list) else [out])]


def random_images(batch, height=128, width=None, seed=0):
    """Images in [0, 1], NHWC, square unless ``width`` is given."""
    return np.random.default_rng(seed).random((batch, height, width or height, 3), dtype=np.float32)


def per_stack(targets, stacks):
    """Targets for ``fit``: repeated for every stack (intermediate supervision), or as is."""
    return tuple([targets] * stacks) if stacks > 1 else targets


def test_registry_lists_the_study_models():
    assert set(MODELS) <= set(list_models())


def test_unknown_name_lists_registered_models():
    with pytest.raises(ValueError, match="registered: .*resunet"):
        build_model("vit_pose")


@pytest.mark.parametrize("kwargs, message", [
    ({"input_size": 100}, "multiple of 32"),
    ({"input_size": (128, 80)}, "multiple of 32"),
    ({"variant": "huge"}, "unknown variant"),
    ({"deconv_filters": 8, "blocks": 2}, r"unknown option\(s\) \['blocks'\]"),
    ({"backbone": "vgg16"}, "unknown backbone"),
])
def test_invalid_arguments_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_model("simple_baseline", **kwargs)


def test_hourglass_depth_must_fit_the_input_size():
    with pytest.raises(ValueError, match="multiple of 64"):
        build_model("hourglass", 96, variant="paper")
    model = build_model("hourglass", 96, variant="paper", depth=3)
    assert outputs_of(model, random_images(1, 96))[-1].shape == (1, 24, 24, NUM_KEYPOINTS)


def test_registering_a_new_model_makes_it_buildable(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))  # undone after the test

    @register_model("test_only_linear")
    def linear(input_size, num_keypoints, size, pretrained):
        images = keras.Input((*input_size, 3))
        heatmaps = keras.layers.Conv2D(num_keypoints, 4, strides=4)(images)
        name = registry.model_name("test_only_linear", size, "none", False)
        return keras.Model(images, heatmaps, name=name)

    assert "test_only_linear" in list_models()
    info = model_info(build_model("test_only_linear", 64, num_keypoints=3))
    assert (info["name"], info["stride"], info["params"]) == ("test_only_linear", 4, 4 * 4 * 3 * 3 + 3)
    with pytest.raises(ValueError, match="already registered"):
        register_model("test_only_linear")(linear)


@pytest.mark.parametrize("name", MODELS)
def test_tiny_model_shapes_and_info(name):
    model = build_model(name, 128, variant="tiny")
    outputs = outputs_of(model, random_images(2))
    stacks = 2 if name == "hourglass" else 1
    assert [o.shape for o in outputs] == [(2, 32, 32, NUM_KEYPOINTS)] * stacks
    assert np.all(np.isfinite(outputs[-1])) and outputs[-1].min() < 0 < outputs[-1].max()  # raw logits
    info = model_info(model)
    assert info["name"] == name and info["variant"] == "tiny" and info["stride"] == 4
    assert info["stacks"] == stacks and info["imagenet_weights"] is False
    assert 150_000 <= info["params"] <= 2_000_000  # CPU-sized: hourglass 0.15 M .. Simple Baseline 1.62 M
    if name == "hourglass":
        assert model.output_names == ["stack_1", "stack_2"]


@pytest.mark.parametrize("name", MODELS)
def test_non_square_input_keeps_stride_4(name):
    outputs = outputs_of(build_model(name, (96, 160), num_keypoints=5), random_images(1, 96, 160))
    assert outputs[-1].shape == (1, 24, 40, 5)


@pytest.mark.parametrize("name", MODELS)
def test_save_load_round_trip(name, tmp_path):
    model = build_model(name)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    images = random_images(2, seed=1)
    for before, after in zip(outputs_of(model, images), outputs_of(loaded, images), strict=True):
        np.testing.assert_array_equal(before, after)
    assert model_info(loaded) == model_info(model)


@pytest.mark.parametrize("name", MODELS)
def test_seeded_builds_are_identical(name):
    def weights(seed):
        keras.utils.set_random_seed(seed)
        return [keras.ops.convert_to_numpy(w) for w in build_model(name).weights]

    first, again, other = weights(7), weights(7), weights(8)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


@pytest.mark.parametrize("name, backbone, min_params", [
    ("simple_baseline", "resnet50", 30_000_000),
    ("resunet", "resnet101", 45_000_000),
    ("hourglass", "none", 5_000_000),
    ("hrnet", "none", 28_000_000),  # HRNet-W32: 28.5 M
    ("vitpose", "vit", 85_000_000),  # ViTPose-B: 90 M
])
def test_paper_variants_build(name, backbone, min_params):
    model = build_model(name, 64, variant="paper", pretrained=False)
    assert [o.shape for o in outputs_of(model, random_images(1, 64))][-1] == (1, 16, 16, NUM_KEYPOINTS)
    info = model_info(model)
    assert (info["variant"], info["backbone"], info["imagenet_weights"]) == ("paper", backbone, False)
    assert info["params"] >= min_params


@pytest.mark.slow
@pytest.mark.parametrize("name", MODELS)
def test_tiny_model_overfits_a_tiny_batch(name):
    """A few Adam steps on 4 images: the KCE loss and the decoded keypoint error fall, PCK rises.

    Measured with batch statistics (training=True): after 30 steps the BatchNorm moving averages
    (momentum 0.99) have not caught up yet, so inference mode would test the averages, not the fit.
    """
    rng = np.random.default_rng(0)
    images = random_images(4)
    keypoints = rng.uniform(8, 120, (4, NUM_KEYPOINTS, 2))
    keypoints[0, 3] = np.nan
    targets = encode(keypoints, input_size=(128, 128), stride=4, sigma=2.0)

    def loss_and_error(model):
        logits = outputs_of(model, images, training=True)[-1]
        coords, _ = decode(probabilities(logits, "kce"), method="wa", stride=4)
        coords = keras.ops.convert_to_numpy(coords)
        error = np.linalg.norm(coords - keypoints, axis=-1)
        return float(loss_of("kce").build()(targets, logits)), np.nanmean(error), pck(coords, keypoints, 0.2, "all")

    keras.utils.set_random_seed(0)
    model = build_model(name)
    stacks = len(model.outputs)
    model.compile(keras.optimizers.Adam(3e-3), loss=[loss_of("kce").build() for _ in range(stacks)])
    loss_before, error_before, pck_before = loss_and_error(model)
    model.fit(images, per_stack(targets, stacks), batch_size=4, epochs=30, verbose=0)
    loss_after, error_after, pck_after = loss_and_error(model)
    assert loss_after < 0.75 * loss_before
    assert error_after < 0.25 * error_before
    assert pck_after > max(0.5, pck_before + 0.4), (pck_before, pck_after)


@pytest.mark.parametrize("name, overrides", [
    ("hrnet", {}), ("vitpose", {}), ("vitpose", {"patch": 8}), ("vitpose", {"decoder": "classic"}),
])
@pytest.mark.parametrize("height, width", [(64, 64), (96, 96), (128, 96)])
def test_reference_models_output_stride_4(name, overrides, height, width):
    model = build_model(name, (height, width), num_keypoints=3, **overrides)
    assert outputs_of(model, random_images(1, height, width))[-1].shape == (1, height // 4, width // 4, 3)
    assert model_info(model)["stride"] == 4


@pytest.mark.slow
@pytest.mark.parametrize("name", REFERENCE_MODELS)
def test_reference_models_train(name):
    """Five Adam steps on two 64 px images lower the KCE loss (run eagerly: 3x faster than tracing for five)."""
    rng = np.random.default_rng(0)
    images = random_images(2, 64)
    targets = encode(rng.uniform(4, 60, (2, NUM_KEYPOINTS, 2)), input_size=(64, 64), stride=4, sigma=2.0)
    keras.utils.set_random_seed(0)
    model = build_model(name, 64)
    model.compile(keras.optimizers.Adam(1e-3), loss=loss_of("kce").build(), run_eagerly=True)
    history = model.fit(images, targets, batch_size=2, epochs=5, verbose=0).history["loss"]
    assert history[-1] < history[0], history


def test_vitpose_loads_encoder_weights_by_name(tmp_path):
    path = str(tmp_path / "encoder.weights.h5")
    keras.utils.set_random_seed(1)
    source = build_model("vitpose", 64)
    save_encoder_weights(source, path)
    keras.utils.set_random_seed(2)
    model = build_model("vitpose", 64, weights=path)
    for saved, loaded in zip(encoder_variables(source), encoder_variables(model), strict=True):
        assert saved.path == loaded.path
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(saved), keras.ops.convert_to_numpy(loaded))
    heads = [keras.ops.convert_to_numpy(m.get_layer("heatmaps").kernel) for m in (source, model)]
    assert not np.array_equal(*heads)  # the decoder stays randomly initialised
    assert model_info(model)["imagenet_weights"] is True
    assert model_info(source)["imagenet_weights"] is False

    with pytest.raises(ValueError, match=f"{path}: 'encoder_position_embedding/embedding' has shape"):
        build_model("vitpose", 96, weights=path)  # another token grid
    with pytest.raises(ValueError, match=f"{path} do not fit .* missing encoder_block5_norm1/gamma, "):
        build_model("vitpose", 64, weights=path, depth=6)
    with pytest.raises(ValueError, match="missing none; not in the model: encoder_block3_"):
        build_model("vitpose", 64, weights=path, depth=2)


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")
def test_models_build_and_train_on_jax_backend():
    script = textwrap.dedent("""
        import keras, numpy as np
        from benchmark.models import build_model, list_models
        assert keras.backend.backend() == "jax"
        images = np.random.default_rng(0).random((2, 128, 128, 3), dtype=np.float32)
        targets = np.zeros((2, 32, 32, 22), np.float32)
        for name in %r:
            model = build_model(name)
            outputs = model(images)
            outputs = outputs if isinstance(outputs, list) else [outputs]
            assert [tuple(o.shape) for o in outputs] == [(2, 32, 32, 22)] * len(model.outputs)
            model.compile("adam", loss=["mse"] * len(model.outputs))
            stacks = len(model.outputs)
            loss = model.train_on_batch(images, tuple([targets] * stacks) if stacks > 1 else targets)
            assert np.all(np.isfinite(loss)), (name, loss)
            print(name, "ok")
    """ % (MODELS,))
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == [word for name in MODELS for word in (name, "ok")]
