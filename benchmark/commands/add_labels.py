"""``python -m benchmark add-labels FOLDER --into ROOT --split SPLIT``: the command line of
:mod:`benchmark.labelling.merge`."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmark.data.layout import SPLITS
from benchmark.labelling.merge import LOG, add_labels


def configure(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("folder", type=Path, help="the corrected folder (img/ and ann/, as select-frames wrote it); it is only read")
    add("--into", type=Path, required=True, help="the dataset root to add the frames to")
    add("--split", choices=SPLITS, default="Train", help="the split to add them to (default Train)")


def main(args: argparse.Namespace) -> int:
    counts = add_labels(args.folder, args.into, args.split)
    skipped = f"; {counts['skipped']} images without annotation skipped" if counts["skipped"] else ""
    print(f"added {counts['added']} frames of {counts['videos']} videos to {args.into / args.split}, which now "
          f"holds {counts['frames']} labelled frames{skipped}")
    print(f"the person moved {counts['moved']} keypoints, added {counts['added_points']} and removed "
          f"{counts['removed_points']}; logged in {args.into / LOG}")
    return 0
