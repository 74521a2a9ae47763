"""Body framing: crops land exactly on their matrices, boxes follow the body, and a model that sees
the body is framed by its own predictions, one box per video."""

import numpy as np
import pytest
from test_heatmaps import logits_for

from benchmark.data import framing, transforms
from benchmark.study.codec import HeatmapCodec, encode
from benchmark.training.inference import framed_predictions


@pytest.mark.parametrize("centre,side", [((120.0, 80.0), 200.0), ((80.0, 40.0), 120.0), ((100.0, 70.0), 40.0)])
def test_a_crop_shows_each_image_point_where_its_matrix_puts_it(centre, side):
    """Downscaled, partly outside the picture (black there), and upscaled crops."""
    height, width, size = 160, 240, 64
    image = np.zeros((height, width, 3), np.uint8)
    dot = np.array([110.0, 75.0])  # the 4x4 block of pixels [108, 112) x [73, 77)
    image[73:77, 108:112] = 255
    image[0, :] = image[:, 0] = 40  # the picture's first row and column: dim but not black
    out, matrix = framing.crop_image(image, (np.array(centre), side), size)
    assert out.shape == (size, size, 3)
    where = transforms.apply(matrix, dot)
    ys, xs = np.nonzero(out[..., 0] > 0)
    near = np.hypot(xs + 0.5 - where[0], ys + 0.5 - where[1]) < 8  # the dot, not the dim border
    ys, xs = ys[near], xs[near]
    weights = out[ys, xs, 0].astype(float)
    bright = np.array([np.average(xs + 0.5, weights=weights), np.average(ys + 0.5, weights=weights)])
    np.testing.assert_allclose(bright, where, atol=0.35)
    left, top = np.maximum(transforms.apply(matrix, [0.0, 0.0]), 0).astype(int)  # black before the picture
    assert out[:top].max(initial=0) == 0 and out[:, :left].max(initial=0) == 0


def test_the_body_box_spans_the_keypoints_at_the_fill():
    points = np.array([[10.0, 20.0], [110.0, 60.0], [np.nan, np.nan], [60.0, 40.0]])
    centre, side = framing.body_box(points, fill=0.5)
    np.testing.assert_allclose(centre, [60.0, 40.0])
    assert side == pytest.approx(200.0)
    many = np.concatenate([np.random.default_rng(0).uniform(0, 100, (200, 2)), [[1000.0, 1000.0]]])
    assert framing.body_box(many, fill=1.0, trim=2)[1] < 100  # the stray point and the extremes are trimmed
    with pytest.raises(ValueError, match="no keypoint"):
        framing.body_box(np.full((3, 2), np.nan))


def test_the_predicted_box_ignores_unconfident_and_stray_points():
    rng = np.random.default_rng(0)
    coords = rng.uniform(100, 200, size=(5, 22, 2))
    confidence = np.ones((5, 22))
    coords[0, 3] = [900.0, 900.0]  # a stray confident peak: trimmed
    coords[1, 4], confidence[1, 4] = [-500.0, -500.0], 0.05  # unconfident: ignored
    centre, side = framing.predicted_box(coords, confidence, fill=1.0)
    assert 95 < side <= 101 and np.all((centre > 140) & (centre < 160))


def test_frames_of_a_video_share_one_box_from_the_whole_video():
    labels = np.zeros((4, 22, 2))
    labels[0, :, 0], labels[1, :, 0] = np.linspace(0, 50, 22), np.linspace(50, 100, 22)  # video a moves
    labels[2:, :, 0] = np.linspace(0, 10, 22)
    boxes = framing.label_boxes(["a", "a", "b", "b"], labels, fill=1.0)
    assert boxes[0] is boxes[1] and boxes[2] is boxes[3]
    assert boxes[0][1] == pytest.approx(100.0) and boxes[2][1] == pytest.approx(10.0)


class _Oracle:
    """A perfect model: heatmaps of the true keypoints, seen through the current inputs' matrices."""

    def __init__(self, truth, loss="kce"):
        self.truth, self.loss, self.matrices = truth, loss, None

    def predict_on_batch(self, batch):
        size = batch.shape[1]
        inputs = np.stack([transforms.apply(m, t) for m, t in zip(self.matrices, self.truth)])
        logits = logits_for(encode(inputs, (size, size)), self.loss)
        return np.concatenate([logits, np.zeros((len(batch) - len(logits),) + logits.shape[1:], logits.dtype)])


def test_framing_passes_crop_each_video_around_the_body_it_predicted():
    size, fill = 128, 0.8
    truth = np.empty((4, 22, 2))
    rng = np.random.default_rng(1)
    truth[:2] = rng.uniform([200, 150], [280, 200], size=(2, 22, 2))  # a small infant in video a
    truth[2:] = rng.uniform([50, 60], [400, 300], size=(2, 22, 2))  # a large one in video b
    oracle, calls = _Oracle(truth), []

    def inputs(boxes):
        calls.append(boxes)
        framed = [framing.crop_image(np.zeros((480, 640, 3), np.uint8), b, size) if b
                  else transforms.letterbox_image(np.zeros((480, 640, 3), np.uint8), size) for b in boxes or [None] * 4]
        oracle.matrices = np.stack([f[1] for f in framed])
        return np.stack([f[0] for f in framed]), oracle.matrices

    codec = HeatmapCodec("kce", "wa", 2.0)
    logits, matrices = framed_predictions(oracle, codec, inputs, ["a", "a", "b", "b"], passes=2, fill=fill)
    assert len(calls) == 3 and calls[0] is None
    boxes = calls[-1]
    assert boxes[0] is boxes[1] and boxes[2] is boxes[3] and boxes[0] is not boxes[2]
    for video in (slice(0, 2), slice(2, 4)):
        # Each video's body spans about `fill` of its crop (more: the trimmed extremes and the
        # decoding near the picture's border shrink the predicted extent), and stays in it.
        seen = transforms.apply(matrices[video][0], truth[video].reshape(-1, 2))
        span = np.max(seen.max(axis=0) - seen.min(axis=0))
        assert fill * size <= span <= size
        assert seen.min() > -2 and seen.max() < size + 2
    assert matrices[0][0, 0] > 2 * matrices[2][0, 0]  # the small infant is enlarged more
