"""Frames per second of ``predict`` with the Keras model and its exports, and what int8 costs in
accuracy: the tables of docs/PERFORMANCE.md, "Exported models".

    .venv/bin/python scripts/benchmark_export.py [--frames 48] [--threads 2] [--rounds 3]

Throughput: the whole pipeline of ``predict`` (``benchmark.apply.predict.stream``: letterbox, two
passes on the body crop, the flip test, decoding; no overlay video) over ``--frames`` frames of the
synthetic Test split, batch 16, after one untimed batch, the best of ``--rounds`` timings taken in
turn with every runtime (the machine may be shared); TensorFlow, ONNX Runtime and LiteRT each get
``--threads`` intra-op threads. Models: Simple Baseline tiny (the quick profile's trained
``loss-simple_baseline-kce``, 160 px) and paper (ResNet-50 at 256 px, random weights: the same
speed, no ImageNet download), both framing the body with two passes.

Accuracy: PCK@0.1 (non-facial keypoints, annotations) of the quick model on the Test split through
``predict`` (flip, one box per video), with each runtime, and the median and largest keypoint
distance from the Keras model's prediction. Exports are written to a temporary folder, never into results/.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
QUICK = ROOT / "results" / "synthetic" / "quick" / "loss-simple_baseline-kce"
DATA = ROOT / "data" / "synthetic"
PACKAGES = ("tensorflow-cpu", "tensorflow", "keras", "tf2onnx", "onnxruntime", "ai-edge-litert")
EXPORTS = [("onnx", None), ("onnx", "int8"), ("tflite", None), ("tflite", "float16"), ("tflite", "int8")]
BATCH = 16


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=48, help="timed frames per runtime (default 48)")
    parser.add_argument("--threads", type=int, default=2, help="intra-op threads of every runtime (default 2)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="timings per runtime, interleaved across runtimes; the best counts (default 3)")
    return parser.parse_args()


def paper_model(folder: Path, config: dict, codec: dict) -> Path:
    """Simple Baseline paper (ResNet-50, 256 px), random weights, with the quick model's codec and framing."""
    import keras

    from benchmark.models import build_model

    folder.mkdir(parents=True)
    keras.utils.set_random_seed(0)
    build_model("simple_baseline", input_size=256, variant="paper", pretrained=False).save(folder / "model.keras")
    (folder / "metrics.json").write_text(json.dumps({"config": config, "codec": codec}))
    return folder / "model.keras"


def first(source: Path, count: int):
    """The first ``count`` images of the folder ``source`` as ``predict`` reads them."""
    from benchmark.data.video import Frames

    frames = Frames(source)
    frames.paths = frames.paths[:count]
    frames.count = len(frames.paths)
    return frames


def frames_per_s(pose_model, source: Path, count: int) -> float:
    """Frames per second of ``predict``'s pipeline on the first ``count`` frames of ``source``."""
    from benchmark.apply.predict import stream

    started = time.perf_counter()
    stream(first(source, count), pose_model, None, BATCH)
    return count / (time.perf_counter() - started)


def test_predictions(pose_model, frames) -> np.ndarray:
    """Keypoints ``(N, 22, 2)`` of the Test frames, predicted video by video (one box per video)."""
    from benchmark.apply.pose_model import predict
    from benchmark.data.labelme import load_image

    coords = np.full((len(frames), 22, 2), np.nan)
    for video in dict.fromkeys(f.video for f in frames):
        members = [i for i, f in enumerate(frames) if f.video == video]
        coords[members] = predict(pose_model, [load_image(frames[i]) for i in members], batch_size=BATCH,
                                  video=True)[0]
    return coords


def header(threads: int) -> str:
    """Date, machine, threads, load and package versions: what the figures depend on."""
    from benchmark.common import environment

    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return (f"{time.strftime('%Y-%m-%d')}, {environment.cpu_name()}, {os.cpu_count()} cores, {threads} threads "
            f"per runtime, load average {os.getloadavg()[0]:.1f}; {', '.join(versions)}")


