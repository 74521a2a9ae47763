"""``python -m benchmark perf``: the command line of :mod:`benchmark.runner.perf`."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import get_args

import keras

from benchmark.models import list_models
from benchmark.models.registry import VARIANTS
from benchmark.runner.datasets import resolve_dataset
from benchmark.runner.manifest import MANIFEST, LoadedManifest
from benchmark.runner.perf import layer_profile, machine, measure_model, measure_pipeline, peak_rates, text_table
from benchmark.runner.suite_timing import measure_suite
from benchmark.training.config import TrainConfig
from benchmark.training.train import build_for_training


def configure(parser) -> None:
    parser.add_argument("--quick", action="store_true",
                        help="CI-sized: 64 px, batch 8, 3 steps, the smoke profile's data and suite")
    parser.add_argument("--models", nargs="+", choices=list_models(), help="models (default: all registered)")
    parser.add_argument("--sizes", nargs="+", type=int, help="input sizes in pixels (default: 128; --quick: 64)")
    parser.add_argument("--variant", default="tiny", choices=VARIANTS, help="model variant")
    parser.add_argument("--batch", type=int, help="batch size (default: 16; --quick: 8)")
    parser.add_argument("--steps", type=int, help="timed steps per model (default: 20; --quick: 3)")
    parser.add_argument("--precision", default="auto", choices=get_args(TrainConfig.model_fields["precision"].annotation),
                        help="as in the manifest (default: auto, mixed_bfloat16 on a GPU)")
    parser.add_argument("--jit-compile", default="auto", choices=get_args(TrainConfig.model_fields["jit_compile"].annotation),
                        help="XLA, as in the manifest (default: auto, Keras's choice)")
    parser.add_argument("--profile-layers", action="store_true",
                        help="also time each layer's forward pass alone: where a step's time goes")
    parser.add_argument("--suite", action="store_true",
                        help="also time the runner: fresh grid, cached rerun, one added experiment "
                             "(--quick: the Simple Baseline experiments of the smoke profile)")
    parser.add_argument("--profile", help="profile for the data and the suite (default: quick; --quick: smoke)")
    parser.add_argument("--data", type=Path, help="dataset root for the pipeline figures (default: the profile's)")
    parser.add_argument("--data-dir", type=Path, default=Path("data"), help="where synthetic datasets are generated")
    parser.add_argument("--manifest", type=Path, default=MANIFEST)
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write every figure as JSON")


def main(args) -> int:
    profile = args.profile or ("smoke" if args.quick else "quick")
    sizes = args.sizes or ([64] if args.quick else [128])
    batch = args.batch or (8 if args.quick else 16)
    steps = args.steps or (3 if args.quick else 20)
    report = {"machine": machine()}
    head = report["machine"]
    print(f"{head['date']}  backend {head['backend']} (set KERAS_BACKEND to change)  device {head['device']}\n"
          f"CPU {head['cpu']}, {head['cores']} cores, load average {head['load_average']}, commit {head['commit']}\n"
          f"packages: {', '.join(f'{k} {v}' for k, v in head['packages'].items())}")

    start = time.perf_counter()  # the profile's dataset is generated here if missing, not in the suite's timings
    profile_data = None if args.data and not args.suite else resolve_dataset(
        LoadedManifest(args.manifest), profile, data_dir=args.data_dir, progress=False)
    report["dataset ready (s)"] = time.perf_counter() - start
    root = args.data or profile_data
    report["pipeline"] = [measure_pipeline(root, size, batch) for size in sizes]
    print(f"\nData pipeline, images/s ({root}, Train split, batches of {batch}):\n{text_table(report['pipeline'])}")

    report["peak GFLOP/s"] = peaks = peak_rates(1024 if args.quick else 4096)
    print("\nThis machine's rates, GFLOP/s (the best of 3; what the models are measured against):\n"
          + "\n".join(f"  {name:<18} {rate:10,.0f}" for name, rate in peaks.items()))

    report["models"], report["layers"] = [], {}
    for pipeline_row in report["pipeline"]:
        for name in args.models or list_models():
            config = TrainConfig(model=name, variant=args.variant, input_size=pipeline_row["input"],
                                 batch_size=batch, precision=args.precision, jit_compile=args.jit_compile,
                                 pretrained=False)
            row = measure_model(config, steps, warmup=2, peaks=peaks)
            row["epoch (s)"] = pipeline_row["frames"] / row["train img/s"]  # compare with the study's
            report["models"].append(row)
            if args.profile_layers:
                layers = layer_profile(build_for_training(config), batch)
                report["layers"][f"{name} {config.input_size}"] = layers.to_dict("records")
                print(f"\n{name} at {config.input_size} px, batch {batch}: the slowest layers' forward pass alone "
                      f"({layers['ms'].sum():.1f} ms in all):\n{text_table(layers.head(12))}")
    print(f"\nModels ({args.variant}, KCE, random images, {steps} timed steps after 2 warm-up steps; "
          f"epoch = the {report['pipeline'][0]['frames']} Train frames at the training rate):\n"
          f"{text_table(report['models'])}")
    if keras.backend.backend() == "jax" and any(r["peak device (MiB)"] for r in report["models"]):
        print("(JAX cannot reset its peak-memory counter: each model's device peak includes the ones before.)")

    if args.suite:
        only = "simple_baseline" if args.quick else None
        suite = report["suite"] = measure_suite(args.manifest, profile, args.data_dir, only)
        runs = [{"run": name, **run} for name, run in suite["runs"].items()]
        print(f"\nSuite, profile {profile!r}{f' (only {only!r})' if only else ''}, fresh results folder and "
              f"frame cache (its dataset was ready in {report['dataset ready (s)']:.1f} s):\n{text_table(runs)}\n\n"
              f"Where each experiment's time went (s):\n{text_table(suite['per experiment'])}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=float))
    return 0
