"""Write a whole synthetic dataset: split videos, generate them (in parallel), describe it.

Videos are split by video, never by frame: the first ~70 % of the ids are Train, then ~15 % Valid
and ~15 % Test (at least one video each), like the reference dataset's id ranges; DomainShift
videos come after them, each with one named shift (``style.SHIFTS``), assigned round-robin so
that every shift has videos once there are as many as shifts. Each video depends only on ``(seed, video id)``, so the dataset is
byte-identical for a seed whatever the number of workers. The dataset is written into a temporary
folder next to ``out`` and renamed into place at the end: an interrupted run leaves ``out``
untouched.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from functools import partial
from pathlib import Path

import cv2
from tqdm import tqdm

from benchmark.common.atomic import OutputError, staged_folder
from benchmark.common.errors import InputError
from benchmark.data.layout import FOLDERS, SYNTH_SETTINGS
from benchmark.data.synth.annotator import NOISE_SIGMA, NOISE_UNIT
from benchmark.data.synth.body import AGE_RANGE, CHUBBINESS_RANGE, LENGTH_RANGE
from benchmark.data.synth.motion import DRIFT_BAND, FIDGETY_BAND, WRITHING_BAND, describe_posture
from benchmark.data.synth.style import HELD_OUT, SHIFTS, TRAINING, describe_shift
from benchmark.data.synth.video import SUPERSAMPLE, VideoJob, make_video
from benchmark.study.keypoints import LABELS

GENERATOR_VERSION = "2.2.0"  # 2.2: the lens inverted exactly (Newton), not by 8 fixed-point steps
SPLITS = ("Train", "Valid", "Test")
HELD_OUT_FRACTION = 0.15  # of the videos, for each of Valid and Test


def assign_splits(videos: int, domain_shift_videos: int = 0) -> dict[str, list[int]]:
    """Video ids per split: consecutive ranges, Train first, then Valid, Test and DomainShift."""
    if videos < len(SPLITS):
        raise ValueError(f"need at least {len(SPLITS)} videos (one per split), got {videos}")
    held_out = max(1, round(HELD_OUT_FRACTION * videos))
    train = videos - 2 * held_out
    bounds = {"Train": (0, train), "Valid": (train, train + held_out),
              "Test": (train + held_out, videos), "DomainShift": (videos, videos + domain_shift_videos)}
    return {split: list(range(*b)) for split, b in bounds.items() if b[1] > b[0]}


class TargetInUse(OutputError, FileExistsError):
    """``out`` holds something a synthetic dataset may not replace (a FileExistsError as well)."""


def _check_target(out: Path) -> None:
    """Refuse to replace anything but an empty folder or a previous synthetic dataset."""
    if not out.exists():
        return
    if not out.is_dir():
        raise TargetInUse(f"{out} exists and is not a folder")
    if any(out.iterdir()) and not (out / SYNTH_SETTINGS).is_file():
        raise TargetInUse(f"refusing to write into {out}: it is not empty and not a synthetic "
                              f"dataset (no {SYNTH_SETTINGS}); choose an empty or new folder")


def _worker_init() -> None:
    cv2.setNumThreads(1)  # one process per core already


def _run(jobs: list[VideoJob], root: Path, workers: int, progress: bool) -> list[dict]:
    """Generate every job, in ``workers`` processes when more than one; metadata in job order."""
    make = partial(make_video, root=root)
    bar = tqdm(total=sum(job.frames for job in jobs), unit="frame", desc="synth", disable=not progress)
    results = []
    with bar:
        if workers == 1:
            for job in jobs:
                results.append(make(job))
                bar.update(job.frames)
        else:
            context = multiprocessing.get_context("spawn")  # safe whatever the parent has loaded
            with context.Pool(min(workers, len(jobs)), initializer=_worker_init) as pool:
                for meta in pool.imap_unordered(make, jobs):
                    results.append(meta)
                    bar.update(len(meta["frames"]))
    return sorted(results, key=lambda meta: meta["id"])


def settings(splits: dict[str, list[int]], video_settings: list[dict], **params) -> dict:
    """The content of ``synth.json``: the arguments of :func:`generate_dataset`, the noise model,
    the splits and per-video facts (``video_settings``)."""
    return {
        "generator": "benchmark.data.synth", "version": GENERATOR_VERSION, **params,
        "supersample": SUPERSAMPLE,
        "frame_index": "frame of the simulated video at fps; labelled every frame_step frames",
        "body_length_cm": [round(v, 2) for v in LENGTH_RANGE], "age_months": list(AGE_RANGE),
        "chubbiness": list(CHUBBINESS_RANGE),
        "body_recorded": "video_settings[].age_months, body_length_cm, chubbiness",
        "posture": describe_posture(),
        "motion_bands_hz": {"writhing": list(WRITHING_BAND), "fidgety": list(FIDGETY_BAND),
                            "drift": list(DRIFT_BAND)},
        "noise": {"unit": NOISE_UNIT, "sigma": {label: NOISE_SIGMA[label] for label in LABELS},
                  "per_video_unit": "video_settings[].noise_unit_px"},
        "missing": "keypoints outside the picture are omitted from ann/ and kept, exact, in truth/",
        "splits": {split: [f"{v:03d}" for v in ids] for split, ids in splits.items()},
        "shifts": {name: describe_shift(name) for name in SHIFTS},
        "factors": {"training": TRAINING, "held_out": HELD_OUT,
                    "recorded": "video_settings[].style; video_settings[].shift names the held-out family"},
        "video_settings": video_settings,
    }


def generate_dataset(out: Path, videos: int = 68, frames_per_video: int = 14, size: int = 256,
                     seed: int = 0, fps: float = 25.0, frame_step: int = 5,
                     domain_shift_videos: int = 36, domain_shift_frames: int | None = None, workers: int = 2,
                     progress: bool = True) -> dict:
    """Generate the synthetic dataset at ``out`` and return a summary: frames and videos per
    split, seconds, frames per second and the output path. ``domain_shift_frames``: labelled frames
    per DomainShift video (default ``frames_per_video``; a shift's share rests on its videos, so
    fewer frames each cost little evidence and much evaluation time).

    ``out`` must not exist, be empty, or hold a previous synthetic dataset (then it is replaced).
    """
    domain_shift_frames = frames_per_video if domain_shift_frames is None else domain_shift_frames
    for name, value, low in (("videos", videos, 3), ("frames_per_video", frames_per_video, 1),
                             ("size", size, 64), ("frame_step", frame_step, 1),
                             ("domain_shift_videos", domain_shift_videos, 0),
                             ("domain_shift_frames", domain_shift_frames, 1), ("workers", workers, 1)):
        if value < low:
            raise InputError(f"{name} must be at least {low}, got {value}")
    if not fps > 0:
        raise InputError(f"fps must be positive, got {fps}")
    out = Path(out)
    _check_target(out)
    splits = assign_splits(videos, domain_shift_videos)
    names = list(SHIFTS)
    frames = {split: domain_shift_frames if split == "DomainShift" else frames_per_video for split in splits}
    jobs = [VideoJob(video, split, names[k % len(names)] if split == "DomainShift" else None, seed,
                     frames[split], size, fps, frame_step)
            for split, ids in splits.items() for k, video in enumerate(ids)]

    start = time.perf_counter()
    with staged_folder(out, replace=True) as tmp:
        for split in splits:
            for folder in FOLDERS:
                (tmp / split / folder).mkdir(parents=True)
        metadata = _run(jobs, tmp, workers, progress)
        doc = settings(splits, metadata, videos=videos, frames_per_video=frames_per_video,
                       size=size, seed=seed, fps=fps, frame_step=frame_step,
                       domain_shift_videos=domain_shift_videos, domain_shift_frames=domain_shift_frames)
        (tmp / SYNTH_SETTINGS).write_text(json.dumps(doc, indent=1))
    seconds = time.perf_counter() - start
    frames = {split: len(ids) * frames[split] for split, ids in splits.items()}
    return {"out": str(out), "videos": {split: len(ids) for split, ids in splits.items()},
            "frames": frames, "seconds": round(seconds, 3),
            "frames_per_s": round(sum(frames.values()) / seconds, 2)}


def ensure_dataset(out: Path, progress: bool = True, **params) -> Path:
    """The synthetic dataset at ``out`` drawn with ``params`` (arguments of :func:`generate_dataset`),
    generated when it is missing or its ``synth.json`` records other settings or another generator
    version; ``out`` either way."""
    wanted = {**params, "version": GENERATOR_VERSION}
    if "domain_shift_frames" in wanted:  # None: as many as frames_per_video, as synth.json records it
        wanted["domain_shift_frames"] = wanted["domain_shift_frames"] or wanted["frames_per_video"]
    try:
        recorded = json.loads((Path(out) / SYNTH_SETTINGS).read_text())
    except (OSError, ValueError):
        recorded = {}
    if not isinstance(recorded, dict) or any(recorded.get(k) != v for k, v in wanted.items()):
        generate_dataset(out, progress=progress, **params)
    return Path(out)
