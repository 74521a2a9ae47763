"""The options that say which results a command writes or reads, the same for every command, and
the run plan they resolve to (:mod:`benchmark.runner.plan`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmark.apply.runtimes import RUNNERS
from benchmark.common.result_files import MODEL
from benchmark.runner.manifest import MANIFEST
from benchmark.runner.plan import RunPlan, plan, warn_ignored


def add_options(parser: argparse.ArgumentParser, run: bool = False) -> None:
    """``--manifest --profile --dataset --data --results`` (``run``: also ``--seeds --only --data-dir``)."""
    add = parser.add_argument
    add("--manifest", type=Path, default=MANIFEST, help="the experiment manifest (default experiments/manifest.yaml)")
    add("--profile", default="quick", help="manifest profile (default: quick)")
    add("--dataset", metavar="NAME",
        help="a dataset of the manifest instead of the profile's (e.g. real: its root from $INFANT_POSE_REAL_DATA or "
             "--data)" + ("" if run else ", or a results folder name as `run` printed it (e.g. sample_data-1a2b3c4d)"))
    add("--data", type=Path, help="a dataset root in the LabelMe layout instead of the profile's dataset")
    add("--results", type=Path, default=Path("results"),
        help="results folder (default: results); experiments live in <results>/<dataset>/<profile>/")
    if run:
        add("--seeds", type=int, nargs="+", metavar="SEED",
            help="train every selected experiment with these seeds instead of the manifest's (seed 0 keeps the plain "
                 "experiment id, seed s adds -s<s>; each seed is cached on its own; report and claims count them)")
        add("--only", metavar="PATTERN", help="run experiments whose id matches (glob or substring)")
        add("--data-dir", type=Path, default=Path("data"), help="where synthetic datasets are generated")


def resolve(args: argparse.Namespace, run: bool = False, progress: bool = True) -> RunPlan:
    """The plan of ``args`` (``add_options``); reading, the folders it ignores are named in one warning."""
    found = plan(args.manifest, args.profile, args.dataset, args.data, args.results,
                 getattr(args, "seeds", None) if run else None, getattr(args, "only", None) if run else None,
                 run=run, data_dir=getattr(args, "data_dir", Path("data")), progress=progress)
    if not run:
        warn_ignored(found)
    return found


def model_file(args: argparse.Namespace) -> Path:
    """The ``model.keras`` of ``--model``: a file (or an exported ``.onnx`` / ``.tflite``), a folder
    holding one, or an experiment id of the plan of ``args``. FileNotFoundError names what was
    looked for and the planned experiments that have a model."""
    path = Path(args.model)
    if path.is_dir():
        path = path / MODEL
    if path.is_file():
        return path
    if path.suffix in (".keras", *RUNNERS) or len(path.parts) > 1:
        raise FileNotFoundError(f"--model {args.model}: no such model file")
    found = resolve(args)
    candidate = found.folder(str(args.model)) / MODEL
    if str(args.model) in found.ids and candidate.is_file():
        return candidate
    have = [i for i in found.ids if (found.folder(i) / MODEL).is_file()]
    listing = f"experiments with a model there: {', '.join(have)}" if have else f"no experiment in {found.results} has a model"
    raise FileNotFoundError(f"--model {args.model}: neither a model file nor a trained experiment of profile "
                            f"{found.profile!r} (looked for {candidate}); {listing}")
