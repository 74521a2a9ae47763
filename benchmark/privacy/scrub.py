"""``python -m benchmark scrub ROOT --out CLEAN``: a de-identified copy of a dataset.

The copy keeps the meaning of every label and picture and drops what could identify the infant:

- annotations are rewritten as canonical LabelMe files (:func:`benchmark.data.labelme.annotation_dict`):
  the same keypoints with the same coordinates, ``imageData`` null, ``imagePath`` the bare image
  file name; shapes that are not keypoints (and free-text fields) are dropped. With
  ``--omit-facial-keypoints`` the five facial keypoints are dropped too (the study's "omitted"
  labelling);
- images lose their metadata (EXIF, comments, XMP, IPTC, thumbnails). A JPEG whose pixels need no
  change keeps its compressed data byte for byte (only metadata segments are removed, so pixels
  stay identical); a face that :mod:`.faces` finds visible is mosaicked with
  :func:`benchmark.data.mosaic.mosaic_face` and the image re-encoded at quality 95;
- a video id that holds a possible name or a date is replaced by ``anonNNN`` in every file of that
  video (img, ann, truth); any other file or folder whose name looks identifying is left out. The
  mapping is printed, never written into the copy;
- other files (``synth.json``, ``truth/``) are copied unchanged.

The input is never modified: the copy is written into a temporary folder next to ``--out``,
audited (:mod:`.audit`), and renamed into place only when the audit finds nothing of high severity.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from benchmark.common.atomic import check_output, staged_folder
from benchmark.common.errors import InputError
from benchmark.data.labelme import annotation_dict, image_size, load_image, occluded_flags
from benchmark.data.layout import FOLDERS, image_path_of, is_annotation, is_image, parse_stem
from benchmark.data.mosaic import mosaic_face
from benchmark.privacy.audit import audit_dataset, frame_keypoints, read_labels
from benchmark.privacy.faces import check_face
from benchmark.privacy.metadata import name_issues
from benchmark.study.keypoints import FACIAL_IDX

JPEG_QUALITY = 95
# JPEG segments that carry no metadata but are needed to decode colours as before.
KEEP = {0xE0: b"JFIF", 0xE2: b"ICC_PROFILE\0", 0xEE: b"Adobe"}


class ScrubError(InputError):
    """The scrubbed copy failed the audit (nothing was written): the dataset holds what scrub cannot fix."""


def strip_jpeg(data: bytes) -> bytes:
    """JPEG ``data`` without metadata: every APPn segment except JFIF, ICC profile and Adobe colour
    transform, every comment, and anything after the end-of-image marker. The compressed picture
    is copied untouched. Raises ValueError on data that is not a well-formed JPEG."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG (no SOI marker)")
    kept, i = [data[:2]], 2
    while True:
        if i + 4 > len(data) or data[i] != 0xFF:
            raise ValueError(f"bad JPEG marker at byte {i}")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xDA:  # start of scan: the rest is picture data up to the end-of-image
            end = data.find(b"\xff\xd9", i)
            if end < 0:
                raise ValueError("no EOI marker")
            kept.append(data[i:end + 2])
            return b"".join(kept)
        length = int.from_bytes(data[i + 2:i + 4], "big")
        segment = data[i:i + 2 + length]
        is_metadata = 0xE0 <= marker <= 0xEF or marker == 0xFE
        if not is_metadata or segment[4:].startswith(KEEP.get(marker, b"\xff\xff")):
            kept.append(segment)
        i += 2 + length


def encode(pixels: np.ndarray, suffix: str) -> bytes:
    """Encode RGB pixels without any metadata: JPEG at :data:`JPEG_QUALITY` without chroma
    subsampling (which would average the mosaic's colour noise away), or PNG."""
    buffer = io.BytesIO()
    if suffix.lower() == ".png":
        Image.fromarray(pixels).save(buffer, format="PNG")
    else:
        Image.fromarray(pixels).save(buffer, format="JPEG", quality=JPEG_QUALITY, subsampling=0)
    return buffer.getvalue()


def clean_image(path: Path, pixels: np.ndarray, changed: bool) -> bytes:
    """The image file ``path`` without metadata, holding ``pixels`` (its displayed pixels, EXIF
    orientation applied, unless ``changed``): a JPEG is stripped losslessly when that decodes to
    the same pixels (not when an EXIF orientation turned them), anything else re-encoded."""
    if not changed and path.suffix.lower() in (".jpg", ".jpeg"):
        try:
            stripped = strip_jpeg(path.read_bytes())
            with Image.open(io.BytesIO(stripped)) as image:
                if np.array_equal(np.asarray(image.convert("RGB")), pixels):
                    return stripped
        except (ValueError, OSError):
            pass  # unusual JPEG: re-encode below
    return encode(pixels, path.suffix)


def identifying(name: str) -> bool:
    """Whether a name holds a possible personal name or a date (see :mod:`.metadata`)."""
    return any(severity in ("high", "medium") for severity, _ in name_issues(name))


def _layout_stem(rel: Path) -> re.Match | None:
    """The ``<video>_<frame>`` match of a file in an img/ann/truth folder."""
    if len(rel.parts) >= 2 and rel.parent.name in FOLDERS:
        return parse_stem(rel.stem)
    return None


