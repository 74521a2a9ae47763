"""``add-labels``: add corrected frames (``img/`` and ``ann/`` of a folder, as ``select-frames``
wrote and a person corrected in LabelMe) to a split of a dataset root.

Everything is checked before anything changes; the first problem refuses the whole folder with an
:class:`~benchmark.common.errors.InputError` naming the file: an annotation that is not valid
JSON or not a LabelMe file, a pre-annotation whose ``reviewed`` flag is not ticked (a model's
guess is no label until a person has looked), no keypoint at all, a label that is not one of the 22
keypoints, a keypoint outside its picture, a missing or undecodable image, a file name that is not
``<video>_<frame>``, a frame the target split already holds, and a video that another split
holds (one infant in two splits would leak between training and evaluation). Images without an
annotation are skipped (deleting a frame's JSON discards the frame).

The split is then rebuilt in a temporary folder (the existing files hard-linked, the new ones
added), checked by the reader (:func:`benchmark.data.labelme.load_split`) and swapped in
(:mod:`benchmark.common.atomic`), so the dataset changes completely or not at all. Imported
annotations are normalised to the dataset's own format: LabelMe 4.5.6, ``imagePath`` the bare
image name, ``imageData`` null, no document flags, ``predicted`` flags, descriptions or
``preannotation`` record, ``occluded`` flags kept; images are copied byte for byte.

Each added frame appends one row to ``<root>/labelling_log.csv`` (:data:`LOG`, written after the
split): when, the frame, where it came from, the pre-annotating model (path and SHA-256), strategy
and reason, and what the person changed against the points the model showed
(:func:`benchmark.labelling.preannotate.shown_prediction`): ``<keypoint>_moved_px`` for every
keypoint shown and kept (0 when untouched), the keypoints ``added`` and ``removed``. A frame
without a pre-annotation record (labelled from scratch) has an empty model and every keypoint
``added``.
"""

from __future__ import annotations

import json
import shutil
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.common.atomic import link_or_copy, staged_file, staged_folder
from benchmark.common.errors import InputError
from benchmark.data.labelme import (annotation_dict, load_image, load_split, occluded_flags,
                                    parse_annotation, read_annotation)
from benchmark.data.layout import (ANNOTATION_SUFFIX, ANNOTATIONS, IMAGES, SPLITS, image_path_of,
                                   labelled_frames, parse_stem, split_images)
from benchmark.labelling.preannotate import REVIEWED, shown_prediction, unreviewed
from benchmark.study.keypoints import INDEX, LABELS

LOG = "labelling_log.csv"


@dataclass
class Corrected:
    """One checked frame of the corrected folder."""

    video: str
    frame: int
    annotation: Path
    image: Path
    document: dict  # the normalised LabelMe document
    log: dict  # its row of the provenance log


def _changes(keypoints: np.ndarray, doc: dict) -> dict:
    """The log's model columns and the person's changes against the points the model showed."""
    found = shown_prediction(doc)
    shown, provenance = found if found else (np.full_like(keypoints, np.nan), {})
    labelled, predicted = ~np.isnan(keypoints[:, 0]), ~np.isnan(shown[:, 0])
    moved = np.where(labelled & predicted, np.linalg.norm(keypoints - shown, axis=1), np.nan)
    row = {key: provenance.get(key, "") for key in ("model", "model_sha256", "strategy", "reason")}
    row |= {"keypoints": int(labelled.sum()),
            "added": " ".join(LABELS[i] for i in np.flatnonzero(labelled & ~predicted)),
            "removed": " ".join(LABELS[i] for i in np.flatnonzero(predicted & ~labelled)),
            "moved_px_max": np.nanmax(moved) if (labelled & predicted).any() else np.nan}
    return row | {f"{label}_moved_px": moved[INDEX[label]] for label in LABELS}


