"""Where the claims get their numbers: a small data-access protocol and its adapter for results.

A :class:`StatsSource` answers one question: for the experiments matching a *selector* (a mapping of
experiment settings, e.g. ``{group: loss, model: resunet, loss: kce}``), on one split and decoder,
what are the per-video sufficient statistics of a metric? Several matching experiments that differ
only in ``seed`` are seeds of one setting (one :class:`~.bootstrap.Cell` row each).

Metrics (:func:`parse_metric`):

- ``pck@<beta>``, ``mks``: pooled over the experiment's ``eval_subset`` keypoints, against the
  annotation (:func:`benchmark.study.metrics.frame_sums` per video);
- ``jitter:<Region>`` (a region of :data:`benchmark.study.keypoints.REGIONS`): the ratio of the
  prediction's to the annotation's acceleration jitter (:func:`benchmark.study.smoothness.
  acceleration_jitter`, both scaled by the annotation's ``S``). Per video, a region's jitter is the
  mean over its keypoints; the ratio is ``sum over videos of prediction jitter / sum of annotation
  jitter`` (a ratio of means over videos). Videos where either is undefined are left out.
- ``oks_ap``, ``oks_ap50``, ``oks_ap75``, ``oks_ar``, ``oks_ar50``, ``oks_ar75``: COCO's keypoint AP
  and AR over the ``eval_subset`` keypoints (:mod:`benchmark.study.oks`), with the sigmas the
  experiment's evaluation recorded (``oks_sigmas``; the defaults where none); an
  :class:`~.oks_cell.OKSCell`, resampled through the same video counts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

import numpy as np
import pandas as pd

from benchmark.study.bootstrap import Cell, video_sums
from benchmark.study.convergence import Convergence
from benchmark.evidence.oks_cell import oks_cell, oks_frames
from benchmark.study.keypoints import INDEX, REGIONS
from benchmark.study.metrics import BETAS, reference_scale
from benchmark.study.oks import STATISTICS
from benchmark.study.smoothness import acceleration_jitter, keypoint_arrays, video_trajectories

METRIC_PATTERN = re.compile(rf"^(?:pck@(?P<beta>\d*\.?\d+)|mks|jitter:(?P<region>\w+)"
                            rf"|oks_(?P<oks>{'|'.join(STATISTICS)}))$")
SEED_FIELDS = ("seed", "id")  # may differ between the experiments of one selector


def parse_metric(name: str) -> tuple[str, Any]:
    """``("pck", beta)``, ``("mks", None)``, ``("jitter", region)`` or ``("oks", statistic)``; ValueError
    names the choices."""
    match = METRIC_PATTERN.match(name)
    if not match or match["region"] and match["region"] not in REGIONS or match["beta"] and float(match["beta"]) <= 0:
        raise ValueError(f"unknown metric {name!r} (allowed: pck@<beta>, mks, "
                         f"jitter:<region> with region one of {', '.join(REGIONS)}, "
                         f"{', '.join(f'oks_{s}' for s in STATISTICS)})")
    if match["beta"]:
        return "pck", float(match["beta"])
    if match["oks"]:
        return "oks", match["oks"]
    return ("jitter", match["region"]) if match["region"] else ("mks", None)


class StatsSource(Protocol):
    def cell(self, selector: Mapping[str, Any], split: str, metric: str, decoder: str | None) -> Cell:
        """Per-video sums of ``metric`` for the experiments matching ``selector`` (one row per seed);
        ``decoder`` None means each experiment's configured decoder. LookupError when none match."""

    def convergence(self, experiment: str) -> Convergence:
        """The convergence test of one experiment (by id, as the cells name it)."""

    def best_decoder(self, selector: Mapping[str, Any], metric: str) -> str:
        """The decoder the experiments matching ``selector`` score best with on Valid by ``metric``."""


Predictions = pd.DataFrame | Callable[[], pd.DataFrame]


