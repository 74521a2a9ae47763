"""COCO keypoint JSON in and out of the suite's LabelMe dataset layout (:mod:`benchmark.data.layout`).

Out (:func:`to_coco`): one image per labelled frame, its ``file_name`` relative to the dataset root
and its ``split``, ``video`` and ``frame`` as extra fields; one annotation each, in a category whose
``keypoints`` are the suite's 22 names with the suite's skeleton, so nothing is lost on the way back.

In (:func:`read_coco`, :func:`coco_frames`): the labelled images of a COCO file as frames of the
layout, their split, video and frame number found by a :class:`Rule`, keypoint names mapped to
ours (:data:`FROM_COCO`); :func:`write_frame` writes one frame's LabelMe file and image. Pixels are
the caller's business: ``python -m benchmark convert`` de-identifies each image before it is written.

The conventions (docs/CONVENTIONS.md, "COCO keypoints"):

- coordinates: COCO keypoints are pixel indices (the centre of pixel ``i`` is ``i``), ours are
  continuous (pixel ``i`` covers ``[i, i + 1)``): ``x = x_coco + 0.5``, ``y = y_coco + 0.5``;
- visibility: ``v=0`` (not labelled) is a missing keypoint (NaN), written back as ``(0, 0, 0)``;
  ``v=1`` (labelled, hidden) a LabelMe point flagged ``occluded``; ``v=2`` a point without the flag;
- left and right are the infant's own sides, in COCO as in the suite;
- COCO's ears have no counterpart and are dropped; our Head (vertex), lips, palms (MP joints) and
  soles (MTP joints) have none in COCO and stay missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from benchmark.common.digest import file_sha256
from benchmark.data.labelme import (
    AnnotationError,
    AnnotationWarning,
    Dataset,
    annotation_dict,
    image_size,
)
from benchmark.data.layout import (
    ANNOTATION_SUFFIX,
    ANNOTATIONS,
    IMAGE_SUFFIXES,
    IMAGES,
    SPLITS,
    stem,
)
from benchmark.study.keypoints import INDEX, LABELS, NUM_KEYPOINTS, SKELETON_IDX

COCO_KEYPOINTS: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)
_SIDES = {"left": "L", "right": "R"}
# COCO's 17 keypoint names -> ours; None: no counterpart (dropped on the way in).
FROM_COCO: dict[str, str | None] = {
    "nose": "Nose", "left_eye": "Eye_L", "right_eye": "Eye_R", "left_ear": None, "right_ear": None,
    **{f"{side}_{joint}": f"{joint.capitalize()}_{s}"
       for joint in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle") for side, s in _SIDES.items()},
}
PIXEL_OFFSET = 0.5  # ours = COCO's + 0.5 (COCO keypoints are pixel indices)
CATEGORY = {"id": 1, "name": "person", "supercategory": "person", "keypoints": list(LABELS),
            "skeleton": (SKELETON_IDX + 1).tolist()}

# Image fields read by default, and the --split-by keyword for the first folder of file_name.
SPLIT_FIELD, VIDEO_FIELDS, FRAME_FIELDS, FOLDER = "split", ("video", "video_id"), ("frame", "frame_id"), "folder"
SPLIT_NAMES = {name.lower(): name for name in SPLITS} | {
    "training": "Train", "val": "Valid", "validation": "Valid", "validate": "Valid", "testing": "Test",
    "domain_shift": "DomainShift"}
VIDEO_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")  # a video id that is safe in a file name


# --- LabelMe -> COCO ---------------------------------------------------------------------------

def coco_keypoints(keypoints: np.ndarray, occluded: np.ndarray) -> dict:
    """The ``keypoints``, ``num_keypoints``, ``bbox`` and ``area`` of a COCO annotation of a pose
    ``(22, 2)`` (NaN = missing) whose ``occluded`` ``(22,)`` keypoints are labelled but hidden.
    The box is the labelled keypoints' extent and the area its size (COCO's are a person's
    segmentation, which LabelMe files do not hold)."""
    labelled = ~np.isnan(keypoints[:, 0])
    flags = np.where(labelled, np.where(occluded, 1, 2), 0)
    xy = np.where(labelled[:, None], keypoints - PIXEL_OFFSET, 0.0)
    flat = [value for (x, y), v in zip(xy.tolist(), flags.tolist()) for value in (x, y, v)]
    if labelled.any():
        low, high = xy[labelled].min(axis=0), xy[labelled].max(axis=0)
        box = [*low.tolist(), *(high - low).tolist()]
    else:
        box = [0.0, 0.0, 0.0, 0.0]
    return {"keypoints": flat, "num_keypoints": int(labelled.sum()), "bbox": box,
            "area": box[2] * box[3]}


def to_coco(dataset: Dataset) -> dict:
    """A COCO keypoint document of every loaded frame of ``dataset``: image ``file_name``s relative
    to its root (so ``--images ROOT`` finds them again), one annotation per frame."""
    images, annotations = [], []
    for split, frames in dataset.splits.items():
        for frame in frames:
            number = len(images) + 1
            images.append({"id": number, "file_name": frame.image_path.relative_to(dataset.root).as_posix(),
                           "width": frame.width, "height": frame.height,
                           "split": split, "video": frame.video, "frame": frame.frame})
            annotations.append({"id": number, "image_id": number, "category_id": CATEGORY["id"],
                                "iscrowd": 0, **coco_keypoints(frame.keypoints, frame.occluded)})
    return {"info": {"description": f"{dataset.root.name}: COCO keypoints written by "
                                    "python -m benchmark convert"},
            "licenses": [], "images": images, "annotations": annotations, "categories": [CATEGORY]}


# --- COCO -> LabelMe ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """How an image's split, video and frame number are found (docs/CONVENTIONS.md).

    ``split_by``: an image field, :data:`FOLDER` (the first folder of ``file_name``), or a regular
    expression searched in ``file_name`` with named groups ``split``, ``video`` and/or ``frame``;
    by default the image's ``split`` field. ``split``: where the images name no split, the split
    of them all; where they do, the only split converted."""

    split_by: str | None = None
    split: str | None = None

    @property
    def pattern(self) -> re.Pattern | None:
        if self.split_by is None or "(?P<" not in self.split_by:
            return None
        try:
            return re.compile(self.split_by)
        except re.error as err:
            raise AnnotationError(f"--split-by {self.split_by!r}: not a valid regular expression: {err}") from err

    def describe(self) -> dict:
        """The rule as :data:`~benchmark.data.layout.COCO_SOURCE` records it: the options, and where
        each value is looked for, in order."""
        return {"split_by": self.split_by, "split": self.split,
                "split_from": "--split-by (its regex group 'split', 'folder' or the image field it names), "
                              "else the image field 'split', else --split",
                "video_from": "the regex group 'video', else the image field 'video' or 'video_id', "
                              "else each image its own video",
                "frame_from": "the regex group 'frame', else the image field 'frame' or 'frame_id', "
                              "else the order of the video's images in the file"}


@dataclass(frozen=True, eq=False)
class CocoFrame:
    """One labelled COCO image as a frame of the layout: ``keypoints`` ``(22, 2)`` in our pixel
    coordinates (NaN = missing), ``occluded`` ``(22,)`` the labelled ones COCO marks hidden (v=1)."""

    split: str
    video: str
    frame: int
    source: Path  # the COCO image file
    keypoints: np.ndarray
    occluded: np.ndarray
    width: int
    height: int

    @property
    def stem(self) -> str:
        return stem(self.video, self.frame)

    @property
    def suffix(self) -> str:
        """The image suffix in the layout: the source's, or ``.jpg`` for another format (then the
        image is re-encoded)."""
        suffix = self.source.suffix.lower()
        return suffix if suffix in IMAGE_SUFFIXES else IMAGE_SUFFIXES[0]


@dataclass
class Conversion:
    """The frames of a COCO file and what was made of it."""

    frames: list[CocoFrame]
    mapping: dict[str, str | None]  # the file's keypoint names -> ours (None: dropped)
    skipped: int                    # images without a labelled keypoint annotation


def read_coco(path: Path) -> dict:
    """A COCO document with ``images``, ``annotations`` and ``categories`` lists."""
    path = Path(path)
    if not path.is_file():
        raise AnnotationError(f"{path}: not a file; --to labelme reads a COCO keypoint JSON file "
                              "(a dataset root is converted with --to coco)")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise AnnotationError(f"{path}: (whole file): not valid JSON: {err}") from err
    if not isinstance(doc, dict):
        raise AnnotationError(f"{path}: (whole file): expected a COCO object")
    for key in ("images", "annotations", "categories"):
        if not isinstance(doc.get(key), list):
            raise AnnotationError(f"{path}: {key}: missing or not a list")
    return doc


def _mappings(path: Path, categories: list) -> tuple[dict, dict[str, str | None]]:
    """Category id -> ``(K,)`` index among our 22 of each of its keypoints (-1: dropped), for the
    categories with keypoints; and every name -> ours."""
    indices, names_used = {}, {}
    for i, category in enumerate(categories):
        names = category.get("keypoints") if isinstance(category, dict) else None
        if names is None:
            continue
        where = f"{path}: categories[{i}].keypoints"
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise AnnotationError(f"{where}: expected a list of keypoint names")
        unknown = [n for n in names if n not in INDEX and n not in FROM_COCO]
        if unknown:
            raise AnnotationError(f"{where}: unknown keypoint names {unknown}; expected the suite's 22 "
                                  "names or COCO's 17 (docs/CONVENTIONS.md, COCO keypoints)")
        ours = [n if n in INDEX else FROM_COCO[n] for n in names]
        twice = sorted({n for n in ours if n is not None and ours.count(n) > 1})
        if twice:
            raise AnnotationError(f"{where}: several names stand for {twice}")
        indices[category.get("id")] = np.array([-1 if n is None else INDEX[n] for n in ours])
        names_used |= dict(zip(names, ours))
    if not indices:
        raise AnnotationError(f"{path}: categories: no category with keypoints")
    return indices, names_used


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _pose(path: Path, i: int, annotation: dict, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Our ``(22, 2)`` keypoints and ``(22,)`` COCO flags of one annotation (dropped names left out)."""
    values, count = annotation.get("keypoints"), 3 * len(index)
    if not (isinstance(values, list) and len(values) == count and all(map(_number, values))
            and np.isfinite(values).all()):
        raise AnnotationError(f"{path}: annotations[{i}].keypoints: expected {count} finite numbers "
                              f"(x, y, v for each of the category's {len(index)} keypoints)")
    triples = np.asarray(values, dtype=float).reshape(-1, 3)
    flags = triples[:, 2]
    if not np.isin(flags, (0, 1, 2)).all():
        raise AnnotationError(f"{path}: annotations[{i}].keypoints: visibility must be 0, 1 or 2, got "
                              f"{sorted(set(flags.tolist()) - {0, 1, 2})}")
    keypoints, ours = np.full((NUM_KEYPOINTS, 2), np.nan), np.zeros(NUM_KEYPOINTS, int)
    kept = (index >= 0) & (flags > 0)
    keypoints[index[kept]] = triples[kept, :2] + PIXEL_OFFSET
    ours[index[kept]] = flags[kept]
    return keypoints, ours


