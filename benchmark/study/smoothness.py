"""Temporal smoothness of keypoint trajectories: how much a pose jitters from frame to frame.

A trajectory is one video's keypoints ``(T, 22, 2)`` at strictly increasing frame indices ``(T,)``
(labelled frames may be sparse: every 5th frame, say). Both measures are divided by the reference
scale ``S`` of each frame (:func:`benchmark.study.metrics.reference_scale` of the *labels*, the same scale
for annotation, prediction and truth; for an acceleration, the middle frame's), so they compare
across infants and image sizes.

- Acceleration jitter (:func:`acceleration_jitter`), unit ``S / frame^2``: the mean magnitude of the
  second derivative estimated from three consecutive labelled frames ``t-1, t, t+1`` with frame gaps
  ``h1 = f[t] - f[t-1]`` and ``h2 = f[t+1] - f[t]``::

      a[t] = 2 / (h1 + h2) * ((p[t+1] - p[t]) / h2 - (p[t] - p[t-1]) / h1)

  For equal gaps ``g`` this is the second difference ``(p[t+1] - 2 p[t] + p[t-1]) / g^2``; it is exact
  for any quadratic motion, whatever the gaps, so sparse and dense labelling compare. White noise of
  standard deviation ``sigma`` per coordinate (unit gaps) has ``E[a_x^2] = 6 sigma^2``, so its mean
  magnitude ``|a|`` is ``sigma * sqrt(3 pi)`` (a Rayleigh mean).
- Smoothing residual (:func:`smoothing_residual`), unit ``S``: the RMS distance between the
  trajectory and its Savitzky-Golay smoothing (``scipy.signal.savgol_filter``, a least-squares
  polynomial of order ``polyorder`` over a centred window of ``window`` labelled frames, fitted
  polynomials at the ends). The default window of 7 labelled frames spans 30 video frames (1.2 s at
  25 fps) when every 5th frame is labelled. The filter treats labelled frames as evenly spaced, as
  they are in the study's videos; a straight line or parabola leaves no residual. White noise of
  ``sigma`` per coordinate leaves ``sigma * sqrt(2 (1 - c0))`` with ``c0`` the filter's centre weight.

Missing keypoints (NaN) are skipped: a triple with a missing point gives no acceleration, and the
smoothing runs over each keypoint's present frames only.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd
from scipy.signal import savgol_filter

from benchmark.study.keypoints import LABELS, REGION_OF, REGIONS
from benchmark.study.metrics import reference_scale

WINDOW = 7      # Savitzky-Golay window, in labelled frames
POLYORDER = 2   # Savitzky-Golay polynomial order

# predictions.csv columns of each trajectory source
SOURCES: dict[str, tuple[str, str]] = {
    "annotation": ("label_x", "label_y"),
    "prediction": ("x", "y"),
    "truth": ("truth_x", "truth_y"),
}


def _check(keypoints, frames, scale) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    keypoints = np.asarray(keypoints, dtype=np.float64)
    frames = np.asarray(frames, dtype=np.float64)
    scale = np.asarray(scale, dtype=np.float64)
    if keypoints.ndim != 3 or keypoints.shape[-1] != 2 or frames.shape != keypoints.shape[:1] \
            or scale.shape != frames.shape:
        raise ValueError(f"expected keypoints (T, K, 2), frames (T,), scale (T,); got "
                         f"{keypoints.shape}, {frames.shape}, {scale.shape}")
    if np.any(np.diff(frames) <= 0):
        raise ValueError("frame indices must be strictly increasing")
    return keypoints, frames, scale


def acceleration(keypoints, frames) -> np.ndarray:
    """``(T-2, K, 2)`` second derivative in pixels per frame^2 at the inner frames (formula above)."""
    keypoints = np.asarray(keypoints, dtype=np.float64)
    frames = np.asarray(frames, dtype=np.float64)
    h1 = np.diff(frames)[:-1, None, None]
    h2 = np.diff(frames)[1:, None, None]
    velocity_in = (keypoints[1:-1] - keypoints[:-2]) / h1
    velocity_out = (keypoints[2:] - keypoints[1:-1]) / h2
    return 2 * (velocity_out - velocity_in) / (h1 + h2)


def acceleration_jitter(keypoints, frames, scale) -> np.ndarray:
    """``(K,)`` mean ``|a| / S`` over the inner frames (``S`` of the middle frame), in ``S / frame^2``.

    NaN for a keypoint without any complete triple of frames.
    """
    keypoints, frames, scale = _check(keypoints, frames, scale)
    if len(frames) < 3:
        return np.full(keypoints.shape[1], np.nan)
    magnitude = np.linalg.norm(acceleration(keypoints, frames), axis=-1) / scale[1:-1, None]
    return _nanmean(magnitude)


def smoothing_residual(keypoints, frames, scale, window: int = WINDOW,
                       polyorder: int = POLYORDER) -> np.ndarray:
    """``(K,)`` RMS of ``|p - savgol(p)| / S`` over frames, in ``S``.

    NaN for a keypoint present in fewer than ``window`` frames.
    """
    keypoints, frames, scale = _check(keypoints, frames, scale)
    out = np.full(keypoints.shape[1], np.nan)
    for k in range(keypoints.shape[1]):
        present = ~np.isnan(keypoints[:, k]).any(axis=-1) & ~np.isnan(scale)
        track = keypoints[present, k]
        if len(track) < window:
            continue
        smooth = savgol_filter(track, window, polyorder, axis=0)
        ratio = np.linalg.norm(track - smooth, axis=-1) / scale[present]
        out[k] = np.sqrt(np.mean(ratio**2))
    return out


def _nanmean(values: np.ndarray) -> np.ndarray:
    """Column means ignoring NaN, NaN (without a warning) for an all-NaN column."""
    count = np.count_nonzero(~np.isnan(values), axis=0)
    total = np.nansum(values, axis=0)
    return np.divide(total, count, out=np.full(total.shape, np.nan), where=count > 0)


def keypoint_arrays(predictions: pd.DataFrame) -> tuple[pd.MultiIndex, dict[str, np.ndarray]]:
    """Rebuild arrays from ``predictions.csv`` rows of one split and one decoder: the ``(video,
    frame)`` of each frame in sorted order, and ``{source: (N, 22, 2)}`` for annotation,
    prediction and truth in :data:`benchmark.study.keypoints.LABELS` order (NaN where missing)."""
    columns = [c for pair in SOURCES.values() for c in pair]
    wide = predictions.pivot(index=["video", "frame"], columns="keypoint", values=columns).sort_index()
    arrays = {source: np.stack([wide[x].reindex(columns=list(LABELS)).to_numpy(float),
                                wide[y].reindex(columns=list(LABELS)).to_numpy(float)], axis=-1)
              for source, (x, y) in SOURCES.items()}
    return wide.index, arrays


def video_trajectories(predictions: pd.DataFrame) -> dict[str, tuple[np.ndarray, dict[str, np.ndarray]]]:
    """Per video of a predictions table (one split, one decoder): frame indices ``(T,)`` in
    increasing order, and ``{source: (T, 22, 2)}`` for annotation, prediction and truth."""
    index, arrays = keypoint_arrays(predictions)
    videos = index.get_level_values("video")
    frames = index.get_level_values("frame").to_numpy()
    return {str(v): (frames[videos == v], {s: a[videos == v] for s, a in arrays.items()})
            for v in videos.unique()}


def video_jitter(predictions: pd.DataFrame, window: int = WINDOW,
                 polyorder: int = POLYORDER) -> dict[tuple[str, str], pd.DataFrame]:
    """Smoothness of each video: ``{(measure, source): videos x keypoints}`` with measure
    ``acceleration`` or ``residual`` (as :func:`jitter_table`), NaN where undefined (a video too
    short for the measure); a source with no keypoints at all (truth on real data) is left out."""
    out: dict[tuple[str, str], list] = defaultdict(list)
    videos, present = [], set()
    for video, (frames, arrays) in video_trajectories(predictions).items():
        scale = reference_scale(arrays["annotation"])
        videos.append(video)
        for source, keypoints in arrays.items():
            if not np.isnan(keypoints).all():
                present.add(source)
            out[("acceleration", source)].append(acceleration_jitter(keypoints, frames, scale))
            out[("residual", source)].append(smoothing_residual(keypoints, frames, scale, window, polyorder))
    index = pd.Index(videos, name="video")
    return {key: pd.DataFrame(np.array(rows).reshape(len(videos), len(LABELS)), index=index, columns=list(LABELS))
            for key, rows in out.items() if key[1] in present}


def jitter_table(predictions: pd.DataFrame, window: int = WINDOW, polyorder: int = POLYORDER) -> pd.DataFrame:
    """Smoothness per keypoint and source, averaged over the videos of ``predictions`` (one split,
    one decoder, as in ``predictions.csv``).

    Columns: keypoint, region (missing for facial keypoints), source (annotation, prediction, truth;
    truth only where present), acceleration (``S / frame^2``), residual (``S``), videos (how many
    videos gave an acceleration). Every source is scaled by the annotation's ``S``.
    """
    per_video = video_jitter(predictions, window, polyorder)
    rows = [pd.DataFrame({
        "keypoint": LABELS, "region": [REGION_OF.get(k) for k in LABELS], "source": source,
        "acceleration": _nanmean(per_video[("acceleration", source)].to_numpy()),
        "residual": _nanmean(per_video[("residual", source)].to_numpy()),
        "videos": per_video[("acceleration", source)].notna().sum(axis=0).to_numpy(),
    }) for source in SOURCES if ("acceleration", source) in per_video]
    if not rows:
        return pd.DataFrame(columns=["keypoint", "region", "source", "acceleration", "residual", "videos"])
    return pd.concat(rows, ignore_index=True)


MEASURES = ("acceleration", "residual")


def compare_sources(table: pd.DataFrame, key: str) -> pd.DataFrame:
    """A :func:`jitter_table` (``key="keypoint"``) or :func:`by_region` table (``key="region"``)
    side by side: one row per key, columns ``(measure, source)`` and two derived columns per
    measure:

    - ``prediction / annotation``: below 1 where the model's trajectory is smoother than the labels;
    - ``annotator noise``: ``1 - truth / annotation``, the share of the annotation's jitter that the
      true motion does not have (synthetic data only; NaN where truth is missing).
    """
    wide = table.pivot(index=key, columns="source", values=list(MEASURES))
    wide = wide.reindex(table[key].drop_duplicates())
    columns = []
    for measure in MEASURES:
        part = wide[measure].reindex(columns=list(SOURCES))
        part["prediction / annotation"] = part["prediction"] / part["annotation"]
        part["annotator noise"] = 1 - part["truth"] / part["annotation"]
        columns.append(part.dropna(axis=1, how="all"))
    return pd.concat(columns, axis=1, keys=MEASURES)


def by_region(table: pd.DataFrame) -> pd.DataFrame:
    """A :func:`jitter_table` averaged over the keypoints of each body region (regions in the
    study's order, rows per source); facial keypoints, which have no region, are left out."""
    regional = table.dropna(subset=["region"])
    means = regional.groupby(["region", "source"], sort=False)[["acceleration", "residual"]].mean()
    order = [(r, s) for r in REGIONS for s in SOURCES if (r, s) in means.index]
    return means.loc[order].reset_index()
