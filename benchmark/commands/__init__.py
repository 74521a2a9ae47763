"""``python -m benchmark <command>``: one sub-command per module.

Each command module exposes ``configure(parser)`` (adds its arguments) and ``main(args) -> int``.
Modules are imported only when their command runs, so ``--help`` and light commands stay fast.

Exit status, the same for every command (README): 0 success; 1 the command's own check failed
(``claims --strict``: a claim is contradicted; ``reproduce``: the run did not reproduce its
reference; ``run``: an experiment failed; ``audit``: a high finding; ``doctor``: a GPU sits unused); 2 bad input or usage, with one line naming the file and
what to do (:class:`benchmark.common.errors.InputError`, a missing file); 130 interrupted.

What TensorFlow and the other libraries write while ``run``, ``report``, ``export``, ``predict`` or
``doctor`` runs goes to ``logs/<command>.log`` (:mod:`benchmark.common.console`), not to the console.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from contextlib import nullcontext

from benchmark.common.console import libraries_to_log, log_file
from benchmark.common.environment import quiet_backend_start_up
from benchmark.common.errors import InputError

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "synth": ("benchmark.commands.synth", "generate the synthetic infant video dataset"),
    "contact-sheet": ("benchmark.commands.contact_sheet", "render a contact sheet of frames with keypoints"),
    "info": ("benchmark.commands.info", "summarise a dataset (splits, videos, frames, labels)"),
    "run": ("benchmark.commands.run", "run the experiments of the manifest (papermill, cached; locally or on Dask)"),
    "report": ("benchmark.commands.report", "render the study's tables and figures from results"),
    "claims": ("benchmark.commands.claims", "the verdict of each of the study's claims on a profile's results (--strict: exit 1 when one is contradicted)"),
    "reproduce": ("benchmark.commands.reproduce", "did this run reproduce the reference result shipped with the artifact? (--write: make it the reference)"),
    "audit": ("benchmark.commands.audit", "find privacy leaks in a dataset (embedded images, visible faces, metadata)"),
    "scrub": ("benchmark.commands.scrub", "write a de-identified copy of a dataset"),
    "convert": ("benchmark.commands.convert", "convert a dataset to COCO keypoint JSON, or COCO keypoints to a dataset (faces mosaicked)"),
    "deidentify": ("benchmark.commands.deidentify", "mosaic faces in unlabelled frames or videos with a trained model"),
    "predict": ("benchmark.commands.predict", "run a trained model on a video or a folder of frames: keypoints.csv and an overlay video"),
    "export": ("benchmark.commands.export", "export a trained model to ONNX or TFLite (float16, int8) for predict and other runtimes"),
    "gallery": ("benchmark.commands.gallery", "draw a trained model's predictions on unlabelled images as a grid"),
    "face-test": ("benchmark.commands.face_test", "measure the error rates of the audit's visible-face test on synthetic frames"),
    "shifts": ("benchmark.commands.shifts", "trained experiments on new videos of every named shift: the share of Test kept, more precisely"),
    "perf": ("benchmark.commands.perf", "measure pipeline, training and inference throughput and the suite's wall times"),
    "movement": ("benchmark.commands.movement", "movement features per video from keypoints.csv or predictions.csv, with plots"),
    "select-frames": ("benchmark.commands.select_frames", "choose the unlabelled frames worth labelling and pre-annotate them for LabelMe"),
    "add-labels": ("benchmark.commands.add_labels", "add frames corrected in LabelMe to a dataset split, checked and logged"),
    "doctor": ("benchmark.commands.doctor", "what computes here: backend build, devices, GPU use, precision and XLA, ImageNet weights"),
}

# Commands whose libraries' messages go to logs/<command>.log instead of the console (common/console.py)
LOGGED = ("run", "report", "export", "predict", "doctor")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmark",
                                     description="Infant pose estimation benchmark: data, experiments, reports.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, description=help_text)
    return parser


def one_line(message, category, filename, lineno, line=None) -> str:
    """A warning as one line, without the source line Python prints by default (our warnings name
    the file they are about in their message)."""
    return f"{category.__name__}: {message}\n"


def _command(name: str, argv: list[str], importing) -> int:
    """Run the command ``name`` on its arguments; ``importing`` is the context its module is imported in."""
    with importing():  # a command that trains or predicts imports the backend here
        module = importlib.import_module(COMMANDS[name][0])
    sub = argparse.ArgumentParser(prog=f"python -m benchmark {name}", description=COMMANDS[name][1])
    module.configure(sub)
    args = sub.parse_args(argv)
    try:
        return int(module.main(args) or 0)
    except (InputError, FileNotFoundError) as err:  # a user's mistake: its message, no traceback
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    warnings.formatwarning = one_line
    parser = build_parser()
    if argv and argv[0] in LOGGED:
        with libraries_to_log(log_file(argv[0])):
            return _command(argv[0], argv[1:], nullcontext)
    if argv and argv[0] in COMMANDS:
        return _command(argv[0], argv[1:], quiet_backend_start_up)
    parser.parse_args(argv)  # prints usage / help and exits
    return 2
