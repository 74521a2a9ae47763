"""Frames of a video file or a folder of images, read one at a time (never the whole video).

:class:`Frames` yields ``(index, time_s, image)``, ``image`` RGB uint8 ``(H, W, 3)``:

- a video (anything OpenCV's FFmpeg backend reads: mp4, avi, mov, mkv...): ``time_s`` is the
  frame's timestamp (``CAP_PROP_POS_MSEC``), so variable frame rates keep their real times; where
  the container gives none that increases, the previous time plus one nominal frame interval.
  Rotated phone videos come upright (``CAP_PROP_ORIENTATION_AUTO``), so portrait videos give
  portrait frames;
- a folder of images (``.jpg``, ``.jpeg``, ``.png``) in natural order (``img2`` before
  ``img10``), EXIF orientation applied: ``time_s`` is ``index / fps``; a single image file is a
  folder of one.

A file that cannot be read at all raises :class:`VideoError` before the first frame. A video that
stops early (corrupt or truncated: fewer frames decoded than its header announces) or a folder
with an undecodable image raises :class:`VideoError` *after* yielding every frame it could decode,
so callers keep those (see :func:`batches`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import takewhile
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np

from benchmark.common.errors import InputError
from benchmark.data.labelme import AnnotationError, load_image
from benchmark.data.layout import IMAGE_SUFFIXES

FOLDER_FPS = 30.0  # default frame rate of a folder of images

T = TypeVar("T")


class VideoError(InputError):
    """The input cannot be read, or stopped early; ``decoded`` frames were yielded before."""

    def __init__(self, message: str, decoded: int = 0):
        super().__init__(message)
        self.decoded = decoded


def natural_key(path: Path) -> list:
    """Sort key ordering the numbers in a file name by value: ``img2`` before ``img10``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


class Frames:
    """The frames of ``source`` (a video file, a folder of images or one image); see the module
    docstring. ``count`` is the number of images, or of frames a video's header announces (None
    when it announces none); ``fps`` the nominal frame rate (a video's own, else ``fps``).
    Iterate as often as needed: each pass reads anew."""

    def __init__(self, source: str | Path, fps: float = FOLDER_FPS):
        self.source = Path(source)
        if not self.source.exists():
            raise FileNotFoundError(f"input {self.source} does not exist")
        self.paths: list[Path] | None = None  # the images of a folder, None for a video
        if self.source.is_dir():
            self.paths = sorted((p for p in self.source.iterdir()
                                 if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()), key=natural_key)
            if not self.paths:
                raise VideoError(f"{self.source}: no images ({', '.join(IMAGE_SUFFIXES)}) in this folder")
        elif self.source.suffix.lower() in IMAGE_SUFFIXES:
            self.paths = [self.source]
        if self.paths is not None:
            self.count, self.fps = len(self.paths), float(fps)
            return
        capture = self._open()
        count, nominal = capture.get(cv2.CAP_PROP_FRAME_COUNT), capture.get(cv2.CAP_PROP_FPS)
        capture.release()
        self.count = int(count) if count > 0 else None
        self.fps = nominal if nominal > 0 else float(fps)

    @property
    def is_video(self) -> bool:
        return self.paths is None

    def name(self, index: int) -> str:
        """A file stem for frame ``index``: the image's own, or ``<video>_<8-digit index>``."""
        return self.paths[index].stem if self.paths is not None else f"{self.source.stem}_{index:08d}"

    def _open(self) -> cv2.VideoCapture:
        capture = cv2.VideoCapture(str(self.source))
        if not capture.isOpened():
            raise VideoError(f"{self.source}: OpenCV cannot read this file as a video "
                             "(empty, corrupt, truncated before its index, or an unknown format)")
        capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
        return capture

    def __iter__(self) -> Iterator[tuple[int, float, np.ndarray]]:
        return self._images(range(len(self.paths))) if self.paths is not None else self._video()

    def select(self, indices: Iterable[int]) -> Iterator[tuple[int, float, np.ndarray]]:
        """The frames at ``indices`` only, in order: a folder loads just those images, a video is
        decoded up to the last of them."""
        wanted = sorted(set(indices))
        if self.paths is not None:
            return self._images(wanted)
        if not wanted:
            return iter(())
        return (frame for frame in takewhile(lambda f: f[0] <= wanted[-1], self._video())
                if frame[0] in wanted)

    def _images(self, indices: Iterable[int]) -> Iterator[tuple[int, float, np.ndarray]]:
        for decoded, index in enumerate(indices):
            try:
                image = load_image(self.paths[index])
            except AnnotationError as err:
                raise VideoError(f"{err}; {decoded} images were decoded before it", decoded) from err
            yield index, index / self.fps, image

    def _video(self) -> Iterator[tuple[int, float, np.ndarray]]:
        capture = self._open()
        index, previous = 0, -np.inf
        try:
            while True:
                ok, frame = capture.read()
                if not ok:
                    break
                time_s = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000
                if index and not time_s > previous:
                    time_s = previous + 1 / self.fps
                previous = time_s
                yield index, time_s, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
                index += 1
        finally:
            capture.release()
        if index == 0:
            raise VideoError(f"{self.source}: no frame could be decoded")
        if self.count is not None and index < self.count:
            raise VideoError(f"{self.source}: the video stops after {index} of the {self.count} frames "
                             "its header announces (corrupt or truncated)", index)


def read_frames(source: str | Path, fps: float = FOLDER_FPS) -> Iterator[tuple[int, float, np.ndarray]]:
    """``(index, time_s, RGB image)`` for every frame of ``source`` (see :class:`Frames`)."""
    return iter(Frames(source, fps))


def batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of ``size`` items (the last may be shorter). When ``items`` raises
    :class:`VideoError`, the items read before it are yielded first, then the error propagates."""
    batch: list[T] = []
    try:
        for item in items:
            batch.append(item)
            if len(batch) == size:
                yield batch
                batch = []
    except VideoError:
        if batch:
            yield batch
        raise
    if batch:
        yield batch
