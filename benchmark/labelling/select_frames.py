"""``select-frames``: run a model over unlabelled frames, choose the ``n`` worth labelling
(:func:`benchmark.labelling.select.choose`) and pre-annotate them for LabelMe
(:mod:`benchmark.labelling.preannotate`).

Inputs (one or several): a video file (video id: its file stem, frame: its index), a folder of
images or one image (``<video>_<frame>`` names give their video and frame, other names the
folder's name and the image's index in natural order), a dataset split folder (its ``img/``; the
frames its ``ann/`` labels are never chosen) or a dataset root (its ``Train/img/``: a video of an
evaluation split may never be added to Train). The model sees every frame, labelled ones included
(they are neighbours for the ``jump`` strategy); frames labelled in ``exclude`` (a dataset root) or
in the input split, and every frame of a video that ``exclude`` holds in another split than Train,
are never chosen.

``OUT`` (new or empty, written through a temporary folder, so complete or absent) receives
``img/`` and ``ann/`` (the pre-annotations) and ``selection.csv``: the chosen frames in the order
chosen, with ``video, frame, strategy, score, reason``, the files, the mosaic's region (``frame``:
no confident face or head, so the whole picture is pixelated and cannot be labelled) and the
number of keypoints shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from benchmark.apply.pose_model import load_pose_model, predict
from benchmark.common.atomic import check_output, staged_folder
from benchmark.common.digest import file_sha256
from benchmark.common.errors import InputError
from benchmark.data.layout import (
    ANNOTATION_SUFFIX,
    ANNOTATIONS,
    IMAGE_SUFFIXES,
    IMAGES,
    SPLITS,
    labelled_frames,
    parse_stem,
    stem,
)
from benchmark.data.video import Frames, batches
from benchmark.labelling.preannotate import MIN_CONFIDENCE, write_preannotation
from benchmark.labelling.select import JUMP, choose

TRAIN = SPLITS[0]


@dataclass
class Source:
    """The frames of one input and their ``(video, frame)`` ids; ``labelled``: the ids its
    dataset split labels."""

    frames: Frames
    ids: list[tuple[str, int]]
    labelled: set[tuple[str, int]]


def _folder(folder: Path, split: bool = False) -> Source:
    frames = Frames(folder)
    ids = []
    for index, path in enumerate(frames.paths or []):
        match = parse_stem(path.stem)
        ids.append((match["video"], int(match["frame"])) if match else (folder.name, index))
    labelled = set()
    if split:
        ann = folder.parent / ANNOTATIONS
        labelled = {i for i, p in zip(ids, frames.paths) if (ann / f"{p.stem}{ANNOTATION_SUFFIX}").is_file()}
    return Source(frames, ids, labelled)


def sources(path: Path) -> list[Source]:
    """The :class:`Source` of one ``--input`` (module docstring)."""
    path = Path(path)
    if path.is_dir() and (path / IMAGES).is_dir():
        return [_folder(path / IMAGES, split=True)]
    if path.is_dir() and any((path / s / IMAGES).is_dir() for s in SPLITS):
        if not (path / TRAIN / IMAGES).is_dir():
            raise InputError(f"--input {path}: a dataset root without {TRAIN}/{IMAGES}: only Train frames can be "
                             "added to Train; give a split folder or frames instead")
        return [_folder(path / TRAIN / IMAGES, split=True)]
    frames = Frames(path)
    if frames.is_video:
        return [Source(frames, [(path.stem, i) for i in range(frames.count or 0)], set())]
    return [_folder(path) if path.is_dir() else Source(frames, [(path.stem, 0)], set())]


def _predict_all(inputs: list[Source], pose_model, batch_size: int, progress: bool):
    """Keypoints and confidences of every frame of ``inputs``, with their ids and where they are
    (input, frame index)."""
    ids, where, coords, confidence = [], [], [], []
    total = sum(s.frames.count or 0 for s in inputs) or None
    with tqdm(desc="predict", unit="frame", total=total, disable=not progress) as bar:
        for number, source in enumerate(inputs):
            for batch in batches(source.frames, batch_size):
                points, conf = predict(pose_model, [image for _, _, image in batch], batch_size=batch_size,
                                       video=source.frames.is_video)
                for index, _, _ in batch:
                    if index >= len(source.ids):  # a video whose header under-counts its frames
                        source.ids.append((source.frames.source.stem, index))
                    ids.append(source.ids[index])
                    where.append((number, index))
                coords.append(points)
                confidence.append(conf)
                bar.update(len(batch))
    if len(set(ids)) < len(ids):
        seen = set()
        twice = next(i for i in ids if i in seen or seen.add(i))
        raise InputError(f"--input: frame {twice[1]} of video {twice[0]!r} comes twice; give each video once")
    return ids, where, np.concatenate(coords), np.concatenate(confidence)


def select_frames(inputs: list[Path], model: Path, out: Path, n: int, strategy: str,
                  exclude: Path | None = None, seed: int = 0, jump_threshold: float = JUMP,
                  min_confidence: float = MIN_CONFIDENCE, batch_size: int = 16,
                  progress: bool = False) -> pd.DataFrame:
    """Write the module docstring's ``OUT`` for ``inputs``; return the selection table."""
    found = [source for path in inputs for source in sources(path)]
    for path in inputs:
        check_output(out, path)
    if exclude is not None and not Path(exclude).is_dir():
        raise InputError(f"--exclude {exclude}: not a dataset root folder")
    known = labelled_frames(exclude) if exclude is not None else {}
    held_out = {video for (video, _), (split, _) in known.items() if split != TRAIN}
    skip = set(known) | {i for source in found for i in source.labelled}
    pose_model = load_pose_model(model)
    ids, where, coords, confidence = _predict_all(found, pose_model, batch_size, progress)
    skip |= {i for i in ids if i[0] in held_out}
    videos, frames = np.array([v for v, _ in ids]), np.array([f for _, f in ids])
    table = choose(videos, frames, coords, confidence, n, strategy, seed, exclude=skip,
                   jump_threshold=jump_threshold)
    row_of = {i: r for r, i in enumerate(ids)}
    provenance = {"model": str(model), "model_sha256": file_sha256(model), "strategy": strategy}
    regions, shown = {}, {}
    with staged_folder(out) as tmp:
        chosen = [row_of[v, f] for v, f in zip(table.video, table.frame)]
        reasons = dict(zip(chosen, table.reason))
        for number, source in enumerate(found):
            rows = {where[r][1]: r for r in chosen if where[r][0] == number}
            for index, _, image in source.frames.select(rows):
                r = rows[index]
                regions[r] = write_preannotation(tmp, stem(*ids[r]), image, coords[r], confidence[r],
                                                 provenance | {"reason": reasons[r]}, min_confidence)
                shown[r] = int((confidence[r] >= min_confidence).sum())
        names = [stem(*ids[r]) for r in chosen]
        table = table.assign(image=[f"{IMAGES}/{s}{IMAGE_SUFFIXES[0]}" for s in names],
                             annotation=[f"{ANNOTATIONS}/{s}{ANNOTATION_SUFFIX}" for s in names],
                             mosaic=[regions[r] for r in chosen], keypoints_shown=[shown[r] for r in chosen])
        table.to_csv(tmp / "selection.csv", index=False, float_format="%.4f")
    return table