def _persons(path: Path, doc: dict, indices: dict) -> tuple[dict, int]:
    """Image id -> ``[(annotation index, keypoints, flags)]`` of its non-crowd annotations with a
    labelled keypoint, and the number of labelled points of dropped names."""
    persons, dropped = {}, 0
    for i, annotation in enumerate(doc["annotations"]):
        if not isinstance(annotation, dict):
            raise AnnotationError(f"{path}: annotations[{i}]: expected an object")
        index = indices.get(annotation.get("category_id"))
        if index is None or annotation.get("iscrowd"):
            continue
        keypoints, flags = _pose(path, i, annotation, index)
        dropped += int(np.asarray(annotation["keypoints"][2::3])[index < 0].astype(bool).sum())
        if flags.any():
            persons.setdefault(annotation.get("image_id"), []).append((i, keypoints, flags))
    return persons, dropped


def _split(where: str, value) -> str:
    if not isinstance(value, str) or value.lower() not in SPLIT_NAMES:
        raise AnnotationError(f"{where}: {value!r} is not a split; expected one of {', '.join(SPLITS)} "
                              "(any case; also train, val, validation, test)")
    return SPLIT_NAMES[value.lower()]


def _field(image: dict, names: tuple[str, ...]) -> tuple[str, object] | None:
    return next(((name, image[name]) for name in names if image.get(name) is not None), None)


