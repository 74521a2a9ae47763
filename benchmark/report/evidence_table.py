"""A report table and its evidence, and the building blocks that fill one from results.

A :class:`Table` holds numbers (``data``, rows and columns as pandas MultiIndexes) and their
evidence: the 95 % video-bootstrap interval of each of our numbers (``low``, ``high``;
:mod:`benchmark.evidence`), the spread between training seeds (``spread``), how many seeds each row
has (``seeds``) and which rows come from an experiment that had not converged (``stalled``). The
experiments of one setting that differ only in their seed are one row: their mean, the interval
resampling the same videos for every seed. Tables compared with the publication stack three rows
per setting: ``ours``, ``published`` and ``difference`` (ours minus published, with our interval
shifted by the published value). How a table is shown is :mod:`benchmark.report.formatting`'s job.

Adding a table is one function decorated with ``@register_table("name", "title")`` in
:mod:`benchmark.report.tables` or :mod:`benchmark.report.verdicts`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from benchmark.common.registry import register
from benchmark.evidence import Cell, Interval, interval, metric_cell, video_sums
from benchmark.report.results import Result, Results

NOT_RUN = "not run yet"
SOURCES = ("ours", "published", "difference")
STALLED = "†"
STALLED_NOTE = (f"{STALLED} not converged: the second half of (a seed of) this experiment's training, the same "
                "learning-rate schedule over the same steps again, still raised its validation PCK@0.1 clearly "
                "(docs/EVIDENCE.md), so its numbers understate the setting.")


@dataclass
class Table:
    """A titled table; ``data`` is None and ``note`` says why when there is nothing to show. The
    evidence fields, where given, are aligned with ``data`` (see the module docstring)."""

    name: str
    title: str
    caption: str = ""
    data: pd.DataFrame | None = None
    note: str = ""
    low: pd.DataFrame | None = None     # 95 % interval of each number (NaN: none)
    high: pd.DataFrame | None = None
    spread: pd.DataFrame | None = None  # SD between the seeds' values (NaN: one seed)
    seeds: pd.Series | None = None      # seeds behind each row (0: not a trained result)
    stalled: pd.Series | None = None    # rows drawn from an experiment that had not converged
    # How the HTML shows it (formatting.html): compact, one line per row, each cell clipped to its
    # column with its full text on hover; ``short`` shortens a column's text (the CSV keeps it whole);
    # ``folds``: one folded block per first-level row label, this summary beside the label.
    compact: bool = False
    short: dict[str, Callable[[str], str]] | None = None
    folds: dict[str, str] | None = None


TABLES: dict[str, Callable[[Results], Table]] = {}  # the report's tables: name -> results -> Table


def register_table(name: str, title: str):
    """Decorator adding ``build(results, table) -> Table`` to :data:`TABLES` as ``results -> Table``:
    ``table`` is ``Table(name, title)`` for ``build`` to fill in."""
    def add(build: Callable[[Results, Table], Table]) -> Callable[[Results], Table]:
        @functools.wraps(build)
        def built(results: Results) -> Table:
            return build(results, Table(name, title))
        return register(TABLES, "table", built, name)
    return add


def frame_of(rows: dict[tuple, dict], names: list[str]) -> pd.DataFrame:
    """Rows keyed by tuples, cells keyed by column tuples -> a frame with MultiIndex rows and columns."""
    frame = pd.DataFrame(list(rows.values()), index=pd.MultiIndex.from_tuples(list(rows), names=names))
    if any(isinstance(c, tuple) for c in frame.columns):
        frame.columns = pd.MultiIndex.from_tuples(frame.columns)
    return frame.astype(float)


def mean_of(rows: list[dict]) -> dict:
    """The mean over seeds of each number (missing ones skipped)."""
    return pd.DataFrame(rows).mean().to_dict()


def by_setting(experiments: list[Result]) -> dict[tuple, list[Result]]:
    """The experiments of each ``(group, setting)``, in order: the setting's seeds."""
    settings: dict[tuple, list[Result]] = {}
    for e in experiments:
        settings.setdefault((e.group, e.setting), []).append(e)
    return settings


def tagged(cell: Cell, e: Result) -> Cell:
    """A one-seed cell labelled with its experiment's seed and id."""
    return replace(cell, seeds=(e.config.get("seed", 0),), experiments=(e.id,))


