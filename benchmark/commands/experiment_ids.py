"""How ``predict``, ``gallery`` and ``deidentify`` find a model given as an experiment id: in
``<results>/<dataset>/<profile>/<id>/model.keras`` (:func:`benchmark.apply.pose_model.model_path`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmark.runner.datasets import dataset_name
from benchmark.runner.manifest import MANIFEST, LoadedManifest


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--results", type=Path, default=Path("results"),
                        help="results folder of experiment ids (default results)")
    parser.add_argument("--profile", default="quick", help="profile of experiment ids (default quick)")
    parser.add_argument("--dataset", metavar="NAME",
                        help="dataset of experiment ids: a dataset of the manifest (default: the profile's) or "
                             "the folder name `run --data` printed, e.g. sample_data-1a2b3c4d")


def dataset_of(args: argparse.Namespace) -> str | None:
    """The dataset folder of ``args``' experiment ids (the manifest's datasets named as ``run`` names
    them); None when ``--model`` is a file or folder (nothing to resolve, no dataset to read)."""
    if Path(args.model).exists():
        return None
    manifest = LoadedManifest(MANIFEST)
    if args.dataset is not None and args.dataset not in manifest.data.datasets:
        return args.dataset
    return dataset_name(manifest, args.profile, args.dataset)
