"""``python -m benchmark info``: the command line of :mod:`benchmark.data.info`."""

from __future__ import annotations

from pathlib import Path

from benchmark.data.info import describe
from benchmark.data.labelme import load_dataset


def configure(parser) -> None:
    parser.add_argument("root", type=Path, help="dataset root (<root>/<Split>/img, ann)")


def main(args) -> int:
    dataset = load_dataset(args.root)
    print(describe(dataset, dataset.fingerprint()))
    return 0
