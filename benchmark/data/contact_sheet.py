"""``python -m benchmark contact-sheet``: a grid of labelled frames of a dataset, faces mosaicked.

Works on any dataset in the reference layout, real or synthetic. Frames are drawn at random (from
``seed``), one video at a time in random order so the sheet shows as many videos as possible.
Every face is mosaicked (:func:`benchmark.data.mosaic.safe_to_show`) before anything is drawn, so a
sheet never shows an identifiable face.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from benchmark.data.drawing import draw_pose, grid
from benchmark.data.labelme import Frame, load_dataset, load_image
from benchmark.data.mosaic import safe_to_show


def pick_frames(frames: list[Frame], n: int, seed: int) -> list[Frame]:
    """Up to ``n`` frames, round-robin over videos in random order, a random frame each time."""
    rng = np.random.default_rng(seed)
    videos: dict[tuple[str, str], list[Frame]] = {}
    for frame in frames:
        videos.setdefault((frame.split, frame.video), []).append(frame)
    pools = [list(rng.permutation(len(v))) for v in videos.values()]
    order = rng.permutation(len(videos))
    groups = list(videos.values())
    picked: list[Frame] = []
    while len(picked) < n and any(pools):
        for i in order:
            if pools[i] and len(picked) < n:
                picked.append(groups[i][pools[i].pop()])
    return picked


def contact_sheet(root: Path, out_png: Path, split: str | None = None, n: int = 12, cols: int = 4,
                  seed: int = 0, cell: int = 256, colors: int | None = None) -> Path:
    """Write a PNG grid of ``n`` frames of ``split`` (default: all splits) with their labelled
    keypoints and skeleton, faces mosaicked; returns ``out_png``. ``colors`` quantises the sheet
    to that many colours (a much smaller file, e.g. for documentation)."""
    dataset = load_dataset(root, None if split is None else [split])
    frames = [frame for name in dataset.splits for frame in dataset.frames(name)]
    picked = pick_frames(frames, n, seed)
    if not picked:
        raise ValueError(f"no frames in {root}" + (f" split {split}" if split else ""))
    images = [draw_pose(safe_to_show(load_image(f), f.keypoints, seed=f.id), f.keypoints) for f in picked]
    sheet = grid(images, cols, titles=[f.id for f in picked], cell=cell)
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(sheet)
    if colors:
        image = image.quantize(colors, method=Image.Quantize.FASTOCTREE)
    image.save(out_png, optimize=True)
    return out_png
