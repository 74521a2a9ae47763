"""LabelMe annotations of the reference dataset layout (:mod:`benchmark.data.layout`): reading and writing.

Keypoints are carried as ``(22, 2)`` float arrays in :data:`benchmark.study.keypoints.LABELS`
order with NaN where a keypoint is missing; ``visible`` is ``~isnan(x)``. A point shape whose
``flags`` hold ``"occluded": true`` is labelled but hidden (COCO's ``v=1``,
:mod:`benchmark.data.coco`): ``Frame.occluded``.

Reading is strict where a silent mistake would corrupt results and lenient where LabelMe files
commonly drift: a broken file, a duplicated keypoint label, a keypoint that is not a ``point``
shape, a keypoint outside the image or an annotation without its image raise
:class:`AnnotationError` (naming the file and the field); unknown labels (of any shape type), a
stale ``imagePath``, a non-null ``imageData``, a wrong declared image size and images without
annotation emit :class:`AnnotationWarning` and are ignored. Missing paths raise
``FileNotFoundError``.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath

import numpy as np
from PIL import Image, ImageOps

from benchmark.common.errors import InputError
from benchmark.data.layout import (
    ANNOTATION_SUFFIX,
    ANNOTATIONS,
    IMAGE_SUFFIXES,
    IMAGES,
    SPLITS,
    SYNTH_SETTINGS,
    parse_stem,
    split_images,
    truth_path_of,
)
from benchmark.study.keypoints import INDEX, LABELS, NUM_KEYPOINTS

LABELME_VERSION = "4.5.6"
OCCLUDED = "occluded"  # the point shape flag of a keypoint labelled where it is hidden


def annotation_dict(keypoints: np.ndarray, image_name: str, width: int, height: int,
                    occluded: np.ndarray | None = None) -> dict:
    """A LabelMe document with one point shape per non-missing keypoint; those ``occluded``
    ``(22,)`` marks carry ``"flags": {"occluded": true}``."""
    occluded = np.zeros(NUM_KEYPOINTS, bool) if occluded is None else np.asarray(occluded, bool)
    shapes = [
        {"label": label, "points": [[float(x), float(y)]], "group_id": None,
         "shape_type": "point", "flags": {OCCLUDED: True} if hidden else {}}
        for label, (x, y), hidden in zip(LABELS, np.asarray(keypoints, dtype=float), occluded)
        if np.isfinite(x) and np.isfinite(y)
    ]
    return {"version": LABELME_VERSION, "flags": {}, "shapes": shapes, "imagePath": image_name,
            "imageData": None, "imageHeight": int(height), "imageWidth": int(width)}


def write_annotation(path: Path, keypoints: np.ndarray, image_name: str, width: int, height: int) -> None:
    """Write a LabelMe file for ``keypoints`` (22, 2), NaN rows omitted."""
    Path(path).write_text(json.dumps(annotation_dict(keypoints, image_name, width, height), indent=2))


def write_truth(path: Path, keypoints: np.ndarray) -> None:
    """Write exact (synthetic) keypoints as ``{"keypoints": {label: [x, y]}}``."""
    doc = {"keypoints": {label: [float(x), float(y)] for label, (x, y) in zip(LABELS, keypoints)}}
    Path(path).write_text(json.dumps(doc))



class AnnotationError(InputError):
    """A dataset file is malformed or missing; the message names the file and the field."""


class AnnotationWarning(UserWarning):
    """A dataset file is usable but suspicious (unknown label, stale imagePath, embedded image...)."""


def _warn(message: str) -> None:
    warnings.warn(message, AnnotationWarning, stacklevel=3)


@dataclass(frozen=True, eq=False)
class Frame:
    """One labelled frame. ``keypoints``/``truth`` are read-only ``(22, 2)`` arrays, NaN = missing;
    ``occluded`` ``(22,)`` marks labelled keypoints flagged as hidden. Frames compare by identity
    (field-wise equality is ambiguous for arrays)."""

    split: str
    video: str
    frame: int
    image_path: Path
    annotation_path: Path
    keypoints: np.ndarray
    width: int
    height: int
    truth: np.ndarray | None = None
    occluded: np.ndarray = field(default_factory=lambda: _read_only(np.zeros(NUM_KEYPOINTS, bool)))

    @property
    def visible(self) -> np.ndarray:
        return ~np.isnan(self.keypoints[:, 0])

    @property
    def stem(self) -> str:
        return self.annotation_path.stem

    @property
    def id(self) -> str:
        return f"{self.split}/{self.stem}"

    @property
    def truth_path(self) -> Path:
        """Where the exact synthetic keypoints of this frame live (the file may not exist)."""
        return truth_path_of(self.annotation_path)


def _read_json(path: Path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise AnnotationError(f"{path}: (whole file): not valid JSON: {err}") from err


def _point(path: Path, where: str, points) -> np.ndarray:
    """The single ``[x, y]`` of a LabelMe point shape, as finite floats."""
    ok = (isinstance(points, list) and len(points) == 1 and isinstance(points[0], list)
          and len(points[0]) == 2
          and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in points[0]))
    if not ok or not np.isfinite(points[0]).all():
        raise AnnotationError(f"{path}: {where}.points: expected one finite [x, y] pair, got {points!r}")
    return np.asarray(points[0], dtype=float)


def _parse_shapes(path: Path, shapes: list) -> np.ndarray:
    """Keypoints from LabelMe shapes: any order; unknown labels (any shape type) warned and ignored;
    a keypoint label that is duplicated or not a ``point`` shape is an error."""
    keypoints = np.full((NUM_KEYPOINTS, 2), np.nan)
    unknown = set()
    for i, shape in enumerate(shapes):
        label = shape.get("label") if isinstance(shape, dict) else None
        if not isinstance(label, str):
            raise AnnotationError(f"{path}: shapes[{i}].label: missing or not a string")
        if label not in INDEX:
            unknown.add(label)
            continue
        where = f"shapes[{i}] ({label})"
        if shape.get("shape_type") != "point":
            raise AnnotationError(f"{path}: {where}.shape_type: a keypoint must be a 'point' shape, "
                                  f"got {shape.get('shape_type')!r}")
        if not np.isnan(keypoints[INDEX[label], 0]):
            raise AnnotationError(f"{path}: {where}.label: duplicate keypoint label {label!r}")
        keypoints[INDEX[label]] = _point(path, where, shape.get("points"))
    if unknown:
        _warn(f"{path}: shapes: ignoring unknown labels {sorted(unknown)}")
    return keypoints


def occluded_flags(path: Path, shapes: list) -> np.ndarray:
    """``(22,)``: the keypoint shapes whose ``flags`` hold ``"occluded": true`` (shapes as checked by
    :func:`parse_annotation`; another value of that flag is an error)."""
    occluded = np.zeros(NUM_KEYPOINTS, bool)
    for i, shape in enumerate(shapes):
        flags = shape.get("flags")
        if shape["label"] not in INDEX or not isinstance(flags, dict) or OCCLUDED not in flags:
            continue
        if not isinstance(flags[OCCLUDED], bool):
            raise AnnotationError(f"{path}: shapes[{i}] ({shape['label']}).flags.{OCCLUDED}: expected "
                                  f"true or false, got {flags[OCCLUDED]!r}")
        occluded[INDEX[shape["label"]]] = flags[OCCLUDED]
    return occluded


# EXIF orientations that turn the picture by 90 degrees (LabelMe labels the turned picture).
_TRANSPOSED = {5, 6, 7, 8}
_ORIENTATION = 0x0112


def image_size(path: Path) -> tuple[int, int]:
    """``(width, height)`` of an image as displayed (EXIF orientation applied), from its header
    only (PIL opens lazily; no decoding)."""
    try:
        with Image.open(path) as image:
            width, height = image.size
            turned = image.getexif().get(_ORIENTATION) in _TRANSPOSED
            return (height, width) if turned else (width, height)
    except FileNotFoundError as err:
        raise AnnotationError(f"{path}: image: file does not exist") from err
    except OSError as err:
        raise AnnotationError(f"{path}: image: not a readable image: {err}") from err


def _size(path: Path, doc: dict, image_path: Path | None) -> tuple[int, int]:
    """The real image size when the image is given (warning if the JSON disagrees), else the JSON's."""
    declared = doc.get("imageWidth"), doc.get("imageHeight")
    if image_path is None:
        for field, value in zip(("imageWidth", "imageHeight"), declared):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise AnnotationError(f"{path}: {field}: expected a positive integer, got {value!r}")
        return declared
    width, height = image_size(image_path)
    if declared != (width, height):
        _warn(f"{path}: imageWidth/imageHeight: file says {declared[0]}x{declared[1]} but "
              f"{image_path} is {width}x{height}; using the real size")
    return width, height


