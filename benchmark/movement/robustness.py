"""How pose error propagates into the movement features, on synthetic data with exact truth.

For one experiment's ``predictions.csv`` rows of a split and decoder, every video's features are
computed from five sources: the exact ``truth``, the noisy ``annotation``, the model's
``prediction``, and the prediction smoothed by the One Euro and Savitzky-Golay filters
(:mod:`benchmark.apply.filters`, at the real times ``frame / fps``). Each source uses its own reference
scale ``S``, as a pipeline without truth would. The error of a feature in a video is

- relative, ``|f_source - f_truth| / |f_truth|``, for features on a ratio scale (speeds, areas,
  frequencies, variability);
- absolute, ``|f_source - f_truth|``, for bounded ones that may be near 0 (band shares, correlations),

averaged over the body regions (or the left-right pairs), then summarised per feature and source
as the mean over videos with a seeded percentile bootstrap 95 % interval over videos
(:func:`robustness_table`), drawn by :func:`robustness_figure`.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from benchmark.apply.filters import oneeuro, savgol
from benchmark.movement.features import UNITS, video_features
from benchmark.movement.plots import styled
from benchmark.movement.trajectories import sequences
from benchmark.study.bootstrap import interval, mean_cell

ABSOLUTE = ("low_band_share", "high_band_share", "velocity_correlation")  # bounded: absolute error
FILTERS = {"oneeuro": (oneeuro, {}), "savgol": (savgol, {"window": 5, "polyorder": 2})}
SOURCES = ("annotation", "prediction", "prediction_oneeuro", "prediction_savgol")  # compared with truth
BOOTSTRAP = 1000  # resamples of the robustness intervals


def source_features(rows: pd.DataFrame, fps: float, frame_step: int,
                    filters: dict[str, tuple] | None = None) -> pd.DataFrame:
    """Tidy features (video, source, level, part, feature, value, missing_share) of every video of
    ``rows`` (one split, one decoder) from truth, annotation, prediction and the filtered
    predictions. ``filters``: ``{name: (function, parameters)}``, default :data:`FILTERS` (savgol
    over 5 labelled frames: 1 s when every 5th frame of a 25 fps video is labelled)."""
    if rows["split"].nunique() > 1:
        raise ValueError(f"predictions rows of several splits ({', '.join(map(str, rows['split'].unique()))}); "
                         "choose one")
    tables = []
    by_source = {source: sequences(rows, source, fps, frame_step) for source in ("truth", "annotation", "prediction")}
    for name, (function, params) in (filters or FILTERS).items():
        by_source[f"prediction_{name}"] = [replace(video, keypoints=function(video.keypoints, video.times, **params))
                                           for video in by_source["prediction"]]
    for source, videos in by_source.items():
        for video in videos:
            if np.isnan(video.keypoints).all():
                continue  # no truth on real data
            tables.append(video_features(video.keypoints, video.times, video.max_gap)
                          .assign(video=video.name, source=source))
    columns = ["video", "source", "level", "part", "feature", "value", "missing_share"]
    return pd.concat(tables, ignore_index=True)[columns] if tables else pd.DataFrame(columns=columns)


def feature_errors(features: pd.DataFrame) -> pd.DataFrame:
    """Per video, source and feature: the error against ``truth`` (relative or absolute, see the
    module docstring) averaged over the regions, or over the pairs for the correlation. Columns:
    video, source, feature, error_kind, error."""
    parts = features[features["level"].isin(["region", "pair"])]
    truth = parts[parts["source"] == "truth"].set_index(["video", "level", "part", "feature"])["value"]
    other = parts[parts["source"] != "truth"].join(truth.rename("truth"), on=["video", "level", "part", "feature"])
    absolute = other["feature"].isin(ABSOLUTE)
    difference = (other["value"] - other["truth"]).abs()
    with np.errstate(divide="ignore", invalid="ignore"):
        error = np.where(absolute, difference, difference / other["truth"].abs())
    other = other.assign(error=np.where(np.isfinite(error), error, np.nan),
                         error_kind=np.where(absolute, "absolute", "relative"))
    return (other.groupby(["video", "source", "feature", "error_kind"], sort=False)["error"].mean()
            .reset_index())


def bootstrap_interval(values: np.ndarray, resamples: int = BOOTSTRAP, seed: int = 0,
                       level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (one per video): the study's video
    bootstrap (:func:`benchmark.study.bootstrap.interval`); NaN values are dropped first, NaN bounds
    below 2 values."""
    values = np.asarray(values, dtype=float)
    if np.count_nonzero(~np.isnan(values)) < 2:
        return np.nan, np.nan
    found = interval(mean_cell(values), resamples, seed, level)
    return found.low, found.high