def pseudonyms(files: list[Path]) -> dict[str, str]:
    """``anon001``, ``anon002``... for each identifying video id, in sorted order."""
    videos = {m["video"] for rel in files if (m := _layout_stem(rel))}
    names = sorted(v for v in videos if identifying(v))
    fresh = (f"anon{i:03d}" for i in range(1, 10**6) if f"anon{i:03d}" not in videos)
    return {video: next(fresh) for video in names}


def target(rel: Path, renamed: dict[str, str]) -> Path | None:
    """Where a file goes in the copy (renamed video id), or None to leave it out."""
    match = _layout_stem(rel)
    if match:
        folders = rel.parent.parts[:-1]
        name = f"{renamed.get(match['video'], match['video'])}_{match['frame']}{rel.suffix}"
        return None if any(map(identifying, folders)) else rel.parent / name
    return None if any(map(identifying, rel.parts)) else rel


class _Scrubber:
    """Writes the clean copy of one file at a time and counts what it changed."""

    def __init__(self, root: Path, renamed: dict[str, str], omit_facial: bool):
        self.root, self.renamed, self.omit_facial = root, renamed, omit_facial
        self.counts = {"annotations": 0, "images": 0, "other files": 0, "imageData removed": 0,
                       "non-keypoint shapes dropped": 0, "facial keypoints dropped": 0,
                       "images with metadata stripped": 0, "faces mosaicked": 0}
        self.mosaicked: list[str] = []

    def kept(self, keypoints: np.ndarray) -> np.ndarray:
        keypoints = keypoints.copy()
        if self.omit_facial:
            keypoints[FACIAL_IDX] = np.nan
        return keypoints

    def annotation(self, path: Path) -> bytes:
        doc, keypoints, _ = read_labels(path)
        kept = self.kept(keypoints)
        image_path = image_path_of(path)
        if image_path is not None:
            width, height = image_size(image_path)
            image_name = target(image_path.relative_to(self.root), self.renamed).name
        else:
            width, height = doc.get("imageWidth"), doc.get("imageHeight")
            image_name = target(path.relative_to(self.root), self.renamed).with_suffix(".jpg").name
        self.counts["annotations"] += 1
        self.counts["imageData removed"] += doc.get("imageData") is not None
        labelled, kept_labelled = ~np.isnan(keypoints[:, 0]), ~np.isnan(kept[:, 0])
        self.counts["non-keypoint shapes dropped"] += len(doc["shapes"]) - int(labelled.sum())
        self.counts["facial keypoints dropped"] += int((labelled & ~kept_labelled).sum())
        occluded = occluded_flags(path, doc["shapes"])  # kept: COCO's v=1 (labelled, hidden)
        return json.dumps(annotation_dict(kept, image_name, width, height, occluded), indent=2).encode()

    def image(self, path: Path) -> bytes:
        """Mosaic the face when the audit's check finds it visible, on the original labels or on
        the labels the copy keeps (with --omit-facial-keypoints the audit of the copy judges the
        Head/shoulders region instead): then both regions are mosaicked."""
        pixels = load_image(path)
        keypoints = frame_keypoints(path)
        poses = [] if keypoints is None else [keypoints] + [self.kept(keypoints)] * self.omit_facial
        verdicts = [check_face(pixels, pose) for pose in poses]
        changed = any(v is not None and not v.mosaicked for v in verdicts)
        if changed:
            for pose in poses:
                pixels = mosaic_face(pixels, pose, seed=path.stem)
        data = clean_image(path, pixels, changed)
        self.counts["images"] += 1
        if changed:
            self.counts["faces mosaicked"] += 1
            self.mosaicked.append(path.relative_to(self.root).as_posix())
        elif data != path.read_bytes():
            self.counts["images with metadata stripped"] += 1
        return data

    def file(self, path: Path) -> bytes:
        if is_annotation(path):
            return self.annotation(path)
        if is_image(path):
            return self.image(path)
        self.counts["other files"] += 1
        return path.read_bytes()


def scrub_dataset(root: Path, out: Path, omit_facial_keypoints: bool = False,
                  progress: bool = False) -> dict:
    """Write the de-identified copy of ``root`` to ``out`` (new or empty) and return a summary:
    counts of what changed, mosaicked images, renamed video ids, files left out, and the audit of
    the copy. Raises :class:`ScrubError` (writing nothing) when the copy still fails the audit."""
    root = Path(root).resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"dataset root {root} does not exist or is not a folder")
    check_output(out, root)
    files = sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    renamed = pseudonyms(files)
    scrubber = _Scrubber(root, renamed, omit_facial_keypoints)
    left_out = []
    with staged_folder(out) as tmp:
        for rel in tqdm(files, desc="scrub", unit="file", disable=not progress):
            destination = target(rel, renamed)
            if destination is None:
                left_out.append(rel.as_posix())
                continue
            (tmp / destination).parent.mkdir(parents=True, exist_ok=True)
            (tmp / destination).write_bytes(scrubber.file(root / rel))
        report = audit_dataset(tmp, progress=progress)
        if not report.clean:
            high = report.table().query("severity == 'high'")
            raise ScrubError(f"the scrubbed copy still fails the audit; nothing written:\n"
                             f"{high.to_string(index=False)}")
    return {"out": str(Path(out).resolve()), **scrubber.counts, "mosaicked": scrubber.mosaicked,
            "renamed videos": renamed, "left out": left_out, "audit": report.counts()}
