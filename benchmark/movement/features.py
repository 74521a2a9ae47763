"""Movement features of one video's keypoint trajectories, in body-size units per second.

Inputs: keypoints ``(T, 22, 2)`` in pixels (NaN = missing), strictly increasing times ``(T,)`` in
seconds (uneven steps allowed) and ``max_gap``, the longest time step that is differenced. Lengths
are divided by the reference scale ``S`` (:func:`benchmark.study.metrics.reference_scale`, the video's
median where a frame lacks it), so camera distance cancels out. Definitions, units and sources are
in docs/MOVEMENT.md; :data:`UNITS` lists every feature.

Differences are taken between consecutive *present* samples of a keypoint whose time step is at
most ``max_gap`` (a short gap is bridged, a long one never differenced). ``missing_share`` of a
feature is the share of the video's frames it could not use: missing, or cut off by long gaps.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.signal import lombscargle
from scipy.spatial import ConvexHull, QhullError

from benchmark.study.keypoints import FLIP_PAIRS, INDEX, LABELS, REGION_OF, REGIONS
from benchmark.study.metrics import reference_scale

BANDS: dict[str, tuple[float, float]] = {"low_band_share": (0.1, 1.0), "high_band_share": (1.0, 4.0)}  # Hz
F_MIN, F_MAX = 0.1, 4.0   # analysed frequencies (Hz), F_MAX capped at half the median sampling rate
OVERSAMPLE = 4            # frequency step 1 / (OVERSAMPLE * duration), at least DF_MIN
DF_MIN = 0.01             # Hz: bounds the grid (and the work) of long videos
SAMPEN_M, SAMPEN_R = 2, 0.2   # sample entropy: template length, tolerance (times the SD of speed)
PAIRS: tuple[tuple[str, str], ...] = tuple((left, right) for left, right in FLIP_PAIRS if left in REGION_OF)

UNITS: dict[str, str] = {
    "speed_mean": "S/s", "speed_median": "S/s", "speed_p95": "S/s",
    "acceleration_mean": "S/s²", "acceleration_median": "S/s²", "acceleration_p95": "S/s²",
    "quantity_of_motion": "S/s", "hull_area": "S²", "ellipse_area": "S²", "extent": "S",
    "low_band_share": "1", "high_band_share": "1", "dominant_frequency": "Hz",
    "speed_cv": "1", "sample_entropy": "1", "velocity_correlation": "1",
}
COLUMNS = ["level", "part", "feature", "value", "missing_share"]


def scale_per_frame(keypoints: np.ndarray) -> np.ndarray:
    """``(T,)`` reference scale ``S`` of each frame; the median of the video where undefined."""
    scale = reference_scale(keypoints)
    scale = np.where(scale > 0, scale, np.nan)
    if np.isnan(scale).all():
        raise ValueError("no frame has Head, both shoulders and both hips: the reference scale S is undefined")
    return np.where(np.isnan(scale), np.nanmedian(scale), scale)


def centred(track: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``(T, 2)`` positions about the keypoint's median position, in ``S`` of each frame."""
    return (track - np.nanmedian(track, axis=0)) / scale[:, None]


def steps(present: np.ndarray, times: np.ndarray, max_gap: float) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs ``(start, end)`` of consecutive present samples at most ``max_gap`` s apart."""
    index = np.flatnonzero(present)
    keep = np.diff(times[index]) <= max_gap
    return index[:-1][keep], index[1:][keep]


def velocities(track: np.ndarray, times: np.ndarray, scale: np.ndarray, max_gap: float
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Velocities ``(M, 2)`` in ``S/s`` over the usable steps (``S`` the mean of the two frames'),
    and the steps' start and end indices."""
    start, end = steps(~np.isnan(track).any(axis=1), times, max_gap)
    dt = (times[end] - times[start])[:, None]
    return (track[end] - track[start]) / dt / ((scale[start] + scale[end]) / 2)[:, None], start, end


