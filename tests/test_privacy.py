"""Privacy: the audit finds embedded originals, visible faces, identifying metadata and names; the
scrub fixes them without touching the input or the labels; de-identification leaves no face visible."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
from pathlib import Path

import cv2
import keras
import numpy as np
import pandas as pd
import pytest
from PIL import ExifTags, Image

from benchmark.apply import pose_model as pose
from benchmark.commands import main
from benchmark.common.atomic import OutputError
from benchmark.data import mosaic
from benchmark.data.labelme import load_dataset, load_image, read_annotation
from benchmark.data.mosaic import face_mask, mosaic_face
from benchmark.data.synth import generate_dataset
from benchmark.privacy import audit, deidentify, scrub
from benchmark.privacy.faces import check_face
from benchmark.privacy.metadata import name_issues
from benchmark.study.codec import HeatmapCodec, encode
from benchmark.study.heatmaps import normalise
from benchmark.study.keypoints import FACIAL_IDX, INDEX


def digest(root: Path) -> str:
    """SHA-256 over every path and file under ``root``."""
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        h.update(path.relative_to(root).as_posix().encode())
        if path.is_file():
            h.update(path.read_bytes())
    return h.hexdigest()


def run(module, argv: list[str]) -> int:
    """The command of a privacy module (``python -m benchmark audit`` for benchmark.privacy.audit)."""
    return main([module.__name__.rsplit(".", 1)[-1], *argv])


def findings(report: audit.Report) -> set[tuple[str, str, str]]:
    return {(f.file, f.check, f.severity) for f in report.findings}


def all_frames(root: Path) -> list:
    return [frame for frames in load_dataset(root).splits.values() for frame in frames]


def gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Camera"
    exif[ExifTags.Base.DateTime] = "2024:03:01 10:00:00"
    exif[ExifTags.IFD.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N",
                                  ExifTags.GPS.GPSLatitude: (52.0, 31.0, 12.0)}
    return exif


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Path:
    """Three synthetic videos of two frames; their faces are visible."""
    root = tmp_path_factory.mktemp("privacy") / "synth"
    generate_dataset(root, videos=3, frames_per_video=2, size=256, seed=0, domain_shift_videos=0,
                     workers=1, progress=False)
    return root


@pytest.fixture
def leaky(synth, tmp_path) -> Path:
    """A copy of ``synth`` with the leaks the audit must find. Train (video 000): its first frame
    mosaicked but its imageData holding the original, and a date in its imagePath; its second
    mosaicked, with EXIF GPS. Valid (001): faces left visible. Test (002): renamed to "Anna"."""
    root = tmp_path / "leaky"
    shutil.copytree(synth, root)
    embedded, gps = load_dataset(root).frames("Train")
    original = embedded.image_path.read_bytes()
    Image.fromarray(mosaic_face(load_image(embedded), embedded.keypoints, seed=0)).save(
        embedded.image_path, quality=95)
    doc = json.loads(embedded.annotation_path.read_text())
    doc |= {"imageData": base64.b64encode(original).decode(), "imagePath": "C:\\rec\\2024-03-01\\x.jpg"}
    embedded.annotation_path.write_text(json.dumps(doc))
    Image.fromarray(mosaic_face(load_image(gps), gps.keypoints, seed=1)).save(
        gps.image_path, quality=95, exif=gps_exif())
    for old in sorted((root / "Test").rglob("002_*")):
        old.rename(old.with_name(old.name.replace("002_", "Anna_")))
    return root


def relative(root: Path, pattern: str) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.glob(pattern))


def test_audit_finds_every_leak(leaky, tmp_path):
    report = audit.audit_dataset(leaky)
    found = findings(report)
    embedded, gps = relative(leaky, "Train/ann/*.json")[0], relative(leaky, "Train/img/*.jpg")[1]
    visible = relative(leaky, "Valid/img/*.jpg") + relative(leaky, "Test/img/*.jpg")
    named = relative(leaky, "Test/*/Anna_*")
    assert len(visible) == 4 and len(named) == 6
    assert (embedded, "embedded-image", "high") in found
    assert (embedded, "name", "medium") in found  # the date in imagePath
    assert (embedded, "name", "low") in found      # the folders in imagePath
    assert (gps, "metadata", "high") in found and (gps, "metadata", "medium") in found
    assert all((path, "face", "high") in found for path in visible)
    assert all((path, "name", "high") in found for path in named)
    # Nothing else is high: the two mosaicked frames pass the face test.
    assert {f.file for f in report.findings if f.severity == "high"} == {embedded, gps, *visible, *named}
    assert not report.clean

    out = tmp_path / "report.json"
    assert run(audit, [str(leaky), "--json", str(out)]) == 1
    saved = json.loads(out.read_text())
    assert saved["counts"] == report.counts() and not saved["clean"]
    assert saved["faces"][gps]["mosaicked"] is True and saved["faces"][visible[0]]["mosaicked"] is False


@pytest.mark.filterwarnings("ignore::benchmark.data.labelme.AnnotationWarning")  # stale imagePath, imageData
def test_scrub_fixes_everything_and_keeps_the_labels(leaky, tmp_path):
    before = digest(leaky)
    clean = tmp_path / "clean"
    assert run(scrub, [str(leaky), "--out", str(clean)]) == 0
    assert digest(leaky) == before  # input untouched
    assert run(audit, [str(clean)]) == 0

    report = audit.audit_dataset(clean)
    assert not {f.check for f in report.findings} & {"embedded-image", "metadata", "face"}
    assert not list(clean.rglob("Anna*")) and len(list(clean.rglob("anon001_*"))) == 6
    original, copy = load_dataset(leaky), load_dataset(clean)
    for split in original.splits:
        for a, b in zip(original.frames(split), copy.frames(split), strict=True):
            np.testing.assert_array_equal(a.keypoints, b.keypoints)
            assert b.stem == a.stem.replace("Anna", "anon001")
            doc = json.loads(b.annotation_path.read_text())
            assert doc["imageData"] is None and doc["imagePath"] == b.image_path.name
    # The already mosaicked JPEG only loses its metadata: identical pixels, no EXIF.
    gps = leaky / relative(leaky, "Train/img/*.jpg")[1]
    np.testing.assert_array_equal(load_image(gps), load_image(clean / "Train/img" / gps.name))
    with Image.open(clean / "Train/img" / gps.name) as image:
        assert not image.getexif()
    # A visible face was mosaicked, and nothing far from it changed.
    frame = original.frames("Valid")[0]
    before_px = load_image(frame).astype(int)
    after_px = load_image(clean / "Valid/img" / frame.image_path.name).astype(int)
    changed = np.abs(after_px - before_px).max(axis=2) > 12
    region = face_mask(before_px.shape, frame.keypoints)
    assert changed[region].mean() > 0.5 and changed[~region].mean() < 0.01


def test_scrub_keeps_the_occluded_flags(synth, tmp_path):
    """A keypoint labelled where it is hidden (COCO's v=1) stays so in the de-identified copy."""
    synth = shutil.copytree(synth, tmp_path / "flagged")
    path = sorted((synth / "Train" / "ann").glob("*.json"))[0]
    doc = json.loads(path.read_text())
    doc["shapes"][-1]["flags"] = {"occluded": True}
    path.write_text(json.dumps(doc))
    clean = tmp_path / "clean"
    scrub.scrub_dataset(synth, clean)
    original, copy = load_dataset(synth), load_dataset(clean)
    kept = {f.stem: f.occluded for f in copy.frames("Train")}
    for frame in original.frames("Train"):
        np.testing.assert_array_equal(kept[frame.stem], frame.occluded)
    assert sum(f.occluded.sum() for f in copy.frames("Train")) == 1


def test_scrub_can_omit_the_facial_keypoints(synth, tmp_path):
    clean = tmp_path / "clean"
    summary = scrub.scrub_dataset(synth, clean, omit_facial_keypoints=True)
    assert summary["audit"]["high"] == 0 and summary["faces mosaicked"] == 6
    for frame in all_frames(clean):
        assert np.isnan(frame.keypoints[FACIAL_IDX]).all()
        assert not np.isnan(frame.keypoints[INDEX["Head"]]).any()


def test_scrub_refuses_to_write_inside_or_over_something(synth, tmp_path):
    with pytest.raises(OutputError, match="inside"):
        scrub.scrub_dataset(synth, synth / "clean")
    with pytest.raises(OutputError, match="inside"):
        scrub.scrub_dataset(synth, synth)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x")
    with pytest.raises(OutputError, match="not an empty folder"):
        scrub.scrub_dataset(synth, tmp_path / "full")
    assert not (synth / "clean").exists() and (tmp_path / "full" / "keep.txt").read_text() == "x"


def test_strip_jpeg_drops_metadata_and_keeps_every_pixel(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (40, 56, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=90, exif=gps_exif(), comment=b"Anna")
    data = buffer.getvalue() + b"trailing bytes after the end of the image"
    stripped = scrub.strip_jpeg(data)
    with Image.open(io.BytesIO(data)) as before, Image.open(io.BytesIO(stripped)) as after:
        assert before.getexif() and before.info.get("comment")
        assert not after.getexif() and "comment" not in after.info
        np.testing.assert_array_equal(np.asarray(before), np.asarray(after))
    assert b"Anna" not in stripped and b"trailing" not in stripped and len(stripped) < len(data)
    with pytest.raises(ValueError):
        scrub.strip_jpeg(b"\x89PNG....")


@pytest.mark.parametrize("name, expected", [
    ("096_00000200.jpg", set()), ("Eye_L", set()), ("Train/img/000_00000375.jpg", set()),
    ("Anna_00000001.jpg", {"high"}), ("rec_2024-03-01_001.jpg", {"medium"}),
    ("20240301_00000001", {"medium"}), ("C:\\Users\\LeaMuller\\01.03.2024\\x.jpg", {"high", "medium"}),
])
def test_names_and_dates_in_file_names(name, expected):
    assert {severity for severity, _ in name_issues(name)} == expected


def test_face_check_tells_mosaics_from_faces(synth):
    for frame in all_frames(synth):
        image = load_image(frame)
        visible = check_face(image, frame.keypoints)
        mosaicked = check_face(mosaic_face(image, frame.keypoints, seed=frame.id), frame.keypoints)
        assert not visible.mosaicked and mosaicked.mosaicked, (frame.id, visible, mosaicked)
        assert mosaicked.noise > visible.noise


def test_real_sample_frames(sample_root):
    """The authors' noisy ovals pass on the six frontal frames. In the three profile frames of
    video 096 the oval is a thin strip along the profile covering a minority of the face region
    (the rest is the cheek and a hand): flagged for review, as a partial mosaic should be."""
    report = audit.audit_dataset(sample_root)
    assert len(report.faces) == 9 and all(check is not None for check in report.faces.values())
    partial = {f"Test/img/096_{frame}.jpg" for frame in ("00000125", "00000200", "00000650")}
    assert {name for name, check in report.faces.items() if not check.mosaicked} == partial
    assert {(f.file, f.check) for f in report.findings} == {(name, "face") for name in partial}
    assert all(check.noise > 40 for name, check in report.faces.items() if name not in partial)


def test_embedded_original_of_a_real_frame_is_caught(sample_root, tmp_path):
    """The published leak, re-created: a sample frame's imageData holding a face-visible picture."""
    root = tmp_path / "sample"
    shutil.copytree(sample_root / "Valid", root / "Valid")
    path = root / "Valid/ann/085_00000125.json"
    image = load_image(root / "Valid/img/085_00000125.jpg")
    keypoints = read_annotation(path)[0]
    # Stand-in for the original: the mosaicked pixels replaced by a smooth face-like fill.
    smooth = cv2.GaussianBlur(image, (0, 0), 8)
    buffer = io.BytesIO()
    Image.fromarray(smooth).save(buffer, format="PNG")
    doc = json.loads(path.read_text()) | {"imageData": base64.b64encode(buffer.getvalue()).decode()}
    path.write_text(json.dumps(doc))
    report = audit.audit_dataset(root)
    [message] = [f.message for f in report.findings if f.check == "embedded-image"]
    assert ("Valid/ann/085_00000125.json", "embedded-image", "high") in findings(report)
    assert message.endswith("its face looks VISIBLE") and check_face(image, keypoints).mosaicked


@pytest.fixture(scope="module")
def untrained_model(tmp_path_factory) -> Path:
    from benchmark.models import build_model

    path = tmp_path_factory.mktemp("model") / "model.keras"
    build_model("simple_baseline", input_size=64, variant="tiny", pretrained=False).save(path)
    (path.parent / "metrics.json").write_text(json.dumps({"config": {"loss": "kce", "sigma": 2.0}}))
    return path


def test_deidentify_leaves_no_face_visible(synth, untrained_model, tmp_path):
    frames = all_frames(synth)
    folder = tmp_path / "frames"
    folder.mkdir()
    for frame in frames:
        shutil.copy(frame.image_path, folder)
    assert run(deidentify, ["--input", str(folder), "--model", str(untrained_model),
                            "--out", str(tmp_path / "out")]) == 0
    table = pd.read_csv(tmp_path / "out" / "deidentify.csv")
    assert len(table) == len(frames)
    assert set(table["region"]) == {"frame"}  # an untrained model is never confident
    for frame in frames:
        result = load_image(tmp_path / "out" / frame.image_path.name)
        assert check_face(result, frame.truth).mosaicked, frame.id
    assert sorted(table["file"]) == sorted(f.image_path.name for f in frames)
    with pytest.raises(OutputError):
        deidentify.deidentify(folder, untrained_model, folder / "out")


def test_confidence_is_relative_to_a_perfect_target():
    """A KCE map equal to a training target has relative confidence about 1."""
    target = keras.ops.convert_to_numpy(normalise(encode(np.array([[30.0, 22.0]]), (64, 64), sigma=2.0)))
    assert target.max() / HeatmapCodec("kce", sigma=2.0).target_peak == pytest.approx(1.0, abs=0.05)


def test_deidentify_reads_videos(synth, untrained_model, tmp_path):
    first, second = load_dataset(synth).frames("Train")  # one video: one frame size
    frames = [first, second, first]
    video = tmp_path / "clip.avi"
    height, width = load_image(frames[0]).shape[:2]
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 5, (width, height))
    for frame in frames:
        writer.write(load_image(frame)[..., ::-1])
    writer.release()
    table = deidentify.deidentify(video, untrained_model, tmp_path / "out")
    assert list(table["file"]) == [f"clip_{i:08d}.jpg" for i in range(3)]
    for frame, name in zip(frames, table["file"]):
        assert check_face(load_image(tmp_path / "out" / name), frame.truth).mosaicked


def test_deidentify_keeps_the_frames_of_a_truncated_video(synth, untrained_model, tmp_path, capsys):
    image = load_image(load_dataset(synth).frames("Train")[0])
    height, width = image.shape[:2]
    video = tmp_path / "cut.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 5, (width, height))
    for _ in range(12):
        writer.write(image[..., ::-1])
    writer.release()
    video.write_bytes(video.read_bytes()[:int(video.stat().st_size * 0.6)])
    assert run(deidentify, ["--input", str(video), "--model", str(untrained_model),
                            "--out", str(tmp_path / "out")]) == 1
    table = pd.read_csv(tmp_path / "out" / "deidentify.csv")
    assert 0 < len(table) < 12 and f"stops after {len(table)} of the 12 frames" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "out").glob("*.jpg")) == sorted(table["file"])


