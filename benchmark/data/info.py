"""``python -m benchmark info ROOT``: what a dataset holds, split by split."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark.data.labelme import Dataset


def summary(dataset: Dataset) -> pd.DataFrame:
    """One row per split: videos, frames, image sizes, labelled keypoints, and exact truth."""
    rows = []
    for split, frames in dataset.splits.items():
        visible = np.array([f.visible for f in frames]) if frames else np.zeros((0, 22), bool)
        sizes = sorted({f"{f.width}x{f.height}" for f in frames})
        rows.append({"split": split, "videos": len(dataset.videos(split)), "frames": len(frames),
                     "image sizes": ", ".join(sizes), "keypoints/frame": round(visible.sum(1).mean(), 2) if len(frames) else 0,
                     "truth": all(f.truth is not None for f in frames)})
    return pd.DataFrame(rows)


def describe(dataset: Dataset, fingerprint: str) -> str:
    """A header line (kind, fingerprint) and the per-split summary table.

    The caller passes ``dataset.fingerprint()``: hashing every file is the costly part."""
    kind = "synthetic" if dataset.is_synthetic else "real"
    return (f"{dataset.root}: {kind} dataset, fingerprint {fingerprint[:16]}\n"
            f"{summary(dataset).to_string(index=False)}")