def accelerations(track: np.ndarray, times: np.ndarray, scale: np.ndarray, max_gap: float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """``|a|`` in ``S/s²`` at each inner sample of two consecutive usable steps (the three-point
    second derivative of :mod:`benchmark.study.smoothness`, exact for quadratic motion at any spacing,
    ``S`` of the middle frame), and the frames each used ``(M, 3)``."""
    start, end = steps(~np.isnan(track).any(axis=1), times, max_gap)
    chained = end[:-1] == start[1:]
    i0, i1, i2 = start[:-1][chained], end[:-1][chained], end[1:][chained]
    h1, h2 = (times[i1] - times[i0])[:, None], (times[i2] - times[i1])[:, None]
    a = 2 / (h1 + h2) * ((track[i2] - track[i1]) / h2 - (track[i1] - track[i0]) / h1)
    return np.linalg.norm(a, axis=1) / scale[i1], np.stack([i0, i1, i2], axis=1)


def unused_share(frames: int, used: np.ndarray) -> float:
    """Share of ``frames`` that appear nowhere in the index array ``used``."""
    return 1 - len(np.unique(used)) / frames if frames else 1.0


def hull_area(points: np.ndarray) -> float:
    """Area of the convex hull of ``(N, 2)`` points; 0 for collinear points, NaN below 3."""
    if len(points) < 3:
        return np.nan
    try:
        return float(ConvexHull(points).volume)  # a 2-D hull's "volume" is its area
    except QhullError:
        return 0.0


def ellipse_area(points: np.ndarray) -> float:
    """Area ``pi * sqrt(det(cov))`` of the one-standard-deviation ellipse of ``(N, 2)`` points."""
    if len(points) < 3:
        return np.nan
    return float(np.pi * np.sqrt(max(np.linalg.det(np.cov(points.T)), 0.0)))


def extent(points: np.ndarray) -> float:
    """Largest distance between two of the ``(N, 2)`` points (the hull's diameter)."""
    if len(points) < 2:
        return np.nan
    try:
        points = points[ConvexHull(points).vertices]
    except QhullError:  # collinear or coincident: the spread along the principal direction
        centred = points - points.mean(axis=0)
        along = np.linalg.svd(centred, full_matrices=False)[2][0] @ centred.T
        return float(along.max() - along.min())
    return float(np.max(np.linalg.norm(points[:, None] - points[None], axis=-1)))


def frequencies(times: np.ndarray) -> np.ndarray:
    """The analysed frequency grid (Hz): ``F_MIN`` (or 1 / duration) to ``F_MAX`` (or half the median
    sampling rate), in steps of ``1 / (OVERSAMPLE * duration)`` but at least ``DF_MIN``."""
    duration = times[-1] - times[0] if len(times) > 1 else 0.0
    if duration <= 0:
        return np.zeros(0)
    top = min(F_MAX, 0.5 / np.median(np.diff(times)))
    return np.arange(max(F_MIN, 1 / duration), top + 1e-12, max(1 / (OVERSAMPLE * duration), DF_MIN))


def periodogram(times: np.ndarray, values: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """Lomb-Scargle power of ``(N, D)`` samples at uneven ``times``, summed over the D components:
    ``2 P / N`` of :func:`scipy.signal.lombscargle` (floating mean), about ``A² / 2`` (the variance)
    for a sinusoid of amplitude ``A``. NaN everywhere with fewer than 4 samples."""
    if len(times) < 4 or not len(freqs):
        return np.full(len(freqs), np.nan)
    omega = 2 * np.pi * freqs
    return sum(2 / len(times) * lombscargle(times, v - v.mean(), omega, floating_mean=True) for v in values.T)


def band_shares(freqs: np.ndarray, power: np.ndarray) -> dict[str, float]:
    """Share of the analysed power in each band of :data:`BANDS` (lower edge included)."""
    total = np.sum(power)
    return {name: float(np.sum(power[(freqs >= low) & (freqs < high)]) / total) if total > 0 else np.nan
            for name, (low, high) in BANDS.items()}


def dominant_frequency(freqs: np.ndarray, power: np.ndarray) -> float:
    """Frequency of the highest peak (Hz); NaN without a spectrum."""
    return float(freqs[np.argmax(power)]) if len(power) and not np.isnan(power).all() else np.nan


def sample_entropy(segments: list[np.ndarray], m: int = SAMPEN_M, r: float = 0.2) -> float:
    """Sample entropy ``-ln(A / B)`` (Richman and Moorman 2000) of a signal cut into ``segments``
    (templates never span two): ``B`` counts pairs of length-``m`` templates within Chebyshev
    distance ``r``, ``A`` of length ``m + 1``, over the same ``N - m`` templates of each segment.
    NaN when either count is 0."""
    matches = np.zeros(2)
    for signal in segments:
        if len(signal) < m + 2:
            continue
        templates = np.lib.stride_tricks.sliding_window_view(signal, m + 1)
        matches += _pairs_within(templates, m, r)
    return float(-np.log(matches[1] / matches[0])) if matches.all() else np.nan


def _pairs_within(templates: np.ndarray, m: int, r: float, chunk: int = 512) -> np.ndarray:
    """Pairs ``i < j`` of the ``(N, m + 1)`` templates within ``r`` on the first ``m`` values and on
    all ``m + 1``, counted in row chunks (memory ``chunk * N``)."""
    counts = np.zeros(2)
    n = len(templates)
    for first in range(0, n, chunk):
        rows = templates[first:first + chunk]
        distance = np.abs(rows[:, None, 0] - templates[None, :, 0])
        for column in range(1, m):
            np.maximum(distance, np.abs(rows[:, None, column] - templates[None, :, column]), out=distance)
        later = np.arange(n)[None, :] > np.arange(first, first + len(rows))[:, None]
        close = (distance <= r) & later
        counts[0] += close.sum()
        counts[1] += (close & (np.abs(rows[:, None, m] - templates[None, :, m]) <= r)).sum()
    return counts


def runs(start: np.ndarray, end: np.ndarray) -> list[slice]:
    """Slices of consecutive steps that chain (one step's end is the next one's start)."""
    cuts = np.flatnonzero(end[:-1] != start[1:]) + 1
    edges = np.concatenate([[0], cuts, [len(start)]])
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def keypoint_features(track: np.ndarray, times: np.ndarray, scale: np.ndarray,
                      max_gap: float) -> dict[str, tuple[float, float]]:
    """``{feature: (value, missing_share)}`` of one keypoint's ``(T, 2)`` pixel track."""
    frames = len(times)
    present = ~np.isnan(track).any(axis=1)
    velocity, start, end = velocities(track, times, scale, max_gap)
    speed = np.linalg.norm(velocity, axis=1)
    acc, triples = accelerations(track, times, scale, max_gap)
    moving = unused_share(frames, np.concatenate([start, end]))
    out: dict[str, tuple[float, float]] = {}
    for name, values, share in (("speed", speed, moving), ("acceleration", acc, unused_share(frames, triples))):
        stats = (np.mean(values), np.median(values), np.percentile(values, 95)) if len(values) else (np.nan,) * 3
        out.update({f"{name}_{stat}": (float(v), share) for stat, v in zip(("mean", "median", "p95"), stats)})
    duration = np.sum(times[end] - times[start])
    path = np.sum(speed * (times[end] - times[start]))
    out["quantity_of_motion"] = (float(path / duration) if duration > 0 else np.nan, moving)
    out["speed_cv"] = (float(np.std(speed) / np.mean(speed)) if len(speed) > 1 and np.mean(speed) > 0
                       else np.nan, moving)
    tolerance = SAMPEN_R * np.std(speed) if len(speed) else 0.0
    out["sample_entropy"] = (sample_entropy([speed[s] for s in runs(start, end)], SAMPEN_M, tolerance)
                             if tolerance > 0 else np.nan, moving)
    points = centred(track, scale)[present] if present.any() else np.zeros((0, 2))
    absent = 1 - present.mean()
    out.update(hull_area=(hull_area(points), absent), ellipse_area=(ellipse_area(points), absent),
               extent=(extent(points), absent))
    freqs = frequencies(times[present])
    power = periodogram(times[present], points, freqs)
    shares = band_shares(freqs, power) if not np.isnan(power).all() else dict.fromkeys(BANDS, np.nan)
    out.update({name: (value, absent) for name, value in shares.items()})
    out["dominant_frequency"] = (dominant_frequency(freqs, power), absent)
    return out


def body_axes(keypoints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors ``(along, across)`` of the body: ``along`` from mid-hip to Head (median over the
    video), image up where no frame has them; ``across`` perpendicular to it."""
    mid_hip = (keypoints[:, INDEX["Hip_L"]] + keypoints[:, INDEX["Hip_R"]]) / 2
    axis = keypoints[:, INDEX["Head"]] - mid_hip
    axis = axis[~np.isnan(axis).any(axis=1)]
    length = np.linalg.norm(np.median(axis, axis=0)) if len(axis) else 0.0
    along = np.median(axis, axis=0) / length if length > 0 else np.array([0.0, -1.0])
    return along, np.array([-along[1], along[0]])


def vector_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of ``(M, 2)`` vectors pooled over both components (each centred):
    +1 when ``b = c a`` (c > 0), -1 when ``c < 0``; NaN below 3 pairs or without variance."""
    if len(a) < 3:
        return np.nan
    a, b = a - a.mean(axis=0), b - b.mean(axis=0)
    norm = np.sqrt(np.sum(a * a) * np.sum(b * b))
    return float(np.sum(a * b) / norm) if norm > 0 else np.nan


def pair_correlation(left: np.ndarray, right: np.ndarray, times: np.ndarray, scale: np.ndarray,
                     max_gap: float, axes: tuple[np.ndarray, np.ndarray]) -> tuple[float, float]:
    """Left-right velocity correlation of two homologous ``(T, 2)`` tracks and its missing share: the
    right velocity is mirrored across the body's long axis (``axes``), so mirror-symmetric movement
    gives +1 and opposite movement -1. Steps are those where both are present."""
    both = np.where((np.isnan(left) | np.isnan(right)).any(axis=1)[:, None], np.nan, 1.0)
    v_left, start, end = velocities(left * both, times, scale, max_gap)
    v_right, _, _ = velocities(right * both, times, scale, max_gap)
    along, across = axes
    mirrored = np.outer(v_right @ along, along) - np.outer(v_right @ across, across)
    return vector_correlation(v_left, mirrored), unused_share(len(times), np.concatenate([start, end]))


def video_features(keypoints: np.ndarray, times: np.ndarray, max_gap: float) -> pd.DataFrame:
    """Tidy features of one video (columns :data:`COLUMNS`): ``level`` keypoint (all 22), region
    (mean of its keypoints' values and missing shares, facial keypoints have none) and pair (left-right
    correlation of the non-facial homologous keypoints). A region's value ignores keypoints without one."""
    keypoints = np.asarray(keypoints, dtype=float)
    times = np.asarray(times, dtype=float)
    if keypoints.ndim != 3 or keypoints.shape[1:] != (len(LABELS), 2) or times.shape != keypoints.shape[:1]:
        raise ValueError(f"expected keypoints (T, 22, 2) and times (T,), got {keypoints.shape} and {times.shape}")
    if (np.diff(times) <= 0).any():
        raise ValueError("times must increase strictly")
    scale = scale_per_frame(keypoints)
    rows = []
    for k, label in enumerate(LABELS):
        for feature, (value, share) in keypoint_features(keypoints[:, k], times, scale, max_gap).items():
            rows.append(("keypoint", label, feature, value, share))
    table = pd.DataFrame(rows, columns=COLUMNS)
    keyed = table.assign(region=table["part"].map(REGION_OF)).dropna(subset=["region"])
    regions = (keyed.groupby(["region", "feature"], sort=False)[["value", "missing_share"]].mean()
               .reindex(pd.MultiIndex.from_product([list(REGIONS), list(dict.fromkeys(table["feature"]))]))
               .rename_axis(["part", "feature"]).reset_index().assign(level="region"))
    axes = body_axes(keypoints)
    pairs = [("pair", f"{left}-{right}", "velocity_correlation",
              *pair_correlation(keypoints[:, INDEX[left]], keypoints[:, INDEX[right]], times, scale, max_gap, axes))
             for left, right in PAIRS]
    return pd.concat([table, regions[COLUMNS], pd.DataFrame(pairs, columns=COLUMNS)], ignore_index=True)


def limb_spectrum(keypoints: np.ndarray, times: np.ndarray, label: str) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies (Hz) and Lomb-Scargle power (``S²``) of one keypoint's centred positions, as
    :func:`keypoint_features` computes them (for plots)."""
    scale = scale_per_frame(keypoints)
    track = keypoints[:, INDEX[label]]
    present = ~np.isnan(track).any(axis=1)
    freqs = frequencies(times[present])
    return freqs, periodogram(times[present], centred(track, scale)[present], freqs)
