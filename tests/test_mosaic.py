"""The face mosaic: region geometry, complete destruction inside, nothing touched outside."""

from __future__ import annotations

import numpy as np
import pytest

from benchmark.data.labelme import load_dataset, load_image
from benchmark.data.mosaic import ellipse_mask, face_ellipse, face_mask, mosaic_face
from benchmark.study.keypoints import FACIAL_IDX, INDEX, NUM_KEYPOINTS


def frontal_pose() -> np.ndarray:
    """A supine infant, head up, face centred near (100, 80) in a 200x160 image."""
    pose = np.full((NUM_KEYPOINTS, 2), np.nan)
    for name, xy in {"Head": (100, 40), "Eye_L": (110, 75), "Eye_R": (90, 75), "Nose": (100, 85),
                     "Upper_Lip": (100, 93), "Lower_Lip": (100, 97),
                     "Shoulder_R": (75, 115), "Shoulder_L": (125, 115), "Hip_R": (85, 150)}.items():
        pose[INDEX[name]] = xy
    return pose


def inside(ellipse, points) -> np.ndarray:
    (cx, cy), (a, b), angle = ellipse
    theta = np.deg2rad(angle)
    d = np.asarray(points) - (cx, cy)
    u = d[:, 0] * np.cos(theta) + d[:, 1] * np.sin(theta)
    v = -d[:, 0] * np.sin(theta) + d[:, 1] * np.cos(theta)
    return (u / a) ** 2 + (v / b) ** 2 <= 1


def rotate(pose, degrees, centre=(100, 80)) -> np.ndarray:
    t = np.deg2rad(degrees)
    rotation = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    return (pose - centre) @ rotation.T + centre


@pytest.fixture
def image():
    return np.random.default_rng(1).integers(0, 256, (160, 200, 3), dtype=np.uint8)


@pytest.mark.parametrize("margin", [0.0, 0.6, 2.0])
@pytest.mark.parametrize("degrees", [0, 35, 90, 180])
def test_ellipse_contains_the_facial_keypoints(margin, degrees):
    pose = rotate(frontal_pose(), degrees)
    ellipse = face_ellipse(pose, margin)
    assert inside(ellipse, pose[FACIAL_IDX]).all()
    mask = face_mask((160, 200), pose, margin)
    columns, rows = np.floor(pose[FACIAL_IDX]).astype(int).T
    assert mask[rows, columns].all()


def test_ellipse_grows_with_margin_and_follows_the_face():
    pose = frontal_pose()
    small, large = face_mask((160, 200), pose, 0.2), face_mask((160, 200), pose, 1.0)
    assert small.sum() < large.sum() and not (small & ~large).any()
    upright = face_ellipse(pose)
    turned = face_ellipse(rotate(pose, 90))
    np.testing.assert_allclose(upright[1], turned[1])
    np.testing.assert_allclose((upright[2] - turned[2]) % 180, 90)
    # the keypoints sit low in the face: the region reaches further above the eyes than below the lips
    (_, cy), (_, b), _ = upright
    assert (75 - (cy - b)) > ((cy + b) - 97)


def test_profile_face_gets_a_face_sized_region():
    pose = frontal_pose()
    pose[INDEX["Eye_L"]] = pose[INDEX["Eye_R"]] + (0.5, 0.0)  # eyes nearly coincide, points on a line
    pose[[INDEX["Nose"], INDEX["Upper_Lip"], INDEX["Lower_Lip"]], 0] = 90.0
    _, (a, b), _ = face_ellipse(pose)
    extent = 97 - 75
    assert min(a, b) >= 0.5 * extent


def test_fallback_circle_from_head_and_shoulders():
    pose = frontal_pose()
    pose[FACIAL_IDX] = np.nan
    (cx, cy), (a, b), _ = face_ellipse(pose)
    assert a == b
    neck = (100, 115)
    assert cx == pytest.approx(100) and 40 < cy < neck[1]
    assert face_mask((160, 200), frontal_pose())[75, 100]  # the true face centre is covered
    assert face_mask((160, 200), pose)[75:98, 90:111].all()
    # a lone facial keypoint is still covered by the circle
    pose[INDEX["Eye_L"]] = (135, 60)
    assert inside(face_ellipse(pose), [(135, 60)]).all()


def test_nothing_usable_gives_none_and_an_unchanged_copy(image):
    pose = frontal_pose()
    pose[FACIAL_IDX] = np.nan
    pose[INDEX["Head"]] = np.nan
    assert face_ellipse(pose) is None
    assert not face_mask(image.shape, pose).any()
    out = mosaic_face(image, pose, seed=0)
    assert out is not image and np.array_equal(out, image)