def summarise(errors: pd.DataFrame, resamples: int = BOOTSTRAP, seed: int = 0) -> pd.DataFrame:
    """Per feature and source: mean error over videos, its bootstrap 95 % interval and the number of
    videos (columns feature, unit, source, error_kind, error, ci_low, ci_high, videos); features
    in :data:`UNITS` order, sources in :data:`SOURCES` order."""
    rows = []
    for (feature, source, kind), group in errors.groupby(["feature", "source", "error_kind"], sort=False):
        values = group["error"].dropna().to_numpy()
        low, high = bootstrap_interval(values, resamples, seed)
        rows.append({"feature": feature, "unit": UNITS[feature], "source": source, "error_kind": kind,
                     "error": float(values.mean()) if len(values) else np.nan,
                     "ci_low": low, "ci_high": high, "videos": len(values)})
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    order = {f: i for i, f in enumerate(UNITS)} | {s: i for i, s in enumerate(SOURCES)}
    return table.sort_values(["feature", "source"], key=lambda c: c.map(order)).reset_index(drop=True)


def robustness_table(rows: pd.DataFrame, fps: float, frame_step: int, filters: dict[str, tuple] | None = None,
                     resamples: int = BOOTSTRAP, seed: int = 0) -> pd.DataFrame:
    """The report's table: :func:`summarise` of :func:`feature_errors` of :func:`source_features`
    for ``rows`` (one split, one decoder; e.g. ``Experiment.rows("Test")``) of a video labelled every
    ``frame_step`` frames at ``fps``. Empty without truth."""
    features = source_features(rows, fps, frame_step, filters)
    if "truth" not in set(features["source"]):
        return pd.DataFrame(columns=["feature", "unit", "source", "error_kind", "error", "ci_low", "ci_high",
                                     "videos"])
    return summarise(feature_errors(features), resamples, seed)


@styled
def robustness_figure(table: pd.DataFrame) -> Figure:
    """Mean error of each feature per source with its 95 % interval
    (:func:`benchmark.movement.robustness.robustness_table`): one panel per kind of error."""
    kinds = list(dict.fromkeys(table["error_kind"]))
    sources = list(dict.fromkeys(table["source"]))
    colours = dict(zip(sources, sns.color_palette("colorblind", len(sources))))
    features = {kind: list(dict.fromkeys(table.loc[table["error_kind"] == kind, "feature"])) for kind in kinds}
    fig = Figure(figsize=(10, 1.0 + 0.32 * sum(len(f) for f in features.values()) * 1.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(kinds), 1, squeeze=False,
                                      height_ratios=[len(features[k]) for k in kinds]).ravel())
    offsets = np.linspace(-0.3, 0.3, len(sources)) if len(sources) > 1 else np.zeros(1)
    for ax, kind in zip(axes, kinds):
        part = table[table["error_kind"] == kind]
        rows = {feature: i for i, feature in enumerate(features[kind])}
        for offset, source in zip(offsets, sources):
            chosen = part[part["source"] == source]
            y = chosen["feature"].map(rows).to_numpy(float) + offset
            low = (chosen["error"] - chosen["ci_low"]).clip(lower=0)
            high = (chosen["ci_high"] - chosen["error"]).clip(lower=0)
            ax.errorbar(chosen["error"], y, xerr=[low, high], fmt="o", color=colours[source], label=source,
                        markersize=4, capsize=2)
        ax.set_yticks(range(len(rows)), list(rows))
        ax.invert_yaxis()
        if kind == "relative":  # from a few per cent (speeds) to many times (sample entropy)
            ax.set_xscale("symlog", linthresh=0.01, linscale=0.5)
        ax.set_xlim(left=0)
        ax.set_xlabel(f"{kind} error against the exact truth (mean over videos, 95 % CI)")
    axes[0].legend(fontsize="small")
    return fig