def bootstrap(cells: list[Cell]) -> Interval | None:
    """The interval of the seeds' cells of one number (None when no video contributes)."""
    cells = [c for c in cells if (c.den > 0).any()]
    return interval(Cell.stack(cells)) if cells else None


def split_arrays(e: Result, split: str, decoder: str | None = None):
    """``(videos, arrays)`` of a split (``keypoint_arrays``), or None when it has no predictions."""
    if e.rows(split, decoder).empty:
        return None
    index, arrays = e.arrays(split, decoder)
    return index.get_level_values("video"), arrays


def labelled_truth(arrays: dict) -> np.ndarray:
    """The exact truth where an annotation exists: keypoints outside the picture were never
    labelled, so scoring them would measure visibility, not annotation noise."""
    return np.where(np.isnan(arrays["annotation"]), np.nan, arrays["truth"])


def metric_cells(e: Result, split: str, metrics, decoder: str | None = None,
                 reference: str = "annotation") -> dict[str, Cell]:
    """One cell per metric of an experiment's split, scored against the annotation or the truth."""
    found = split_arrays(e, split, decoder)
    if found is None:
        return {}
    videos, arrays = found
    labels = arrays["annotation"] if reference == "annotation" else labelled_truth(arrays)
    sums = video_sums(arrays["prediction"], labels, videos, e.config["eval_subset"])
    return {m: tagged(metric_cell(sums, m), e) for m in metrics}


def settings_text(experiments: list[Result], field_name: str) -> str:
    """The distinct values of one setting over ``experiments``, for a caption."""
    return ", ".join(sorted({str(e.config.get(field_name, "–")) for e in experiments}))


def _stalled(experiments: list[Result]) -> bool:
    """Whether any of the experiments had not converged (a result whose test could not run is not)."""
    return any(e.convergence.converged() is False for e in experiments)


def _field(data: pd.DataFrame, intervals: dict[tuple, dict], value: Callable[[Interval], float]) -> pd.DataFrame:
    """One number of each interval (e.g. its low end), placed in ``data``'s cells."""
    out = np.full(data.shape, np.nan)
    for row, cells in intervals.items():
        for column, found in cells.items():
            if found is not None:
                out[data.index.get_loc(row), data.columns.get_loc(column)] = value(found)
    return pd.DataFrame(out, index=data.index, columns=data.columns)


def _stack(ours: pd.DataFrame, reference: pd.DataFrame, difference: pd.DataFrame) -> pd.DataFrame:
    """Three rows per setting of ``ours``: ours, published, difference."""
    stacked = pd.concat([ours, reference, difference], keys=SOURCES, names=["source"])
    order = [(*key, source) for key in ours.index for source in SOURCES]
    return stacked.reorder_levels([*range(1, ours.index.nlevels + 1), 0]).reindex(order)


def evidence_table(table: Table, caption: str, data: pd.DataFrame, intervals: dict[tuple, dict],
                   members: dict[tuple, list[Result]], reference: pd.DataFrame | None = None) -> Table:
    """``table`` with ``data`` and its evidence: ``intervals`` ``{row: {column: Interval}}`` and
    ``members`` (the experiments behind each row) for the rows of ``data``; with ``reference``, three
    rows per setting."""
    low, high = _field(data, intervals, lambda i: i.low), _field(data, intervals, lambda i: i.high)
    spread = _field(data, intervals, lambda i: i.seed_spread[2])
    seeds = pd.Series([len(members.get(row, [])) for row in data.index], index=data.index)
    stalled = pd.Series([_stalled(members.get(row, [])) for row in data.index], index=data.index)
    if reference is not None:
        reference = reference.reindex(index=data.index, columns=data.columns)
        none = reference * np.nan
        data, low, high, spread = (_stack(data, reference, data - reference), _stack(low, none, low - reference),
                                   _stack(high, none, high - reference), _stack(spread, none, spread))
        ours = data.index.get_level_values("source") == "ours"
        seeds = pd.Series(np.where(ours, seeds.reindex(data.index.droplevel("source")), 0), index=data.index)
        stalled = pd.Series(ours & stalled.reindex(data.index.droplevel("source")).to_numpy(), index=data.index)
    if stalled.any():
        caption = f"{caption} {STALLED_NOTE}"
    return replace(table, caption=caption, data=data, low=low, high=high, spread=spread, seeds=seeds,
                   stalled=stalled)
