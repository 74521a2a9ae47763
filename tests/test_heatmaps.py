import keras
import numpy as np
import pytest

from benchmark.study.codec import DECODERS, decode, encode, probabilities, visibility
from benchmark.study.heatmaps import MISSING, normalise
from benchmark.study.keypoints import NUM_KEYPOINTS

STRIDE, SIGMA = 4, 2.0
HEIGHT, WIDTH = 128, 96  # input pixels; heatmap 32 x 24 cells
MARGIN = 4 * SIGMA * STRIDE  # "away from borders": 4 sigma (8 cells, 32 px) from every edge

# Round-trip tolerances in input pixels, per axis, for keypoints at least MARGIN from the borders.
# argmax: the centre of the nearest cell, at most half a cell away. wa and dark: sub-pixel; what
# remains is the truncation of the Gaussian tails at the borders and float32 rounding (measured on
# 4400 keypoints: wa <= 0.0022 px, dark <= 0.00014 px).
TOLERANCE = {"argmax": STRIDE / 2 + 1e-4, "wa": 0.005, "dark": 0.001}


def random_keypoints(rng, n, margin=MARGIN):
    return rng.uniform([margin, margin], [WIDTH - margin, HEIGHT - margin], size=(n, NUM_KEYPOINTS, 2))


def logits_for(targets, loss):
    """Logits whose probability map (for that loss) is the target heatmap."""
    if loss == "kce":  # log of the Gaussian: softmax gives the normalised target
        return np.log(np.maximum(targets, np.finfo(np.float32).tiny))
    if loss == "bce":  # inverse sigmoid
        t = np.clip(targets.astype(np.float64), 1e-6, 1 - 1e-6)
        return np.log(t / (1 - t)).astype(np.float32)
    return targets  # mse: heatmap values are the logits


