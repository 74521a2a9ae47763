"""``python -m benchmark synth``: generate the synthetic infant dataset."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmark.data.synth.generate import generate_dataset


def configure(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--out", type=Path, required=True,
        help="output folder: new, empty, or a previous synthetic dataset (replaced)")
    add("--videos", type=int, default=68, help="videos in Train/Valid/Test together (default 68: 10 each in "
        "Valid and Test)")
    add("--frames-per-video", type=int, default=14, help="labelled frames per video (default 14)")
    add("--size", type=int, default=256, help="frame height in pixels (default 256)")
    add("--seed", type=int, default=0, help="random seed (default 0)")
    add("--fps", type=float, default=25.0, help="frame rate of the simulated video (default 25)")
    add("--frame-step", type=int, default=5, help="video frames between labelled frames (default 5)")
    add("--domain-shift-videos", type=int, default=36,
        help="extra DomainShift videos, one named shift each in turn (default 36: six per shift)")
    add("--workers", type=int, default=2, help="parallel processes (default 2)")


def main(args: argparse.Namespace) -> int:
    try:
        summary = generate_dataset(
            args.out, videos=args.videos, frames_per_video=args.frames_per_video, size=args.size,
            seed=args.seed, fps=args.fps, frame_step=args.frame_step,
            domain_shift_videos=args.domain_shift_videos, workers=args.workers)
    except (FileExistsError, ValueError) as err:
        print(f"error: {err}")
        return 2
    splits = ", ".join(f"{split} {summary['videos'][split]} videos / {n} frames"
                       for split, n in summary["frames"].items())
    print(f"wrote {summary['out']}: {splits}")
    print(f"{sum(summary['frames'].values())} frames in {summary['seconds']:.1f} s: "
          f"{summary['frames_per_s']:.1f} frames/s")
    return 0
