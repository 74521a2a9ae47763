"""The on-disk layout of a dataset (the reference dataset's, which the synthetic one copies)::

    <root>/<Split>/img/<video>_<frame>.jpg      (.jpeg and .png are read too)
    <root>/<Split>/ann/<video>_<frame>.json     LabelMe 4.5.6, one "point" shape per keypoint
    <root>/<Split>/truth/<video>_<frame>.json   synthetic data only: exact keypoints

The one place that knows these names: the reader, the privacy audit and scrub, the video reader
and the generator all ask here.
"""

from __future__ import annotations

import re
from pathlib import Path

SPLITS: tuple[str, ...] = ("Train", "Valid", "Test", "DomainShift")
EVALUATED: tuple[str, ...] = ("Valid", "Test", "DomainShift")  # the splits every experiment is scored on
IMAGES, ANNOTATIONS, TRUTH = "img", "ann", "truth"  # the folders of a split
SYNTH_SETTINGS = "synth.json"  # at the root of a synthetic dataset: how it was generated
OKS_SIGMAS_FILE = "oks_sigmas.json"  # optional, at the root: {label: sigma} for OKS AP (benchmark.data.oks_sigmas)
COCO_SOURCE = "coco_source.json"  # at the root of a dataset converted from COCO (benchmark.data.coco)
FOLDERS = (IMAGES, ANNOTATIONS, TRUTH)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")  # lower case; the first is what the suite writes
ANNOTATION_SUFFIX = ".json"
STEM = re.compile(r"(?P<video>.+)_(?P<frame>\d+)")  # <video>_<frame>, e.g. 000_00000375


def stem(video: str, frame: int) -> str:
    """The file stem of a frame as the suite writes it (3-digit video ids, 8-digit frames)."""
    return f"{video}_{frame:08d}"


def parse_stem(name: str) -> re.Match | None:
    """The ``video`` and ``frame`` groups of a ``<video>_<frame>`` stem, or None."""
    return STEM.fullmatch(name)


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and path.is_file()


def is_annotation(path: Path) -> bool:
    return path.suffix == ANNOTATION_SUFFIX and path.parent.name == ANNOTATIONS and path.is_file()


def annotation_path_of(image_path: Path) -> Path:
    """The annotation ``../ann/<stem>.json`` of an image (the file may not exist)."""
    return image_path.parent.parent / ANNOTATIONS / f"{image_path.stem}{ANNOTATION_SUFFIX}"


def truth_path_of(annotation_path: Path) -> Path:
    """The exact keypoints ``../truth/<stem>.json`` of an annotation (the file may not exist)."""
    return annotation_path.parent.parent / TRUTH / annotation_path.name


def image_path_of(annotation_path: Path) -> Path | None:
    """The image ``../img/<stem>.<jpg|jpeg|png>`` of an annotation, if one exists."""
    for suffix in IMAGE_SUFFIXES:
        path = annotation_path.parent.parent / IMAGES / f"{annotation_path.stem}{suffix}"
        if path.is_file():
            return path
    return None


def split_images(folder: Path) -> dict[str, Path]:
    """Stem -> image file of an ``img`` folder (any of :data:`IMAGE_SUFFIXES`, any case)."""
    return {p.stem: p for p in sorted(Path(folder).iterdir()) if is_image(p)}


def labelled_frames(root: Path) -> dict[tuple[str, int], tuple[str, Path]]:
    """``(video, frame) -> (split, annotation file)`` of every ``<root>/<Split>/ann/<video>_<frame>.json``
    (the files are not read)."""
    found = {}
    for split in SPLITS:
        folder = Path(root) / split / ANNOTATIONS
        for path in sorted(folder.glob(f"*{ANNOTATION_SUFFIX}")) if folder.is_dir() else ():
            match = parse_stem(path.stem)
            if match:
                found[match["video"], int(match["frame"])] = (split, path)
    return found