def test_encode_is_the_gaussian_around_the_sub_pixel_position():
    keypoints = np.full((NUM_KEYPOINTS, 2), np.nan)
    keypoints[0] = (10.5, 22.0)  # heatmap position (2.125, 5.0)
    keypoints[1] = (4 * 7 + 2, 4 * 3 + 2)  # exactly the centre of cell (u=7, v=3)
    maps = encode(keypoints, (HEIGHT, WIDTH), STRIDE, SIGMA)
    assert maps.shape == (HEIGHT // STRIDE, WIDTH // STRIDE, NUM_KEYPOINTS) and maps.dtype == np.float32
    v, u = np.mgrid[:HEIGHT // STRIDE, :WIDTH // STRIDE]
    expected = np.exp(-((u - 2.125) ** 2 + (v - 5.0) ** 2) / (2 * SIGMA**2))
    np.testing.assert_allclose(maps[..., 0], expected, rtol=1e-6, atol=1e-12)
    assert maps[3, 7, 1] == 1.0 and np.unravel_index(maps[..., 1].argmax(), maps.shape[:2]) == (3, 7)
    assert np.all(maps[..., 2:] == MISSING)


def test_encode_marks_missing_and_outside_keypoints():
    keypoints = np.full((2, NUM_KEYPOINTS, 2), 50.0)
    keypoints[0, 3] = np.nan
    keypoints[0, 4] = (WIDTH, 10.0)  # right edge is outside: pixels cover [0, W)
    keypoints[0, 5] = (10.0, -0.01)
    keypoints[1, 6] = (0.0, HEIGHT - 1e-3)  # inside, on the first/last pixel
    maps = encode(keypoints, (HEIGHT, WIDTH), STRIDE, SIGMA)
    expected = np.ones((2, NUM_KEYPOINTS), bool)
    expected[0, 3:6] = False
    np.testing.assert_array_equal(visibility(maps), expected)
    assert np.all(maps[0, ..., 3:6] == MISSING)
    assert maps[1].min() >= 0 and maps[1, ..., 6].max() > 0.5  # a keypoint on the edge keeps its peak


def test_encode_batch_equals_single_and_checks_divisibility():
    keypoints = random_keypoints(np.random.default_rng(1), 3)
    batch = encode(keypoints, (HEIGHT, WIDTH))
    np.testing.assert_array_equal(batch[2], encode(keypoints[2], (HEIGHT, WIDTH)))
    with pytest.raises(ValueError, match="multiple"):
        encode(keypoints, (130, WIDTH), stride=4)


def test_normalise_sums_to_one_and_makes_missing_uniform():
    keypoints = random_keypoints(np.random.default_rng(2), 2, margin=0)
    keypoints[1, 7] = np.nan
    maps = encode(keypoints, (HEIGHT, WIDTH))
    q = keras.ops.convert_to_numpy(normalise(maps))
    np.testing.assert_allclose(q.sum(axis=(1, 2)), 1.0, rtol=1e-5)  # a missing channel too
    assert visibility(maps)[0].all() and not visibility(maps)[1, 7]
    np.testing.assert_allclose(q[1, ..., 7], 1 / (q.shape[1] * q.shape[2]))  # uniform: finite, masked by the losses
    np.testing.assert_allclose(q[0, ..., 0] / q[0, ..., 0].max(), maps[0, ..., 0] / maps[0, ..., 0].max(),
                               rtol=1e-5, atol=1e-12)


@pytest.mark.parametrize("method", DECODERS)
@pytest.mark.parametrize("source", ["target", "mse", "bce", "kce"])
def test_round_trip_recovers_sub_pixel_keypoints(method, source):
    keypoints = random_keypoints(np.random.default_rng(3), 4)
    targets = encode(keypoints, (HEIGHT, WIDTH), STRIDE, SIGMA)
    probs = targets if source == "target" else probabilities(logits_for(targets, source), source)
    coords, _ = decode(probs, method, stride=STRIDE, sigma=SIGMA)
    error = np.abs(keras.ops.convert_to_numpy(coords) - keypoints)
    assert error.max() <= TOLERANCE[method], (method, source, error.max())
    if method == "argmax":  # the tolerance is tight: argmax really is off by up to half a cell
        assert error.max() > STRIDE / 4


def test_decode_takes_numpy_and_gives_numpy_via_convert_to_numpy():
    probs = np.random.default_rng(4).uniform(size=(2, 8, 6, 3)).astype(np.float32)
    for method in DECODERS:
        coords, confidence = decode(probs, method)
        coords, confidence = keras.ops.convert_to_numpy(coords), keras.ops.convert_to_numpy(confidence)
        assert isinstance(coords, np.ndarray) and coords.shape == (2, 3, 2) and coords.dtype == np.float32
        assert isinstance(confidence, np.ndarray) and confidence.shape == (2, 3)
        np.testing.assert_array_equal(confidence, probs.max(axis=(1, 2)))


def test_argmax_and_weighted_average_on_hand_made_maps():
    probs = np.zeros((1, 5, 6, 2), np.float32)
    probs[0, 3, 1, 0] = 0.9  # one hot cell: (u=1, v=3)
    probs[0, 0, 0, 1], probs[0, 2, 4, 1] = 1.0, 3.0  # mass 1 at (0, 0) and 3 at (4, 2)
    argmax, _ = decode(probs, "argmax", stride=4)
    wa, confidence = decode(probs, "wa", stride=4)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(argmax), [[[6, 14], [18, 10]]])
    # wa cell position: (1*0 + 3*4)/4 = 3, (1*0 + 3*2)/4 = 1.5 -> pixels (3.5*4, 2*4)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(wa), [[[6, 14], [14, 8]]])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(confidence), [[0.9, 3.0]])


def test_weighted_average_of_an_empty_map_is_nan():
    coords, _ = decode(np.zeros((1, 4, 4, 1), np.float32), "wa")
    assert np.isnan(keras.ops.convert_to_numpy(coords)).all()


def test_dark_keeps_the_argmax_within_two_cells_of_the_border():
    keypoints = np.full((1, NUM_KEYPOINTS, 2), 60.0)
    keypoints[0, :4, 0] = (0.1, 3.0, 5.0, 7.9)  # maximum cells u = 0 and 1
    keypoints[0, 4:8, 0] = WIDTH - keypoints[0, :4, 0]  # u = w - 1 and w - 2
    keypoints[0, 8:12, 1] = keypoints[0, :4, 0]  # v = 0 and 1
    maps = encode(keypoints, (HEIGHT, WIDTH)) * 10  # values above 1, as an MSE map can have
    dark, _ = decode(maps, "dark")
    argmax, _ = decode(maps, "argmax")
    dark, argmax = keras.ops.convert_to_numpy(dark), keras.ops.convert_to_numpy(argmax)
    np.testing.assert_array_equal(dark[0, :12], argmax[0, :12])
    np.testing.assert_allclose(dark[0, 12:], keypoints[0, 12:], atol=TOLERANCE["dark"])  # refined


def test_probabilities_per_loss():
    logits = np.random.default_rng(5).normal(size=(2, 4, 3, 5)).astype(np.float32)
    kce = keras.ops.convert_to_numpy(probabilities(logits, "kce"))
    expected = np.exp(logits) / np.exp(logits).sum(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(kce, expected, rtol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(probabilities(logits, "bce")),
                               1 / (1 + np.exp(-logits)), rtol=1e-5)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(probabilities(logits, "mse")),
                                  np.maximum(logits, 0))
    with pytest.raises(ValueError):
        probabilities(logits, "l1")
    with pytest.raises(ValueError):
        decode(kce, "soft-argmax")
