"""Pre-annotations: a chosen frame, face mosaicked, and its predicted keypoints as a LabelMe file
that the LabelMe application (5 and 6) and the suite's reader both open.

For a frame ``<stem>`` = ``<video>_<frame>`` a folder receives:

- ``img/<stem>.jpg``: the frame mosaicked by :func:`benchmark.data.mosaic.deidentify_frame` from
  its predicted pose before anything is written (the face ellipse where the five facial keypoints
  are confident, the head circle where Head and a shoulder are, else the whole frame pixelated),
  encoded without metadata (:func:`benchmark.privacy.scrub.encode`);
- ``ann/<stem>.json``: LabelMe 4.5.6 (:func:`benchmark.data.labelme.annotation_dict`) with
  ``imagePath`` ``../img/<stem>.jpg`` (relative to the JSON, as LabelMe writes it), ``imageData``
  null, one point shape per keypoint whose confidence reaches ``min_confidence`` (default
  :data:`MIN_CONFIDENCE`; the others are left out for the person to add, not guessed), each with
  ``flags: {"predicted": true}`` and its confidence in ``description``; the document flag
  ``reviewed`` (false: LabelMe shows it as a check box in its Flags panel, which the person ticks
  once the frame is corrected; ``add-labels`` takes no pre-annotation without it); and a top-level
  ``"preannotation"`` record (LabelMe keeps unknown top-level keys when it saves): the model
  file and its SHA-256, the strategy and reason the frame was chosen for, ``min_confidence`` and
  every predicted keypoint ``[x, y, confidence]``. ``add-labels`` compares the corrected points
  with it (:func:`shown_prediction`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from benchmark.data.labelme import annotation_dict
from benchmark.data.layout import ANNOTATION_SUFFIX, ANNOTATIONS, IMAGES, IMAGE_SUFFIXES
from benchmark.data.mosaic import deidentify_frame
from benchmark.privacy.scrub import encode
from benchmark.study.keypoints import INDEX, LABELS, NUM_KEYPOINTS

MIN_CONFIDENCE = 0.3  # keypoints below this confidence are left out; the face mosaic's own threshold
PREDICTED = "predicted"  # the shape flag of a keypoint placed by the model
RECORD = "preannotation"  # the top-level key of what the model predicted
REVIEWED = "reviewed"  # the document flag a person ticks once the frame is corrected


def preannotation(coords: np.ndarray, confidence: np.ndarray, stem: str, width: int, height: int,
                  provenance: dict, min_confidence: float = MIN_CONFIDENCE) -> dict:
    """The LabelMe document of one frame (module docstring); ``provenance``: model, model_sha256,
    strategy, reason."""
    shown = confidence >= min_confidence
    doc = annotation_dict(np.where(shown[:, None], coords, np.nan),
                          f"../{IMAGES}/{stem}{IMAGE_SUFFIXES[0]}", width, height)
    doc["flags"] = {REVIEWED: False}
    for shape in doc["shapes"]:
        shape["flags"] = {PREDICTED: True}
        shape["description"] = f"predicted, confidence {confidence[INDEX[shape['label']]]:.2f}"
    doc[RECORD] = {**provenance, "min_confidence": min_confidence,
                   "keypoints": {label: [float(x), float(y), float(c)]  # unrounded: untouched points move 0
                                 for label, (x, y), c in zip(LABELS, coords, confidence)}}
    return doc


def write_preannotation(folder: Path, stem: str, image: np.ndarray, coords: np.ndarray,
                        confidence: np.ndarray, provenance: dict,
                        min_confidence: float = MIN_CONFIDENCE) -> str:
    """Write ``img/<stem>.jpg`` (mosaicked first) and ``ann/<stem>.json`` into ``folder``; return
    the mosaic's region (``face``, ``head``, ``face+head`` or ``frame``: the whole picture)."""
    height, width = image.shape[:2]
    coords = np.clip(coords, 0, [width, height])  # the reader refuses keypoints outside the picture
    clean, region = deidentify_frame(image, coords, confidence, seed=stem)
    for sub in (IMAGES, ANNOTATIONS):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    (folder / IMAGES / f"{stem}{IMAGE_SUFFIXES[0]}").write_bytes(encode(clean, IMAGE_SUFFIXES[0]))
    doc = preannotation(coords, confidence, stem, width, height, provenance, min_confidence)
    (folder / ANNOTATIONS / f"{stem}{ANNOTATION_SUFFIX}").write_text(json.dumps(doc, indent=2))
    return region


def shown_prediction(doc: dict) -> tuple[np.ndarray, dict] | None:
    """The keypoints a pre-annotation showed ``(22, 2)`` (NaN: left out) and its provenance
    (model, model_sha256, strategy, reason), from a LabelMe document's ``"preannotation"``
    record; None without one (a frame labelled from scratch) or with one that is not ours."""
    record = doc.get(RECORD)
    try:
        points = np.full((NUM_KEYPOINTS, 3), np.nan)
        for label, xyc in record["keypoints"].items():
            points[INDEX[label]] = xyc
        threshold = float(record["min_confidence"])
    except (AttributeError, KeyError, TypeError, ValueError):
        return None
    shown = np.where((points[:, 2] >= threshold)[:, None], points[:, :2], np.nan)
    return shown, {key: record.get(key, "") for key in ("model", "model_sha256", "strategy", "reason")}


def unreviewed(doc: dict) -> bool:
    """A pre-annotation whose ``reviewed`` flag nobody ticked (a LabelMe file without our record
    was labelled by hand: it counts as reviewed)."""
    return RECORD in doc and (doc.get("flags") or {}).get(REVIEWED) is not True
