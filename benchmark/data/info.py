"""What a dataset holds, split by split, and whether every image of it can be used."""

from __future__ import annotations

import json
import os
import shlex
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from benchmark.data.labelme import AnnotationError, Dataset, Frame, load_image
from benchmark.data.layout import ANNOTATIONS, IMAGES, SYNTH_SETTINGS
from benchmark.study.keypoints import LABELS

SHOWN = 5  # problems named in a check's error; the rest are counted


def labelme_command(folder: Path) -> str:
    """The command that opens a split (or a ``select-frames`` folder) in LabelMe 5 or 6: pictures
    from ``img/``, annotations saved to ``ann/`` (``imagePath`` relative, no ``imageData`` unless
    ``--with-image-data``), the 22 keypoints as the only labels, in their order, and an
    ``occluded`` check box on every point."""
    folder = Path(folder)
    return (f"labelme {shlex.quote(str(folder / IMAGES))} --output {shlex.quote(str(folder / ANNOTATIONS))} "
            f"--labels {','.join(LABELS)} --validate-label exact --no-sort-labels "
            f"--label-flags {shlex.quote('{.*: [occluded]}')}")




def synthetic_timing(root: Path) -> dict | None:
    """``{fps, frame_step}`` of a synthetic dataset's videos, from its ``synth.json`` (frame indices
    are video frames at ``fps``, labelled every ``frame_step``); None where there is no such record
    (real data)."""
    try:
        settings = json.loads((Path(root) / SYNTH_SETTINGS).read_text())
        return {"fps": float(settings["fps"]), "frame_step": int(settings["frame_step"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def synthetic_shifts(root: Path) -> dict[str, str]:
    """``{video: shift}`` of a synthetic dataset's DomainShift videos: the named shift each was drawn
    with (``video_settings[].shift`` of ``synth.json``), or ``"DomainShift"`` for a dataset that
    names none; empty where there is no such record (real data)."""
    try:
        videos = json.loads((Path(root) / SYNTH_SETTINGS).read_text()).get("video_settings", [])
    except (OSError, ValueError, AttributeError):
        return {}
    return {v["id"]: v.get("shift") or "DomainShift" for v in videos if v.get("split") == "DomainShift"}


def summary(dataset: Dataset) -> pd.DataFrame:
    """One row per split: videos, frames, image sizes, labelled keypoints, and exact truth."""
    rows = []
    for split, frames in dataset.splits.items():
        visible = np.array([f.visible for f in frames]) if frames else np.zeros((0, 22), bool)
        sizes = sorted({f"{f.width}x{f.height}" for f in frames})
        rows.append({"split": split, "videos": len(dataset.videos(split)), "frames": len(frames),
                     "image sizes": ", ".join(sizes), "keypoints/frame": round(visible.sum(1).mean(), 2) if len(frames) else 0,
                     "truth": all(f.truth is not None for f in frames)})
    return pd.DataFrame(rows)


def describe(dataset: Dataset, fingerprint: str) -> str:
    """A header line (kind, fingerprint) and the per-split summary table.

    The caller passes ``dataset.fingerprint()``: hashing every file is the costly part."""
    kind = "synthetic" if dataset.is_synthetic else "real"
    return (f"{dataset.root}: {kind} dataset, fingerprint {fingerprint[:16]}\n"
            f"{summary(dataset).to_string(index=False)}")


def _image_problem(frame: Frame) -> str | None:
    """Why ``frame``'s image cannot be used (it does not decode completely, or decodes to another
    size than the one its keypoints were checked against), or None."""
    try:
        image = load_image(frame)
    except AnnotationError as err:
        return str(err)
    height, width = image.shape[:2]
    if (width, height) != (frame.width, frame.height):
        return (f"{frame.image_path}: image: decodes to {width}x{height}, but its header says "
                f"{frame.width}x{frame.height} (the size {frame.annotation_path.name} was checked against)")
    return None


def check_images(dataset: Dataset, progress: bool = False) -> int:
    """Decode every image of ``dataset`` completely, as training will, and compare its size with
    the one its annotation was read against; return the number checked. Reading a dataset looks
    at image headers only, so a truncated or corrupt file would otherwise surface in the middle of
    training. Problems raise one :class:`AnnotationError` naming the files. Decoding runs on
    threads (Pillow releases the GIL): seconds for a few thousand frames."""
    frames = [f for frames in dataset.splits.values() for f in frames]
    with ThreadPoolExecutor(os.cpu_count()) as pool:
        found = list(tqdm(pool.map(_image_problem, frames), total=len(frames), desc="checking images",
                          unit="image", disable=not progress, leave=False))
    problems = [p for p in found if p]
    if problems:
        more = f"\n(and {len(problems) - SHOWN} more)" if len(problems) > SHOWN else ""
        raise AnnotationError(f"{len(problems)} of {len(frames)} images of {dataset.root} cannot be used; "
                              f"replace or remove them:\n" + "\n".join(problems[:SHOWN]) + more)
    return len(frames)