class PredictionsSource:
    """A :class:`StatsSource` over finished experiments given as ``(config, predictions)`` or
    ``(config, predictions, convergence)`` tuples.

    ``config``: the experiment's settings (``metrics.json``'s ``config``), plus ``group`` and ``id``
    for selectors and verdict rows, e.g. ``{"group": e.group, "id": e.id, **e.config}``.
    ``predictions``: its ``predictions.csv`` rows, or a function returning them (read on first use).
    ``convergence``: its :class:`~.convergence.Convergence` (None: untested), which the claims'
    preconditions read (:meth:`convergence`). ``oks_sigmas``: experiment id -> the OKS sigmas its
    evaluation recorded (an experiment not named: the defaults). ``not_run``: ``(config, reason)`` of
    experiments that were planned but not run, so a selector that finds none of the finished ones says
    why (``LookupError``: the comparison is not run).
    """

    def __init__(self, experiments: Iterable[tuple],
                 oks_sigmas: Mapping[str, Mapping[str, float] | None] | None = None,
                 not_run: Iterable[tuple[Mapping, str]] = ()):
        self._sigmas = dict(oks_sigmas or {})
        self._not_run = list(not_run)
        self.configs: list[dict] = []
        self._predictions: list[Predictions] = []
        self._convergence: dict[str, Convergence | None] = {}
        for item in experiments:
            config, predictions, convergence = (*item, None) if len(item) == 2 else item
            self.configs.append(dict(config))
            self._predictions.append(predictions)
            self._convergence[self.id(len(self.configs) - 1)] = convergence
        self._cache: dict[tuple, pd.DataFrame] = {}

    def convergence(self, experiment: str) -> Convergence:
        """The convergence test of an experiment (untested when none was given)."""
        return self._convergence.get(experiment) or Convergence(untested="no training record was given")

    def best_decoder(self, selector: Mapping[str, Any], metric: str, split: str = "Valid") -> str:
        """The decoder with the highest ``metric`` on ``split`` (mean over the seeds of ``selector``), the
        first of equals in the order the predictions list them; LookupError when none has predictions."""
        found = self._finished(selector)
        rows = self._rows(found[0], split, None)
        decoders = list(dict.fromkeys(rows["decoder"])) if "decoder" in rows else []
        if not decoders:
            raise LookupError(f"{self.id(found[0])} has no {split} predictions to choose a decoder on")
        return max(decoders, key=lambda d: np.nan_to_num(self.cell(selector, split, metric, d).value, nan=-1.0))

    def id(self, i: int) -> str:
        return str(self.configs[i].get("id", f"experiment {i}"))

    def matching(self, selector: Mapping[str, Any]) -> list[int]:
        """Indices of the experiments whose config has every value of ``selector`` (compared as text);
        ValueError when they differ in a setting other than the seed: the selector is ambiguous, a
        mistake in the claims rather than missing evidence."""
        found = [i for i, config in enumerate(self.configs) if _matches(config, selector)]
        first = self.configs[found[0]] if found else {}
        differing = sorted({k for i in found for k in self.configs[i]
                            if k not in SEED_FIELDS and str(self.configs[i].get(k)) != str(first.get(k))})
        if differing:
            raise ValueError(f"selector {dict(selector)} matches experiments that differ in {', '.join(differing)}, "
                             f"not only in seed: {', '.join(self.id(i) for i in found)}")
        return found

    def _finished(self, selector: Mapping[str, Any]) -> list[int]:
        """:meth:`matching`, or LookupError saying why nothing matches: not run (and why), or not there."""
        found = self.matching(selector)
        if not found:
            why = [f"{config.get('id')} was not run ({reason})" for config, reason in self._not_run
                   if _matches(config, selector)]
            raise LookupError("; ".join(why) or f"no finished experiment matches {dict(selector)}")
        return found

    def cell(self, selector: Mapping[str, Any], split: str, metric: str, decoder: str | None = None) -> Cell:
        found = self._finished(selector)
        kind, detail = parse_metric(metric)
        cells = []
        for i in found:
            sums = self._sums(i, split, decoder or self.configs[i].get("decoder", "wa"), kind, detail)
            if kind == "oks":
                cells.append(oks_cell(sums, detail, self.configs[i].get("seed", 0), self.id(i)))
                continue
            if kind == "jitter":
                num, den = sums[f"prediction:{detail}"], sums[f"annotation:{detail}"]
            else:
                num, den = sums[metric], sums["n"]
            cells.append(Cell(sums.index.to_numpy(), num.to_numpy(), den.to_numpy(), (self.configs[i].get("seed", 0),),
                              (self.id(i),)))
        return Cell.stack(cells)

    def _rows(self, i: int, split: str, decoder: str | None) -> pd.DataFrame:
        """The prediction rows of one experiment and split, of one decoder (None: every decoder)."""
        predictions = self._predictions[i]
        if callable(predictions):
            predictions = self._predictions[i] = predictions()
        chosen = predictions["split"] == split
        return predictions[chosen & (predictions["decoder"] == decoder) if decoder else chosen]

    def _sums(self, i: int, split: str, decoder: str, kind: str, detail) -> pd.DataFrame:
        """Per-video sums of one experiment, split and decoder (cached): accuracy or jitter; for OKS
        its frames (:func:`~.oks_cell.oks_frames`)."""
        extra = detail if kind == "pck" and detail not in BETAS else None  # a beta outside BETAS
        key = (i, split, decoder, kind if kind in ("jitter", "oks") else "accuracy", extra)
        if key not in self._cache:
            rows = self._rows(i, split, decoder)
            if rows.empty:
                raise LookupError(f"{self.id(i)} has no {split} predictions decoded by {decoder}")
            if kind == "jitter":
                self._cache[key] = region_jitter(rows)
            elif kind == "oks":
                self._cache[key] = oks_frames(rows, self._sigmas.get(self.id(i)),
                                              self.configs[i].get("eval_subset", "non_facial"))
            else:
                index, arrays = keypoint_arrays(rows)
                betas = BETAS if extra is None else (*BETAS, extra)
                self._cache[key] = video_sums(arrays["prediction"], arrays["annotation"],
                                              index.get_level_values("video"),
                                              self.configs[i].get("eval_subset", "non_facial"), betas)
        return self._cache[key]


