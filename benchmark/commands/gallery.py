"""``python -m benchmark gallery``: the command line of :mod:`benchmark.apply.gallery`."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmark.apply.gallery import gallery
from benchmark.commands import plan_options


def configure(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--model", required=True,
        help="model.keras written by training, or an experiment id such as loss-simple_baseline-kce "
             "(of the plan of --manifest, --profile, --dataset, --results)")
    add("--input", type=Path, required=True, help="a folder of unlabelled images (or a video)")
    add("--out", type=Path, required=True, help="the image file to write (e.g. gallery.png)")
    add("--cols", type=int, default=4, help="pictures per row (default 4)")
    add("--limit", type=int, default=16, help="pictures shown, spread evenly over the input (default 16)")
    add("--cell", type=int, default=256, help="size of each picture in the grid, pixels (default 256)")
    add("--batch-size", type=int, default=16, help="pictures per model call (default 16)")
    plan_options.add_options(parser)


def main(args: argparse.Namespace) -> int:
    count = gallery(args.input, plan_options.model_file(args), args.out, args.cols, args.limit, args.cell,
                    args.batch_size, progress=True)
    print(f"wrote {args.out}: predictions on {count} pictures")
    return 0
