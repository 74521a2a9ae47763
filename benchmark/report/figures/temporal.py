"""Figures over time: keypoint trajectories, temporal jitter, and movement features under pose error."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import seaborn as sns

from benchmark.movement.robustness import robustness_figure, robustness_table
from benchmark.report.figures.panels import legend_entries
from benchmark.report.figures.registry import Figure, new_figure, register_figure
from benchmark.report.results import Result, Results, showcase
from benchmark.study.keypoints import DISPLAY_NAMES, INDEX, LABELS
from benchmark.study.smoothness import POLYORDER, WINDOW, jitter_table, video_trajectories

SOURCE_STYLE = {  # trajectory source -> line style
    "annotation": {"marker": "o", "linestyle": "", "markersize": 4, "color": "#1f77b4"},
    "prediction": {"marker": ".", "linestyle": "-", "linewidth": 1.2, "color": "#d62728"},
    "truth": {"linestyle": "--", "linewidth": 1.2, "color": "#2ca02c"},
}


SOURCE_COLOURS = {s: style["color"] for s, style in SOURCE_STYLE.items()}


TRAJECTORY_KEYPOINTS = ("Hip_R", "Wrist_R")


@register_figure("trajectories", "Keypoint trajectories over time", needs=showcase)
def trajectories(e: Result, results: Results, folder: Path, figure: Figure) -> Figure:
    tracks = video_trajectories(e.rows("Test"))
    video = max(tracks, key=lambda v: len(tracks[v][0]))
    frames, arrays = tracks[video]
    fig = new_figure(11, 3 * len(TRAJECTORY_KEYPOINTS))
    axes = fig.subplots(len(TRAJECTORY_KEYPOINTS), 2, sharex=True)
    for row, keypoint in zip(axes, TRAJECTORY_KEYPOINTS):
        for axis, ax in enumerate(row):
            for source, points in arrays.items():
                if not np.isnan(points).all():
                    ax.plot(frames, points[:, INDEX[keypoint], axis], label=source, **SOURCE_STYLE[source])
            ax.set_title(f"{DISPLAY_NAMES[keypoint]}: {'xy'[axis]}")
            ax.set_ylabel(f"{'xy'[axis]} (image pixels)")
    for ax in axes[-1]:
        ax.set_xlabel("frame index")
    fig.legend(*legend_entries(axes), loc="outside lower center", ncols=3)
    fig.suptitle(f"{figure.title}: test video {video}, {e.label}, {e.decoder} decoder")
    caption = ("Image coordinates of two keypoints over one test video: the annotation, the prediction "
               "and, on synthetic data, the exact truth.")
    return figure.saved(fig, folder, caption)


@register_figure("jitter", "Temporal jitter per keypoint (test split)", needs=showcase)
def jitter(e: Result, results: Results, folder: Path, figure: Figure) -> Figure:
    table = jitter_table(e.rows("Test"))
    table["keypoint"] = table["keypoint"].map(DISPLAY_NAMES)
    order = [DISPLAY_NAMES[k] for k in LABELS]
    fig = new_figure(13, 7)
    axes = fig.subplots(2, 1, sharex=True)
    for ax, measure, label in ((axes[0], "acceleration", "mean |acceleration| (S / frame²)"),
                               (axes[1], "residual", "RMS residual to smoothing (S)")):
        sns.barplot(table, x="keypoint", y=measure, hue="source", order=order, palette=SOURCE_COLOURS, ax=ax)
        ax.get_legend().remove()
        ax.set_ylabel(label)
        if table[measure].isna().all():
            ax.text(0.5, 0.5, "no video long enough for this measure", transform=ax.transAxes,
                    ha="center", va="center", color="0.4")
    axes[1].set_xlabel("")
    axes[1].tick_params(axis="x", labelrotation=60)
    fig.legend(*legend_entries(axes[:1]), loc="outside lower center", ncols=3)
    fig.suptitle(f"{figure.title}: {e.label}, {e.decoder} decoder")
    caption = ("Top: mean magnitude of the second derivative over consecutive labelled frames, divided by "
               "the squared frame gap and the reference scale S. Bottom: RMS distance to a Savitzky-Golay "
               f"smoothing (window {WINDOW} labelled frames, order {POLYORDER}). Averaged over test "
               "videos; benchmark/study/smoothness.py documents the formulas.")
    return figure.saved(fig, folder, caption)


@register_figure("movement_robustness", "Movement features under pose error (test split)", needs=showcase)
def movement_robustness(e: Result, results: Results, folder: Path, figure: Figure) -> Figure:
    timing = results.timing
    if timing is None:
        return replace(figure, note="skipped: needs synthetic data (exact truth and the videos' frame rate)")
    table = robustness_table(e.rows("Test"), timing["fps"], timing["frame_step"])
    if table.empty:
        return replace(figure, note="skipped: no video long enough for the movement features")
    fig = robustness_figure(table)
    fig.suptitle(f"{figure.title}: {e.label}, {e.decoder} decoder")
    caption = ("Error of each movement feature against the exact truth, computed from the annotation, the "
               "prediction and the filtered predictions; mean over test videos with a 95 % bootstrap interval. "
               "The movement table gives the numbers for every model with the recommended loss.")
    return figure.saved(fig, folder, caption)