@pytest.mark.parametrize("unsure, region", [
    ([], "face+head"), ([INDEX["Head"]], "face"), (list(FACIAL_IDX), "head"),
    (list(FACIAL_IDX) + [INDEX["Head"]], "frame"),
])
def test_deidentify_frame_uses_every_confident_region(synth, unsure, region):
    frame = load_dataset(synth).frames("Train")[0]
    image = load_image(frame)
    confidence = np.ones(len(frame.truth))
    confidence[unsure] = 0.1
    result, used = mosaic.deidentify_frame(image, frame.truth, confidence, threshold=0.3, seed="x")
    assert used == region
    assert check_face(result, frame.truth).mosaicked
    changed = (result != image).any(axis=2).mean()
    assert changed > 0.9 if region == "frame" else changed < 0.2


def test_mirror_check_undoes_the_flip_and_distrusts_disagreement():
    """A hand-made "model" whose heatmaps are colour spots: Head follows the red spot, the
    shoulders the green one, Eye_L the red and Eye_R the green one (so mirroring the picture, which
    swaps left and right labels, moves the eyes), every other keypoint the blue spot."""
    import keras

    inputs = keras.Input((64, 64, 3))
    conv = keras.layers.Conv2D(22, 1, use_bias=False)
    model = keras.Model(inputs, conv(keras.layers.AveragePooling2D(4)(inputs)))
    kernel = np.zeros((1, 1, 3, 22), np.float32)
    kernel[..., 2, :] = 50.0
    for name, channel in {"Head": 0, "Eye_L": 0, "Shoulder_R": 1, "Shoulder_L": 1, "Eye_R": 1}.items():
        kernel[..., :, INDEX[name]] = 0.0
        kernel[..., channel, INDEX[name]] = 50.0
    conv.set_weights([kernel])
    image = np.zeros((64, 64, 3), np.uint8)
    spots = {0: (8, 8), 1: (24, 40), 2: (48, 52)}  # channel: (x0, y0) of a 4x4 spot
    for channel, (x0, y0) in spots.items():
        image[y0:y0 + 4, x0:x0 + 4, channel] = 255
    centre = {channel: np.array([x0 + 2.0, y0 + 2.0]) for channel, (x0, y0) in spots.items()}

    pose_model = pose.PoseModel(model, HeatmapCodec("kce", "wa", 2.0), facial=True)
    coords, confidence = (a[0] for a in pose.predict(pose_model, [image]))
    np.testing.assert_allclose(coords[INDEX["Head"]], centre[0], atol=0.1)
    np.testing.assert_allclose(coords[INDEX["Shoulder_L"]], centre[1], atol=0.1)
    np.testing.assert_allclose(coords[INDEX["Knee_R"]], centre[2], atol=0.1)
    eyes = [INDEX["Eye_L"], INDEX["Eye_R"]]
    np.testing.assert_allclose(coords[eyes], [(centre[0] + centre[1]) / 2] * 2, atol=0.1)
    assert (confidence[eyes] == 0).all() and (np.delete(confidence, eyes) > 1).all()


def test_exif_orientation_is_respected(synth, tmp_path):
    """A JPEG stored turned with an EXIF orientation is judged, and cleaned, as displayed (as
    LabelMe labelled it): the scrub then re-encodes the turned picture instead of dropping the tag."""
    root = tmp_path / "turned"
    shutil.copytree(synth, root)
    frame = load_dataset(root).frames("Train")[0]
    shown = mosaic_face(load_image(frame), frame.keypoints, seed=0)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # displayed = stored turned 90 degrees clockwise
    Image.fromarray(np.rot90(shown).copy()).save(frame.image_path, quality=95, exif=exif)
    displayed = load_image(frame.image_path)
    assert displayed.shape == shown.shape

    rel = frame.image_path.relative_to(root).as_posix()
    report = audit.audit_dataset(root)
    assert report.faces[rel].mosaicked and (rel, "metadata", "low") in findings(report)
    scrub.scrub_dataset(root, tmp_path / "clean")
    with Image.open(tmp_path / "clean" / rel) as image:
        assert not image.getexif()
    assert np.abs(load_image(tmp_path / "clean" / rel).astype(int) - displayed).mean() < 2
