"""``python -m benchmark deidentify``: the command line of :mod:`benchmark.privacy.deidentify`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmark.apply.pose_model import AGREEMENT
from benchmark.commands import plan_options
from benchmark.data.video import VideoError
from benchmark.privacy.deidentify import deidentify


def configure(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--input", type=Path, required=True, help="a folder of images or a video file")
    add("--model", required=True,
        help="model.keras written by training (its metrics.json beside it gives the loss), or an "
             "experiment id (of the plan of --manifest, --profile, --dataset, --results)")
    add("--out", type=Path, required=True, help="new or empty output folder")
    add("--threshold", type=float, default=0.3,
        help="confidence, relative to a perfect heatmap peak, to trust a keypoint (default 0.3)")
    add("--margin", type=float, default=1.0, help="growth of the face region (default 1.0)")
    add("--agreement", type=float, default=AGREEMENT,
        help="largest distance between the predictions on a frame and its mirror image, relative "
             f"to the Head-to-shoulders length, to trust a keypoint (default {AGREEMENT})")
    add("--batch-size", type=int, default=16, help="frames per model call (default 16)")
    plan_options.add_options(parser)


def main(args: argparse.Namespace) -> int:
    try:
        model = plan_options.model_file(args)
        table = deidentify(args.input, model, args.out, args.threshold, args.margin,
                           args.agreement, args.batch_size, progress=True)
    except VideoError as err:
        if not err.decoded:
            raise
        print(f"error: {err}; the {err.decoded} decoded frames were written to {args.out}", file=sys.stderr)
        return 1
    counts = ", ".join(f"{n} {region}" for region, n in table["region"].value_counts().items())
    print(f"wrote {len(table)} frames to {args.out} (mosaic region: {counts or 'none'})")
    return 0
