"""One video's keypoint trajectories with real times, read from ``predict``'s ``keypoints.csv`` or
from the labelled sequences of a results experiment's ``predictions.csv``.

A :class:`Trajectories` holds keypoints ``(T, 22, 2)`` in image pixels (NaN = missing or below the
confidence threshold) at strictly increasing times ``(T,)`` in seconds, and the longest time step
that may be differenced (``max_gap``). Readers raise :class:`TrajectoryError` naming the file and
the column at fault.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.common.errors import InputError
from benchmark.common.result_files import METRICS, PREDICTIONS
from benchmark.data.info import synthetic_timing
from benchmark.study.keypoints import INDEX, LABELS, NUM_KEYPOINTS

MIN_CONFIDENCE = 0.3   # keypoints.csv: below this a keypoint counts as missing
GAP_FACTOR = 2.5       # default max_gap: this many nominal sampling intervals (one missing sample is bridged)
KEYPOINTS_COLUMNS = ("frame", "time_s", "keypoint", "x", "y", "confidence")
PREDICTIONS_COLUMNS = ("split", "video", "frame", "keypoint", "decoder", "x", "y", "confidence",
                       "label_x", "label_y", "truth_x", "truth_y")
SOURCE_COLUMNS = {"prediction": ("x", "y"), "annotation": ("label_x", "label_y"), "truth": ("truth_x", "truth_y")}


class TrajectoryError(InputError):
    """An input table that cannot be read as trajectories; the message names file and column."""


@dataclass(frozen=True)
class Trajectories:
    """One video: ``keypoints`` ``(T, 22, 2)`` pixels (NaN = missing), ``times`` ``(T,)`` seconds,
    and ``max_gap``, the longest time step (s) that features may difference across."""

    name: str
    times: np.ndarray
    keypoints: np.ndarray
    max_gap: float


def default_max_gap(times: np.ndarray, interval: float | None = None) -> float:
    """:data:`GAP_FACTOR` nominal sampling intervals: ``interval`` when known (``frame_step / fps``),
    else the median time step of the video."""
    if interval is None:
        steps = np.diff(times)
        interval = float(np.median(steps)) if len(steps) else 1.0
    return GAP_FACTOR * interval


def read_table(path: Path, **options) -> pd.DataFrame:
    """``pd.read_csv`` whose parse errors name the file."""
    try:
        return pd.read_csv(path, **options)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise TrajectoryError(f"{path}: not a readable CSV table ({err})") from None


def _check_columns(table: pd.DataFrame, required: tuple[str, ...], path: Path) -> None:
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise TrajectoryError(f"{path}: no column {missing[0]!r} (expected columns {', '.join(required)})")


def _numeric(table: pd.DataFrame, column: str, path: Path) -> np.ndarray:
    values = pd.to_numeric(table[column], errors="coerce")
    bad = values.isna() & table[column].notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise TrajectoryError(f"{path}: column {column!r}, data row {row + 1}: "
                              f"{table[column].iloc[row]!r} is not a number")
    return values.to_numpy(float)


def _keypoint_index(table: pd.DataFrame, path: Path) -> np.ndarray:
    index = table["keypoint"].map(INDEX)
    if index.isna().any():
        unknown = table["keypoint"][index.isna()].iloc[0]
        raise TrajectoryError(f"{path}: column 'keypoint': unknown keypoint {unknown!r} "
                              f"(expected one of {', '.join(LABELS)})")
    return index.to_numpy(int)


def _grid(frames: np.ndarray, keypoint: np.ndarray, x: np.ndarray, y: np.ndarray,
          path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique frames ``(T,)`` and the ``(T, 22, 2)`` array of the rows (NaN where absent)."""
    order, row = np.unique(frames, return_inverse=True)
    flat = row * NUM_KEYPOINTS + keypoint
    if len(np.unique(flat)) != len(flat):
        raise TrajectoryError(f"{path}: columns 'frame', 'keypoint': a keypoint appears twice in one frame")
    points = np.full((len(order) * NUM_KEYPOINTS, 2), np.nan)
    points[flat] = np.stack([x, y], axis=1)
    return order, points.reshape(len(order), NUM_KEYPOINTS, 2)