def _video(where: str, value) -> str:
    video = f"{value:03d}" if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(video, str) or not VIDEO_ID.fullmatch(video):
        raise AnnotationError(f"{where}: {value!r} cannot be a video id (letters, digits, '_', '.', "
                              "'-', starting with a letter or digit)")
    return video


def _frame(where: str, value) -> int:
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise AnnotationError(f"{where}: {value!r} is not a frame number (an integer from 0)")


def _place(path: Path, j: int, image: dict, rule: Rule) -> tuple[str | None, str, int | None]:
    """The split (None: the file names none), video and frame number (None: by order) of an image."""
    name, pattern = image["file_name"], rule.pattern
    where = f"{path}: images[{j}] ({name})"
    match = pattern.search(name) if pattern else None
    if pattern and match is None:
        raise AnnotationError(f"{where}.file_name: does not match --split-by {pattern.pattern!r}")
    groups = {k: v for k, v in (match.groupdict() if match else {}).items() if v is not None}
    if "split" in groups:
        split = _split(f"{where}.file_name (group 'split')", groups["split"])
    elif rule.split_by == FOLDER:
        folders = PurePosixPath(name).parts[:-1]
        if not folders:
            raise AnnotationError(f"{where}.file_name: no folder to take the split from (--split-by folder)")
        split = _split(f"{where}.file_name (first folder)", folders[0])
    elif rule.split_by and not pattern:
        if image.get(rule.split_by) is None:
            raise AnnotationError(f"{where}.{rule.split_by}: missing (--split-by {rule.split_by!r} names an "
                                  "image field; a pattern needs named groups, e.g. (?P<split>...))")
        split = _split(f"{where}.{rule.split_by}", image[rule.split_by])
    else:
        split = _split(f"{where}.{SPLIT_FIELD}", image[SPLIT_FIELD]) if image.get(SPLIT_FIELD) is not None else None
    field = _field(image, VIDEO_FIELDS)
    video = (_video(f"{where}.file_name (group 'video')", groups["video"]) if "video" in groups
             else _video(f"{where}.{field[0]}", field[1]) if field
             else _video(f"{where}.id", image["id"]))
    field = _field(image, FRAME_FIELDS)
    frame = (_frame(f"{where}.file_name (group 'frame')", groups["frame"]) if "frame" in groups
             else _frame(f"{where}.{field[0]}", field[1]) if field else None)
    return split, video, frame


