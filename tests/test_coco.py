"""COCO keypoints in and out (python -m benchmark convert): lossless round trips, the COCO-17 name
mapping, the split/video/frame rules, refusals, and a privacy audit without high findings."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from benchmark.commands import main
from benchmark.data import coco
from benchmark.commands.convert import deidentified
from benchmark.data.labelme import AnnotationError, AnnotationWarning, load_dataset, load_image
from benchmark.data.layout import COCO_SOURCE
from benchmark.data.synth import generate_dataset
from benchmark.privacy.audit import audit_dataset
from benchmark.privacy.faces import check_face
from benchmark.study.keypoints import INDEX, LABELS

PLANTED = ("Train", "Elbow_L", "Wrist_R")  # split of the frame, its hidden (v=1) and its missing keypoint
UNMAPPED = ("Head", "Upper_Lip", "Lower_Lip", "MP_joint_R", "MP_joint_L", "MTP_joint_R", "MTP_joint_L")


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Path:
    """Three synthetic videos of two frames (faces visible); the first Train frame has a keypoint
    flagged occluded and one missing."""
    root = tmp_path_factory.mktemp("coco") / "synth"
    generate_dataset(root, videos=3, frames_per_video=2, size=256, seed=0, domain_shift_videos=0,
                     workers=1, progress=False)
    split, hidden, missing = PLANTED
    path = sorted((root / split / "ann").glob("*.json"))[0]
    doc = json.loads(path.read_text())
    doc["shapes"] = [s for s in doc["shapes"] if s["label"] != missing]
    next(s for s in doc["shapes"] if s["label"] == hidden)["flags"] = {"occluded": True}
    path.write_text(json.dumps(doc))
    return root


def convert(*argv) -> int:
    return main(["convert", *map(str, argv)])


def by_frame(doc: dict) -> dict[tuple, tuple[np.ndarray, np.ndarray]]:
    """(split, video, frame) -> the ``(K, 2)`` points and ``(K,)`` flags of a COCO document."""
    images = {image["id"]: image for image in doc["images"]}
    out = {}
    for annotation in doc["annotations"]:
        image = images[annotation["image_id"]]
        triples = np.asarray(annotation["keypoints"], float).reshape(-1, 3)
        out[image["split"], image["video"], image["frame"]] = triples[:, :2], triples[:, 2]
    return out


def coco17(root: Path, split_of=lambda frame: frame.split.lower()) -> dict:
    """The dataset at ``root`` as a COCO file with COCO's 17 keypoints (ears at the eyes, v=2),
    int ``video_id`` and ``frame_id`` fields, and the split ``split_of(frame)``."""
    images, annotations = [], []
    frames = [f for frames in load_dataset(root).splits.values() for f in frames]
    for number, frame in enumerate(frames, 1):
        values = []
        for name in coco.COCO_KEYPOINTS:
            ours = coco.FROM_COCO[name] or name.replace("left_ear", "Eye_L").replace("right_ear", "Eye_R")
            x, y = frame.keypoints[INDEX[ours]] - coco.PIXEL_OFFSET
            values += [0, 0, 0] if np.isnan(x) else [float(x), float(y), 2]
        images.append({"id": number, "file_name": frame.image_path.relative_to(root).as_posix(),
                       "width": frame.width, "height": frame.height, "split": split_of(frame),
                       "video_id": int(frame.video), "frame_id": frame.frame})
        annotations.append({"id": number, "image_id": number, "category_id": 1, "iscrowd": 0,
                            "keypoints": values, "num_keypoints": sum(v > 0 for v in values[2::3])})
    category = {"id": 1, "name": "person", "keypoints": list(coco.COCO_KEYPOINTS), "skeleton": []}
    return {"images": images, "annotations": annotations, "categories": [category]}


def write(path: Path, doc: dict) -> Path:
    path.write_text(json.dumps(doc))
    return path


def assert_clean(root: Path) -> None:
    report = audit_dataset(root)
    assert report.clean, report.table()
    assert report.faces and all(check is not None and check.mosaicked for check in report.faces.values())


def test_round_trips_are_lossless(synth, tmp_path):
    """LabelMe -> COCO -> LabelMe keeps every coordinate, missing keypoint and hidden flag; COCO ->
    LabelMe -> COCO keeps every value; faces are mosaicked on the way in, and a second import with
    --link links the images, whose faces are already mosaicked."""
    exported, back = tmp_path / "synth.json", tmp_path / "back"
    assert convert(synth, "--to", "coco", "--out", exported) == 0
    assert convert(exported, "--images", synth, "--to", "labelme", "--out", back) == 0

    split, hidden, missing = PLANTED
    original, converted = load_dataset(synth), load_dataset(back)
    assert list(converted.splits) == list(original.splits)
    for name, frames in original.splits.items():
        assert [f.id for f in converted.frames(name)] == [f.id for f in frames]
        for old, new in zip(frames, converted.frames(name)):
            np.testing.assert_allclose(new.keypoints, old.keypoints, rtol=0, atol=1e-9)
            assert np.array_equal(new.occluded, old.occluded)
            assert (new.width, new.height) == (old.width, old.height)
    planted = converted.frames(split)[0]
    assert planted.occluded.sum() == 1 and planted.occluded[INDEX[hidden]]
    assert np.isnan(planted.keypoints[INDEX[missing]]).all()
    flags = by_frame(json.loads(exported.read_text()))[split, planted.video, planted.frame][1]
    assert flags[INDEX[hidden]] == 1 and flags[INDEX[missing]] == 0 and (flags == 2).sum() == 20
    assert_clean(back)
    record = json.loads((back / COCO_SOURCE).read_text())
    assert record["source"] == exported.name and record["keypoints"]["Head"] == "Head"

    again, linked = tmp_path / "again.json", tmp_path / "linked"
    assert convert(back, "--to", "coco", "--out", again) == 0
    assert convert(again, "--images", back, "--to", "labelme", "--out", linked, "--link") == 0
    first, second = by_frame(json.loads(exported.read_text())), by_frame(json.loads(again.read_text()))
    assert first.keys() == second.keys()
    for key, (points, flags) in first.items():
        np.testing.assert_allclose(second[key][0], points, rtol=0, atol=1e-9)
        assert np.array_equal(second[key][1], flags)
    for image in (linked / "Train" / "img").iterdir():
        assert image.stat().st_ino == (back / "Train" / "img" / image.name).stat().st_ino


def test_export_is_read_by_pycocotools(synth, tmp_path):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    out = tmp_path / "synth.json"
    assert convert(synth, "--to", "coco", "--out", out, "--split", "Train") == 0
    truth = COCO(str(out))
    category, = truth.loadCats(truth.getCatIds())
    assert category["keypoints"] == list(LABELS) and min(map(min, category["skeleton"])) == 1
    assert len(truth.getImgIds()) == len(truth.getAnnIds()) == 2
    results = [annotation | {"score": 1.0} for annotation in truth.loadAnns(truth.getAnnIds())]
    evaluation = COCOeval(truth, truth.loadRes(results), "keypoints")
    evaluation.params.kpt_oks_sigmas = np.full(len(LABELS), 0.05)
    evaluation.evaluate()
    evaluation.accumulate()
    evaluation.summarize()
    assert evaluation.stats[0] == pytest.approx(1.0)  # the annotations as predictions: AP 1


def test_coco17_names_are_mapped(synth, tmp_path):
    """COCO's 17 names land on ours (left = the infant's left), ears are dropped with one warning,
    our keypoints without a COCO counterpart stay missing, and the faces are found from eyes and
    nose alone: mosaicked as judged on all five facial keypoints, lips included."""
    # Stated here, not taken from the module, so a swapped side cannot hide in the fixture too.
    assert {k: v for k, v in coco.FROM_COCO.items() if v} == {
        "nose": "Nose", "left_eye": "Eye_L", "right_eye": "Eye_R",
        **{f"{side}_{part}": f"{part.capitalize()}_{side[0].upper()}" for side in ("left", "right")
           for part in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")}}
    source, out = write(tmp_path / "coco17.json", coco17(synth)), tmp_path / "out"
    with pytest.warns(AnnotationWarning) as caught:
        assert convert(source, "--images", synth, "--to", "labelme", "--out", out) == 0
    assert sum("left_ear, right_ear" in str(w.message) for w in caught) == 1
    original, converted = load_dataset(synth), load_dataset(out)
    for name, frames in original.splits.items():
        for old, new in zip(frames, converted.frames(name), strict=True):
            assert np.isnan(new.keypoints[[INDEX[k] for k in UNMAPPED]]).all()
            mapped = [INDEX[k] for k in coco.FROM_COCO.values() if k]
            np.testing.assert_allclose(new.keypoints[mapped], old.keypoints[mapped], rtol=0, atol=1e-9)
            assert check_face(load_image(new), old.keypoints).mosaicked
    assert np.isnan(converted.frames("Train")[0].keypoints[INDEX["Wrist_R"]]).all()
    assert_clean(out)


def test_no_face_region_mosaics_the_whole_picture(synth, tmp_path):
    doc = coco17(synth)
    doc["annotations"][0]["keypoints"][:9] = [0] * 9  # nose and eyes not labelled
    frame = coco.coco_frames(doc, tmp_path / "x.json", synth).frames[2]  # sorted: Test, Train, Valid
    assert frame.stem == "000_00000006"
    data, done = deidentified(frame)
    written = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    changed = np.abs(written.astype(int) - load_image(frame.source)).sum(-1) > 30
    assert done.startswith("whole picture") and changed.mean() > 0.5


def test_video_in_two_splits_is_refused(synth, tmp_path, capsys):
    doc = coco17(synth, split_of=lambda f: "test" if (f.split, f.frame) == ("Train", 11) else f.split)
    source, out = write(tmp_path / "straddle.json", doc), tmp_path / "out"
    assert convert(source, "--images", synth, "--to", "labelme", "--out", out) == 2
    error = capsys.readouterr().err
    assert "straddle.json" in error and "video '000'" in error and "Train" in error and "Test" in error
    assert list(tmp_path.iterdir()) == [source]  # no output, no temporary left


@pytest.mark.parametrize("change, message", [
    (lambda d: d["categories"][0]["keypoints"].__setitem__(3, "tail"), r"unknown keypoint names \['tail'\]"),
    (lambda d: d["annotations"].append(d["annotations"][0] | {"id": 99}), "2 persons with keypoints"),
    (lambda d: d["images"][0].__setitem__("split", "holdout"), "'holdout' is not a split"),
    (lambda d: d["images"][1].__setitem__("frame_id", d["images"][0]["frame_id"]), "are both frame"),
    (lambda d: d["annotations"][0]["keypoints"].__setitem__(2, 3), "visibility must be 0, 1 or 2"),
])
def test_bad_files_are_refused(synth, tmp_path, change, message):
    doc = coco17(synth)
    change(doc)
    with pytest.raises(AnnotationError, match=message) as caught:
        coco.coco_frames(doc, tmp_path / "bad.json", synth)
    assert "bad.json" in str(caught.value)


def test_split_video_and_frame_rules(synth, tmp_path):
    """A regular expression on file_name, the first folder, --split, and images without keypoints."""
    images = tmp_path / "images"
    doc = coco17(synth)
    for image in doc["images"]:
        old = synth / image["file_name"]
        image["file_name"] = f"{image.pop('split')}/clip{image.pop('video_id')}-{image.pop('frame_id')}.jpg"
        (images / image["file_name"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(old, images / image["file_name"])
    doc["annotations"][0]["keypoints"] = [0] * 51  # image 1: no labelled keypoint
    pattern = coco.Rule(r"(?P<split>[a-z]+)/(?P<video>[a-z0-9]+)-(?P<frame>\d+)")
    with pytest.warns(AnnotationWarning, match="skipped 1 images"):
        frames = coco.coco_frames(doc, tmp_path / "x.json", images, pattern).frames
    assert [(f.split, f.stem) for f in frames] == [
        ("Test", "clip2_00000008"), ("Test", "clip2_00000013"), ("Train", "clip0_00000011"),
        ("Valid", "clip1_00000029"), ("Valid", "clip1_00000034")]
    folder = coco.coco_frames(doc, tmp_path / "x.json", images, coco.Rule("folder", "Valid")).frames
    assert [(f.split, f.video, f.frame) for f in folder] == [("Valid", "003", 0), ("Valid", "004", 0)]
    doc = coco17(synth)
    for image in doc["images"]:
        del image["split"]
    with pytest.raises(AnnotationError, match="no split; give --split"):
        coco.coco_frames(doc, tmp_path / "x.json", synth)
    frames = coco.coco_frames(doc, tmp_path / "x.json", synth, coco.Rule(split="Test")).frames
    assert {f.split for f in frames} == {"Test"} and len(frames) == 6


def test_existing_output_needs_overwrite(synth, tmp_path, capsys):
    exported, out = tmp_path / "synth.json", tmp_path / "out"
    assert convert(synth, "--to", "coco", "--out", exported) == 0
    assert convert(synth, "--to", "coco", "--out", exported) == 2
    (out / "old").mkdir(parents=True)
    assert convert(exported, "--images", synth, "--to", "labelme", "--out", out) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert convert(exported, "--images", synth, "--to", "labelme", "--out", out, "--overwrite") == 0
    assert not (out / "old").exists() and (out / COCO_SOURCE).is_file()
    # --overwrite never replaces the folder that holds the COCO file, nor reads a folder as one
    inside = shutil.copyfile(exported, out / "synth.json")
    assert convert(inside, "--images", synth, "--to", "labelme", "--out", out, "--overwrite") == 2
    assert "holds the COCO file" in capsys.readouterr().err and inside.is_file()
    assert convert(synth, "--images", synth, "--to", "labelme", "--out", tmp_path / "new") == 2
    assert "not a file" in capsys.readouterr().err and not (tmp_path / "new").exists()


def test_occluded_flag_must_be_a_boolean(synth, tmp_path):
    root = tmp_path / "root"
    shutil.copytree(synth / "Valid", root / "Valid")
    path = sorted((root / "Valid" / "ann").glob("*.json"))[0]
    doc = json.loads(path.read_text())
    doc["shapes"][0]["flags"] = {"occluded": "yes"}
    path.write_text(json.dumps(doc))
    with pytest.raises(AnnotationError, match=r"flags.occluded: expected true or false"):
        load_dataset(root)


STUDY_MANIFEST = """\
datasets:
  tiny:
    synthetic: {videos: 4, frames_per_video: 3, size: 96, domain_shift_videos: 0}