def parse_annotation(path: Path) -> tuple[dict, np.ndarray]:
    """A LabelMe document and its keypoints ``(22, 2)`` (NaN = missing), without any check against
    the image (:func:`read_annotation` adds those; the privacy audit reports them instead)."""
    doc = _read_json(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("shapes"), list):
        raise AnnotationError(f"{path}: shapes: missing or not a list")
    return doc, _parse_shapes(path, doc["shapes"])


def read_annotation(path: Path, image_path: Path | None = None) -> tuple[np.ndarray, int, int]:
    """Keypoints ``(22, 2)`` (NaN = missing), width and height of one LabelMe file.

    ``imagePath`` and ``imageData`` are never used: the image is ``image_path`` (by default
    ``img/<stem>.jpg``, whose header gives the size), so a stale or Windows-style ``imagePath`` only
    warns when its file name differs, and a non-null ``imageData`` warns because published LabelMe
    files embed the original, un-mosaicked frame there. Keypoints must lie inside the image.
    """
    return _read_annotation(Path(path), image_path)[1:]


def _read_annotation(path: Path, image_path: Path | None) -> tuple[dict, np.ndarray, int, int]:
    """:func:`read_annotation`, with the document."""
    doc, keypoints = parse_annotation(path)
    expected = Path(image_path).name if image_path is not None else f"{path.stem}.jpg"
    declared = doc.get("imagePath")
    if not isinstance(declared, str) or PureWindowsPath(declared).name != expected:
        _warn(f"{path}: imagePath: {declared!r} does not name {expected}; ignoring it")
    if doc.get("imageData") is not None:
        _warn(f"{path}: imageData: not null; it is never used, but it may hold the original frame "
              "with an un-mosaicked face (de-identification leak): strip it before sharing")

    width, height = _size(path, doc, image_path)
    x, y = keypoints.T
    outside = (x < 0) | (x > width) | (y < 0) | (y > height)
    if outside.any():
        names = ", ".join(f"{LABELS[i]} {tuple(keypoints[i].round(1))}" for i in np.flatnonzero(outside))
        raise AnnotationError(f"{path}: shapes: keypoints outside the {width}x{height} image: {names}")
    return doc, keypoints, width, height


