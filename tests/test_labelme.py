"""Reading the LabelMe dataset layout: the real sample and every malformed-file case."""

from __future__ import annotations

import json
import shutil
import warnings
from contextlib import contextmanager

import numpy as np
import pytest
from PIL import Image

from benchmark.data.labelme import (
    AnnotationError,
    AnnotationWarning,
    annotation_dict,
    load_dataset,
    load_image,
    load_split,
    read_annotation,
    write_truth,
)
from benchmark.study.keypoints import INDEX, NUM_KEYPOINTS


@contextmanager
def strict():
    """Any warning inside fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def shapes_of(keypoints):
    return annotation_dict(keypoints, "x.jpg", 64, 48)["shapes"]


# --- the real sample -----------------------------------------------------------------------------

def test_real_sample(sample_root):
    with strict():
        data = load_dataset(sample_root)
    assert list(data.splits) == ["Train", "Valid", "Test"]
    assert not data.is_synthetic
    for split, size in [("Train", (640, 480)), ("Valid", (480, 480)), ("Test", (480, 480))]:
        frames = data.frames(split)
        assert len(frames) == 3
        assert all((f.width, f.height) == size for f in frames)
        assert all(f.visible.all() and f.keypoints.shape == (NUM_KEYPOINTS, 2) for f in frames)
        assert all(f.truth is None for f in frames)
        videos = data.videos(split)
        assert len(videos) == 1
        (video, in_video), = videos.items()
        assert [f.frame for f in in_video] == sorted(f.frame for f in in_video)
        assert all(f.video == video and f.split == split for f in in_video)
    first = data.frames("Train")[0]
    assert first.id == "Train/000_00000375" and (first.video, first.frame) == ("000", 375)
    np.testing.assert_allclose(first.keypoints[INDEX["Head"]], [308.7692307692308, 35.41025641025641])
    image = load_image(first)
    assert image.shape == (480, 640, 3) and image.dtype == np.uint8
    assert len(data.fingerprint()) == 64


def test_sample_keypoints_match_the_json_labels(sample_root):
    path = sample_root / "Valid" / "ann" / "085_00000200.json"
    keypoints, width, height = read_annotation(path, sample_root / "Valid" / "img" / "085_00000200.jpg")
    for shape in json.loads(path.read_text())["shapes"]:
        np.testing.assert_array_equal(keypoints[INDEX[shape["label"]]], shape["points"][0])
    assert (width, height) == (480, 480)


# --- labels and shapes ---------------------------------------------------------------------------

def test_labels_in_any_order_and_missing_keypoints_are_nan(write_frame, tmp_path):
    _, ann, keypoints = write_frame()
    keypoints = keypoints.copy()
    keypoints[[INDEX["Nose"], INDEX["Ankle_L"]]] = np.nan
    shapes = shapes_of(keypoints)[::-1]
    write_frame(shapes=shapes)
    with strict():
        read, _, _ = read_annotation(ann)
    np.testing.assert_array_equal(read, keypoints)
    assert np.isnan(read[INDEX["Nose"]]).all() and np.isnan(read[INDEX["Ankle_L"]]).all()
    frame, = load_split(tmp_path, "Train")
    assert frame.visible.sum() == NUM_KEYPOINTS - 2
    assert not frame.visible[INDEX["Nose"]]


def test_unknown_labels_warn_and_are_ignored_whatever_their_shape(write_frame):
    _, ann, keypoints = write_frame()
    extra = [{"label": "Tail", "points": [[3.0, 4.0]], "shape_type": "point"},
             {"label": "infant", "points": [[1.0, 1.0], [20.0, 20.0]], "shape_type": "rectangle"}]
    write_frame(shapes=shapes_of(keypoints) + extra)
    with pytest.warns(AnnotationWarning, match=r"unknown labels \['Tail', 'infant'\]"):
        read, _, _ = read_annotation(ann)
    np.testing.assert_array_equal(read, keypoints)


def test_duplicate_label_is_an_error_naming_file_and_label(write_frame):
    _, ann, keypoints = write_frame()
    shapes = shapes_of(keypoints)
    write_frame(shapes=shapes + [shapes[INDEX["Knee_R"]]])
    with pytest.raises(AnnotationError, match=rf"{ann.name}.*label.*duplicate.*'Knee_R'"):
        read_annotation(ann)


def test_keypoint_label_on_a_non_point_shape_is_an_error(write_frame):
    _, ann, keypoints = write_frame()
    shapes = shapes_of(keypoints)
    shapes[INDEX["Wrist_L"]] = {"label": "Wrist_L", "points": [[1.0, 1.0], [5.0, 5.0]],
                                "shape_type": "line"}
    write_frame(shapes=shapes)
    with pytest.raises(AnnotationError, match=rf"{ann.name}.*Wrist_L.*shape_type.*'line'"):
        read_annotation(ann)


@pytest.mark.parametrize("points", [[], [[1.0, 2.0], [3.0, 4.0]], [[1.0]], [["1", "2"]], [[1.0, None]], None])
def test_malformed_points_are_an_error(write_frame, points):
    _, ann, keypoints = write_frame()
    shapes = shapes_of(keypoints)
    shapes[INDEX["Hip_R"]]["points"] = points
    write_frame(shapes=shapes)
    with pytest.raises(AnnotationError, match=rf"{ann.name}.*Hip_R.*points"):
        read_annotation(ann)


def test_keypoint_outside_the_image_is_an_error(write_frame):
    _, ann, keypoints = write_frame(size=(64, 48))
    keypoints = keypoints.copy()
    keypoints[INDEX["Elbow_L"]] = [70.0, 10.0]
    write_frame(keypoints=keypoints)
    with pytest.raises(AnnotationError, match=rf"{ann.name}.*outside the 64x48 image: Elbow_L"):
        read_annotation(ann)


# --- imagePath, imageData, image size ------------------------------------------------------------

def test_windows_image_path_is_accepted_and_a_wrong_one_warns(write_frame):
    _, ann, _ = write_frame(stem="007_00000042", imagePath="..\\img\\007_00000042.jpg")
    with strict():
        read_annotation(ann)
    write_frame(stem="007_00000042", imagePath="../img/other_frame.jpg")
    with pytest.warns(AnnotationWarning, match=rf"{ann.name}.*imagePath.*other_frame"):
        read_annotation(ann)


def test_image_data_is_never_used_and_warns_of_a_face_leak(write_frame, tmp_path):
    _, ann, keypoints = write_frame(imageData="iVBORw0KGgo=")
    with pytest.warns(AnnotationWarning, match=rf"{ann.name}.*imageData.*un-mosaicked face"):
        frame, = load_split(tmp_path, "Train")
    np.testing.assert_array_equal(frame.keypoints, keypoints)
    write_frame(imageData=None)
    with strict():
        load_split(tmp_path, "Train")


def test_declared_size_that_disagrees_with_the_image_warns_and_uses_the_real_size(write_frame):
    image, ann, keypoints = write_frame(size=(64, 48), imageWidth=128, imageHeight=96)
    with pytest.warns(AnnotationWarning, match=rf"{ann.name}.*128x96.*64x48.*real size"):
        _, width, height = read_annotation(ann, image)
    assert (width, height) == (64, 48)
    # without the image, the declared size is all there is
    assert read_annotation(ann)[1:] == (128, 96)
    keypoints = keypoints.copy()
    keypoints[INDEX["Ankle_R"]] = [100.0, 90.0]  # inside the declared size, outside the real one
    write_frame(size=(64, 48), keypoints=keypoints, imageWidth=128, imageHeight=96)
    with pytest.warns(AnnotationWarning), pytest.raises(AnnotationError, match="Ankle_R"):
        read_annotation(ann, image)


def test_missing_declared_size_is_an_error_only_without_the_image(write_frame):
    image, ann, _ = write_frame(imageWidth=None)
    with pytest.raises(AnnotationError, match=rf"{ann.name}: imageWidth"):
        read_annotation(ann)
    with pytest.warns(AnnotationWarning, match="imageWidth/imageHeight"):
        assert read_annotation(ann, image)[1:] == (64, 48)


# --- broken files --------------------------------------------------------------------------------

def test_invalid_json_is_an_error_naming_the_file(write_frame):
    _, ann, _ = write_frame()
    ann.write_text('{"shapes": [')
    with pytest.raises(AnnotationError, match=rf"{ann.name}.*not valid JSON"):
        read_annotation(ann)


@pytest.mark.parametrize("doc", [{"version": "4.5.6"}, {"shapes": {}}, []])
def test_missing_shapes_is_an_error_naming_the_field(write_frame, doc):
    _, ann, _ = write_frame()
    ann.write_text(json.dumps(doc))
    with pytest.raises(AnnotationError, match=rf"{ann.name}: shapes"):
        read_annotation(ann)


def test_shape_without_label_is_an_error(write_frame):
    _, ann, _ = write_frame(shapes=[{"points": [[1.0, 2.0]], "shape_type": "point"}])
    with pytest.raises(AnnotationError, match=rf"{ann.name}: shapes\[0\].label"):
        read_annotation(ann)


def test_annotation_without_image_is_an_error(write_frame, tmp_path):
    image, ann, _ = write_frame()
    image.unlink()
    with pytest.raises(AnnotationError, match=rf"{ann.name}: image: .*{image.name} does not exist"):
        load_split(tmp_path, "Train")


def test_image_without_annotation_is_skipped_with_a_warning(write_frame, tmp_path):
    write_frame(stem="001_00000010")
    _, orphan, _ = write_frame(stem="001_00000020")
    orphan.unlink()
    with pytest.warns(AnnotationWarning, match="1 images without annotation.*001_00000020.jpg"):
        frames = load_split(tmp_path, "Train")
    assert [f.frame for f in frames] == [10]


def test_corrupt_jpeg_header_is_an_error_naming_the_file(write_frame, tmp_path):
    image, _, _ = write_frame()
    image.write_bytes(b"this is not a jpeg")
    with pytest.raises(AnnotationError, match=rf"{image.name}: image"):
        load_split(tmp_path, "Train")


def test_truncated_jpeg_fails_to_decode_naming_the_file(write_frame, tmp_path):
    image, _, _ = write_frame(size=(64, 48))
    data = image.read_bytes()
    image.write_bytes(data[: data.index(b"\xff\xda") + 40])  # headers intact, scan cut short
    frame, = load_split(tmp_path, "Train")
    assert (frame.width, frame.height) == (64, 48)
    with pytest.raises(AnnotationError, match=rf"{image.name}: image: cannot decode"):
        load_image(frame)


def test_bad_file_name_is_an_error(write_frame, tmp_path):
    _, ann, _ = write_frame(stem="frame-one")
    with pytest.raises(AnnotationError, match=rf"{ann.name}: file name"):
        load_split(tmp_path, "Train")


# --- folders -------------------------------------------------------------------------------------

def test_missing_root_split_and_empty_folders_are_clear_errors(tmp_path, write_frame):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_dataset(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="none of the split folders"):
        load_dataset(tmp_path)
    (tmp_path / "Train" / "ann").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r"Train/img does not exist"):
        load_dataset(tmp_path)
    (tmp_path / "Train" / "img").mkdir()
    with pytest.raises(AnnotationError, match=r"Train/ann: .*no \*.json"):
        load_dataset(tmp_path)
    write_frame()
    with pytest.raises(FileNotFoundError, match="Valid does not exist"):
        load_dataset(tmp_path, ["Train", "Valid"])
    with pytest.raises(KeyError, match="'Valid' is not loaded"):
        load_dataset(tmp_path).frames("Valid")


def test_existing_splits_are_found_and_videos_grouped_in_frame_order(write_frame, tmp_path):
    for stem in ["002_00000300", "001_00000200", "002_00000020", "001_00000100"]:
        write_frame(stem=stem, split="Test")
    write_frame(stem="009_00000001", split="DomainShift")
    data = load_dataset(tmp_path)
    assert list(data.splits) == ["Test", "DomainShift"]
    assert [f.id for f in data.frames("Test")] == [
        "Test/001_00000100", "Test/001_00000200", "Test/002_00000020", "Test/002_00000300"]
    videos = data.videos("Test")
    assert {v: [f.frame for f in fs] for v, fs in videos.items()} == {"001": [100, 200], "002": [20, 300]}


# --- synthetic extras and fingerprint ------------------------------------------------------------

def test_truth_is_loaded_when_present(write_frame, tmp_path):
    write_frame(stem="000_00000001")
    _, _, keypoints = write_frame(stem="000_00000002")
    truth = keypoints + 0.25
    truth[INDEX["Nose"]] = np.nan
    (tmp_path / "Train" / "truth").mkdir()
    write_truth(tmp_path / "Train" / "truth" / "000_00000002.json", truth)
    (tmp_path / "synth.json").write_text("{}")
    data = load_dataset(tmp_path)
    without, with_truth = data.frames("Train")
    assert data.is_synthetic
    assert without.truth is None
    np.testing.assert_array_equal(with_truth.truth, truth)
    with pytest.raises(ValueError):
        with_truth.truth[0, 0] = 1.0  # frames are immutable


def test_malformed_truth_is_an_error(write_frame, tmp_path):
    write_frame()
    path = tmp_path / "Train" / "truth" / "000_00000001.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"keypoints": {"Head": [1.0]}}))
    with pytest.raises(AnnotationError, match=rf"{path.name}: keypoints.Head"):
        load_split(tmp_path, "Train")


def test_fingerprint_depends_on_content_and_relative_paths_only(write_frame, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for stem in ["000_00000001", "001_00000002"]:
        write_frame(stem=stem, root=a)
    shutil.copytree(a, b)
    fingerprint = load_dataset(a).fingerprint()
    assert load_dataset(b).fingerprint() == fingerprint
    image = b / "Train" / "img" / "001_00000002.jpg"
    Image.open(image).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(image)
    assert load_dataset(b).fingerprint() != fingerprint
    shutil.rmtree(b)
    shutil.copytree(a, b)
    (b / "Train").rename(b / "Valid")
    assert load_dataset(b).fingerprint() != fingerprint


def test_load_image_is_rgb_even_for_grayscale_files(tmp_path):
    path = tmp_path / "gray.jpg"
    Image.fromarray(np.full((10, 12), 200, np.uint8)).save(path)
    image = load_image(path)
    assert image.shape == (10, 12, 3) and image.dtype == np.uint8
    assert np.abs(image.astype(int) - 200).max() <= 2


def test_exif_orientation_is_applied_like_labelme_does(tmp_path):
    """A portrait photo stored landscape with EXIF orientation 6: labels refer to the turned picture."""
    from PIL import Image

    from benchmark.data.labelme import image_size, load_image

    pixels = np.zeros((40, 60, 3), np.uint8)  # stored 60 wide, 40 high
    pixels[0, 0] = 255  # top-left as stored: after a 90-degree turn it is no longer at (0, 0)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "turned.jpg"
    Image.fromarray(pixels).save(path, exif=exif, quality=100)
    assert image_size(path) == (40, 60)
    image = load_image(path)
    assert image.shape == (60, 40, 3)
    assert image[0, 0].max() < 128