@dataclass
class _Image:
    """An image with one person's keypoints, placed (``j``: its index in the file's images)."""

    j: int
    name: str
    split: str
    video: str
    frame: int | None
    keypoints: np.ndarray
    flags: np.ndarray
    declared: tuple


def _check_videos(path: Path, placed: list[_Image]) -> None:
    """A video lies in one split (its frames would otherwise be trained on and tested on)."""
    first: dict[str, _Image] = {}
    for image in placed:
        other = first.setdefault(image.video, image)
        if other.split != image.split:
            raise AnnotationError(f"{path}: images: video {image.video!r} lies in splits {other.split} "
                                  f"({other.name}) and {image.split} ({image.name}); a video must lie "
                                  "in one split: fix the split or video of its images, or --split-by")


def _number_frames(path: Path, placed: list[_Image]) -> None:
    """Give images without a frame number their order within their video; refuse a frame twice."""
    order: dict[str, int] = {}
    seen: dict[tuple[str, int], str] = {}
    for image in placed:
        position = order[image.video] = order.get(image.video, -1) + 1
        image.frame = position if image.frame is None else image.frame
        key = (image.video, image.frame)
        if key in seen:
            raise AnnotationError(f"{path}: images: {seen[key]} and {image.name} are both frame "
                                  f"{image.frame} of video {image.video!r}")
        seen[key] = image.name


def _frame_of(path: Path, images: Path, image: _Image) -> CocoFrame:
    """The frame of a placed image, its size read from the image file."""
    where = f"{path}: images[{image.j}] ({image.name})"
    source = Path(images) / image.name
    if not source.is_file():
        raise AnnotationError(f"{where}.file_name: {source} does not exist (is --images {images} right?)")
    width, height = image_size(source)
    x, y = image.keypoints.T
    outside = (x < 0) | (x > width) | (y < 0) | (y > height)
    if outside.any():
        raise AnnotationError(f"{where}: keypoints outside the {width}x{height} image: "
                              f"{', '.join(LABELS[i] for i in np.flatnonzero(outside))}")
    return CocoFrame(image.split, image.video, image.frame, source, image.keypoints,
                     image.flags == 1, width, height)


