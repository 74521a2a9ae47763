"""``python -m benchmark select-frames``: the command line of :mod:`benchmark.labelling.select_frames`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmark.commands import plan_options
from benchmark.data.info import labelme_command
from benchmark.labelling.preannotate import MIN_CONFIDENCE
from benchmark.labelling.select import JUMP, STRATEGIES
from benchmark.labelling.select_frames import select_frames


def configure(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--model", required=True,
        help="model.keras written by training (its metrics.json beside it), or an experiment id "
             "(of the plan of --manifest, --profile, --dataset, --results)")
    add("--input", type=Path, nargs="+", required=True,
        help="video files, folders of frames, a dataset split folder or a dataset root (its unlabelled Train frames)")
    add("--n", type=int, default=50, help="frames to choose (default 50)")
    add("--strategy", choices=STRATEGIES, default="uncertain",
        help="uncertain (lowest confidence), jump (keypoints jumping between neighbouring frames), "
             "diverse (k-means over the pose), random (the control); default uncertain")
    add("--exclude", type=Path, help="a dataset root whose labelled frames are never chosen")
    add("--out", type=Path, required=True, help="new or empty output folder")
    add("--seed", type=int, default=0, help="seed of the diverse and random strategies (default 0)")
    add("--jump-threshold", type=float, default=JUMP,
        help=f"a jump, in units of the predicted body scale S (default {JUMP})")
    add("--min-confidence", type=float, default=MIN_CONFIDENCE,
        help=f"keypoints less confident than this are left out of the pre-annotation (default {MIN_CONFIDENCE})")
    add("--batch-size", type=int, default=16, help="frames per model call (default 16)")
    plan_options.add_options(parser)


def main(args: argparse.Namespace) -> int:
    table = select_frames(args.input, plan_options.model_file(args), args.out, args.n, args.strategy,
                          args.exclude, args.seed, args.jump_threshold, args.min_confidence,
                          args.batch_size, progress=True)
    regions = ", ".join(f"{n} {region}" for region, n in table["mosaic"].value_counts().items())
    print(f"chose {len(table)} frames of {table['video'].nunique()} videos ({args.strategy}); "
          f"wrote {args.out}/selection.csv, img/ and ann/ (mosaic region: {regions or 'none'})")
    whole = int((table["mosaic"] == "frame").sum())
    if whole:
        print(f"warning: {whole} frames had no confident face or head and are pixelated whole: "
              "they cannot be labelled; delete their ann/*.json to discard them", file=sys.stderr)
    print(f"correct them in LabelMe: {labelme_command(args.out)}")
    print(f"then: python -m benchmark add-labels {args.out} --into <dataset root> --split Train")
    return 0