def check_frame(path: Path, split: str, present: dict, target_stems: dict[str, Path]) -> Corrected:
    """One corrected annotation, checked against the dataset (``present``:
    :func:`benchmark.data.layout.labelled_frames` of its root; ``target_stems``: the target
    split's images by stem)."""
    match = parse_stem(path.stem)
    if match is None:
        raise InputError(f"{path}: file name: expected '<video>_<frame>', e.g. '000_00000375.json'")
    video, frame = match["video"], int(match["frame"])
    image = image_path_of(path)
    if image is None:
        raise InputError(f"{path}: image: {path.parent.parent / IMAGES / path.stem}.jpg does not exist")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unknown labels are refused below, not warned about
        doc, _ = parse_annotation(path)
    unknown = sorted({s["label"] for s in doc["shapes"]} - set(LABELS))
    if unknown:
        raise InputError(f"{path}: shapes: unknown labels {unknown}; the dataset's keypoints are "
                         f"{', '.join(LABELS)}")
    if unreviewed(doc):
        raise InputError(f"{path}: flags.{REVIEWED}: not ticked; tick it in LabelMe's Flags panel once the "
                         "frame is corrected, or delete this file to leave the frame out")
    keypoints, width, height = read_annotation(path, image)
    if np.isnan(keypoints).all():
        raise InputError(f"{path}: shapes: no keypoint labelled; delete this file to leave the frame out")
    decoded = load_image(image).shape[:2]
    if decoded != (height, width):
        raise InputError(f"{image}: image: decodes to {decoded[1]}x{decoded[0]}, not {width}x{height}")
    elsewhere = next(((s, p) for (v, _), (s, p) in present.items() if v == video and s != split), None)
    if elsewhere:
        raise InputError(f"{path}: video {video!r} is already in split {elsewhere[0]} ({elsewhere[1]}); "
                         f"adding it to {split} would put one video in two splits")
    if path.stem in target_stems or (video, frame) in present:
        existing = present.get((video, frame), (split, target_stems.get(path.stem)))[1]
        raise InputError(f"{path}: frame {frame} of video {video!r} is already in split {split} ({existing}); "
                         "remove it from the folder to add the others")
    document = annotation_dict(keypoints, image.name, width, height, occluded_flags(path, doc["shapes"]))
    return Corrected(video, frame, path, image, document, _changes(keypoints, doc))


def check_folder(folder: Path, root: Path, split: str) -> tuple[list[Corrected], int]:
    """Every annotation of ``folder`` checked (:func:`check_frame`), and the number of images
    without annotation (skipped)."""
    folder, root = Path(folder), Path(root)
    if split not in SPLITS:
        raise InputError(f"--split {split}: not one of {', '.join(SPLITS)}")
    if not root.is_dir():
        raise InputError(f"--into {root}: not a folder (a dataset root holds {', '.join(SPLITS)})")
    for sub in (IMAGES, ANNOTATIONS):
        if not (folder / sub).is_dir():
            raise InputError(f"{folder / sub}: (folder): does not exist; a corrected folder holds img/ and ann/")
    annotations = sorted((folder / ANNOTATIONS).glob(f"*{ANNOTATION_SUFFIX}"))
    if not annotations:
        raise InputError(f"{folder / ANNOTATIONS}: (folder): no *.json annotation files")
    present = labelled_frames(root)
    target = root / split / IMAGES
    target_stems = split_images(target) if target.is_dir() else {}
    corrected = [check_frame(path, split, present, target_stems) for path in annotations]
    seen = {}
    for c in corrected:  # one frame under two names (000_1.json, 000_00000001.json)
        if (c.video, c.frame) in seen:
            raise InputError(f"{c.annotation}: frame {c.frame} of video {c.video!r} is also {seen[c.video, c.frame]}; "
                             "keep one of the two")
        seen[c.video, c.frame] = c.annotation
    unlabelled = len(set(split_images(folder / IMAGES)) - {path.stem for path in annotations})
    return corrected, unlabelled


def add_labels(folder: Path, root: Path, split: str = "Train") -> dict:
    """Add the corrected frames of ``folder`` to ``<root>/<split>`` and log them (module
    docstring); return counts: ``added``, ``videos``, ``skipped`` (images without annotation),
    ``frames`` (the split's, after), ``moved``/``added_points``/``removed_points``."""
    corrected, skipped = check_folder(folder, root, split)
    target = Path(root) / split
    with staged_folder(target, replace=True) as tmp:
        if target.is_dir():
            shutil.copytree(target, tmp, dirs_exist_ok=True, copy_function=link_or_copy)
        for sub in (IMAGES, ANNOTATIONS):
            (tmp / sub).mkdir(exist_ok=True)
        for item in corrected:
            shutil.copyfile(item.image, tmp / IMAGES / item.image.name)
            (tmp / ANNOTATIONS / f"{item.annotation.stem}{ANNOTATION_SUFFIX}").write_text(
                json.dumps(item.document, indent=2))
        frames = len(load_split(tmp.parent, tmp.name))  # the reader's checks, before anything changes
    added_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    rows = pd.DataFrame([{"added_at": added_at, "frame_id": f"{split}/{item.annotation.stem}", "split": split,
                          "video": item.video, "frame": item.frame, "source": str(item.annotation.resolve()),
                          **item.log} for item in corrected])
    log = Path(root) / LOG
    if log.is_file():
        rows = pd.concat([pd.read_csv(log, dtype=str, keep_default_na=False), rows], ignore_index=True)
    with staged_file(log) as tmp:
        rows.to_csv(tmp, index=False, float_format="%.1f")
    moved = [item.log[f"{label}_moved_px"] for item in corrected for label in LABELS]
    return {"added": len(corrected), "videos": len({item.video for item in corrected}), "skipped": skipped,
            "frames": frames, "moved": int(np.sum(np.nan_to_num(moved) > 0)),
            "added_points": sum(len(item.log["added"].split()) for item in corrected),
            "removed_points": sum(len(item.log["removed"].split()) for item in corrected)}