def coco_frames(doc: dict, path: Path, images: Path, rule: Rule = Rule()) -> Conversion:
    """The frames of a COCO document (read from ``path``; image files under ``images``), sorted by
    split, video and frame.

    Each image with one person's labelled keypoints (a non-crowd annotation of a category with
    keypoints, at least one with v > 0) becomes a frame; images without are skipped with a warning.
    Raises :class:`AnnotationError` naming the file and field for unknown keypoint names, an image
    with several persons, a video in two splits, a frame number used twice, a missing image file or
    a keypoint outside its image."""
    path = Path(path)
    indices, mapping = _mappings(path, doc["categories"])
    persons, dropped = _persons(path, doc, indices)
    placed, known = [], set()
    for j, image in enumerate(doc["images"]):
        if not isinstance(image, dict) or "id" not in image or not isinstance(image.get("file_name"), str):
            raise AnnotationError(f"{path}: images[{j}]: expected an object with id and file_name")
        if image["id"] in known:
            raise AnnotationError(f"{path}: images[{j}].id: {image['id']!r} is used twice")
        known.add(image["id"])
        found = persons.get(image["id"], [])
        if len(found) > 1:
            raise AnnotationError(f"{path}: images[{j}] ({image['file_name']}): {len(found)} persons with "
                                  f"keypoints (annotations {[i for i, _, _ in found]}); the study is of "
                                  "one infant per image: keep one annotation per image")
        if found:
            split, video, frame = _place(path, j, image, rule)
            if split is None and rule.split is None:
                raise AnnotationError(f"{path}: images[{j}] ({image['file_name']}): no split; give --split "
                                      "or --split-by (docs/CONVENTIONS.md, COCO keypoints)")
            (_, keypoints, flags), = found
            placed.append(_Image(j, image["file_name"], split or rule.split, video, frame, keypoints,
                                 flags, (image.get("width"), image.get("height"))))
    unknown = sorted(set(persons) - known, key=str)
    if unknown:
        raise AnnotationError(f"{path}: annotations: image_id {unknown[0]!r} names no image")
    _check_videos(path, placed)
    _number_frames(path, placed)
    if rule.split is not None:
        placed = [image for image in placed if image.split == rule.split]
    if not placed:
        raise AnnotationError(f"{path}: images: no image with labelled keypoints"
                              + (f" in split {rule.split}" if rule.split else ""))
    frames = [_frame_of(path, images, image) for image in placed]
    _notes(path, frames, placed, len(doc["images"]) - len(persons), mapping, dropped)
    return Conversion(sorted(frames, key=lambda f: (f.split, f.video, f.frame)), mapping,
                      len(doc["images"]) - len(persons))


def _notes(path: Path, frames: list[CocoFrame], placed: list[_Image], skipped: int,
           mapping: dict, dropped: int) -> None:
    """One warning for each thing left out or not as declared."""
    if skipped:
        warnings.warn(f"{path}: images: skipped {skipped} images without a labelled keypoint annotation",
                      AnnotationWarning, stacklevel=3)
    gone = sorted(name for name, ours in mapping.items() if ours is None)
    if gone:
        warnings.warn(f"{path}: categories: {', '.join(gone)} have no counterpart among the suite's 22 "
                      f"keypoints: dropped ({dropped} labelled points)", AnnotationWarning, stacklevel=3)
    resized = [i.name for f, i in zip(frames, placed)
               if None not in i.declared and i.declared != (f.width, f.height)]
    if resized:
        warnings.warn(f"{path}: images: width/height of {len(resized)} images differ from their files, "
                      f"e.g. {resized[0]}; using the files' sizes", AnnotationWarning, stacklevel=3)


def write_frame(root: Path, frame: CocoFrame, image: bytes | None, link: str | None = None) -> None:
    """Write ``<root>/<Split>/ann/<stem>.json`` and ``<Split>/img/<stem><suffix>``: ``image`` (the
    file's bytes), or where None the source file copied, hard-linked (``link="hard"``) or linked
    symbolically (``"symbolic"``). ``imageData`` is null."""
    target = Path(root) / frame.split / IMAGES / f"{frame.stem}{frame.suffix}"
    annotation = Path(root) / frame.split / ANNOTATIONS / f"{frame.stem}{ANNOTATION_SUFFIX}"
    target.parent.mkdir(parents=True, exist_ok=True)
    annotation.parent.mkdir(parents=True, exist_ok=True)
    if image is not None:
        target.write_bytes(image)
    elif link == "hard":
        try:
            os.link(frame.source, target)
        except OSError as err:
            raise AnnotationError(f"{frame.source}: cannot hard-link it into {root} ({err}); use "
                                  "--link symbolic, or copy (no --link)") from err
    elif link == "symbolic":
        target.symlink_to(frame.source.resolve())
    else:
        shutil.copyfile(frame.source, target)
    doc = annotation_dict(frame.keypoints, target.name, frame.width, frame.height, frame.occluded)
    annotation.write_text(json.dumps(doc, indent=2))


def source_record(path: Path, rule: Rule, conversion: Conversion) -> dict:
    """What :data:`~benchmark.data.layout.COCO_SOURCE` holds: the COCO file (its name and SHA-256),
    the split, video and frame rule, and the keypoint mapping used."""
    digest = file_sha256(path)
    return {"converted_by": "python -m benchmark convert", "source": Path(path).name, "sha256": digest,
            "rule": rule.describe(), "frames": len(conversion.frames), "skipped_images": conversion.skipped,
            "keypoints": conversion.mapping, "coordinates": f"x = x_coco + {PIXEL_OFFSET}, y = y_coco + {PIXEL_OFFSET}",
            "visibility": {"0": "missing (NaN)", "1": "LabelMe point flagged occluded", "2": "LabelMe point"}}
