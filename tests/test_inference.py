"""Decoding maps heatmaps back to original image pixels through the exact inverse of the letterbox."""

import numpy as np
import pytest
from test_heatmaps import logits_for

from benchmark.data import transforms
from benchmark.study.codec import HeatmapCodec, encode
from benchmark.training.inference import decode_to_image


@pytest.mark.parametrize("loss", ["mse", "bce", "kce"])
@pytest.mark.parametrize("width,height", [(640, 480), (480, 640), (341, 256)])
def test_encode_then_decode_to_image_recovers_the_labels(loss, width, height):
    size, rng = 128, np.random.default_rng(width + height)
    # Keypoints well inside the picture, so no Gaussian is cut by a heatmap border.
    labels = rng.uniform([0.25 * width, 0.25 * height], [0.75 * width, 0.75 * height], size=(3, 22, 2))
    labels[0, 5] = np.nan
    matrices = np.stack([transforms.letterbox(width, height, size)] * 3)
    inputs = np.stack([transforms.apply(m, l) for m, l in zip(matrices, labels)])
    logits = logits_for(encode(inputs, (size, size), stride=4, sigma=2.0), loss)
    for method, tolerance in (("dark", 0.02), ("wa", 0.05)):
        coords, confidence = decode_to_image(logits, matrices, HeatmapCodec(loss, method, 2.0))
        visible = ~np.isnan(labels[..., 0])
        # tolerance in input pixels, scaled back to the (larger) original picture
        scale = max(width, height) / size
        np.testing.assert_allclose(coords[visible], labels[visible], atol=tolerance * scale)
        assert confidence.shape == (3, 22)
