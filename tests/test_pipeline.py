"""The input pipeline keeps images and keypoint targets consistent under every augmentation."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from benchmark.data import framing, transforms
from benchmark.data.labelme import Frame
from benchmark.study.codec import decode
from benchmark.study.heatmaps import MISSING
from benchmark.study.keypoints import FACIAL_IDX, INDEX
from benchmark.training.config import TrainConfig
from benchmark.training.pipeline import HeatmapBatches, prepare

WRIST_L, WRIST_R = INDEX["Wrist_L"], INDEX["Wrist_R"]


def _frame(tmp_path: Path, name: str, width: int, height: int, dot: tuple[float, float]) -> Frame:
    """A black picture with one bright dot at the left wrist; other keypoints spread around."""
    image = np.zeros((height, width, 3), np.uint8)
    cv2.circle(image, (int(dot[0]), int(dot[1])), 3, (255, 255, 255), -1)
    path = tmp_path / f"{name}.png"  # lossless, so the dot's centre is exact
    cv2.imwrite(str(path), image)
    rng = np.random.default_rng(len(name))
    keypoints = rng.uniform([0.3 * width, 0.3 * height], [0.7 * width, 0.7 * height], size=(22, 2))
    keypoints[WRIST_L] = [int(dot[0]) + 0.5, int(dot[1]) + 0.5]
    return Frame("Train", name[:3], int(name[4:]), path, path.with_suffix(".json"), keypoints, width, height)


@pytest.fixture
def frames(tmp_path):
    return [_frame(tmp_path, f"00{i}_0000000{i}", w, h, d)
            for i, (w, h, d) in enumerate([(640, 480, (300, 200)), (480, 480, (260, 300)), (360, 640, (180, 350))])]


def _dot_centre(image: np.ndarray) -> np.ndarray:
    grey = image.mean(axis=-1)
    ys, xs = np.nonzero(grey > 0.5 * grey.max())
    return np.array([xs.mean() + 0.5, ys.mean() + 0.5])


def test_prepare_crops_to_the_body_and_moves_labels(frames):
    boxes = framing.label_boxes([f.video for f in frames], np.stack([f.keypoints for f in frames]), fill=0.8)
    data = prepare(frames, 128, progress=False, boxes=boxes)
    for image, keypoints in zip(data.images, data.keypoints):
        np.testing.assert_allclose(_dot_centre(image), keypoints[WRIST_L], atol=1.0)
        assert np.max(keypoints.max(axis=0) - keypoints.min(axis=0)) == pytest.approx(0.8 * 128, abs=1.0)
    assert not np.array_equal(data.images, prepare(frames, 128, progress=False).images)  # not the cached letterbox


def test_prepare_letterboxes_and_moves_labels(frames):
    data = prepare(frames, 128, progress=False)
    assert data.images.shape == (3, 128, 128, 3) and data.images.dtype == np.uint8
    for image, keypoints in zip(data.images, data.keypoints):
        np.testing.assert_allclose(_dot_centre(image), keypoints[WRIST_L], atol=1.0)
    np.testing.assert_allclose(data.labels, np.stack([f.keypoints for f in frames]))


@pytest.mark.parametrize("perspective, distortion", [(0.0, 0.0), (0.5, 0.0), (0.5, 0.3)])
@pytest.mark.parametrize("seed", range(6))
def test_augmentation_moves_pixels_and_labels_together(frames, seed, perspective, distortion):
    batches = HeatmapBatches(prepare(frames, 128, progress=False), batch_size=3, augment=True, seed=seed,
                             perspective=perspective, distortion=distortion)
    for index in range(3):
        image, keypoints = batches.sample(index)
        dot = _dot_centre(image)
        left, right = np.linalg.norm(keypoints[[WRIST_L, WRIST_R]] - dot, axis=1)
        assert min(left, right) < 2.0  # the dot is where the (possibly swapped) wrist label says
        assert image.dtype == np.float32 and 0.0 <= image.min() and image.max() <= 1.0


def test_mirroring_swaps_the_wrist_label(frames):
    data = prepare(frames, 128, progress=False)
    swapped = 0
    for seed in range(12):
        batches = HeatmapBatches(data, augment=True, seed=seed)
        _, mirrored = transforms.random_augmentation(np.random.default_rng([seed, 0, 0]), 128)
        image, keypoints = batches.sample(0)
        dot = _dot_centre(image)
        nearest = WRIST_R if mirrored else WRIST_L
        assert np.linalg.norm(keypoints[nearest] - dot) < 2.0
        swapped += mirrored
    assert 0 < swapped < 12



def test_augmentation_ranges_bound_the_geometry(frames):
    data = prepare(frames, 128, progress=False)
    default, same = HeatmapBatches(data, augment=True, seed=2), HeatmapBatches(
        data, augment=True, seed=2, rotation=30.0, scale=0.25, translate=0.1)
    np.testing.assert_array_equal(default.sample(1)[1], same.sample(1)[1])  # defaults: the study's ranges
    still = HeatmapBatches(data, augment=True, seed=2, rotation=0.0, scale=0.0, translate=0.0)
    for seed in range(6):
        still.seed = seed
        _, keypoints = still.sample(0)
        original = data.keypoints[0]
        mirrored = transforms.mirror_labels(original * [-1, 1] + [128, 0])
        assert np.allclose(keypoints, original) or np.allclose(keypoints, mirrored)  # mirror only
    narrow = HeatmapBatches(data, augment=True, seed=2, rotation=5.0, scale=0.05, translate=0.02)
    wide = [default.sample(0, epoch)[1] for epoch in range(8)]
    small = [narrow.sample(0, epoch)[1] for epoch in range(8)]
    spread = [np.ptp(np.stack(points)[:, WRIST_L], axis=0).max() for points in (wide, small)]
    assert spread[1] < spread[0]


def test_targets_decode_back_to_the_labels(frames):
    data = prepare(frames, 128, progress=False)
    images, targets = HeatmapBatches(data, batch_size=3)[0]
    assert images.shape == (3, 128, 128, 3) and targets.shape == (3, 32, 32, 22)
    coords, _ = decode(np.clip(targets, 0, None), method="wa")
    np.testing.assert_allclose(np.asarray(coords), data.keypoints, atol=0.5)


def test_omitted_facial_keypoints_are_missing_targets_and_hourglass_gets_one_per_stack(frames):
    data = prepare(frames, 64, progress=False)
    _, targets = HeatmapBatches(data, batch_size=2, outputs=2, omit_facial=True)[0]
    assert isinstance(targets, tuple) and len(targets) == 2
    assert (targets[0][..., FACIAL_IDX] == MISSING).all()
    assert (targets[0][..., WRIST_L] >= 0).all()


def test_batches_are_deterministic_and_shuffle_per_epoch(frames):
    data = prepare(frames, 64, progress=False)
    a = HeatmapBatches(data, batch_size=3, augment=True, shuffle=True, seed=1)
    b = HeatmapBatches(data, batch_size=3, augment=True, shuffle=True, seed=1)
    np.testing.assert_array_equal(a[0][0], b[0][0])
    orders = {tuple(a.order(epoch)) for epoch in range(6)}
    assert len(orders) > 1 and all(sorted(order) == [0, 1, 2] for order in orders)
    a.on_epoch_end()
    assert not np.array_equal(a[0][0], b[0][0])  # a new epoch draws a new augmentation


def test_repeated_stream_is_the_sequence_of_epochs(frames):
    """One endless stream (one Keras iterator for the whole run) yields what epoch after epoch would."""
    data = prepare(frames, 64, progress=False)
    epochs = HeatmapBatches(data, batch_size=2, augment=True, shuffle=True, drop_remainder=True, seed=3)
    stream = HeatmapBatches(data, batch_size=2, augment=True, shuffle=True, drop_remainder=True, seed=3,
                            repeat=True)
    assert stream.num_batches is None and len(stream) == len(epochs) == 1
    for epoch in range(4):
        images, targets = stream[epoch * len(stream)]
        expected_images, expected_targets = epochs[0]
        np.testing.assert_array_equal(images, expected_images)
        np.testing.assert_array_equal(targets, expected_targets)
        epochs.on_epoch_end()
        stream.on_epoch_end()  # Keras calls it; the stream's epochs come from the index alone


def test_drop_remainder_keeps_one_batch_shape(frames):
    data = prepare(frames, 64, progress=False)
    assert len(HeatmapBatches(data, batch_size=2)) == 2
    dropping = HeatmapBatches(data, batch_size=2, drop_remainder=True)
    assert len(dropping) == 1 and dropping[0][0].shape[0] == 2
    assert len(HeatmapBatches(data, batch_size=8, drop_remainder=True)) == 1  # never zero batches


STRONG = dict(brightness=0.5, contrast=0.5, saturation=0.5, gain=0.3, hue=60.0, blur=2.0, noise=0.1, cutout=3, cutout_size=0.4)


def test_photometric_augmentation_and_cutout_leave_the_labels(frames):
    data = prepare(frames, 128, progress=False)
    for seed in range(6):
        plain = HeatmapBatches(data, augment=True, seed=seed, brightness=0, contrast=0, saturation=0)
        strong = HeatmapBatches(data, augment=True, seed=seed, **STRONG)
        (image, keypoints), (changed, moved) = plain.sample(1), strong.sample(1)
        np.testing.assert_array_equal(moved, keypoints)  # same geometry, same labels
        assert np.abs(changed - image).mean() > 0.01
        assert changed.dtype == np.float32 and 0.0 <= changed.min() and changed.max() <= 1.0


def test_photometric_augmentation_is_deterministic_per_seed():
    image = np.random.default_rng(0).uniform(0, 1, (64, 64, 3)).astype(np.float32)
    ranges = {k: v for k, v in STRONG.items() if not k.startswith("cutout")}
    first, again, other = (transforms.photometric(image, np.random.default_rng(s), **ranges) for s in (1, 1, 2))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    none = dict(brightness=0, contrast=0, saturation=0, gain=0, hue=0, blur=0, noise=0, motion_blur=0)
    np.testing.assert_allclose(transforms.photometric(image, np.random.default_rng(1), **none), image, atol=1e-6)


def test_motion_blur_smears_along_a_line_half_the_time():
    image = np.zeros((33, 33, 3), np.float32)
    image[16, 16] = 1.0
    plain = dict(brightness=0, contrast=0, saturation=0)
    outs = [transforms.photometric(image, np.random.default_rng(s), motion_blur=7, **plain) for s in range(20)]
    smeared = [out for out in outs if not np.allclose(out, image)]
    assert 4 < len(smeared) < 16
    for out in smeared:  # the dot's light, spread over 2-7 pixels on one line through it
        lit = np.argwhere(out[..., 0] > 1e-6)
        assert 2 <= len(lit) <= 8 and out.sum() == pytest.approx(3.0, rel=1e-4)
        assert np.linalg.matrix_rank(lit - lit.mean(axis=0), tol=1.0) == 1


def test_noise_fields_are_standard_normal_and_vary():
    rng = np.random.default_rng(3)
    fields = [transforms.standard_normal_field((128, 96, 3), rng) for _ in range(20)]
    values = np.concatenate([f.ravel() for f in fields])
    assert abs(values.mean()) < 0.02 and abs(values.std() - 1) < 0.02
    assert all(f.shape == (128, 96, 3) and f.dtype == np.float32 for f in fields)
    assert max(abs(np.corrcoef(a.ravel(), b.ravel())[0, 1]) for a, b in zip(fields, fields[1:])) < 0.5
    big = transforms.standard_normal_field((transforms.NOISE_BANK + 1, 8, 3), rng)
    assert big.shape == (transforms.NOISE_BANK + 1, 8, 3)


def test_cutout_erases_flat_rectangles_only():
    image = np.random.default_rng(0).uniform(0, 1, (64, 80, 3)).astype(np.float32)
    erased = 0
    for seed in range(20):
        out = transforms.cutout(image, np.random.default_rng(seed), count=2, size=0.3)
        changed = np.any(out != image, axis=-1)
        erased += changed.any()
        if changed.any():
            ys, xs = np.nonzero(changed)
            assert changed.sum() <= 2 * (0.3 * 64 + 1) * (0.3 * 80 + 1)
            assert len(np.unique(out[changed].round(6), axis=0)) <= 2  # one flat colour per rectangle
    assert 5 < erased < 20  # none to two rectangles each time
    np.testing.assert_array_equal(transforms.cutout(image, np.random.default_rng(0), count=0), image)


def test_train_config_augmentation_reaches_the_batches(frames):
    config = TrainConfig(augment_cutout=2, augment_noise=0.05, augment_perspective=0.3, augment_distortion=0.2)
    batches = HeatmapBatches(prepare(frames, 128, progress=False), augment=True, **config.augmentation())
    assert batches.erase == {"count": 2, "size": config.augment_cutout_size} and batches.perspective == 0.3
    assert batches.distortion == 0.2
    assert batches.colour["noise"] == 0.05 and batches.colour["gain"] == config.augment_gain
    assert batches.ranges["scale"] == (1 - config.augment_scale, 1 + config.augment_scale)
    for bad in ({"augment_noise": -0.1}, {"augment_cutout": 9}, {"augment_brightness": 1.0},
                {"augment_scale": 1.0}, {"augment_motion_blur": -1}, {"augment_perspective": 1.0},
                {"augment_distortion": 0.34}):
        with pytest.raises(ValueError):
            TrainConfig(**bad)


def test_hue_rotation_keeps_greys_and_turns_colours():
    grey, red = np.full(3, 0.4), np.array([0.8, 0.1, 0.1])
    np.testing.assert_allclose(grey @ transforms.hue_rotation(70).T, grey, atol=1e-9)
    turned = red @ transforms.hue_rotation(120).T
    assert np.argmax(turned) != 0 and np.isclose(turned @ transforms.YIQ[0], red @ transforms.YIQ[0])
    np.testing.assert_allclose(transforms.hue_rotation(40) @ transforms.hue_rotation(-40), np.eye(3), atol=1e-9)
