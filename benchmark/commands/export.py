"""``python -m benchmark export``: the command line of :mod:`benchmark.apply.export`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmark.apply.export import BATCH_SIZE, CALIBRATION_FRAMES, FORMATS, export_model
from benchmark.apply.runtimes import sidecar_path
from benchmark.commands import plan_options


def configure(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--model", required=True,
        help="model.keras written by training, its results folder, or an experiment id such as "
             "loss-simple_baseline-kce (of the plan of --manifest, --profile, --dataset, --results)")
    add("--format", required=True, choices=list(FORMATS), help="onnx (ONNX Runtime) or tflite (LiteRT)")
    add("--quantize", choices=["float16", "int8"],
        help="float16 weights (tflite) or int8 (tflite, onnx; calibrated on frames of the experiment's "
             "dataset or --calibration); default: float32")
    add("--out", type=Path,
        help="the file to write (default beside the model: model.onnx, model-int8.tflite...); "
             "its sidecar <file>.json is written beside it")
    add("--calibration", type=Path,
        help="a folder of images or a video to calibrate int8 and check the export on "
             "(default: the Train images of the dataset the experiment's metrics.json records)")
    add("--calibration-frames", type=int, default=CALIBRATION_FRAMES,
        help=f"frames that calibrate int8 (default {CALIBRATION_FRAMES})")
    add("--batch-size", type=int, default=BATCH_SIZE,
        help=f"images per call of the exported network (default {BATCH_SIZE}, predict's default; other "
             "batches are split and padded to it)")
    add("--overwrite", action="store_true", help="replace an existing --out and its sidecar")
    plan_options.add_options(parser)


def main(args: argparse.Namespace) -> int:
    out = export_model(plan_options.model_file(args), args.format, args.quantize, args.out, args.calibration,
                       args.calibration_frames, args.batch_size, args.overwrite)
    about = json.loads(sidecar_path(out).read_text())
    check = about["check"]
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB) and {sidecar_path(out).name}")
    if check:
        low, high = check["logit_range"]
        print(f"largest heatmap-logit difference from the Keras model on {check['inputs']} network inputs: "
              f"{check['max_abs_logit_difference']:.3g} (logits span {low:.3g} to {high:.3g})")
    else:
        print("not checked against the Keras model: no frames (pass --calibration DIR)")
    return 0
