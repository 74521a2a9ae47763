"""``python -m benchmark <command>``: one sub-command per module.

Each command module exposes ``configure(parser)`` (adds its arguments) and ``main(args) -> int``.
Modules are imported only when their command runs, so ``--help`` and light commands stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .labelme import AnnotationError
from .manifest import ManifestError

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "synth": ("benchmark.synth.cli", "generate the synthetic infant video dataset"),
    "contact-sheet": ("benchmark.synth.sheet", "render a contact sheet of frames with keypoints"),
    "info": ("benchmark.info", "summarise a dataset (splits, videos, frames, labels)"),
    "run": ("benchmark.runner", "run the experiments of the manifest (papermill, cached; locally or on Dask)"),
    "report": ("benchmark.report.cli", "render the study's tables and figures from results"),
    "audit": ("benchmark.privacy.audit", "find privacy leaks in a dataset (embedded images, visible faces, metadata)"),
    "scrub": ("benchmark.privacy.scrub", "write a de-identified copy of a dataset"),
    "deidentify": ("benchmark.privacy.deidentify", "mosaic faces in unlabelled frames or videos with a trained model"),
    "predict": ("benchmark.predict", "run a trained model on a video or a folder of frames: keypoints.csv and an overlay video"),
    "gallery": ("benchmark.gallery", "draw a trained model's predictions on unlabelled images as a grid"),
    "perf": ("benchmark.perf", "measure pipeline, training and inference throughput and the suite's wall times"),
    "doctor": ("benchmark.doctor", "check the installation: backend build, devices, GPU use, precision, ImageNet weights"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmark",
                                     description="Infant pose estimation benchmark: data, experiments, reports.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, description=help_text)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if argv and argv[0] in COMMANDS:
        module = importlib.import_module(COMMANDS[argv[0]][0])
        sub = argparse.ArgumentParser(prog=f"python -m benchmark {argv[0]}",
                                      description=COMMANDS[argv[0]][1])
        module.configure(sub)
        args = sub.parse_args(argv[1:])
        try:
            return int(module.main(args) or 0)
        except (ManifestError, AnnotationError, FileNotFoundError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    parser.parse_args(argv)  # prints usage / help and exits
    return 2
