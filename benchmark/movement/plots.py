"""Figures of the movement features (matplotlib's object API: no pyplot state, no display).

Per video: the trajectories of the four limb end points over time, their spectra with the bands
marked, and a summary panel of the main features per region (the report's robustness figure is
:func:`benchmark.movement.robustness.robustness_figure`). Each function returns
a :class:`matplotlib.figure.Figure` drawn in seaborn's whitegrid style without touching global
settings.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import rc_context
from matplotlib.figure import Figure

from benchmark.movement.features import BANDS, UNITS, centred, limb_spectrum, scale_per_frame
from benchmark.movement.trajectories import Trajectories
from benchmark.study.keypoints import DISPLAY_NAMES, INDEX, REGION_OF, REGIONS

END_POINTS = ("Wrist_L", "Wrist_R", "Ankle_L", "Ankle_R")
SUMMARY_FEATURES = ("speed_median", "speed_p95", "quantity_of_motion", "hull_area",
                    "high_band_share", "sample_entropy")
STYLE = {**sns.axes_style("whitegrid"), **sns.plotting_context("notebook", font_scale=0.9)}
BAND_COLOURS = dict(zip(BANDS, ("#d9e8f5", "#fde0c5")))


def styled(function):
    """Draw ``function``'s figure in :data:`STYLE` without changing matplotlib's global settings."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs) -> Figure:
        with rc_context(STYLE):
            return function(*args, **kwargs)
    return wrapper


@styled
def trajectory_figure(video: Trajectories) -> Figure:
    """x and y of the wrists and ankles over time, about each one's median position, in ``S``;
    missing samples leave gaps."""
    scale = scale_per_frame(video.keypoints)
    fig = Figure(figsize=(9, 7), layout="constrained")
    axes = fig.subplots(len(END_POINTS), 1, sharex=True, sharey=True)
    for ax, label in zip(axes, END_POINTS):
        track = video.keypoints[:, INDEX[label]]
        position = centred(track, scale) if not np.isnan(track).all() else np.full_like(track, np.nan)
        ax.plot(video.times, position[:, 0], label="x", color="#1f77b4", linewidth=1)
        ax.plot(video.times, position[:, 1], label="y", color="#d62728", linewidth=1)
        ax.set_ylabel(f"{DISPLAY_NAMES[label]}\n(S)")
    axes[0].legend(loc="upper right", ncols=2)
    axes[-1].set_xlabel("time (s)")
    fig.suptitle(f"{video.name}: limb end points about their median position")
    return fig


@styled
def spectrum_figure(video: Trajectories) -> Figure:
    """Lomb-Scargle spectra of the wrists' and ankles' positions with the bands of
    :data:`benchmark.movement.features.BANDS` shaded and each dominant frequency marked."""
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.subplots()
    colours = sns.color_palette("colorblind", len(END_POINTS))
    top = 0.0
    for label, colour in zip(END_POINTS, colours):
        freqs, power = limb_spectrum(video.keypoints, video.times, label)
        if not len(power) or np.isnan(power).all():
            continue
        ax.plot(freqs, power, color=colour, label=DISPLAY_NAMES[label], linewidth=1.2)
        peak = np.argmax(power)
        ax.plot(freqs[peak], power[peak], "v", color=colour)
        top = max(top, freqs[-1])
    for name, (low, high) in BANDS.items():
        ax.axvspan(low, min(high, top) if top else high, color=BAND_COLOURS[name], zorder=0,
                   label=f"{name.split('_')[0]} band {low:g}-{high:g} Hz")
    ax.set(xlabel="frequency (Hz)", ylabel="power (S²)", title=f"{video.name}: spectrum of limb positions")
    ax.legend(fontsize="small")
    return fig


def _bars(ax, labels: list[str], values: np.ndarray, colour: str) -> None:
    """Horizontal bars, first label on top; a NaN value is written "n/a" instead of a bar."""
    positions = np.arange(len(labels))
    ax.barh(positions, np.nan_to_num(values), color=colour)
    for position in positions[np.isnan(values)]:
        ax.text(0, position, " n/a", va="center", fontsize="small", color="grey")
    ax.set_yticks(positions, labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)


@styled
def summary_figure(features: pd.DataFrame, name: str = "") -> Figure:
    """Bars per body region of :data:`SUMMARY_FEATURES` and the left-right velocity correlations
    of one video's features (:func:`benchmark.movement.features.video_features`)."""
    regions = features[features["level"] == "region"]
    pairs = features[features["level"] == "pair"]
    fig = Figure(figsize=(13, 7), layout="constrained")
    axes = fig.subplots(2, 4).ravel()
    order = list(REGIONS)
    for ax, feature in zip(axes, SUMMARY_FEATURES):
        values = regions[regions["feature"] == feature].set_index("part")["value"].reindex(order)
        _bars(ax, order, values.to_numpy(float), "#4c72b0")
        ax.set(title=feature.replace("_", " "), xlabel="" if UNITS[feature] == "1" else UNITS[feature])
    ax = axes[len(SUMMARY_FEATURES)]
    _bars(ax, [REGION_OF[part.split("-")[0]] for part in pairs["part"]], pairs["value"].to_numpy(float), "#55a868")
    ax.set(title="left-right velocity correlation", xlim=(-1, 1))
    missing = regions.groupby("part", sort=False)["missing_share"].max().reindex(order)
    _bars(axes[-1], order, missing.to_numpy(float), "#c44e52")
    axes[-1].set(title="missing share (worst feature)", xlim=(0, 1))
    fig.suptitle(f"{name}: movement features per region" if name else "movement features per region")
    return fig
