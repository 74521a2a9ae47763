"""``python -m benchmark shifts``: trained experiments on more named-shift videos than their dataset holds.

The report's generalisation table rests on the dataset's DomainShift split (20 videos per shift in the
quick dataset), and one or two hard videos move a shift's share of Test by tens of points. This command
generates ``--videos-per-shift`` new DomainShift videos per named shift (generator seed ``--seed``, the
experiments' frames per video, frame step and picture size; kept under ``--data-dir`` for the next call),
runs each experiment's model on them as training's evaluation does (its framing and decoder), and
prints, per shift, PCK@0.1 with its 95 % video-bootstrap interval and the share of the experiment's own
Test PCK@0.1 it keeps; with several experiments (the seeds of one setting), their mean share too.
``--csv`` also writes the table (one row per experiment and shift).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from benchmark.commands import plan_options
from benchmark.common.atomic import staged_file
from benchmark.data.info import synthetic_shifts
from benchmark.data.labelme import load_dataset
from benchmark.data.layout import SYNTH_SETTINGS
from benchmark.data.synth.generate import GENERATOR_VERSION, generate_dataset
from benchmark.data.synth.style import SHIFTS
from benchmark.study.bootstrap import metric_interval
from benchmark.runner.manifest import select
from benchmark.study.smoothness import keypoint_arrays
from benchmark.training.config import TrainConfig
from benchmark.training.train import evaluate_model

METRIC = "pck@0.1"


def configure(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("experiments", nargs="+",
        help="experiment ids of the plan (--manifest, --profile, --dataset, --results; e.g. "
             "'loss-simple_baseline-kce*' for its seeds) or experiment folders, all trained on one synthetic dataset")
    add("--videos-per-shift", type=int, default=20, help="new videos per named shift (default %(default)s)")
    add("--seed", type=int, default=11, help="generator seed of the new videos (default %(default)s; the "
                                             "quick dataset's is 0, so its videos are not among them)")
    add("--data-dir", type=Path, default=Path("data/shifts"), help="where the videos are generated and kept")
    add("--csv", type=Path, help="also write the table to this CSV file")
    plan_options.add_options(parser)


def experiment_folders(args: argparse.Namespace) -> list[Path]:
    """The folders of ``args.experiments``: folders as given, ids (globs allowed) from the run plan."""
    given = [Path(e) for e in args.experiments if Path(e).is_dir()]
    patterns = [e for e in args.experiments if not Path(e).is_dir()]
    if not patterns:
        return given
    found = plan_options.resolve(args)
    for pattern in patterns:
        chosen = [e.id for e in select(list(found.experiments), pattern) if (found.folder(e.id) / "COMPLETE.json").is_file()]
        if not chosen:
            raise ValueError(f"{pattern}: no finished experiment of the plan matches it ({found.results}; "
                             f"its experiments: {', '.join(found.ids)})")
        given += [found.folder(i) for i in chosen]
    return given


def _summary(folder: Path) -> dict:
    path = folder / "metrics.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ValueError(f"{path}: not a finished experiment ({err})") from None


def shift_videos(source: Path, per_shift: int, seed: int, data_dir: Path) -> Path:
    """The folder of ``per_shift`` DomainShift videos per named shift, drawn like the synthetic dataset
    at ``source`` (frames per video, frame step, size), generated on first use and again when the
    generator's version changed."""
    try:
        settings = json.loads((source / SYNTH_SETTINGS).read_text())
        shape = {name: settings[name] for name in ("frames_per_video", "frame_step", "size")}
        shape["frames_per_video"] = settings.get("domain_shift_frames") or shape["frames_per_video"]
    except (OSError, ValueError, KeyError) as err:
        raise ValueError(f"{source / SYNTH_SETTINGS}: the experiments' dataset is not a synthetic one ({err}); "
                         "named shifts exist only there") from None
    root = data_dir / (f"seed{seed}-{per_shift}x{len(SHIFTS)}-{shape['frames_per_video']}f"
                       f"-step{shape['frame_step']}-{shape['size']}px")
    try:
        current = json.loads((root / SYNTH_SETTINGS).read_text())["version"] == GENERATOR_VERSION
    except (OSError, ValueError, KeyError):
        current = False
    if not current:  # missing, unreadable, or drawn by another version of the generator
        generate_dataset(root, videos=3, seed=seed, domain_shift_videos=per_shift * len(SHIFTS), **shape)
    return root


def shift_scores(folder: Path, root: Path) -> pd.DataFrame:
    """One row per named shift: the experiment's PCK@0.1 there with its interval, and the share of its
    Test PCK@0.1 (from its ``metrics.json``) that this is."""
    summary = _summary(folder)
    config = TrainConfig(**summary["config"])
    test = summary["metrics"][config.decoder]["Test"]["annotation"][METRIC]
    model = keras.saving.load_model(folder / "model.keras", compile=False)
    predictions, _ = evaluate_model(model, load_dataset(root, ["DomainShift"]), config)
    predictions = predictions[predictions["decoder"] == config.decoder]
    shifts = synthetic_shifts(root)
    rows = []
    for shift, part in predictions.groupby(predictions["video"].map(shifts), sort=False):
        index, arrays = keypoint_arrays(part)
        videos = index.get_level_values("video")
        found = metric_interval(arrays["prediction"], arrays["annotation"], videos, METRIC, config.eval_subset)
        rows.append({"experiment": folder.name, "shift": shift, "videos": videos.nunique(),
                     METRIC: found.estimate, "low": found.low, "high": found.high, "Test": test,
                     "kept": found.estimate / test if test else np.nan})
    return pd.DataFrame(rows)


def main(args: argparse.Namespace) -> int:
    try:
        if args.videos_per_shift < 1:
            raise ValueError("--videos-per-shift must be at least 1")
        folders = experiment_folders(args)
        sources = {Path(_summary(folder)["dataset"]["root"]) for folder in folders}
        if len(sources) > 1:
            raise ValueError("the experiments were trained on different datasets: "
                             + ", ".join(map(str, sorted(sources))))
        root = shift_videos(sources.pop(), args.videos_per_shift, args.seed, args.data_dir)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    table = pd.concat([shift_scores(folder, root) for folder in folders], ignore_index=True)
    if args.csv:
        with staged_file(args.csv) as tmp:
            table.to_csv(tmp, index=False)
    with pd.option_context("display.width", 160, "display.max_rows", None):
        print(table.to_string(index=False, float_format="{:.3f}".format))
        if len(folders) > 1:
            print("\nmean share of Test kept:")
            print(table.groupby("shift", sort=False)["kept"].mean().map("{:.0%}".format).to_string())
    return 0