def read_keypoints_csv(path: Path, name: str, min_confidence: float = MIN_CONFIDENCE,
                       max_gap: float | None = None) -> Trajectories:
    """``predict``'s ``keypoints.csv`` (one video): keypoints below ``min_confidence`` are missing;
    times from ``time_s``."""
    path = Path(path)
    table = read_table(path)
    _check_columns(table, KEYPOINTS_COLUMNS, path)
    if table.empty:
        raise TrajectoryError(f"{path}: no rows")
    frames = _numeric(table, "frame", path)
    times = _numeric(table, "time_s", path)
    confidence = _numeric(table, "confidence", path)
    x, y = _numeric(table, "x", path), _numeric(table, "y", path)
    low = ~(confidence >= min_confidence)
    x, y = np.where(low, np.nan, x), np.where(low, np.nan, y)
    order, keypoints = _grid(frames, _keypoint_index(table, path), x, y, path)
    frame_times = pd.Series(times).groupby(frames).agg(["min", "max"]).loc[order]
    if (frame_times["min"] != frame_times["max"]).any() or np.isnan(frame_times["min"]).any():
        raise TrajectoryError(f"{path}: column 'time_s': the rows of a frame must share one time")
    seconds = frame_times["min"].to_numpy(float)
    if (np.diff(seconds) <= 0).any():
        bad = int(order[np.argmax(np.diff(seconds) <= 0) + 1])
        raise TrajectoryError(f"{path}: column 'time_s': times must increase with 'frame'; frame {bad} does not")
    return Trajectories(name, seconds, keypoints, default_max_gap(seconds) if max_gap is None else max_gap)


def is_predictions_csv(path: Path) -> bool:
    """Whether ``path`` has the header of a results experiment's ``predictions.csv``."""
    header = read_table(path, nrows=0).columns
    return all(c in header for c in ("split", "decoder", "label_x"))


def sequences(rows: pd.DataFrame, source: str, fps: float, frame_step: int | None,
              path: Path | str = PREDICTIONS, max_gap: float | None = None) -> list[Trajectories]:
    """The labelled sequences of ``predictions.csv`` rows of one decoder, one :class:`Trajectories`
    per ``split/video``, for ``source`` (prediction, annotation or truth). Frames are video frame
    indices at ``fps``; ``max_gap`` defaults to :data:`GAP_FACTOR` times ``frame_step / fps`` (the
    video's median time step when ``frame_step`` is None).
    The decoder's confidence is not thresholded (it is a heatmap peak on another scale than
    ``predict``'s)."""
    path = Path(path)
    _check_columns(rows, PREDICTIONS_COLUMNS, path)
    if rows["decoder"].nunique() > 1:
        raise TrajectoryError(f"{path}: column 'decoder': rows of several decoders "
                              f"({', '.join(map(str, rows['decoder'].unique()))}); choose one")
    x_column, y_column = SOURCE_COLUMNS[source]
    out = []
    for (split, video), group in rows.groupby(["split", "video"], sort=True):
        frames = _numeric(group, "frame", path)
        order, keypoints = _grid(frames, _keypoint_index(group, path), _numeric(group, x_column, path),
                                 _numeric(group, y_column, path), path)
        times = order / fps
        gap = default_max_gap(times, frame_step and frame_step / fps) if max_gap is None else max_gap
        out.append(Trajectories(f"{split}/{video}", times, keypoints, gap))
    return out


def dataset_timing(predictions: Path, dataset: Path | None = None) -> tuple[float, int] | None:
    """``(fps, frame_step)`` from the ``synth.json`` of ``dataset``, or of the dataset named in the
    ``metrics.json`` beside ``predictions``; None when neither is found."""
    roots = [Path(dataset)] if dataset else []
    metrics = Path(predictions).parent / METRICS
    if not roots and metrics.is_file():
        root = json.loads(metrics.read_text()).get("dataset", {}).get("root")
        roots += [Path(root)] if root else []
    for root in roots:
        timing = synthetic_timing(root)
        if timing is not None:
            return timing["fps"], timing["frame_step"]
    return None


def configured_decoder(predictions: Path) -> str | None:
    """The decoder of the ``metrics.json`` beside ``predictions``, if any."""
    metrics = Path(predictions).parent / METRICS
    if metrics.is_file():
        return json.loads(metrics.read_text()).get("config", {}).get("decoder")
    return None