profiles:
  smoke:
    dataset: tiny
    train: {variant: tiny, input_size: 64, epochs: 1, batch_size: 8, augment: false}
experiments:
  - group: loss
    grid: {model: [simple_baseline], loss: [kce]}
tables: [loss]
figures: []
"""


@pytest.mark.slow
def test_a_coco_file_through_run_and_report(tmp_path):
    """The issue's path: a dataset exported to COCO, converted in, trained and reported with
    ``run --report --data`` (what ./run_all.sh runs): the loss table shows PCKsh and, because the
    data came from COCO, OKS AP, each with its interval."""
    import pandas as pd

    source = tmp_path / "source"
    generate_dataset(source, videos=4, frames_per_video=3, size=96, seed=0, domain_shift_videos=0,
                     workers=1, progress=False)
    assert convert(source, "--to", "coco", "--out", tmp_path / "infants.json") == 0
    root = tmp_path / "converted"
    assert convert(tmp_path / "infants.json", "--images", source, "--to", "labelme", "--out", root) == 0
    assert audit_dataset(root).clean
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(STUDY_MANIFEST)
    assert main(["run", "--report", "--no-progress", "--manifest", str(manifest), "--profile", "smoke",
                 "--data", str(root), "--results", str(tmp_path / "results"), "--out", str(tmp_path / "reports")]) == 0
    table = next((tmp_path / "reports").glob("*/smoke/tables/loss.csv"))
    ours = pd.read_csv(table, index_col=[0, 1, 2]).xs("ours", level="source").loc["simple_baseline"].iloc[0]
    for column in ("PCK@0.1 test", "OKS AP test"):
        assert 0 <= ours[f"{column}_lo"] <= ours[column] <= ours[f"{column}_hi"] <= 1
    assert "OKS AP" in table.with_name("loss.md").read_text()
