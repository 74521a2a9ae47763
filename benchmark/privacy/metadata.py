"""Identifying metadata: EXIF tags and embedded text of images, names and dates in file names.

Each check returns ``(severity, message)`` issues. Messages name the tags or words found, never
the tag values (a report should not spread what it warns about).
"""

from __future__ import annotations

import re

from PIL import ExifTags, Image

from benchmark.data.layout import SPLITS
from benchmark.study.keypoints import LABELS

Issue = tuple[str, str]

_TAG = ExifTags.Base
IDENTIFYING_TAGS = {_TAG.Artist, _TAG.Copyright, _TAG.CameraOwnerName, _TAG.BodySerialNumber,
                    _TAG.LensSerialNumber, _TAG.CameraSerialNumber, _TAG.ImageUniqueID,
                    _TAG.MakerNote, _TAG.XPAuthor, _TAG.XPComment, _TAG.UserComment,
                    _TAG.ImageDescription}
DATE_TAGS = {_TAG.DateTime, _TAG.DateTimeOriginal, _TAG.DateTimeDigitized, _TAG.PreviewDateTime}
TEXT_INFO = ("comment", "xmp", "photoshop")  # JPEG COM segment, XMP packet, IPTC/Photoshop block

# 2024-03-01, 2024_03_01, 20240301, 01.03.2024 ... (not inside a longer run of digits)
DATE = re.compile(r"(?<!\d)(?:(?:19|20)\d\d([-_.]?)(?:0[1-9]|1[0-2])\1(?:0[1-9]|[12]\d|3[01])"
                  r"|(?:0[1-9]|[12]\d|3[01])([-_.])(?:0[1-9]|1[0-2])\2(?:19|20)\d\d)(?!\d)")
CAPITALISED = re.compile(r"[A-Z][a-z]{2,}")  # also splits CamelCase: AnnaSmith -> Anna, Smith
# Capitalised words that are not names: the keypoint and split vocabulary and common folder words.
VOCABULARY = frozenset(CAPITALISED.findall(" ".join(LABELS + SPLITS))) | {
    "Users", "Documents", "Desktop", "Downloads", "Pictures", "Videos", "Video", "Frames", "Frame",
    "Images", "Image", "Annotations", "Annotation", "Labels", "Label", "Data", "Dataset", "Sample",
    "Program", "Files", "Home", "Labelme", "Export", "Output", "Copy", "New", "Folder",
}


def _tag_names(tags) -> str:
    return ", ".join(sorted(ExifTags.TAGS.get(tag, hex(tag)) for tag in tags))


def image_issues(image: Image.Image) -> list[Issue]:
    """EXIF GPS (high), identifying tags such as serial numbers or the author (medium), dates
    (medium), embedded free text (medium) and any other EXIF tag (low) of an opened image."""
    exif = image.getexif()
    tags = set(exif) | set(exif.get_ifd(ExifTags.IFD.Exif))
    issues = []
    if exif.get_ifd(ExifTags.IFD.GPSInfo) or ExifTags.IFD.GPSInfo in tags:
        issues.append(("high", "EXIF GPS position"))
    identifying, dates = tags & IDENTIFYING_TAGS, tags & DATE_TAGS
    if identifying:
        issues.append(("medium", f"EXIF identifying tags: {_tag_names(identifying)}"))
    if dates:
        issues.append(("medium", f"EXIF dates: {_tag_names(dates)}"))
    rest = tags - identifying - dates - {ExifTags.IFD.GPSInfo, ExifTags.IFD.Exif}
    if rest:
        issues.append(("low", f"other EXIF tags: {_tag_names(rest)}"))
    text = [key for key in TEXT_INFO if image.info.get(key)] + sorted(getattr(image, "text", {}))
    if text:
        issues.append(("medium", f"embedded text metadata: {', '.join(text)}"))
    return issues


def name_issues(name: str) -> list[Issue]:
    """Capitalised words outside :data:`VOCABULARY` (possible personal names: high) and dates
    (medium) in a file name or path. Lower-case or all-capital names are not recognised."""
    issues = []
    words = sorted({w for w in CAPITALISED.findall(name) if w not in VOCABULARY})
    if words:
        issues.append(("high", f"possible personal name(s) {', '.join(words)}"))
    dates = [match.group(0) for match in DATE.finditer(name)]
    if dates:
        issues.append(("medium", f"date(s) {', '.join(dates)}"))
    return issues