def _matches(config: Mapping[str, Any], selector: Mapping[str, Any]) -> bool:
    """Whether ``config`` has every value of ``selector`` (compared as text)."""
    return all(k in config and str(config[k]) == str(v) for k, v in selector.items())


def region_jitter(rows: pd.DataFrame) -> pd.DataFrame:
    """Per video (index) of one split and decoder: ``prediction:<Region>`` and ``annotation:<Region>``
    acceleration jitter (mean over the region's keypoints), 0 for both where either is undefined."""
    videos, jitter = [], {"prediction": [], "annotation": []}
    for video, (frames, arrays) in video_trajectories(rows).items():
        scale = reference_scale(arrays["annotation"])
        videos.append(video)
        for source, values in jitter.items():
            values.append(acceleration_jitter(arrays[source], frames, scale))
    columns = {}
    for region, names in REGIONS.items():
        means = {}
        for source, values in jitter.items():
            values = np.array(values)[:, [INDEX[k] for k in names]]
            present = ~np.isnan(values)
            with np.errstate(invalid="ignore"):
                means[source] = np.where(present, values, 0).sum(axis=1) / present.sum(axis=1)
        defined = np.isfinite(means["prediction"]) & np.isfinite(means["annotation"])
        columns.update({f"{source}:{region}": np.where(defined, m, 0.0) for source, m in means.items()})
    return pd.DataFrame(columns, index=pd.Index(videos, name="video"))