@pytest.mark.parametrize("fill", [None, 0, 255, 128])
def test_every_pixel_inside_changes_and_none_outside(image, fill):
    if fill is not None:
        image = np.full_like(image, fill)  # flat faces: where block mean + noise could fall back on the original
    pose = frontal_pose()
    original = image.copy()
    out = mosaic_face(image, pose, seed="Train/000_00000375")
    mask = face_mask(image.shape, pose)
    assert mask.sum() > 500
    assert (out[mask] != original[mask]).all()  # every channel of every masked pixel
    assert np.array_equal(out[~mask], original[~mask])
    assert np.array_equal(image, original)  # input untouched
    assert out.dtype == np.uint8 and out.shape == image.shape


def test_mosaic_is_coarse_and_unrelated_to_the_face(image):
    pose = frontal_pose()
    mask = face_mask(image.shape, pose)
    dark, bright = np.zeros_like(image), np.full_like(image, 255)
    # a flat face comes out as strong noise, not as its own flat colour
    out_dark = mosaic_face(dark, pose, seed=3)[mask].astype(float)
    out_bright = mosaic_face(bright, pose, seed=3)[mask].astype(float)
    assert out_dark.std() > 20 and out_bright.std() > 20
    # coarse blocks: neighbours within a block differ less than neighbours across a block edge
    out = mosaic_face(image, pose, seed=3, block=8).astype(float)
    rows, cols = np.nonzero(mask[:, :-1] & mask[:, 1:])
    same_block = (cols // 8) == ((cols + 1) // 8)
    step = np.abs(out[rows, cols] - out[rows, cols + 1]).mean(axis=1)
    assert step[same_block].mean() < step[~same_block].mean()


def test_deterministic_per_seed(image):
    pose = frontal_pose()
    a = mosaic_face(image, pose, seed="Valid/085_00000200")
    assert np.array_equal(a, mosaic_face(image, pose, seed="Valid/085_00000200"))
    assert not np.array_equal(a, mosaic_face(image, pose, seed="Valid/085_00000300"))
    assert not np.array_equal(mosaic_face(image, pose, seed=1), mosaic_face(image, pose, seed=2))


def test_grayscale_images_are_supported():
    gray = np.random.default_rng(0).integers(0, 256, (160, 200), dtype=np.uint8)
    pose = frontal_pose()
    out = mosaic_face(gray, pose, seed=0)
    mask = face_mask(gray.shape, pose)
    assert out.shape == gray.shape and (out[mask] != gray[mask]).all()
    with pytest.raises(ValueError, match="uint8"):
        mosaic_face(gray.astype(float), pose, seed=0)


def test_ellipse_mask_uses_pixel_centres():
    mask = ellipse_mask((4, 6), ((3.0, 2.0), (1.0, 1.0), 0.0))
    # pixels whose centres (i + 0.5, j + 0.5) lie within distance 1 of (3, 2)
    assert np.argwhere(mask).tolist() == [[1, 2], [1, 3], [2, 2], [2, 3]]


def test_real_sample_faces_are_covered(sample_root):
    data = load_dataset(sample_root)
    for frames in data.splits.values():
        for frame in frames:
            image = load_image(frame)
            mask = face_mask(image.shape, frame.keypoints)
            columns, rows = np.floor(frame.keypoints[FACIAL_IDX]).astype(int).T
            assert mask[rows, columns].all(), frame.id
            assert 0.003 < mask.mean() < 0.05, frame.id
            out = mosaic_face(image, frame.keypoints, seed=frame.id)
            assert (out[mask] != image[mask]).all() and np.array_equal(out[~mask], image[~mask])


def test_safe_to_show_mosaics_everything_when_no_face_region_can_be_found():
    from benchmark.data.mosaic import safe_to_show

    image = np.random.default_rng(0).integers(0, 256, (60, 80, 3), dtype=np.uint8)
    pose = np.full((22, 2), np.nan)  # no facial keypoint, no head, no shoulders
    assert face_ellipse(pose) is None
    out = safe_to_show(image, pose, seed="x")
    assert (out != image).any(axis=-1).all()  # not one original pixel left
    # With a face region it is exactly the face mosaic.
    np.testing.assert_array_equal(safe_to_show(image, frontal_pose() / 2.5, 1),
                                  mosaic_face(image, frontal_pose() / 2.5, 1))