def read_truth(path: Path) -> np.ndarray:
    """Exact keypoints ``(22, 2)`` from a file written by :func:`write_truth` (NaN or null = missing)."""
    doc = _read_json(path)
    points = doc.get("keypoints") if isinstance(doc, dict) else None
    if not isinstance(points, dict):
        raise AnnotationError(f"{path}: keypoints: missing or not an object")
    truth = np.full((NUM_KEYPOINTS, 2), np.nan)
    for label, xy in points.items():
        if label not in INDEX:
            raise AnnotationError(f"{path}: keypoints.{label}: unknown label")
        if xy is None:
            continue
        try:
            truth[INDEX[label]] = np.asarray(xy, dtype=float).reshape(2)
        except (TypeError, ValueError) as err:
            raise AnnotationError(f"{path}: keypoints.{label}: expected [x, y], got {xy!r}") from err
    return truth


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _read_frame(split: str, annotation_path: Path, image_path: Path) -> Frame:
    match = parse_stem(annotation_path.stem)
    if match is None:
        raise AnnotationError(f"{annotation_path}: file name: expected '<video>_<frame>', "
                              "e.g. '000_00000375.json'")
    doc, keypoints, width, height = _read_annotation(annotation_path, image_path)
    truth_path = truth_path_of(annotation_path)
    truth = _read_only(read_truth(truth_path)) if truth_path.is_file() else None
    return Frame(split, match["video"], int(match["frame"]), image_path, annotation_path,
                 _read_only(keypoints), width, height, truth,
                 _read_only(occluded_flags(annotation_path, doc["shapes"])))


