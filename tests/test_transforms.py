import numpy as np
import pytest

from benchmark.data import transforms


@pytest.mark.parametrize("width,height", [(640, 480), (480, 640), (480, 480), (333, 517)])
def test_letterbox_inverse_is_exact(width, height):
    matrix = transforms.letterbox(width, height, 128)
    points = np.random.default_rng(0).uniform(0, [width, height], size=(22, 2))
    back = transforms.apply(transforms.invert(matrix), transforms.apply(matrix, points))
    np.testing.assert_allclose(back, points, atol=1e-9)
    corners = transforms.apply(matrix, np.array([[0.0, 0.0], [width, height]]))
    assert corners.min() >= 0 and corners.max() <= 128
    assert np.isclose(corners[1] - corners[0], 128).any()  # the longer side fills the square


def test_letterbox_image_puts_a_marked_pixel_where_the_matrix_says():
    image = np.zeros((480, 640, 3), np.uint8)
    image[200:216, 320:336] = 255  # a 16x16 block centred on (328, 208)
    out, matrix = transforms.letterbox_image(image, 160)
    expected = transforms.apply(matrix, np.array([328.0, 208.0]))
    ys, xs = np.nonzero(out[..., 0] > 0)
    weights = out[ys, xs, 0].astype(float)
    centre = np.array([np.average(xs + 0.5, weights=weights), np.average(ys + 0.5, weights=weights)])
    np.testing.assert_allclose(centre, expected, atol=0.05)
    assert matrix[1, 2] == 20 and out[:20].max() == 0 and out[-20:].max() == 0  # black bars above and below


@pytest.mark.parametrize("tilt, lens", [(0.0, 0.0), (0.6, 0.0), (0.0, -0.3), (0.6, 0.3)])
def test_warp_follows_the_pixel_centre_convention(tilt, lens):
    """Pixels and points move alike, under an affine matrix, a tilt homography after it, and a lens
    distortion after either."""
    rng = np.random.default_rng(1)
    matrix, _ = transforms.random_augmentation(rng, 128, flip=False)
    if tilt:
        matrix = transforms.random_tilt(rng, 128, tilt) @ transforms.to3x3(matrix)
    distortion = (np.array([70.0, 50.0]), 100.0, lens) if lens else None
    image = np.zeros((128, 128), np.float32)
    image[60:68, 40:48] = 1.0  # centre (44, 64) in continuous coordinates
    warped = transforms.warp(image, matrix, 128, distortion)
    ys, xs = np.nonzero(warped > 0)
    w = warped[ys, xs]
    centre = np.array([np.average(xs + 0.5, weights=w), np.average(ys + 0.5, weights=w)])
    expected = transforms.apply(matrix, np.array([44.0, 64.0]))
    if lens:
        moved = transforms.radial_distortion(expected, *distortion)
        assert np.linalg.norm(moved - expected) > 1  # the lens really moved it
        expected = moved
    # A lens bends the 8-pixel block, so its centroid is not quite its centre's image: 0.3 px then.
    np.testing.assert_allclose(centre, expected, atol=0.3 if lens else 0.1)


def test_lens_bends_about_its_centre_and_keeps_its_radius():
    centre, radius = np.array([40.0, 70.0]), 90.0
    inside, on, beyond = centre + [30.0, 0.0], centre + [0.0, radius], centre + [0.0, -1.5 * radius]
    for strength in (-0.3, 0.3):
        moved = transforms.radial_distortion(np.stack([centre, inside, on, beyond]), centre, radius, strength)
        np.testing.assert_allclose(moved[[0, 2, 3]], [centre, on, beyond])
        assert moved[1, 1] == inside[1] and (moved[1, 0] > inside[0]) == (strength < 0)  # barrel magnifies
    for seed in range(10):
        centre, radius, strength = transforms.random_lens(np.random.default_rng(seed), 128, 0.2)
        assert np.all(np.abs(centre - 64) <= 32) and abs(strength) <= 0.2
        corners = np.array([[0, 0], [0, 128], [128, 0], [128, 128]])
        assert np.isclose(np.max(np.linalg.norm(corners - centre, axis=1)), radius)  # every pixel within it


def test_mirror_moves_points_and_swaps_labels():
    rng = np.random.default_rng(3)
    while True:
        matrix, mirrored = transforms.random_augmentation(rng, 100, rotation=0, scale=(1, 1), translate=0)
        if mirrored:
            break
    np.testing.assert_allclose(transforms.apply(matrix, np.array([10.0, 20.0])), [90.0, 20.0])
    points = np.arange(44, dtype=float).reshape(22, 2)
    swapped = transforms.mirror_labels(points)
    assert swapped[1, 0] == points[2, 0] and swapped[0, 0] == points[0, 0]  # Eye_L <-> Eye_R, Head stays


def test_missing_points_stay_missing():
    matrix = transforms.letterbox(640, 480, 128)
    out = transforms.apply(matrix, np.array([[np.nan, np.nan], [1.0, 2.0]]))
    assert np.isnan(out[0]).all() and np.isfinite(out[1]).all()


def test_tilt_turns_about_the_centre_and_makes_one_side_larger_within_the_strength():
    for seed in range(20):
        tilt = transforms.random_tilt(np.random.default_rng(seed), 100, 0.4)
        assert not np.allclose(tilt[2, :2], 0)  # a real perspective, not an affine map
        np.testing.assert_allclose(transforms.apply(tilt, np.array([50.0, 50.0])), [50.0, 50.0])
        direction = tilt[2, :2] / np.linalg.norm(tilt[2, :2])
        near, far = 50 - 40 * direction, 50 + 40 * direction  # a span across the centre, along the tilt
        across = 0.01 * np.array([-direction[1], direction[0]])
        short = transforms.apply(tilt, np.stack([far, far + across]))
        long = transforms.apply(tilt, np.stack([near, near + across]))
        ratio = np.linalg.norm(long[1] - long[0]) / np.linalg.norm(short[1] - short[0])
        assert 1 <= ratio <= (1 + 0.4 * 0.8 / 2) / (1 - 0.4 * 0.8 / 2) + 1e-9
