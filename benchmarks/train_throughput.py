"""Training and inference throughput of each registered model, images/s (random data, no pipeline).

    python benchmarks/train_throughput.py [--size tiny] [--input 128] [--batch 16] [--steps 20]
"""

from __future__ import annotations

import argparse
import time

import keras
import numpy as np

from benchmark.heatmaps import encode
from benchmark.losses import get_loss
from benchmark.models import build_model, list_models, model_info


def measure(name: str, size: str, input_size: int, batch: int, steps: int) -> dict:
    keras.utils.set_random_seed(0)
    model = build_model(name, input_size=input_size, size=size)
    stacks = len(model.outputs)
    model.compile(keras.optimizers.Adam(1e-3), loss=[get_loss("kce")] * stacks)
    rng = np.random.default_rng(0)
    images = rng.random((batch, input_size, input_size, 3), dtype=np.float32)
    targets = encode(rng.uniform(8, input_size - 8, (batch, 22, 2)), (input_size, input_size))
    targets = [targets] * stacks if stacks > 1 else targets
    for _ in range(3):  # warm-up: graph building and compilation
        model.train_on_batch(images, targets)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(images, targets)
    train_rate = steps * batch / (time.perf_counter() - start)
    model.predict_on_batch(images)
    start = time.perf_counter()
    for _ in range(steps):
        model.predict_on_batch(images)
    infer_rate = steps * batch / (time.perf_counter() - start)
    return {"model": name, "params": model_info(model)["params"], "train_img_s": train_rate,
            "infer_img_s": infer_rate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="tiny", choices=("tiny", "paper"))
    parser.add_argument("--input", type=int, default=128)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    print(f"backend {keras.backend.backend()}, {args.size} models, {args.input} px, batch {args.batch}")
    for name in list_models():
        r = measure(name, args.size, args.input, args.batch, args.steps)
        print(f"{r['model']:>16}: {r['params']:>11,} params  train {r['train_img_s']:7.1f} img/s  "
              f"inference {r['infer_img_s']:7.1f} img/s")


if __name__ == "__main__":
    main()
