"""``python -m benchmark movement --input KEYPOINTS_CSV_OR_FOLDER --out DIR``: movement features per video.

Input: ``predict``'s ``keypoints.csv`` (one video), a folder (every ``keypoints*.csv`` below it, each a
video), or a results experiment's ``predictions.csv`` (every ``split/video`` a labelled sequence of
one decoder and source; frame indices become seconds with the dataset's ``fps`` from its
``synth.json``, else ``--fps``). For each video ``DIR/<video>/`` receives ``features.csv`` (video,
level, part, feature, value, missing_share; :mod:`benchmark.movement.features`),
``trajectories.png``, ``spectrum.png`` and ``summary.png``. ``DIR`` must be new or empty and is
written through a temporary folder renamed at the end. docs/MOVEMENT.md defines the features.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

from tqdm.auto import tqdm

from benchmark.commands import plan_options
from benchmark.common.atomic import OutputError, check_output, staged_folder
from benchmark.common.errors import InputError
from benchmark.common.result_files import PREDICTIONS
from benchmark.movement.features import video_features
from benchmark.movement.plots import spectrum_figure, summary_figure, trajectory_figure
from benchmark.movement.trajectories import (
    MIN_CONFIDENCE,
    SOURCE_COLUMNS,
    Trajectories,
    TrajectoryError,
    configured_decoder,
    dataset_timing,
    is_predictions_csv,
    read_keypoints_csv,
    read_table,
    sequences,
)

DPI = 110


def keypoint_files(source: Path) -> list[tuple[str, Path]]:
    """``(video name, path)`` of every ``keypoints*.csv`` below a folder, or of one file; the name is
    the path relative to the folder (or the file's parent folder and stem), without ``.csv``."""
    if source.is_file():
        return [(f"{source.parent.name}/{source.stem}" if source.parent.name else source.stem, source)]
    files = sorted(source.rglob("keypoints*.csv"))
    if not files:
        raise TrajectoryError(f"{source}: no keypoints*.csv below this folder")
    return [(path.relative_to(source).with_suffix("").as_posix(), path) for path in files]


def labelled_videos(path: Path, args: argparse.Namespace) -> list[Trajectories]:
    """The labelled sequences of a ``predictions.csv`` for ``--source`` and the decoder (``--decoder``,
    else the experiment's, else the file's only one), timed by ``synth.json`` or ``--fps``."""
    timing = dataset_timing(path, args.dataset_root)
    if timing is None and args.fps is None:
        raise TrajectoryError(f"{path}: column 'frame' holds video frame indices, and no synth.json gives "
                              "their frame rate; pass --fps (and --frame-step) or --dataset-root")
    fps = args.fps or timing[0]
    frame_step = args.frame_step or (timing[1] if timing else None)
    rows = read_table(path, dtype={"video": str, "split": str})
    decoders = list(rows["decoder"].unique()) if "decoder" in rows else []
    decoder = args.decoder or configured_decoder(path) or (decoders[0] if len(decoders) == 1 else None)
    if decoder not in decoders:
        raise TrajectoryError(f"{path}: column 'decoder': choose --decoder among {', '.join(map(str, decoders))}"
                              if decoder is None else f"{path}: column 'decoder' has no rows of {decoder!r}")
    rows = rows[rows["decoder"] == decoder]
    if args.split:
        rows = rows[rows["split"].isin(args.split)]
    videos = sequences(rows, args.source, fps, frame_step, path, args.max_gap)
    if not videos:
        raise TrajectoryError(f"{path}: column 'split': no rows of {', '.join(args.split or [])}")
    return videos


def videos(args: argparse.Namespace) -> tuple[int, Iterator[Trajectories]]:
    """How many videos the input holds, and the videos, read one at a time."""
    source = Path(args.input)
    if not source.exists():
        raise FileNotFoundError(f"--input {source}: no such file or folder")
    if source.is_file() and is_predictions_csv(source):
        labelled = labelled_videos(source, args)
        return len(labelled), iter(labelled)
    files = keypoint_files(source)
    return len(files), (read_keypoints_csv(path, name, args.min_confidence, args.max_gap) for name, path in files)


def write_video(video: Trajectories, folder: Path) -> None:
    """``features.csv`` and the three figures of one video into ``folder``."""
    folder.mkdir(parents=True)
    try:
        features = video_features(video.keypoints, video.times, video.max_gap)
    except ValueError as err:
        raise TrajectoryError(f"{video.name}: {err}") from None
    features.insert(0, "video", video.name)
    features.to_csv(folder / "features.csv", index=False, float_format="%.6g")
    for name, fig in (("trajectories", trajectory_figure(video)), ("spectrum", spectrum_figure(video)),
                      ("summary", summary_figure(features, video.name))):
        fig.savefig(folder / f"{name}.png", dpi=DPI)


def configure(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--input", type=Path, required=True,
        help="predict's keypoints.csv, a folder (every keypoints*.csv below it), a results predictions.csv, or an "
             "experiment id of the plan (--manifest, --profile, --dataset, --results): its predictions.csv")
    add("--out", type=Path, required=True, help="new or empty output folder")
    add("--min-confidence", type=float, default=MIN_CONFIDENCE,
        help=f"keypoints.csv: a keypoint below this confidence is missing (default {MIN_CONFIDENCE})")
    add("--max-gap", type=float, default=None,
        help="longest time step (s) that is differenced (default 2.5 sampling intervals)")
    add("--source", choices=list(SOURCE_COLUMNS), default="prediction",
        help="predictions.csv: which coordinates (default prediction)")
    add("--decoder", default=None, help="predictions.csv: decoder rows to use (default: the experiment's)")
    add("--split", nargs="+", default=None, help="predictions.csv: splits to use (default all)")
    add("--dataset-root", type=Path, default=None,
        help="predictions.csv: dataset root whose synth.json gives fps and frame_step "
             "(default: the dataset named in metrics.json beside it)")
    add("--fps", type=float, default=None, help="predictions.csv: frame rate of the videos (overrides synth.json)")
    add("--frame-step", type=int, default=None,
        help="predictions.csv: frames between labelled frames, for the default --max-gap (default: "
             "synth.json's, else each video's median step)")
    plan_options.add_options(parser)


def input_path(args: argparse.Namespace) -> Path:
    """``--input`` as given, or the ``predictions.csv`` of the planned experiment it names."""
    source = Path(args.input)
    if source.exists() or len(source.parts) > 1 or source.suffix:
        return source
    found = plan_options.resolve(args)
    found.experiment(str(args.input))  # PlanError names the planned experiments
    return found.folder(str(args.input)) / PREDICTIONS


def main(args: argparse.Namespace) -> int:
    args.input = input_path(args)
    for option in ("max_gap", "fps", "frame_step"):
        if getattr(args, option) is not None and not getattr(args, option) > 0:
            raise InputError(f"--{option.replace('_', '-')} must be positive, got {getattr(args, option)}")
    check_output(args.out, args.input)
    count, stream = videos(args)
    with staged_folder(args.out) as tmp:
        for video in tqdm(stream, total=count, desc="movement", unit="video"):
            write_video(video, tmp / video.name)
    print(f"wrote the movement features of {count} video{'s' * (count != 1)} to {args.out}")
    return 0
