"""``python -m benchmark predict``: the command line of :mod:`benchmark.apply.predict`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchmark.apply.filters import FILTERS, parameters
from benchmark.apply.predict import SUMMARY, describe, predict_video
from benchmark.commands import plan_options
from benchmark.common.errors import InputError
from benchmark.data.video import FOLDER_FPS, VideoError


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def configure(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--model", required=True,
        help="model.keras written by training (its metrics.json beside it gives the loss, sigma and "
             "decoder), a .onnx or .tflite written by export (with its sidecar .json), or an experiment id "
             "such as loss-simple_baseline-kce (see --results, --profile, --dataset)")
    add("--input", type=Path, required=True, help="a video file (mp4, avi, mov...) or a folder of images")
    add("--out", type=Path, required=True, help="new or empty output folder")
    add("--filter", choices=["none", *FILTERS], default="none",
        help="temporal filter for keypoints_<filter>.csv (default none)")
    for name in FILTERS:
        for param, default in parameters(name).items():
            add(_option(param), type=type(default), default=None,
                help=f"{name} filter: {param} (default {default}; see docs/PREDICT.md)")
    add("--batch-size", type=int, default=16, help="frames per model call (default 16)")
    add("--fps", type=float, default=FOLDER_FPS,
        help=f"frame rate of a folder of images (default {FOLDER_FPS:g}); videos use their own timestamps")
    add("--no-flip", dest="flip", action="store_false",
        help="predict each frame once, without its mirror image: about twice as fast, but "
             "confidence is then the heatmap peak alone, a weaker guide for the face mosaic")
    add("--no-overlay", dest="overlay", action="store_false", help="do not write overlay.mp4")
    add("--no-mosaic", dest="mosaic", action="store_false",
        help="leave faces visible in overlay.mp4 (never share such a video)")
    add("--overwrite", action="store_true", help="replace the outputs of a previous prediction in --out")
    plan_options.add_options(parser)


def main(args: argparse.Namespace) -> int:
    filter_name = None if args.filter == "none" else args.filter
    given = {param: getattr(args, param) for name in FILTERS for param in parameters(name)
             if getattr(args, param) is not None}
    misplaced = [param for param in given if filter_name is None or param not in parameters(filter_name)]
    if misplaced:
        raise InputError(f"{_option(misplaced[0])} is no parameter of --filter {args.filter}")
    if args.overlay and not args.mosaic:
        print("warning: --no-mosaic: overlay.mp4 shows the faces; do not share it", file=sys.stderr)
    try:
        summary = predict_video(args.input, plan_options.model_file(args), args.out, filter_name, given,
                                args.batch_size, args.fps, args.overlay, args.mosaic, args.flip, args.overwrite,
                                progress=True)
    except VideoError as err:
        if not err.decoded:
            raise
        print(describe(json.loads((Path(args.out) / SUMMARY).read_text())))
        print(f"error: {err}; the outputs of the {err.decoded} decoded frames are in {args.out}",
              file=sys.stderr)
        return 1
    print(describe(summary))
    print(f"wrote {', '.join(sorted(p.name for p in Path(args.out).iterdir()))} to {args.out}")
    return 0
