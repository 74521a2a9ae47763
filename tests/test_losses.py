import keras
import numpy as np
import pytest
import tensorflow as tf

from benchmark.study.codec import encode, probabilities
from benchmark.study.heatmaps import MISSING
from benchmark.study.losses import LOSSES, Loss, loss_of, mean_target, register_loss


def get_loss(name):
    return loss_of(name).build()


pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TF backend tests")

K = 6


def make_targets(rng, batch=3, missing=((0, 1), (0, 4), (2, 0))):
    keypoints = rng.uniform(0, (24, 32), size=(batch, K, 2))  # inside the 24 x 32 input
    for b, k in missing:
        keypoints[b, k] = np.nan
    return encode(keypoints, (32, 24), stride=4, sigma=1.5)  # (B, 8, 6, K)


def reference_per_keypoint(name, t, z):
    """The formulas, in plain float64 NumPy: (B, K) loss per keypoint."""
    t, z = t.astype(np.float64), z.astype(np.float64)
    if name == "mse":
        return ((z - t) ** 2).mean(axis=(1, 2))
    if name == "bce":
        p = 1 / (1 + np.exp(-z))
        return -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean(axis=(1, 2))
    q = t / t.sum(axis=(1, 2), keepdims=True)
    log_softmax = z - np.log(np.exp(z).sum(axis=(1, 2), keepdims=True))
    return -(q * log_softmax).sum(axis=(1, 2))


def value(loss, t, z, **kwargs):
    return keras.ops.convert_to_numpy(loss(t, z, **kwargs))


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_matches_the_formula_averaged_over_visible_keypoints(name):
    rng = np.random.default_rng(0)
    targets = make_targets(rng)
    logits = rng.normal(scale=2.0, size=targets.shape).astype(np.float32)
    visible = np.ones((3, K), bool)
    visible[[0, 0, 2], [1, 4, 0]] = False
    per_keypoint = reference_per_keypoint(name, targets, logits)
    expected = per_keypoint[visible].mean()  # pooled over the batch's visible keypoints
    np.testing.assert_allclose(value(get_loss(name), targets, logits), expected, rtol=1e-5)
    # reduction=None exposes the per-keypoint losses, zero where missing
    unreduced = type(get_loss(name))(reduction=None)
    np.testing.assert_allclose(value(unreduced, targets, logits), np.where(visible, per_keypoint, 0),
                               rtol=1e-5)
    # a sample weight per frame weights that frame's visible keypoints
    weights = np.array([1.0, 0.0, 2.0], np.float32)
    w = visible * weights[:, None]
    np.testing.assert_allclose(value(get_loss(name), targets, logits, sample_weight=weights),
                               (per_keypoint * w).sum() / w.sum(), rtol=1e-5)


@pytest.mark.parametrize("name", list(LOSSES))
def test_missing_channels_get_no_gradient_and_all_missing_gives_zero(name):
    rng = np.random.default_rng(1)
    targets = make_targets(rng)
    logits = tf.Variable(rng.normal(size=targets.shape).astype(np.float32))
    with tf.GradientTape() as tape:
        loss = get_loss(name)(targets, logits)
    grad = tape.gradient(loss, logits).numpy()
    assert np.isfinite(grad).all()
    assert np.all(grad[0, ..., 1] == 0) and np.all(grad[2, ..., 0] == 0) and np.abs(grad[1]).max() > 0

    all_missing = np.full(targets.shape, MISSING, np.float32)
    with tf.GradientTape() as tape:
        loss = get_loss(name)(all_missing, logits)
    grad = tape.gradient(loss, logits).numpy()
    assert float(loss) == 0.0 and np.all(grad == 0)


def test_a_perfect_prediction_minimises_each_loss():
    rng = np.random.default_rng(2)
    targets = make_targets(rng, missing=())
    t = np.clip(targets.astype(np.float64), 1e-6, 1 - 1e-6)
    q = t / t.sum(axis=(1, 2), keepdims=True)
    perfect = {
        "mse": (targets, 0.0),
        "bce": (np.log(t / (1 - t)), -(t * np.log(t) + (1 - t) * np.log(1 - t)).mean(axis=(1, 2)).mean()),
        "kce": (np.log(q), -(q * np.log(q)).sum(axis=(1, 2)).mean()),  # the entropy of q
    }
    for name, (logits, minimum) in perfect.items():
        loss = get_loss(name)
        best = value(loss, targets, logits.astype(np.float32))
        np.testing.assert_allclose(best, minimum, atol=1e-5, err_msg=name)
        for scale in (0.01, 0.3):
            noisy = logits + rng.normal(scale=scale, size=logits.shape)
            assert value(loss, targets, noisy.astype(np.float32)) > best, (name, scale)


@pytest.mark.parametrize("name", list(LOSSES))
def test_losses_serialise_and_train(name):
    loss = get_loss(name)
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert type(restored) is type(loss) and restored.name == loss.name
    targets = make_targets(np.random.default_rng(3))
    logits = np.random.default_rng(4).normal(size=targets.shape).astype(np.float32)
    assert value(restored, targets, logits) == value(loss, targets, logits)

    model = keras.Sequential([keras.Input((8, 6, 1)), keras.layers.Conv2D(K, 3, padding="same")])
    model.compile(optimizer="sgd", loss=loss)
    history = model.fit(np.ones((3, 8, 6, 1), np.float32), targets, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_the_registry_rejects_unknown_and_repeated_names():
    with pytest.raises(ValueError, match="unknown loss 'focal'; allowed: mse, bce, kce"):
        loss_of("focal")
    with pytest.raises(ValueError, match="'kce' is registered already"):
        register_loss(Loss("kce", "KCE again", probabilities, "HeatmapKCE", lambda mean: 0.0))


@pytest.mark.parametrize("name", list(LOSSES))
def test_each_loss_starts_from_the_all_background_optimum(name):
    """The initial output bias is the constant the loss prefers for a map of mean target value:
    after the activation, MSE and BCE output that mean everywhere; KCE (a softmax) any constant."""
    loss = loss_of(name)
    mean = mean_target(1.5, (40, 40))
    assert mean == pytest.approx(2 * np.pi * 1.5**2 / 1600)
    logits = np.full((1, 40, 40, 1), loss.initial_bias(mean), np.float32)
    heatmap = keras.ops.convert_to_numpy(loss.activation(logits))
    expected = 1 / 1600 if loss.normalised else mean
    np.testing.assert_allclose(heatmap, expected, rtol=1e-5)
    # and the bias is the best constant for a whole target map, for the losses it matters to
    targets = encode(np.array([[[80.0, 80.0]]]), (160, 160), stride=4, sigma=1.5)
    at = lambda b: value(loss.build(), targets, np.full(targets.shape, b, np.float32))
    best = loss.initial_bias(float(targets.mean()))
    if not loss.normalised:
        assert at(best) < min(at(best - 0.5), at(best + 0.5))
