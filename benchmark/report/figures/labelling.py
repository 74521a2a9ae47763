"""The labelling loop's figure: Test PCK@0.1 against labelled frames, per strategy
(:func:`benchmark.report.figure_data.labelling_points`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import seaborn as sns

from benchmark.labelling.select import STRATEGIES
from benchmark.report.figure_data import labelling_points
from benchmark.report.figures.registry import Figure, new_figure, register_figure
from benchmark.report.results import Results

STRATEGY_COLOURS = dict(zip(STRATEGIES, sns.color_palette("colorblind", len(STRATEGIES))))


@register_figure("labelling_curves", "The labelling loop: Test PCK@0.1 against labelled frames, per strategy",
                 needs=labelling_points)
def labelling_curves(points: pd.DataFrame, results: Results, folder: Path, figure: Figure) -> Figure:
    fig = new_figure(7, 4.5, figure.title)
    ax = fig.subplots()
    for strategy, part in points.groupby("strategy", sort=False):
        colour = STRATEGY_COLOURS.get(strategy, "0.3")
        ax.plot(part["labelled_frames"], part["pck"], marker="o", color=colour, label=strategy,
                linestyle="--" if strategy == "random" else "-")
        ax.fill_between(part["labelled_frames"], part["low"], part["high"], color=colour, alpha=0.15, linewidth=0)
        rising = part[part["converged"].eq(False)]  # a retrain stopped at its cap while still rising
        ax.plot(rising["labelled_frames"], rising["pck"], linestyle="none", marker="o", markersize=9,
                markerfacecolor="white", markeredgecolor=colour, zorder=3)
    for e in results.group("reference"):
        chance = (e.scores("Test") or {}).get("pck@0.1")
        if chance is not None:
            ax.axhline(chance, color="black", linestyle=":", label=f"chance level ({e.config['model']})")
    ax.set_xlabel("labelled Train frames")
    ax.set_ylabel("Test PCKsh@0.1")
    ax.set_xticks(sorted(points["labelled_frames"].unique()))
    ax.legend(title="strategy", loc="best")
    caption = ("Each strategy's simulated labelling loop (benchmark/labelling/simulate.py, docs/LABELLING.md): the "
               "start videos' frames, then each round the frames the strategy picks from the other Train videos, "
               "labelled from the exact truth plus the synthetic annotator's noise; every round retrains from "
               "scratch with the same recipe and steps, doubled while Valid says it has not converged (every "
               "round, or with converge: last only the last; an open circle: not converged at the cap). "
               "Bands: 95 % video-bootstrap intervals over the Test videos; random (dashed) is the control; "
               "dotted: the chance level, the Train split's mean pose in every frame. The claims compare the "
               "strategies at the last round, paired over the same videos.")
    return figure.saved(fig, folder, caption)