def exports(label: str, keras_path: Path, folder: Path, calibration: Path | None) -> list[tuple[str, Path]]:
    """(runtime, model file) of the Keras model and each of its exports (written into ``folder``)."""
    from benchmark.apply.export import export_model

    runs = [("Keras (TensorFlow)", keras_path)]
    for fmt, quantize in EXPORTS:
        out = folder / f"model{'-' + quantize if quantize else ''}.{fmt}"
        started = time.perf_counter()
        export_model(keras_path, fmt, quantize, out, calibration)
        print(f"exported {label} to {fmt} {quantize or 'float32'} in {time.perf_counter() - started:.0f} s", flush=True)
        runs.append((f"{'ONNX Runtime' if fmt == 'onnx' else 'LiteRT'} {quantize or 'float32'}", out))
    return runs


def main() -> int:
    args = arguments()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    sys.path.insert(0, str(ROOT))
    from benchmark.apply.pose_model import load_pose_model
    from benchmark.data.labelme import load_dataset
    from benchmark.data.layout import IMAGES
    from benchmark.models import model_info
    from benchmark.study.metrics import pck

    if not (QUICK / "model.keras").is_file() or not DATA.is_dir():
        print(f"error: needs the quick run's {QUICK.relative_to(ROOT)} and {DATA.relative_to(ROOT)} (./run_all.sh)",
              file=sys.stderr)
        return 2
    summary = json.loads((QUICK / "metrics.json").read_text())
    print(header(args.threads), flush=True)
    throughput, predictions = [], {}
    frames = load_dataset(DATA, ["Test"]).splits["Test"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        models = {"tiny (trained, 160 px)": (QUICK / "model.keras", None),  # calibrated on its own dataset
                  "paper (ResNet-50, 256 px)": (paper_model(tmp / "paper", summary["config"], summary["codec"]),
                                                DATA / "Train" / IMAGES)}
        for label, (keras_path, calibration) in models.items():
            runs = exports(label, keras_path, tmp / label.split()[0], calibration)
            loaded = {runtime: load_pose_model(path, threads=args.threads) for runtime, path in runs}
            for pose_model in loaded.values():  # one untimed batch each: tracing, allocation
                frames_per_s(pose_model, DATA / "Test" / IMAGES, BATCH)
            best = dict.fromkeys(loaded, 0.0)
            for _ in range(args.rounds):  # interleaved, so a busy spell slows every runtime alike
                for runtime, pose_model in loaded.items():
                    best[runtime] = max(best[runtime], frames_per_s(pose_model, DATA / "Test" / IMAGES, args.frames))
                    print(f"{label} {runtime}: {best[runtime]:.2f} frames/s (best so far)", flush=True)
            params = model_info(loaded["Keras (TensorFlow)"].model)["params"]
            throughput += [(label, params, runtime, path.stat().st_size / 1e6, best[runtime]) for runtime, path in runs]
            if label.startswith("tiny"):
                predictions = {runtime: test_predictions(pose_model, frames) for runtime, pose_model in loaded.items()}
    print(f"\n{header(args.threads)} (at the end)")
    keras_fps = {label: fps for label, _, runtime, _, fps in throughput if runtime.startswith("Keras")}
    print("\n| model | parameters | runtime | file (MB) | frames/s | vs Keras |\n| --- | ---: | --- | ---: | ---: | ---: |")
    for label, params, runtime, size, fps in throughput:
        print(f"| Simple Baseline {label} | {params / 1e6:.1f} M | {runtime} | {size:.1f} | {fps:.2f} | "
              f"{fps / keras_fps[label]:.2f}x |")
    labels = np.stack([f.keypoints for f in frames])
    reference = predictions["Keras (TensorFlow)"]
    base = pck(reference, labels, 0.1, "non_facial")
    print("\n| runtime | Test PCK@0.1 | change | keypoint shift from Keras, median / largest (px) |\n"
          "| --- | ---: | ---: | ---: |")
    for runtime, coords in predictions.items():
        value = pck(coords, labels, 0.1, "non_facial")
        shift = np.linalg.norm(coords - reference, axis=-1)
        print(f"| {runtime} | {value:.3f} | {value - base:+.3f} | {np.nanmedian(shift):.2g} / {np.nanmax(shift):.3g} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
