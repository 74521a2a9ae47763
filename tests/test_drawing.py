"""Pose overlays and image grids."""

from __future__ import annotations

import numpy as np
import pytest

from benchmark.data.drawing import BACKDROP, LEFT, MIDDLE, RIGHT, SINGLE, draw_pose, grid
from benchmark.study.keypoints import INDEX, NUM_KEYPOINTS


def missing() -> np.ndarray:
    return np.full((NUM_KEYPOINTS, 2), np.nan)


def changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a != b).any(axis=-1)


def test_returns_a_new_image_and_leaves_the_input_alone():
    image = np.zeros((100, 100, 3), np.uint8)
    kp = missing()
    kp[INDEX["Nose"]] = (50, 50)
    out = draw_pose(image, kp)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert not image.any() and changed(out, image).any()


def test_keypoints_coloured_by_side_at_their_position():
    image = np.zeros((200, 200, 3), np.uint8)
    kp = missing()
    kp[INDEX["Wrist_L"]] = (150.5, 40.5)
    kp[INDEX["Wrist_R"]] = (40.5, 150.5)
    kp[INDEX["Head"]] = (100.5, 100.5)
    out = draw_pose(image, kp)
    assert tuple(out[40, 150]) == LEFT and tuple(out[150, 40]) == RIGHT and tuple(out[100, 100]) == MIDDLE
    single = draw_pose(image, kp, color_by_side=False)
    assert tuple(single[40, 150]) == tuple(single[150, 40]) == SINGLE


def test_edges_only_between_visible_keypoints():
    image = np.zeros((200, 200, 3), np.uint8)
    kp = missing()
    kp[INDEX["Elbow_L"]] = (20.5, 100.5)
    kp[INDEX["Wrist_L"]] = (180.5, 100.5)  # Elbow_L-Wrist_L is a skeleton edge
    pixel = draw_pose(image, kp)[100, 100].astype(float)  # midway along the edge (anti-aliased)
    np.testing.assert_allclose(pixel / pixel.max(), np.array(LEFT) / 255, atol=0.05)
    kp[INDEX["Wrist_L"]] = np.nan
    out = draw_pose(image, kp)
    assert not out[:, 40:].any()  # only the elbow's marker, no line towards the missing wrist


def test_sizes_scale_with_the_image():
    def marked(size):
        kp = missing()
        kp[INDEX["Nose"]] = (size / 2, size / 2)
        return changed(draw_pose(np.zeros((size, size, 3), np.uint8), kp), 0).sum()

    assert marked(800) > 4 * marked(200) > 0
    kp = missing()
    kp[INDEX["Nose"]] = (100, 100)
    image = np.zeros((200, 200, 3), np.uint8)
    assert changed(draw_pose(image, kp, radius=10), 0).sum() > changed(draw_pose(image, kp, radius=2.5), 0).sum()


def test_labels_and_grayscale_input():
    kp = missing()
    kp[INDEX["Knee_R"]] = (60, 60)
    gray = np.zeros((200, 200), np.uint8)
    plain, labelled = draw_pose(gray, kp), draw_pose(gray, kp, labels=True)
    assert plain.shape == (200, 200, 3)
    assert changed(labelled, 0).sum() > changed(plain, 0).sum()


def test_grid_tiles_and_keeps_aspect():
    wide = np.full((50, 100, 3), 255, np.uint8)
    tall = np.full((100, 50, 3), 128, np.uint8)
    out = grid([wide, tall, wide], cols=2, cell=64)
    assert out.shape == (128, 128, 3)
    assert tuple(out[0, 0]) == BACKDROP and tuple(out[32, 32]) == (255, 255, 255)  # letterboxed
    assert tuple(out[32, 64]) == BACKDROP and tuple(out[32, 96]) == (128, 128, 128)
    assert (out[64:, 64:] == BACKDROP).all()  # empty last cell


def test_grid_titles():
    images = [np.zeros((64, 64, 3), np.uint8)] * 2
    plain = grid(images, cols=2, cell=64)
    titled = grid(images, cols=2, titles=["Train/000_00000001", "a"], cell=64)
    assert titled.shape[1] == plain.shape[1] and titled.shape[0] > plain.shape[0]
    assert (titled[: titled.shape[0] - 64] > 200).any()  # light text in the bar
    with pytest.raises(ValueError, match="titles"):
        grid(images, cols=2, titles=["one"])
    with pytest.raises(ValueError):
        grid([], cols=2)
