"""Disk cache of decoded, letterboxed frames, shared by every experiment on the same frames.

Decoding JPEGs (and mosaicking faces) is the same work for every experiment that uses a dataset at
one input size and face setting, so ``pipeline.prepare`` stores its result once per split, size and
face setting in ``$INFANT_POSE_CACHE`` (a folder; ``off`` disables the cache), by default
``$XDG_CACHE_HOME/infant-pose-benchmark`` or ``~/.cache/infant-pose-benchmark``.

An entry is named by a hash of everything that shapes its pixels: the bytes of every image, the
input size, the face setting (with each frame's id and labels, which place and seed the mosaic),
the source of the decoding modules and the OpenCV and Pillow versions. So a changed image, or
changed decoding code, simply misses the cache, and the same frames in another folder or checkout
hit it. Entries are written to a temporary file and renamed into place, so processes that fill the
same entry at once (experiments on a cluster) never read a half-written file. Delete the folder to
reclaim the space.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
import zipfile
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import PIL

from benchmark.common.atomic import staged_file
from benchmark.common.sources import code_hash
from benchmark.data.labelme import Frame

ENV = "INFANT_POSE_CACHE"


def cache_dir() -> Path | None:
    """The cache folder, or None when ``$INFANT_POSE_CACHE`` is ``off``."""
    value = os.environ.get(ENV, "").strip()
    if value.lower() == "off":
        return None
    if value:
        return Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "infant-pose-benchmark"


def _code_version() -> bytes:
    """The decoding code: the pipeline with every module it imports, and the image libraries."""
    code = code_hash([Path(__file__).with_name("pipeline.py")])
    return hashlib.sha256(f"cv2 {cv2.__version__} PIL {PIL.__version__} {code}".encode()).digest()


def frames_key(frames: list[Frame], size: int, occlude: bool, boxes: list | None = None) -> str:
    """The name of the entry holding ``frames`` letterboxed, or cropped to their ``boxes``, at
    ``size`` (faces mosaicked or not)."""
    digest = hashlib.sha256(_code_version())
    digest.update(json.dumps({"size": size, "occlude": occlude, "frames": len(frames)}).encode())
    if boxes:
        digest.update(np.array([[*centre, side] for centre, side in boxes], dtype=np.float64).tobytes())
    for frame in frames:
        digest.update(hashlib.sha256(frame.image_path.read_bytes()).digest())
        if occlude:  # the mosaic covers the labelled face and is seeded by the frame's id
            digest.update(frame.id.encode() + np.ascontiguousarray(frame.keypoints).tobytes())
    return digest.hexdigest()[:32]


def _read(path: Path) -> dict[str, np.ndarray] | None:
    """The arrays of an entry; None when it is missing or unreadable (then computed and rewritten)."""
    try:
        with np.load(path) as entry:
            return {name: entry[name] for name in entry.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None


def _write(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with staged_file(path) as tmp, open(tmp, "wb") as file:
        np.savez(file, **arrays)


def load_or_compute(key: str, compute: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The arrays stored under ``key``, or ``compute()``'s, stored for next time.

    Without a cache folder (``off``) this is just ``compute()``; a folder that cannot be written
    costs a warning, never the run."""
    folder = cache_dir()
    if folder is None:
        return compute()
    path = folder / "frames" / f"{key}.npz"
    arrays = _read(path)
    if arrays is not None:
        return arrays
    arrays = compute()
    try:
        _write(path, arrays)
    except OSError as err:
        warnings.warn(f"frame cache {folder} is not writable ({err}); set {ENV}=off to silence this",
                      stacklevel=2)
    return arrays
