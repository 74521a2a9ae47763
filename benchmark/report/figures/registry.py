"""The figure registry and the style every figure is drawn in.

A figure function writes ``<folder>/<name>.png`` and returns its :class:`Figure`: title and caption,
or a note saying why it was skipped (no results yet, no images). Plots use matplotlib's object API
(no pyplot state, no display needed) with seaborn.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sized
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import seaborn as sns
from matplotlib import figure as mpl
from matplotlib import rc_context
from PIL import Image

from benchmark.common.registry import register
from benchmark.report.evidence_table import NOT_RUN, Table
from benchmark.report.results import Results

DPI = 110
STYLE = {**sns.axes_style("whitegrid"), **sns.plotting_context("notebook")}


@dataclass
class Figure:
    """A figure of the report; ``path`` (relative to the report) is None when ``note`` says why not."""

    name: str
    title: str
    caption: str = ""
    path: str | None = None
    note: str = ""

    def saved(self, drawing: mpl.Figure | np.ndarray, folder: Path, caption: str) -> Figure:
        """This figure with ``drawing`` (a matplotlib figure, or an RGB image) written to
        ``<folder>/<name>.png``."""
        path = folder / f"{self.name}.png"
        if isinstance(drawing, np.ndarray):
            Image.fromarray(drawing).save(path)
        else:
            drawing.savefig(path, dpi=DPI)
        return replace(self, caption=caption, path=f"{folder.name}/{path.name}")


FIGURES: dict[str, Callable[[Results, Path], Figure]] = {}  # the report's figures: name -> (results, folder) -> Figure


def register_figure(name: str, title: str, needs: Callable[[Results], Any]):
    """Decorator adding ``draw(needed, results, folder, figure) -> Figure`` to :data:`FIGURES` as
    ``(results, folder) -> Figure``. ``needs(results)`` is what the figure draws: when it is nothing
    (None, empty, or a table without data) the figure is skipped with the report's "not run" note (a
    table's own note); otherwise ``draw`` gets it, and ``figure``, ``Figure(name, title)`` to fill in,
    and draws in the report's seaborn style without changing matplotlib's global settings."""
    def add(draw: Callable[[Any, Results, Path, Figure], Figure]) -> Callable[[Results, Path], Figure]:
        @functools.wraps(draw)
        def styled(results: Results, folder: Path) -> Figure:
            needed = needs(results)
            if isinstance(needed, Table) and needed.data is None:
                return Figure(name, title, note=needed.note)
            if needed is None or isinstance(needed, Sized) and not len(needed):
                return Figure(name, title, note=NOT_RUN)
            with rc_context(STYLE):
                return draw(needed, results, folder, Figure(name, title))
        return register(FIGURES, "figure", styled, name)
    return add


def new_figure(width: float, height: float, title: str | None = None) -> mpl.Figure:
    """An empty figure of ``width`` x ``height`` inches titled ``title``, laid out to fit its legends
    and titles."""
    fig = mpl.Figure(figsize=(width, height), layout="constrained")
    if title:
        fig.suptitle(title)
    return fig
