"""The labelling loop: choosing frames (each strategy, spread across videos), pre-annotations that
LabelMe opens and the privacy audit passes, a simulated correction added to a dataset with its
provenance logged, refusals that change nothing, and (slow) retraining on the result."""

from __future__ import annotations

import hashlib
import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark.commands import main
from benchmark.common.errors import InputError
from benchmark.data.labelme import load_dataset, load_image, load_split, read_annotation
from benchmark.data.synth import generate_dataset
from benchmark.labelling.merge import LOG, add_labels
from benchmark.labelling.select import JUMP, STRATEGIES, choose
from benchmark.study.keypoints import INDEX, LABELS, NUM_KEYPOINTS

WRIST = INDEX["Wrist_L"]  # the keypoint the perfect model is unsure of


# --- choose -------------------------------------------------------------------------------------

def poses(videos: int, frames: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Video ids, frame numbers, one still pose per video with a little noise, confidence 0.9."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(20, 80, (videos, 1, NUM_KEYPOINTS, 2))
    coords = (base + rng.normal(0, 0.05, (videos, frames, NUM_KEYPOINTS, 2))).reshape(-1, NUM_KEYPOINTS, 2)
    ids = np.repeat([f"{v:03d}" for v in range(videos)], frames)
    return ids, np.tile(np.arange(frames) * 5, videos), coords, np.full((videos * frames, NUM_KEYPOINTS), 0.9)


def picked(table: pd.DataFrame) -> list[tuple[str, int]]:
    return list(zip(table["video"], table["frame"]))


def test_uncertain_picks_the_least_confident_frames():
    videos, frames, coords, confidence = poses(3, 6)
    low = [1, 8, 15]  # one per video
    confidence[low] = 0.2
    confidence[low[0], WRIST] = 0.01
    confidence[2, INDEX["Eye_L"]] = 0.0  # facial keypoints do not count
    table = choose(videos, frames, coords, confidence, 3, "uncertain")
    assert sorted(picked(table)) == sorted((videos[i], frames[i]) for i in low)
    assert list(table.columns) == ["video", "frame", "strategy", "score", "reason"]
    assert (table["strategy"] == "uncertain").all() and np.allclose(table["score"], 0.8, atol=0.02)
    assert "Wrist_L 0.01" in table.set_index("video").loc["000", "reason"]


def test_jump_finds_a_planted_glitch_not_its_neighbours():
    videos, frames, coords, confidence = poses(2, 8)
    scale = np.linalg.norm(coords[0, INDEX["Shoulder_R"]] - coords[0, INDEX["Shoulder_L"]])
    coords[11, INDEX["Ankle_R"]] += 40  # video 001, frame 15: a one-frame glitch
    with pytest.warns(UserWarning, match="move more than"):
        table = choose(videos, frames, coords, confidence, 2, "jump")
    assert picked(table)[0] == ("001", 15) and table["score"].iloc[0] > JUMP
    assert table["reason"].iloc[0].startswith("Ankle_R moved") and scale > 0
    assert "below the 0.25 S threshold" in table["reason"].iloc[1]  # the rest: the largest below it
    assert picked(table)[1][0] == "000"  # spread: the other video


def test_diverse_covers_planted_clusters():
    rng = np.random.default_rng(1)
    clusters = rng.uniform(20, 80, (4, NUM_KEYPOINTS, 2))
    member = np.tile(np.arange(4), 10)  # 40 frames, 4 clusters, each in every video
    coords = clusters[member] + rng.normal(0, 0.3, (40, NUM_KEYPOINTS, 2))
    videos = np.repeat(["a", "b", "c", "d"], 10)
    frames = np.tile(np.arange(10), 4)
    table = choose(videos, frames, coords, np.ones((40, NUM_KEYPOINTS)), 4, "diverse", seed=3)
    rows = [int(np.flatnonzero((videos == v) & (frames == f))[0]) for v, f in picked(table)]
    assert sorted(member[rows]) == [0, 1, 2, 3] and table["video"].nunique() == 4  # and one per video
    assert table["reason"].str.match(r"cluster \d of 4 \(10 frames\), (nearest its centre|0\.\d\d from)").all()
    embeddings = np.eye(4)[member] * 10  # the same clusters, given as embeddings
    table = choose(videos, frames, coords, np.ones((40, NUM_KEYPOINTS)), 4, "diverse", embeddings=embeddings)
    rows = [int(np.flatnonzero((videos == v) & (frames == f))[0]) for v, f in picked(table)]
    assert sorted(member[rows]) == [0, 1, 2, 3]


def test_random_is_seeded_and_never_picks_labelled_frames():
    videos, frames, coords, confidence = poses(3, 10)
    labelled = {(videos[i], int(frames[i])) for i in range(0, 30, 2)}
    first = choose(videos, frames, coords, confidence, 6, "random", seed=7, exclude=labelled)
    again = choose(videos, frames, coords, confidence, 6, "random", seed=7, exclude=labelled)
    other = choose(videos, frames, coords, confidence, 6, "random", seed=8, exclude=labelled)
    assert picked(first) == picked(again) and picked(first) != picked(other)
    assert not set(picked(first)) & labelled
    assert (first["reason"] == "random control").all()


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_strategy_spreads_across_videos_and_ignores_input_order(strategy):
    videos, frames, coords, confidence = poses(3, 8, seed=2)
    confidence[:8] = 0.1  # video 000 is the least confident throughout
    coords[:8] += np.random.default_rng(0).normal(0, 5, (8, NUM_KEYPOINTS, 2))  # and jumps
    table = choose(videos, frames, coords, confidence, 6, strategy, exclude={("001", 0)})
    assert table.groupby("video").size().max() <= 2 and len(table) == 6  # ceil(6 / 3)
    shuffled = np.random.default_rng(5).permutation(len(videos))
    again = choose(videos[shuffled], frames[shuffled], coords[shuffled], confidence[shuffled], 6, strategy,
                   exclude={("001", 0)})
    assert picked(again) == picked(table)


def test_a_video_that_runs_out_leaves_its_places_to_the_others():
    videos, frames, coords, confidence = poses(2, 6)
    only_one = {("000", int(f)) for f in frames[1:6]}  # video 000 has one unlabelled frame
    table = choose(videos, frames, coords, confidence, 4, "uncertain", exclude=only_one)
    assert table.groupby("video").size().to_dict() == {"000": 1, "001": 3}


def test_fewer_candidates_than_asked_gives_all_of_them_with_a_warning():
    videos, frames, coords, confidence = poses(1, 3)
    with pytest.warns(UserWarning, match="only 2 unlabelled frames"):
        table = choose(videos, frames, coords, confidence, 5, "diverse", exclude={("000", 0)})
    assert sorted(picked(table)) == [("000", 5), ("000", 10)]
    with pytest.raises(InputError, match="unknown"):
        choose(videos, frames, coords, confidence, 1, "newest")


# --- the loop on synthetic data -----------------------------------------------------------------

def tree_hash(root: Path) -> str:
    """Every file's relative path and bytes under ``root``."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(root).rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """A synthetic dataset root: three videos, four frames each, one video per split."""
    root = tmp_path_factory.mktemp("labelling") / "data"
    generate_dataset(root, videos=3, frames_per_video=4, size=160, seed=0, domain_shift_videos=0,
                     workers=1, progress=False)
    return root


@pytest.fixture(scope="module")
def new_videos(tmp_path_factory) -> tuple[Path, dict]:
    """A folder of frames of three new videos (ids 900-902; faces visible) and their exact poses,
    keyed by the hash of their pixels."""
    source = tmp_path_factory.mktemp("labelling") / "new"
    generate_dataset(source, videos=3, frames_per_video=4, size=160, seed=1, domain_shift_videos=0,
                     workers=1, progress=False)
    folder = source.parent / "frames"
    folder.mkdir()
    truths = {}
    for frame in (f for frames in load_dataset(source).splits.values() for f in frames):
        name = f"9{frame.video[1:]}_{frame.frame:08d}.jpg"
        shutil.copyfile(frame.image_path, folder / name)
        truths[hashlib.sha256(load_image(folder / name).tobytes()).hexdigest()] = np.asarray(frame.truth)
    return folder, truths


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    """An untrained tiny model with the metrics.json training writes beside it."""
    from benchmark.models import build_model

    folder = tmp_path_factory.mktemp("model")
    build_model("simple_baseline", input_size=64, variant="tiny", pretrained=False).save(folder / "model.keras")
    config = {"loss": "kce", "sigma": 2.0, "decoder": "wa", "facial_keypoints": "preserved"}
    (folder / "metrics.json").write_text(json.dumps({"config": config}))
    return folder / "model.keras"


@pytest.fixture(scope="module")
def selected(new_videos, model, tmp_path_factory) -> Path:
    """``select-frames`` on the new videos with a model that predicts the exact pose, sure of all
    but Wrist_L (so faces are found, and mosaicked, where they are)."""
    from benchmark.labelling import select_frames as module

    folder, truths = new_videos

    def perfect(pose_model, images, **kwargs):
        coords = np.stack([truths[hashlib.sha256(image.tobytes()).hexdigest()] for image in images])
        confidence = np.ones(coords.shape[:2])
        confidence[:, WRIST] = 0.1
        return coords, confidence

    out = tmp_path_factory.mktemp("selected") / "out"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "predict", perfect)
        module.select_frames([folder], model, out, 4, "random", seed=1)
    return out


def test_select_frames_command_writes_what_labelme_and_the_reader_open(dataset, model, tmp_path, capsys):
    """The command with a real (untrained) model, on a split's unlabelled frames."""
    from labelme._label_file import LabelFile

    root = tmp_path / "data"
    shutil.copytree(dataset, root)
    for path in sorted((root / "Train" / "ann").glob("*.json"))[:2]:
        path.unlink()  # two unlabelled frames
    out = tmp_path / "out"
    with pytest.warns(UserWarning, match="only 2 unlabelled frames"):
        code = main(["select-frames", "--model", str(model), "--input", str(root / "Train"), "--n", "3",
                     "--strategy", "uncertain", "--min-confidence", "0", "--exclude", str(root), "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "chose 2 frames" in printed and f"labelme {out / 'img'} --output {out / 'ann'}" in printed
    table = pd.read_csv(out / "selection.csv", dtype={"video": str})
    assert len(table) == 2 and {"video", "frame", "strategy", "score", "reason", "mosaic"} <= set(table)
    unlabelled = {p.stem for p in (root / "Train" / "img").iterdir()} - {p.stem for p in (root / "Train" / "ann").iterdir()}
    assert {Path(a).stem for a in table["annotation"]} == unlabelled
    for path in sorted((out / "ann").glob("*.json")):
        label_file = LabelFile(str(path))
        assert (path.parent / label_file.image_path).is_file()
        assert {s["label"] for s in label_file.shapes} == set(LABELS)  # --min-confidence 0: every point
        assert all(s["flags"] == {"predicted": True} and s["description"].startswith("predicted, confidence")
                   for s in label_file.shapes)
        assert json.loads(path.read_text())["imageData"] is None and label_file.flags == {"reviewed": False}
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # ../img/<stem>.jpg is no stale imagePath
            read_annotation(path, path.parent.parent / "img" / f"{path.stem}.jpg")


def test_preannotations_leave_unsure_points_out_and_pass_the_privacy_audit(selected):
    from benchmark.privacy.audit import audit_dataset

    table = pd.read_csv(selected / "selection.csv", dtype={"video": str})
    assert len(table) == 4 and table["video"].nunique() == 3 and (table["keypoints_shown"] == 21).all()
    assert set(table["mosaic"]) == {"face+head"}
    for path in (selected / "ann").glob("*.json"):
        doc = json.loads(path.read_text())
        assert "Wrist_L" not in {s["label"] for s in doc["shapes"]}
        assert len(doc["preannotation"]["keypoints"]) == NUM_KEYPOINTS and doc["preannotation"]["model_sha256"]
    report = audit_dataset(selected)
    judged = [check for check in report.faces.values() if check is not None]
    assert report.clean and len(judged) == 4 and all(check.mosaicked for check in judged)
    assert not [f for f in report.findings if f.check in ("name", "embedded-image", "face")]


MOVES = {"Knee_R": (3.0, 4.0), "Elbow_L": (-6.0, 8.0)}  # 5 and 10 pixels


def correct(selected: Path, folder: Path) -> Path:
    """A person's correction in LabelMe of a copy of ``selected``: two points moved, Head removed,
    Wrist_L added, ``reviewed`` ticked, saved as the LabelMe application saves (its own writer,
    our record kept)."""
    from labelme._label_file import LabelFile

    shutil.copytree(selected, folder)
    for path in sorted((folder / "ann").glob("*.json")):
        label_file = LabelFile(str(path))
        shapes = [dict(s) for s in label_file.shapes if s["label"] != "Head"]
        for shape in shapes:
            dx, dy = MOVES.get(shape["label"], (0.0, 0.0))
            shape["points"] = [(shape["points"][0][0] + dx, shape["points"][0][1] + dy)]
            shape.pop("other_data")
        shapes.append({"label": "Wrist_L", "points": [(50.0, 60.0)], "group_id": None, "description": "",
                       "shape_type": "point", "flags": {}, "mask": None})
        doc = json.loads(path.read_text())
        assert label_file.flags == {"reviewed": False}
        label_file.save(str(path), shapes, label_file.image_path, doc["imageHeight"], doc["imageWidth"],
                        other_data=label_file.other_data, flags={"reviewed": True})
    return folder


@pytest.fixture(scope="module")
def corrected(selected, tmp_path_factory) -> Path:
    return correct(selected, tmp_path_factory.mktemp("corrected") / "corrected")


def test_corrected_frames_join_the_split_with_their_provenance(corrected, dataset, tmp_path, capsys):
    before = tree_hash(corrected)
    root = tmp_path / "data"
    shutil.copytree(dataset, root)
    train_before = len(load_split(root, "Train"))
    assert main(["add-labels", str(corrected), "--into", str(root), "--split", "Train"]) == 0
    assert "added 4 frames of 3 videos" in capsys.readouterr().out
    assert tree_hash(corrected) == before  # the input folder is only read
    frames = {f.stem: f for f in load_split(root, "Train")}
    assert len(frames) == train_before + 4
    for path in sorted((corrected / "ann").glob("*.json")):
        frame = frames[path.stem]
        doc = json.loads(frame.annotation_path.read_text())
        assert doc["imagePath"] == f"{path.stem}.jpg" and "preannotation" not in doc and doc["flags"] == {}
        assert all(s["flags"] == {} and "description" not in s for s in doc["shapes"])
        assert np.isnan(frame.keypoints[INDEX["Head"]]).all() and (frame.keypoints[WRIST] == [50, 60]).all()
        assert frame.image_path.read_bytes() == (corrected / "img" / f"{path.stem}.jpg").read_bytes()
    log = pd.read_csv(root / LOG, dtype={"video": str})
    assert len(log) == 4 and set(log["frame_id"]) == {f"Train/{p.stem}" for p in (corrected / "ann").iterdir()}
    assert np.allclose(log["Knee_R_moved_px"], 5) and np.allclose(log["Elbow_L_moved_px"], 10)
    assert (log["Ankle_R_moved_px"] == 0).all() and log["Head_moved_px"].isna().all()
    assert (log["added"] == "Wrist_L").all() and (log["removed"] == "Head").all()
    assert (log["strategy"] == "random").all() and log["model_sha256"].str.len().eq(64).all()
    assert log["model"].str.endswith("model.keras").all() and log["reason"].eq("random control").all()


def test_info_says_how_to_open_a_split_in_labelme(dataset, capsys):
    assert main(["info", str(dataset)]) == 0
    assert f"labelme {dataset / 'Train' / 'img'} --output {dataset / 'Train' / 'ann'}" in capsys.readouterr().out


def one_frame(corrected: Path, folder: Path) -> None:
    """A folder holding one of the corrected frames."""
    path = sorted((corrected / "ann").glob("*.json"))[0]
    for sub, name in (("ann", path.name), ("img", f"{path.stem}.jpg")):
        (folder / sub).mkdir(parents=True)
        shutil.copyfile(corrected / sub / name, folder / sub / name)


def rename(annotation: Path, image: Path, stem: str) -> Path:
    target = annotation.with_name(f"{stem}.json")
    doc = json.loads(annotation.read_text())
    target.write_text(json.dumps(doc | {"imagePath": f"../img/{stem}.jpg"}))
    annotation.unlink()
    image.rename(image.with_name(f"{stem}.jpg"))
    return target


def _frame_already_labelled(annotation, image, root):
    frame = sorted((root / "Train" / "ann").glob("*.json"))[0].stem
    return rename(annotation, image, frame), ["already in split Train", f"Train/ann/{frame}.json"]


def _video_in_another_split(annotation, image, root):
    valid = sorted((root / "Valid" / "ann").glob("*.json"))[0].stem
    video = valid.rsplit("_", 1)[0]
    return rename(annotation, image, f"{video}_00099999"), [f"video '{video}'", "split Valid", "to Train"]


def _unknown_label(annotation, image, root):
    doc = json.loads(annotation.read_text())
    doc["shapes"][0]["label"] = "Elbow_Left"
    annotation.write_text(json.dumps(doc))
    return annotation, ["unknown labels ['Elbow_Left']"]


def _frame_twice(annotation, image, root):
    """The same frame once more under another name (the corrected folder's first frame)."""
    first = sorted(p for p in annotation.parent.glob("*.json") if p != annotation)[0]
    video, frame = first.stem.rsplit("_", 1)
    twin = annotation.with_name(f"{video}_{int(frame)}.json")
    shutil.copyfile(first, twin)
    shutil.copyfile(first.parent.parent / "img" / f"{first.stem}.jpg", image.with_name(f"{twin.stem}.jpg"))
    return max(first, twin), [f"frame {int(frame)} of video {video!r} is also", str(min(first, twin))]


def _broken_json(annotation, image, root):
    annotation.write_text(annotation.read_text()[:-20])
    return annotation, ["not valid JSON"]


def _missing_image(annotation, image, root):
    image.unlink()
    return annotation, ["image", "does not exist"]


def _not_reviewed(annotation, image, root):
    doc = json.loads(annotation.read_text())
    annotation.write_text(json.dumps(doc | {"flags": {"reviewed": False}}))
    return annotation, ["flags.reviewed: not ticked"]


def _no_keypoint(annotation, image, root):
    doc = json.loads(annotation.read_text())
    annotation.write_text(json.dumps(doc | {"shapes": []}))
    return annotation, ["no keypoint labelled"]


@pytest.mark.parametrize("mistake", [_frame_already_labelled, _video_in_another_split, _unknown_label,
                                     _frame_twice, _broken_json, _missing_image, _not_reviewed, _no_keypoint],
                         ids=lambda f: f.__name__.strip("_"))
def test_bad_input_is_refused_naming_the_file_and_changes_nothing(mistake, corrected, dataset, tmp_path, capsys):
    root = tmp_path / "data"
    shutil.copytree(dataset, root)
    folder = tmp_path / "corrected"
    # one good frame first, so a refusal of the second must also leave the good one out
    one_frame(corrected, folder)
    bad = sorted((corrected / "ann").glob("*.json"))[1]
    shutil.copyfile(bad, folder / "ann" / bad.name)
    shutil.copyfile(corrected / "img" / f"{bad.stem}.jpg", folder / "img" / f"{bad.stem}.jpg")
    named, words = mistake(folder / "ann" / bad.name, folder / "img" / f"{bad.stem}.jpg", root)
    before = tree_hash(root)
    assert main(["add-labels", str(folder), "--into", str(root)]) == 2
    error = capsys.readouterr().err
    assert str(named) in error and all(word in error for word in words), error
    assert tree_hash(root) == before and not (root / LOG).exists()
    with pytest.raises(InputError):
        add_labels(folder, root, "Train")


@pytest.mark.slow
def test_a_model_retrains_on_the_merged_dataset(corrected, dataset, tmp_path):
    from benchmark.training.config import TrainConfig
    from benchmark.training.train import train

    root = tmp_path / "data"
    shutil.copytree(dataset, root)
    train_before = len(load_split(root, "Train"))
    add_labels(corrected, root, "Train")
    config = TrainConfig(model="simple_baseline", loss="kce", input_size=64, epochs=1, cycles=1, batch_size=8)
    train(config, root, tmp_path / "run", progress=False)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert (tmp_path / "run" / "model.keras").is_file() and metrics["metrics"]["wa"]["Test"]
    assert metrics["dataset"]["train_frames_used"] == train_before + 4


def test_a_root_gives_its_train_frames_and_held_out_videos_are_never_chosen(dataset, model, tmp_path):
    """Frames of a video that the dataset holds in Valid or Test could never join Train: a root
    input reads Train only, and --exclude keeps such videos' unlabelled frames out too."""
    from benchmark.labelling.select_frames import select_frames, sources

    (found,) = sources(dataset)
    assert found.frames.paths[0].parent == dataset / "Train" / "img"
    frames = tmp_path / "frames"  # the Valid video's frames, as a lab might find them again
    shutil.copytree(dataset / "Valid" / "img", frames)
    with pytest.warns(UserWarning, match="only 0 unlabelled frames"):
        table = select_frames([frames], model, tmp_path / "out", 2, "random", exclude=dataset)
    assert table.empty
