"""``python -m benchmark synth``: generate the synthetic infant dataset."""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path

from benchmark.data.synth.generate import generate_dataset


def configure(parser: argparse.ArgumentParser) -> None:
    default = {name: p.default for name, p in inspect.signature(generate_dataset).parameters.items()}
    add = parser.add_argument
    add("--out", type=Path, required=True,
        help="output folder: new, empty, or a previous synthetic dataset (replaced)")
    add("--videos", type=int, default=default["videos"],
        help="videos in Train/Valid/Test together (default %(default)s: 15 %% each in Valid and Test)")
    add("--frames-per-video", type=int, default=default["frames_per_video"],
        help="labelled frames per video (default %(default)s)")
    add("--size", type=int, default=default["size"], help="frame height in pixels (default %(default)s)")
    add("--seed", type=int, default=default["seed"], help="random seed (default %(default)s)")
    add("--fps", type=float, default=default["fps"],
        help="frame rate of the simulated video (default %(default)s)")
    add("--frame-step", type=int, default=default["frame_step"],
        help="video frames between labelled frames (default %(default)s)")
    add("--domain-shift-videos", type=int, default=default["domain_shift_videos"],
        help="extra DomainShift videos, one named shift each in turn (default %(default)s)")
    add("--domain-shift-frames", type=int, default=default["domain_shift_frames"],
        help="labelled frames per DomainShift video (default: --frames-per-video)")
    add("--workers", type=int, default=default["workers"], help="parallel processes (default %(default)s)")


def main(args: argparse.Namespace) -> int:
    summary = generate_dataset(
        args.out, videos=args.videos, frames_per_video=args.frames_per_video, size=args.size,
        seed=args.seed, fps=args.fps, frame_step=args.frame_step,
        domain_shift_videos=args.domain_shift_videos, domain_shift_frames=args.domain_shift_frames,
        workers=args.workers)
    splits = ", ".join(f"{split} {summary['videos'][split]} videos / {n} frames"
                       for split, n in summary["frames"].items())
    print(f"wrote {summary['out']}: {splits}")
    print(f"{sum(summary['frames'].values())} frames in {summary['seconds']:.1f} s: "
          f"{summary['frames_per_s']:.1f} frames/s")
    return 0
