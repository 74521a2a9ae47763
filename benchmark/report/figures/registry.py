"""The figure registry and the style every figure is drawn in.

A figure function writes ``<folder>/<name>.png`` and returns its :class:`Figure`: title and caption,
or a note saying why it was skipped (no results yet, no images). Plots use matplotlib's object API
(no pyplot state, no display needed) with seaborn.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import seaborn as sns
from matplotlib import figure as mpl
from matplotlib import rc_context
from PIL import Image

from benchmark.common.registry import register
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


def register_figure(name: str, title: str):
    """Decorator adding ``draw(results, folder, figure) -> Figure`` to :data:`FIGURES` as
    ``(results, folder) -> Figure``: ``figure`` is ``Figure(name, title)`` for ``draw`` to fill in, and
    it draws in the report's seaborn style without changing matplotlib's global settings."""
    def add(draw: Callable[[Results, Path, Figure], Figure]) -> Callable[[Results, Path], Figure]:
        @functools.wraps(draw)
        def styled(results: Results, folder: Path) -> Figure:
            with rc_context(STYLE):
                return draw(results, folder, Figure(name, title))
        return register(FIGURES, "figure", styled, name)
    return add


def new_figure(width: float, height: float) -> mpl.Figure:
    """An empty figure of ``width`` x ``height`` inches, laid out to fit its legends and titles."""
    return mpl.Figure(figsize=(width, height), layout="constrained")
