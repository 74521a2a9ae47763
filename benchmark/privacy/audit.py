"""``python -m benchmark audit ROOT``: find what could identify the infants of a dataset.

Every file and folder under ``ROOT`` is inspected (layout in docs/CONVENTIONS.md); each problem
becomes a :class:`Finding` of one check, with a severity:

- ``embedded-image``: a LabelMe ``imageData`` that is not null. Published LabelMe files carried the
  original frame there, face un-mosaicked, beside a mosaicked JPEG: high when the embedded frame
  differs from the image file inside the face region, otherwise medium (a copy all the same).
- ``face``: the face region of an image is not mosaicked (:mod:`.faces`): high; no face region
  to judge: low.
- ``metadata``: EXIF GPS (high), serial numbers, authors, dates, embedded text (medium), other
  EXIF tags (low) (:mod:`.metadata`).
- ``name``: a file or folder name, or an ``imagePath``, holding a possible personal name (high) or
  a date (medium); an ``imagePath`` with folders in it (low: folder names often hold user names).
- ``labels``: keypoints outside the image, unknown labels (low).
- ``annotation``: a file that cannot be read, so its frame's face cannot be checked (medium); an
  image without annotation (low).

The command prints a table, writes a JSON report with ``--json``, and exits with 1 when any finding
is high, else 0.
"""

from __future__ import annotations

import base64
import binascii
import io
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path, PureWindowsPath

import numpy as np
import pandas as pd
from PIL import Image, ImageOps
from tqdm.auto import tqdm

from benchmark.data.labelme import AnnotationError, image_size, load_image, parse_annotation
from benchmark.data.layout import IMAGES, annotation_path_of, image_path_of, is_annotation, is_image
from benchmark.data.mosaic import face_mask
from benchmark.privacy.faces import FaceCheck, check_face
from benchmark.privacy.metadata import image_issues, name_issues
from benchmark.study.keypoints import LABELS

SEVERITIES = ("high", "medium", "low")
# Mean absolute difference (grey levels) inside the face region above which an embedded frame is
# another picture than the image file: re-encoding moves pixels by a few levels, a mosaic by tens.
DIFF_THRESHOLD = 10.0

Problem = tuple[str, str, str]  # (check, severity, message)


@dataclass(frozen=True)
class Finding:
    file: str       # path relative to the dataset root, POSIX style ("." for the root)
    check: str      # embedded-image, face, metadata, name, labels, annotation
    severity: str   # high, medium, low
    message: str


@dataclass
class Report:
    """Findings of one audit, and the face verdict of every image (None: not judged)."""

    root: Path
    files: int
    findings: list[Finding] = field(default_factory=list)
    faces: dict[str, FaceCheck | None] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {s: sum(f.severity == s for f in self.findings) for s in SEVERITIES}

    @property
    def clean(self) -> bool:
        """No high-severity finding."""
        return self.counts()["high"] == 0

    def table(self) -> pd.DataFrame:
        """One row per finding, high severity first."""
        rows = sorted(self.findings, key=lambda f: (SEVERITIES.index(f.severity), f.file, f.check))
        return pd.DataFrame([asdict(f) for f in rows], columns=["severity", "check", "file", "message"])

    def summary(self) -> str:
        judged = [c for c in self.faces.values() if c is not None]
        mosaicked = sum(c.mosaicked for c in judged)
        counts = ", ".join(f"{n} {s}" for s, n in self.counts().items())
        return (f"{self.root}: {self.files} files, {len(self.faces)} images: {mosaicked} faces "
                f"mosaicked, {len(judged) - mosaicked} visible, {len(self.faces) - len(judged)} "
                f"not judged; findings: {counts}")

    def to_json(self) -> dict:
        return {"root": str(self.root), "files": self.files, "counts": self.counts(),
                "clean": self.clean, "findings": self.table().to_dict(orient="records"),
                "faces": {k: c.as_dict() if c else None for k, c in self.faces.items()}}


