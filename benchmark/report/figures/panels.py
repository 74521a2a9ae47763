"""Panels several figures share: one column per loss, and one legend for many axes."""

from __future__ import annotations

import numpy as np
import seaborn as sns
from matplotlib import figure as mpl

from benchmark.report.figures.registry import new_figure
from benchmark.report.results import Result, Results
from benchmark.study.losses import LOSSES


def loss_table_experiments(results: Results) -> list[Result]:
    """The experiments of the loss table, which :func:`loss_facets` draws."""
    return results.group("loss")


def loss_facets(experiments: list[Result], draw, title: str, width: float = 4.2, height: float = 3.2,
                rows: int = 1) -> mpl.Figure:
    """One column per loss, one line per model: ``draw(axes_column, experiment, colour)``; titled ``title``."""
    losses = list(dict.fromkeys(e.config["loss"] for e in experiments))
    models = list(dict.fromkeys(e.config["model"] for e in experiments))
    colours = dict(zip(models, sns.color_palette("colorblind", len(models))))
    fig = new_figure(width * len(losses), height * rows, title)
    axes = np.asarray(fig.subplots(rows, len(losses), squeeze=False, sharex=True))
    for column, loss in enumerate(losses):
        for e in experiments:
            if e.config["loss"] == loss:
                draw(axes[:, column], e, colours[e.config["model"]])
        axes[0, column].set_title(f"loss: {LOSSES[loss].title if loss in LOSSES else loss}")
    fig.legend(*legend_entries(axes), loc="outside lower center", ncols=len(models), title="model")
    return fig


def legend_entries(axes) -> tuple[list, list]:
    """Legend entries of all axes, each label once."""
    entries = {}
    for ax in np.ravel(axes):
        for handle, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    return list(entries.values()), list(entries)

