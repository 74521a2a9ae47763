"""Throughput of the input pipeline alone (no model): decoding and batch building, images/s.

    python benchmarks/pipeline_throughput.py [--data data/synthetic] [--size 128] [--batch 16]

Generates the default synthetic dataset into a temporary folder when --data is not given.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmark.labelme import load_dataset
from benchmark.pipeline import HeatmapBatches, prepare


def measure(data: Path, size: int, batch: int) -> None:
    frames = load_dataset(data).frames("Train")
    for occlude in (False, True):
        start = time.perf_counter()
        prepared = prepare(frames, size, occlude=occlude, progress=False)
        seconds = time.perf_counter() - start
        print(f"decode + {'mosaic + ' if occlude else ''}letterbox to {size} px: "
              f"{len(frames) / seconds:8.1f} images/s ({len(frames)} frames)")
    for augment in (False, True):
        batches = HeatmapBatches(prepared, batch_size=batch, augment=augment, shuffle=True)
        start = time.perf_counter()
        for i in range(len(batches)):
            batches[i]
        seconds = time.perf_counter() - start
        print(f"batches of {batch}, heatmap targets{' + augmentation' if augment else ''}: "
              f"{len(frames) / seconds:8.1f} images/s (one thread)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch", type=int, default=16)
    args = parser.parse_args()
    if args.data:
        measure(args.data, args.size, args.batch)
        return
    from benchmark.synth import generate_dataset

    with tempfile.TemporaryDirectory() as tmp:
        generate_dataset(Path(tmp) / "synthetic", progress=False)
        measure(Path(tmp) / "synthetic", args.size, args.batch)


if __name__ == "__main__":
    main()
