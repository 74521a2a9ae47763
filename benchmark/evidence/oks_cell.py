"""COCO's OKS AP and AR as bootstrap cells: resampled through the same video counts as every other metric.

AP is not a ratio of sums over videos, so :class:`OKSCell` keeps each seed's frames (video, OKS,
score; :mod:`benchmark.study.oks`) and recomputes the statistic for each resample with every frame
weighted by how often its video was drawn (:func:`benchmark.study.oks.average_precision`: a weight
``w`` counts the frame ``w`` times, exactly as COCOeval would count ``w`` copies). Its ``num`` and
``den`` are each video's summed OKS and its number of frames, so the cell tells which videos
contribute (``den > 0``) and lines up with other cells like any :class:`~.bootstrap.Cell`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from benchmark.study.bootstrap import Cell
from benchmark.study.keypoints import LABELS
from benchmark.study.oks import STATISTICS, frame_oks, frame_scores, statistic
from benchmark.study.smoothness import keypoint_arrays

CHUNK = 250  # resamples computed at once: a few (CHUNK, frames) arrays per OKS threshold


@dataclass(frozen=True)
class OKSCell(Cell):
    """One OKS statistic (``ap``, ``ap50``, ``ap75``, ``ar``, ``ar50``, ``ar75``) of a setting:
    ``frames`` holds, per seed row, the ``(video, oks, score)`` arrays of its scored frames; a frame
    whose video the cell does not list takes no part."""

    frames: tuple = ()
    statistic: str = "ap"

    def __post_init__(self):
        super().__post_init__()
        if len(self.frames) != len(self.num) or self.statistic not in STATISTICS:
            raise ValueError(f"expected one frame table per seed row ({len(self.num)}, got {len(self.frames)}) "
                             f"and a statistic of {', '.join(STATISTICS)} (got {self.statistic!r})")

    @property
    def per_seed(self) -> np.ndarray:
        return self.resampled(np.ones((1, len(self.videos))))[0]

    def resampled(self, counts: np.ndarray) -> np.ndarray:
        index = pd.Index(self.videos)
        values = []
        for videos, oks, scores in self.frames:
            position = index.get_indexer(videos)
            listed = position >= 0
            weights = counts[:, position[listed]]
            values.append(np.concatenate([  # CHUNK resamples at a time: (B, frames) arrays grow large
                statistic(self.statistic, oks[listed], scores[listed], weights[start:start + CHUNK])
                for start in range(0, len(weights), CHUNK)]))
        return np.stack(values, axis=1)

    def _rows_of(self, cells: list[Cell]) -> dict:
        if any(not isinstance(c, OKSCell) or c.statistic != self.statistic for c in cells):
            raise ValueError(f"only cells of OKS {self.statistic} can be seeds of one OKS {self.statistic} cell")
        return super()._rows_of(cells) | {"frames": sum((c.frames for c in cells), ())}


def oks_frames(rows: pd.DataFrame, sigmas: Mapping[str, float] | None = None,
               subset: str = "non_facial") -> pd.DataFrame:
    """``predictions.csv`` rows of one split and decoder as one row per frame with a scored keypoint:
    ``video``, ``oks`` and ``score`` (:func:`benchmark.study.oks.frame_oks` and ``frame_scores``)."""
    index, arrays = keypoint_arrays(rows)
    confidence = rows.pivot(index=["video", "frame"], columns="keypoint", values="confidence")
    confidence = confidence.reindex(index=index, columns=list(LABELS)).to_numpy(float)
    frames = pd.DataFrame({"video": index.get_level_values("video"),
                           "oks": frame_oks(arrays["prediction"], arrays["annotation"], sigmas, subset),
                           "score": frame_scores(confidence, subset)})
    return frames[frames["oks"].notna()].reset_index(drop=True)


def oks_cell(frames: pd.DataFrame, name: str = "ap", seed=0, experiment: str = "") -> OKSCell:
    """The :class:`OKSCell` of statistic ``name`` of one seed's :func:`oks_frames`."""
    sums = frames.assign(n=1).groupby("video", sort=True)[["oks", "n"]].sum()
    return OKSCell(sums.index.to_numpy(), sums["oks"].to_numpy(), sums["n"].to_numpy(), (seed,),
                   (experiment,) if experiment else (),
                   frames=((frames["video"].to_numpy(), frames["oks"].to_numpy(), frames["score"].to_numpy()),),
                   statistic=name)
