"""``python -m benchmark face-test``: the error rates of the privacy audit's visible-face test on
synthetic frames (:mod:`benchmark.privacy.evaluate`, docs/PRIVACY.md)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from benchmark.data.synth import generate_dataset
from benchmark.privacy.evaluate import error_rates, judge_frames


def configure(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--root", type=Path, help="an existing synthetic dataset (default: generate one)")
    add("--videos", type=int, default=12, help="videos to generate (default 12)")
    add("--frames-per-video", type=int, default=10, help="frames per video (default 10)")
    add("--domain-shift-videos", type=int, default=4, help="DomainShift videos (default 4)")
    add("--seed", type=int, default=1, help="generator seed (default 1)")
    add("--csv", type=Path, help="also write the per-frame scores to this CSV file")


def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = args.root
        if root is None:
            root = Path(tmp) / "synth"
            generate_dataset(root, videos=args.videos, frames_per_video=args.frames_per_video,
                             seed=args.seed, domain_shift_videos=args.domain_shift_videos, progress=False)
        rows = judge_frames(root)
    if args.csv:
        rows.to_csv(args.csv, index=False)
    print(error_rates(rows).to_string(index=False))
    for split, group in rows.groupby("split", sort=False):
        print(f"\n{split}:\n{error_rates(group).to_string(index=False)}")
    return 0