def load_split(root: Path, split: str) -> list[Frame]:
    """Every labelled frame of ``<root>/<split>``, sorted by (video, frame).

    An annotation without its ``img/<stem>.jpg`` is an error; an image without annotation is
    skipped with a warning (unlabelled frames are allowed next to labelled ones).
    """
    split_dir = Path(root) / split
    if not split_dir.is_dir():
        raise FileNotFoundError(f"split folder {split_dir} does not exist")
    ann_dir, img_dir = split_dir / ANNOTATIONS, split_dir / IMAGES
    for folder in (ann_dir, img_dir):
        if not folder.is_dir():
            raise FileNotFoundError(f"folder {folder} does not exist (a split holds img/ and ann/)")
    annotations = {p.stem: p for p in ann_dir.glob(f"*{ANNOTATION_SUFFIX}")}
    images = split_images(img_dir)
    if not annotations:
        raise AnnotationError(f"{ann_dir}: (folder): no *.json annotation files")
    orphans = sorted(annotations.keys() - images.keys())
    if orphans:
        more = f" (and {len(orphans) - 1} more)" if len(orphans) > 1 else ""
        raise AnnotationError(f"{annotations[orphans[0]]}: image: {img_dir / orphans[0]}{IMAGE_SUFFIXES[0]} "
                              f"does not exist (nor {', '.join(IMAGE_SUFFIXES[1:])}){more}")
    unlabelled = sorted(images.keys() - annotations.keys())
    if unlabelled:
        _warn(f"{img_dir}: skipping {len(unlabelled)} images without annotation, "
              f"e.g. {images[unlabelled[0]].name}")
    frames = [_read_frame(split, annotations[stem], images[stem]) for stem in annotations]
    return sorted(frames, key=lambda f: (f.video, f.frame))


@dataclass
class Dataset:
    """The loaded splits of one dataset root (real or synthetic)."""

    root: Path
    splits: dict[str, list[Frame]]

    def frames(self, split: str) -> list[Frame]:
        if split not in self.splits:
            raise KeyError(f"split {split!r} is not loaded; loaded: {sorted(self.splits)}")
        return self.splits[split]

    def videos(self, split: str) -> dict[str, list[Frame]]:
        """Video id -> its frames ordered by frame index."""
        videos: dict[str, list[Frame]] = {}
        for frame in self.frames(split):  # already sorted by (video, frame)
            videos.setdefault(frame.video, []).append(frame)
        return videos

    def fingerprint(self) -> str:
        """SHA-256 over the relative POSIX path and bytes of every loaded annotation, truth and
        image file (and ``synth.json``), in sorted order: identical data gives the same hex digest
        on any machine and under any root folder."""
        files = {self.root / SYNTH_SETTINGS} if self.is_synthetic else set()
        for frames in self.splits.values():
            for f in frames:
                files |= {f.annotation_path, f.image_path}
                if f.truth is not None:
                    files.add(f.truth_path)
        digest = hashlib.sha256()
        for rel, path in sorted((p.relative_to(self.root).as_posix(), p) for p in files):
            data = path.read_bytes()
            digest.update(rel.encode() + b"\0" + len(data).to_bytes(8, "little"))
            digest.update(data)
        return digest.hexdigest()

    @property
    def is_synthetic(self) -> bool:
        return (self.root / SYNTH_SETTINGS).is_file()


def load_dataset(root: Path, splits: Iterable[str] | None = None) -> Dataset:
    """Load ``splits`` of ``root`` (default: whichever of :data:`SPLITS` exist)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"dataset root {root} does not exist or is not a folder")
    if splits is None:
        splits = [s for s in SPLITS if (root / s).is_dir()]
        if not splits:
            raise FileNotFoundError(f"dataset root {root} holds none of the split folders {SPLITS}")
    return Dataset(root, {split: load_split(root, split) for split in splits})


def truth_array(frames: list[Frame]) -> np.ndarray:
    """``(N, 22, 2)`` exact keypoints of the frames, NaN for a frame without (real data)."""
    missing = np.full((NUM_KEYPOINTS, 2), np.nan)
    return np.stack([missing if f.truth is None else f.truth for f in frames]) if frames \
        else np.zeros((0, NUM_KEYPOINTS, 2))


def load_image(frame_or_path: Frame | Path) -> np.ndarray:
    """Decode an image as RGB uint8 ``(H, W, 3)``; a corrupt or truncated file is an
    :class:`AnnotationError` naming it."""
    path = frame_or_path.image_path if isinstance(frame_or_path, Frame) else Path(frame_or_path)
    try:
        with Image.open(path) as image:
            return np.array(ImageOps.exif_transpose(image).convert("RGB"))
    except FileNotFoundError as err:
        raise AnnotationError(f"{path}: image: file does not exist") from err
    except (OSError, SyntaxError, ValueError) as err:
        raise AnnotationError(f"{path}: image: cannot decode: {err}") from err
