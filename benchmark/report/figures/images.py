"""Figures of frames with poses drawn on them: sample test predictions, a frame sequence, and the
domain-shift gallery. The images come from the run stage's dataset snapshot, face-mosaicked before
they were written (:mod:`benchmark.runner.snapshot`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from benchmark.data.drawing import draw_pose, grid
from benchmark.report.figures.registry import Figure, register_figure
from benchmark.report.results import Result, Results, showcase

SAMPLE_FRAMES = 4
SEQUENCE_GAP = 15    # video frames between the panels of the frame sequence (the study's t, t+15, t+30)
SEQUENCE_VIDEOS = 2
GALLERY_FRAMES = 8


def _frames(results: Results, split: str) -> dict | str:
    """``{(video, frame): snapshot entry}`` of a split, or why there are no images to draw."""
    if results.dataset is None:
        return (f"skipped: no dataset snapshot in {results.root} (written by `python -m benchmark run`; "
                "rerun it to add the images)")
    return results.frames(split) or f"skipped: the snapshot has no {split} frames"


def _overlays(results: Results, e: Result, split: str, frames: dict, keys: list[tuple]) -> list[np.ndarray]:
    """The frames ``keys`` of a split (face mosaicked in the snapshot), with the annotation (magenta)
    and ``e``'s prediction (by side) drawn on them."""
    index, arrays = e.arrays(split)
    position = {key: i for i, key in enumerate(index)}
    images = []
    for key in keys:
        entry = frames[key]
        image = draw_pose(results.image(entry), arrays["annotation"][position[key]] * entry["scale"],
                          color_by_side=False)
        images.append(draw_pose(image, arrays["prediction"][position[key]] * entry["scale"]))
    return images


def _spread(e: Result, split: str, frames: dict, count: int) -> list[tuple]:
    """``count`` frames of a split spread evenly over its sorted ``(video, frame)`` keys (so over
    the videos), among those with images."""
    index = [key for key in e.arrays(split)[0] if key in frames]
    picks = np.unique(np.linspace(0, len(index) - 1, count).round().astype(int)) if index else []
    return [index[i] for i in picks]


def _first_seeds(results: Results) -> list[Result]:
    """The loss table's and the baselines' experiments (else every one), one per setting, not per seed."""
    first_seed: dict[tuple, Result] = {}
    for e in (results.group("loss") + results.group("baseline")) or results.experiments:
        first_seed.setdefault((e.group, e.setting), e)
    return list(first_seed.values())


@register_figure("sample_predictions", "Sample test predictions", needs=_first_seeds)
def sample_predictions(experiments: list[Result], results: Results, folder: Path, figure: Figure) -> Figure:
    frames = _frames(results, "Test")
    if isinstance(frames, str):
        return replace(figure, note=frames)
    chosen = _spread(experiments[0], "Test", frames, SAMPLE_FRAMES)
    if not chosen:
        return replace(figure, note="skipped: the test frames of the results are not in the dataset")
    images, titles = [], []
    for e in experiments:
        images += _overlays(results, e, "Test", frames, chosen)
        titles += [f"{e.label}  {frames[key]['stem']}" for key in chosen]
    caption = (f"Predicted poses ({experiments[0].decoder} decoder; left side orange, right side blue, "
               f"midline green) over the annotation (magenta) on {len(chosen)} test frames, one row per "
               "experiment. Faces are mosaicked.")
    return figure.saved(grid(images, cols=len(chosen), titles=titles), folder, caption)


@register_figure("frame_sequence", f"Frames t, t+{SEQUENCE_GAP} and t+{2 * SEQUENCE_GAP}: annotation and prediction",
                 needs=showcase)
def frame_sequence(e: Result, results: Results, folder: Path, figure: Figure) -> Figure:
    frames = _frames(results, "Test")
    if isinstance(frames, str):
        return replace(figure, note=frames)
    rows: dict[str, list[tuple]] = {}  # video -> its first frames t, t+gap, t+2 gap with images
    for video, t in e.arrays("Test")[0]:
        keys = [(video, t + k * SEQUENCE_GAP) for k in range(3)]
        if video not in rows and all(key in frames for key in keys):
            rows[video] = keys
    if not rows:
        return replace(figure, note=f"skipped: no test video has labelled frames {SEQUENCE_GAP} frames apart")
    chosen = list(rows.values())[:SEQUENCE_VIDEOS]
    keys = [key for row in chosen for key in row]
    titles = [f"video {v}  t{f'+{k * SEQUENCE_GAP}' if k else ''} (frame {f})"
              for row in chosen for k, (v, f) in enumerate(row)]
    image = grid(_overlays(results, e, "Test", frames, keys), cols=3, titles=titles, cell=320)
    caption = (f"{e.label} ({e.decoder} decoder): the prediction (left side orange, right side blue) and the "
               f"annotation (magenta) on frames {SEQUENCE_GAP} video frames apart, one test video per row, "
               "as in the study's comparison of annotation and prediction over time. Faces are mosaicked.")
    return figure.saved(image, folder, caption)


@register_figure("domain_shift_gallery", "Generalisation: predictions on the domain-shift set", needs=showcase)
def domain_shift_gallery(e: Result, results: Results, folder: Path, figure: Figure) -> Figure:
    scores = e.scores("DomainShift")
    if scores is None:
        return replace(figure, note="skipped: the dataset has no DomainShift split (synthetic data only)")
    frames = _frames(results, "DomainShift")
    if isinstance(frames, str):
        return replace(figure, note=frames)
    chosen = _spread(e, "DomainShift", frames, GALLERY_FRAMES)
    image = grid(_overlays(results, e, "DomainShift", frames, chosen), cols=4,
                 titles=[f"{results.shifts.get(k[0], '')}  {frames[k]['stem']}".strip() for k in chosen])
    test = e.scores("Test") or {}
    caption = (f"{e.label} ({e.decoder} decoder) on {len(chosen)} frames of the DomainShift split (infants, "
               "mats and cameras the model never saw), annotation in magenta. PCKsh@0.1 there: "
               f"{scores['pck@0.1']:.3f} (test split: {test.get('pck@0.1', np.nan):.3f}); mKS "
               f"{scores['mks']:.3f} ({test.get('mks', np.nan):.3f}). `python -m benchmark gallery` draws "
               "the same for any folder of unlabelled images. Faces are mosaicked.")
    return figure.saved(image, folder, caption)

