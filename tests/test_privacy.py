"""Privacy: the audit finds embedded originals, visible faces, identifying metadata and names; the
scrub fixes them without touching the input or the labels; de-identification leaves no face visible."""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
from PIL import ExifTags, Image

from benchmark.keypoints import FACIAL_IDX, INDEX
from benchmark.labelme import load_dataset, load_image, read_annotation
from benchmark.mosaic import face_mask, mosaic_face
from benchmark.privacy import audit, deidentify, scrub
from benchmark.privacy.faces import check_face
from benchmark.privacy.metadata import name_issues
from benchmark.privacy.output import OutputError
from benchmark.synth import generate_dataset


def digest(root: Path) -> str:
    """SHA-256 over every path and file under ``root``."""
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        h.update(path.relative_to(root).as_posix().encode())
        if path.is_file():
            h.update(path.read_bytes())
    return h.hexdigest()


def run(module, argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    module.configure(parser)
    return module.main(parser.parse_args(argv))


def findings(report: audit.Report) -> set[tuple[str, str, str]]:
    return {(f.file, f.check, f.severity) for f in report.findings}


def all_frames(root: Path) -> list:
    return [frame for frames in load_dataset(root).splits.values() for frame in frames]


def gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Camera"
    exif[ExifTags.Base.DateTime] = "2024:03:01 10:00:00"
    exif[ExifTags.IFD.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (52.0, 31.0, 12.0)}
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


def test_real_sample_frames_audit_clean(sample_root):
    report = audit.audit_dataset(sample_root)
    assert len(report.faces) == 9
    assert all(check is not None and check.mosaicked for check in report.faces.values()), report.faces
    assert report.clean, report.table().to_string()


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
    path.write_text(json.dumps(json.loads(path.read_text()) | {"imageData": base64.b64encode(buffer.getvalue()).decode()}))
    report = audit.audit_dataset(root)
    assert ("Valid/ann/085_00000125.json", "embedded-image", "high") in findings(report)
    assert check_face(image, keypoints).mosaicked


@pytest.fixture(scope="module")
def untrained_model(tmp_path_factory) -> Path:
    from benchmark.models import build_model

    path = tmp_path_factory.mktemp("model") / "model.keras"
    build_model("simple_baseline", input_size=64, size="tiny", pretrained=False).save(path)
    (path.parent / "metrics.json").write_text(json.dumps({"config": {"loss": "kce", "sigma": 2.0}}))
    return path


def test_deidentify_leaves_no_face_visible(synth, untrained_model, tmp_path):
    frames = all_frames(synth)
    folder = tmp_path / "frames"
    folder.mkdir()
    for frame in frames:
        shutil.copy(frame.image_path, folder)
    table = deidentify.deidentify(folder, untrained_model, tmp_path / "out")
    assert len(table) == len(frames) and (tmp_path / "out" / "deidentify.csv").is_file()
    for frame in frames:
        result = load_image(tmp_path / "out" / frame.image_path.name)
        assert check_face(result, frame.truth).mosaicked, frame.id
    saved = pd.read_csv(tmp_path / "out" / "deidentify.csv")
    assert set(saved["region"]) <= {"face", "head", "frame"} and list(saved["file"]) == list(table["file"])


def test_deidentify_reads_videos(synth, untrained_model, tmp_path):
    frames = all_frames(synth)[:3]
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


@pytest.mark.parametrize("confident, region", [
    ("all", "face"), ("body", "head"), ("none", "frame"),
])
def test_deidentify_frame_falls_back_from_face_to_head_to_frame(synth, confident, region):
    frame = load_dataset(synth).frames("Train")[0]
    image = load_image(frame)
    confidence = np.ones(len(frame.truth))
    if confident == "body":
        confidence[FACIAL_IDX] = 0.1
    elif confident == "none":
        confidence[:] = 0.1
    result, used = deidentify.deidentify_frame(image, frame.truth, confidence, threshold=0.3, seed=1)
    assert used == region
    assert check_face(result, frame.truth).mosaicked
    assert (result != image).any(axis=2).mean() < (0.5 if region != "frame" else 1.01)
