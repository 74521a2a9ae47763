"""``python -m benchmark scrub``: the command line of :mod:`benchmark.privacy.scrub`."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmark.privacy.scrub import scrub_dataset


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("root", type=Path, help="dataset root to clean (never modified)")
    parser.add_argument("--out", type=Path, required=True,
                        help="new or empty folder for the clean copy (not inside the input)")
    parser.add_argument("--omit-facial-keypoints", action="store_true",
                        help="drop the five facial keypoints from the annotations")


def main(args: argparse.Namespace) -> int:
    summary = scrub_dataset(args.root, args.out, args.omit_facial_keypoints, progress=True)
    print(f"wrote {summary['out']}")
    for key in ("annotations", "images", "other files", "imageData removed",
                "non-keypoint shapes dropped", "facial keypoints dropped",
                "images with metadata stripped", "faces mosaicked"):
        print(f"  {key}: {summary[key]}")
    for old, new in summary["renamed videos"].items():
        print(f"  renamed video {old!r} -> {new!r} (its name looked identifying)")
    for rel in summary["left out"]:
        print(f"  left out {rel} (its name looks identifying)")
    counts = ", ".join(f"{n} {s}" for s, n in summary["audit"].items())
    print(f"  audit of the copy: {counts}")
    return 0
