"""What the report needs of a dataset, written beside the results by the run stage, so that the
report reads results alone (and renders where the dataset is not, e.g. on a reader's laptop).

``<results>/<dataset>/<profile>/_dataset/`` holds ``dataset.json`` (the dataset's root, fingerprint, description,
per-split summary, the named shift of each synthetic DomainShift video, and privacy audit, grouped by
severity and check) and ``frames/<Split>/<stem>.jpg``: every
evaluation frame the figures may draw (Test and DomainShift), face-mosaicked by
:func:`benchmark.data.mosaic.safe_to_show` from its labels before it is written, and scaled down to
at most :data:`MAX_SIDE` pixels (``scale`` in ``dataset.json`` maps image pixels to these). It is
rewritten only when the dataset's fingerprint changes.

``dataset.json`` also records the state of the dataset's files (:func:`files_state`: every path,
size and modification time), so that a run whose files did not change reuses the recorded
fingerprint instead of reading and hashing every file again (seconds, on the quick dataset). A
file rewritten in place with the same size and time is not noticed: delete ``_dataset`` (or the
results) to have everything read again.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import cv2
from tqdm.auto import tqdm

from benchmark.common.atomic import staged_file, staged_folder
from benchmark.common.result_files import SNAPSHOT as FOLDER, SNAPSHOT_RECORD
from benchmark.data.info import describe, summary, synthetic_shifts, synthetic_timing
from benchmark.data.labelme import Dataset, load_image
from benchmark.data.mosaic import safe_to_show
from benchmark.privacy.audit import audit_dataset

SPLITS = ("Test", "DomainShift")
MAX_SIDE = 384  # figures show frames in cells of 256-320 pixels
FORMAT = 2  # of dataset.json: a snapshot written in another format is written again


def audit_summary(root: Path) -> dict:
    """The privacy audit of ``root``: its one-line summary and one row per severity and check with
    the number of files and an example message."""
    report = audit_dataset(root)
    rows = [{"severity": severity, "check": check, "files": len(group), "example": group["message"].iloc[0]}
            for (severity, check), group in report.table().groupby(["severity", "check"], sort=False)]
    return {"summary": report.summary(), "counts": report.counts(), "rows": rows}


def _frame_image(frame, folder: Path) -> dict:
    """Write one evaluation frame, face mosaicked and scaled down; its entry in ``dataset.json``."""
    image = safe_to_show(load_image(frame), frame.keypoints, seed=frame.id)
    scale = min(1.0, MAX_SIDE / max(image.shape[:2]))
    if scale < 1:
        size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    path = Path("frames") / frame.split / f"{frame.stem}.jpg"
    (folder / path).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(folder / path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    return {"split": frame.split, "video": frame.video, "frame": frame.frame, "stem": frame.stem,
            "file": path.as_posix(), "scale": image.shape[1] / frame.width}


def files_state(root: Path) -> str:
    """A hash of the relative path, size and modification time of every file under ``root``."""
    digest = hashlib.sha256()
    for folder, _, names in sorted(os.walk(root)):
        for name in sorted(names):
            stat = os.stat(os.path.join(folder, name))
            rel = os.path.relpath(os.path.join(folder, name), root)
            digest.update(f"{rel}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def recorded(base: Path) -> dict | None:
    """The ``dataset.json`` of the results ``base``, or None."""
    try:
        return json.loads((Path(base) / FOLDER / SNAPSHOT_RECORD).read_text())
    except (OSError, ValueError):
        return None


def write_snapshot(dataset: Dataset, fingerprint: str, base: Path, state: str = "",
                   progress: bool = True) -> dict:
    """Write the dataset snapshot of the results ``base`` (only ``state`` is updated when the
    fingerprint is unchanged); returns its ``dataset.json`` content."""
    folder = Path(base) / FOLDER
    doc = recorded(base)
    if doc is not None and doc.get("fingerprint") == fingerprint and doc.get("format") == FORMAT:
        doc["state"] = state
        with staged_file(folder / SNAPSHOT_RECORD) as tmp:
            tmp.write_text(json.dumps(doc, indent=1))
        return doc
    frames = [f for split in SPLITS if split in dataset.splits for f in dataset.frames(split)]
    with staged_folder(folder, replace=True) as tmp:
        written = [_frame_image(f, tmp) for f in tqdm(frames, desc="snapshot of the evaluation frames",
                                                      unit="frame", disable=not progress, leave=False)]
        doc = {"format": FORMAT, "root": str(dataset.root), "fingerprint": fingerprint, "state": state,
               "synthetic": dataset.is_synthetic, "description": describe(dataset, fingerprint),
               "timing": synthetic_timing(dataset.root), "shifts": synthetic_shifts(dataset.root),
               "splits": json.loads(summary(dataset).to_json(orient="records")),
               "audit": audit_summary(dataset.root), "frames": written}
        (tmp / SNAPSHOT_RECORD).write_text(json.dumps(doc, indent=1))
    return doc
