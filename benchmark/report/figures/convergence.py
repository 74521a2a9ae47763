"""Figures of training: the training curves of the loss grid, and how long each arm trained until it
converged (:func:`benchmark.report.figure_data.learning_curves`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import lines as mpl_lines
from matplotlib.ticker import MaxNLocator

from benchmark.report.figure_data import learning_curves
from benchmark.report.figures.panels import legend_entries, loss_facets, loss_table_experiments
from benchmark.report.figures.registry import Figure, new_figure, register_figure
from benchmark.report.results import Result, Results

@register_figure("training_curves", "Training curves per model and loss", needs=loss_table_experiments)
def training_curves(experiments: list[Result], results: Results, folder: Path, figure: Figure) -> Figure:

    def draw(axes, e: Result, colour):
        history = e.history
        axes[0].plot(history["epoch"], history["loss"], marker=".", color=colour, label=e.config["model"])
        axes[0].set_yscale("log")
        axes[0].set_ylabel("training loss (log)")
        if "val_pck@0.1" in history:
            axes[1].plot(history["epoch"], history["val_pck@0.1"], marker=".", color=colour,
                         label=e.config["model"])
        axes[1].set_ylabel("validation PCKsh@0.1")
        axes[1].set_xlabel("epoch")
        axes[1].xaxis.set_major_locator(MaxNLocator(integer=True))

    fig = loss_facets(experiments, draw, figure.title, rows=2)
    caption = ("Training loss (each loss has its own scale) and validation PCKsh@0.1 after every epoch, "
               "with the experiment's decoder.")
    return figure.saved(fig, folder, caption)


@register_figure("convergence", "How long each arm trained: Valid PCKsh@0.1 against epochs and against seconds",
                 needs=learning_curves)
def convergence(curves: pd.DataFrame, results: Results, folder: Path, figure: Figure) -> Figure:
    models = list(dict.fromkeys(curves["model"]))
    arms = curves["arm"].nunique()
    colours = dict(zip(dict.fromkeys(curves["arm"]), sns.color_palette("colorblind" if arms <= 10 else "husl", arms)))
    fig = new_figure(4.2 * len(models), 6.2, figure.title)
    axes = np.asarray(fig.subplots(2, len(models), squeeze=False, sharey=True))
    for column, model in enumerate(models):
        for arm, curve in curves[curves["model"] == model].groupby("arm", sort=False):
            for ax, x in zip(axes[:, column], ("epoch", "seconds")):
                ax.plot(curve[x], curve["pck"], color=colours[arm], label=arm, linewidth=1.2)
                ax.plot(curve[x].iloc[-1:], curve["pck"].iloc[-1:], linestyle="none", color=colours[arm],
                        marker="o" if curve["converged"].iloc[-1] else "x", markersize=7)
        axes[0, column].set_title(f"model: {model}")
        axes[0, column].set_xscale("log", base=2)
        axes[0, column].set_xlabel("epoch")
        axes[1, column].set_xlabel("training seconds")
    for ax in axes[:, 0]:
        ax.set_ylabel("Valid PCKsh@0.1")
    handles, labels = legend_entries(axes)
    handles += [mpl_lines.Line2D([], [], color="black", marker=m, linestyle="none") for m in "ox"]
    fig.legend(handles, labels + ["converged: stopped", "not converged"], loc="outside lower center",
               ncols=min(4, len(labels) + 2))
    caption = ("Every trained arm's Valid PCKsh@0.1 after each epoch (its configured decoder), against epochs "
               "(log scale: each doubling of the budget is one step) and against the seconds its epochs took. "
               "Training doubles its epochs until the convergence test passes (docs/EVIDENCE.md): a dot marks "
               "where an arm stopped because it had converged, a cross where it stopped without (at max_epochs).")
    return figure.saved(fig, folder, caption)