def read_labels(path: Path) -> tuple[dict, np.ndarray, list[str]]:
    """A LabelMe document, its keypoints ``(22, 2)`` (NaN = missing) and the reader's warnings.

    Unlike :func:`benchmark.data.labelme.read_annotation` it does not require the keypoints to lie in
    the image: the audit reports that, and the scrub keeps such labels as they are."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        doc, keypoints = parse_annotation(path)
    return doc, keypoints, [str(w.message).removeprefix(f"{path}: ") for w in caught]


def decode_image_data(data: str) -> np.ndarray:
    """The RGB uint8 picture in a LabelMe ``imageData`` (base64 of an image file), as displayed
    (EXIF orientation applied, as LabelMe and :func:`benchmark.data.labelme.load_image` do)."""
    with Image.open(io.BytesIO(base64.b64decode(data, validate=True))) as image:
        return np.array(ImageOps.exif_transpose(image).convert("RGB"))


def embedded_problems(data, image: np.ndarray | None, keypoints: np.ndarray) -> list[Problem]:
    """Compare an ``imageData`` with the image file inside the face region (the whole picture when
    the keypoints give no face region)."""
    check = "embedded-image"
    try:
        embedded = decode_image_data(data)
    except (binascii.Error, TypeError, ValueError, OSError):
        return [(check, "medium", "imageData is not null and not a decodable image; strip it")]
    verdict = check_face(embedded, keypoints)
    looks = None if verdict is None else "mosaicked" if verdict.mosaicked else "VISIBLE"
    face = f"; its face looks {looks}" if looks else ""
    if image is None or embedded.shape != image.shape:
        return [(check, "high", f"imageData holds a {embedded.shape[1]}x{embedded.shape[0]} frame "
                                f"that cannot be compared with the image file{face}")]
    region = face_mask(image.shape, keypoints)
    region = region if region.any() else np.ones(image.shape[:2], bool)
    difference = float(np.abs(embedded.astype(np.int16) - image)[region].mean())
    if difference > DIFF_THRESHOLD:
        return [(check, "high", f"imageData holds a frame that differs from the image file inside "
                                f"the face region (mean |difference| {difference:.0f} grey levels): "
                                f"an un-mosaicked original{face}")]
    return [(check, "medium", f"imageData holds a copy of the frame, same face region as the image "
                              f"file (mean |difference| {difference:.1f}); strip it")]


def annotation_problems(path: Path, image_path: Path | None) -> list[Problem]:
    """Embedded image, ``imagePath`` and label problems of one LabelMe file."""
    try:
        doc, keypoints, notes = read_labels(path)
    except AnnotationError as err:
        return [("annotation", "medium", f"unreadable, so its frame's face cannot be checked: {err}")]
    problems = [("labels", "low", note) for note in notes]
    if doc.get("imageData") is not None:
        try:
            image = load_image(image_path) if image_path is not None else None
        except AnnotationError:
            image = None  # the image's own finding says so
        problems += embedded_problems(doc["imageData"], image, keypoints)
    declared = doc.get("imagePath")
    if isinstance(declared, str):
        problems += [("name", s, f"imagePath: {m}") for s, m in name_issues(declared)]
        parts = PureWindowsPath(declared).parts
        if len(parts) > 1 and parts[:-1] != ("..", IMAGES):  # ../img/<name>: LabelMe's own, names nobody
            problems.append(("name", "low", "imagePath holds folder names, not just the file name"))
    if image_path is not None:
        width, height = image_size(image_path)
        x, y = keypoints.T
        outside = (x < 0) | (x > width) | (y < 0) | (y > height)
        if outside.any():
            names = ", ".join(LABELS[i] for i in np.flatnonzero(outside))
            problems.append(("labels", "low", f"keypoints outside the {width}x{height} image: {names}"))
    return problems


def image_problems(path: Path, keypoints: np.ndarray | None) -> tuple[list[Problem], FaceCheck | None]:
    """Metadata problems and the face verdict of one image file (``keypoints``: its labels)."""
    try:
        with Image.open(path) as image:
            problems = [("metadata", s, m) for s, m in image_issues(image)]
        pixels = load_image(path)
    except (AnnotationError, OSError, ValueError) as err:
        return [("annotation", "medium", f"cannot decode the image, so its face cannot be "
                                         f"checked: {err}")], None
    if keypoints is None:
        return problems + [("annotation", "low", "no annotation, so its face was not checked")], None
    verdict = check_face(pixels, keypoints)
    if verdict is None:
        problems.append(("face", "low", "the keypoints give no face region large enough to judge"))
    elif not verdict.mosaicked:
        problems.append(("face", "high", f"face visible: the face region is not mosaicked "
                                         f"({verdict.describe()})"))
    return problems, verdict


def frame_keypoints(image_path: Path) -> np.ndarray | None:
    """The keypoints of an image's annotation; None when there is none or it cannot be read (the
    annotation's own finding says so)."""
    path = annotation_path_of(image_path)
    try:
        return read_labels(path)[1] if path.is_file() else None
    except AnnotationError:
        return None


def audit_dataset(root: Path, progress: bool = False) -> Report:
    """Audit every file and folder under ``root``."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"dataset root {root} does not exist or is not a folder")
    entries = sorted(root.rglob("*"))
    report = Report(root, sum(p.is_file() for p in entries))
    for path in tqdm(entries, desc="audit", unit="file", disable=not progress):
        rel = path.relative_to(root).as_posix()
        problems = [("name", s, m) for s, m in name_issues(path.name)]
        if is_annotation(path):
            problems += annotation_problems(path, image_path_of(path))
        elif is_image(path):
            found, report.faces[rel] = image_problems(path, frame_keypoints(path))
            problems += found
        report.findings += [Finding(rel, check, s, m) for check, s, m in problems]
    return report
