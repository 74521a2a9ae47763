"""The study's tables: one registered function per table, ``TABLES[name](results) -> Table``.

A table holds numbers (``Table.data``, rows and columns as pandas MultiIndexes); :func:`display`
turns them into the strings that the Markdown, LaTeX and HTML renderings show. Tables compared with
the publication stack three rows per setting: ``ours``, ``published`` and ``difference`` (ours minus
published). Columns split into ``valid`` and ``test`` are shown as "valid/test" cells, as printed in
the publication. Adding a table is one function decorated with ``@register("name")``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from benchmark.movement.robustness import robustness_table
from benchmark.report.results import Result, Results, published, showcase
from benchmark.study.keypoints import DISPLAY_NAMES, LABELS, REGIONS, subset_indices
from benchmark.study.metrics import BETAS, distances, evaluate, per_region
from benchmark.study.smoothness import POLYORDER, WINDOW, by_region, compare_sources, jitter_table

NOT_RUN = "not run yet"
SOURCES = ("ours", "published", "difference")
SPLITS = {"valid": "Valid", "test": "Test"}           # published split -> our split folder
METRICS = {f"pck@{b:g}": f"PCK@{b:g}" for b in BETAS} | {"mks": "mKS"}
SHORT = {"pck@0.1": "PCK@0.1", "pck@0.04": "PCK@0.04", "mks": "mKS"}  # decoder and truth tables
EPOCH = ("epoch time (s)", "")
ERROR = "error (px)"
NAMES = {"model": "model", "loss": "loss", "train_face": "train face", "eval_face": "valid face",
         "facial_keypoints": "facial keypoints"}
OCCLUSION = ("train_face", "eval_face", "facial_keypoints")
ACCELERATION = "acceleration (1e-3 S/frame²)"
RESIDUAL = "residual (S)"
FORMATS = {EPOCH[0]: ".1f", ERROR: ".2f", "files": ".0f", ACCELERATION: ".2f",
           "prediction / annotation": ".2f", "annotator noise": ".0%"}  # every other number: ".3f"


@dataclass
class Table:
    """A titled table; ``data`` is None and ``note`` says why when there is nothing to show."""

    name: str
    title: str
    caption: str = ""
    data: pd.DataFrame | None = None
    note: str = ""


TABLES: dict[str, Callable[[Results], Table]] = {}


def register(name: str):
    """Decorator adding a table function to :data:`TABLES` under ``name``."""
    def add(function: Callable[[Results], Table]) -> Callable[[Results], Table]:
        TABLES[name] = function
        return function
    return add


# --- building blocks ---------------------------------------------------------------------------

def _frame(rows: dict[tuple, dict], names: list[str]) -> pd.DataFrame:
    """Rows keyed by tuples, cells keyed by column tuples -> a frame with MultiIndex rows and columns."""
    frame = pd.DataFrame(list(rows.values()), index=pd.MultiIndex.from_tuples(list(rows), names=names))
    if any(isinstance(c, tuple) for c in frame.columns):
        frame.columns = pd.MultiIndex.from_tuples(frame.columns)
    return frame.astype(float)


def _valid_test(scores: Callable[[str], dict | None]) -> dict:
    """``{(metric, split): value}`` for every metric of the loss and occlusion tables."""
    return {(title, split): (scores(folder) or {}).get(metric, np.nan)
            for metric, title in METRICS.items() for split, folder in SPLITS.items()}


def _published_valid_test(name: str, keys: list[str]) -> dict[tuple, dict]:
    """A published table with one row per split, pivoted to ``{setting: {(metric, split): value}}``."""
    rows: dict[tuple, dict] = {}
    for record in published(name).to_dict("records"):
        row = rows.setdefault(tuple(record[k] for k in keys), {})
        row.update({(title, record["split"]): record[metric] for metric, title in METRICS.items()})
        row[EPOCH] = record.get("epoch_time_s", np.nan)
    return rows


def _compare(ours: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Three rows per setting of ``ours``: ours, published (NaN where unpublished), difference."""
    reference = reference.reindex(index=ours.index, columns=ours.columns)
    stacked = pd.concat([ours, reference, ours - reference], keys=SOURCES, names=["source"])
    order = [(*key, source) for key in ours.index for source in SOURCES]
    return stacked.reorder_levels([*range(1, ours.index.nlevels + 1), 0]).reindex(order)


def _settings(experiments: list[Result], field_name: str) -> str:
    return ", ".join(sorted({str(e.config[field_name]) for e in experiments}))


def _mean_error(pred: np.ndarray, reference: np.ndarray, subset: str) -> float:
    """Mean Euclidean distance in image pixels over the scored keypoints."""
    d = distances(pred, reference)[:, subset_indices(subset)]
    d = d[np.isfinite(d)]
    return float(d.mean()) if d.size else np.nan


def labelled_truth(arrays: dict) -> np.ndarray:
    """The exact truth where an annotation exists: keypoints outside the picture were never
    labelled, so scoring them would measure visibility, not annotation noise."""
    return np.where(np.isnan(arrays["annotation"]), np.nan, arrays["truth"])


def _ordered(results: Results) -> list[Result]:
    """Every finished experiment, grouped as in the manifest (loss, occlusion, then others)."""
    groups = sorted({e.group for e in results.experiments}, key=lambda g: (g not in ("loss", "occlusion"), g))
    return [e for g in groups for e in results.group(g)]


# --- the study's tables ------------------------------------------------------------------------

def _comparison(results: Results, name: str, title: str, group: str, keys: tuple[str, ...],
                published_keys: list[str]) -> Table:
    """The loss and occlusion tables: valid/test metrics and epoch time beside the publication."""
    experiments = results.group(group)
    if not experiments:
        return Table(name, title, note=NOT_RUN)
    ours = _frame({e.setting: _valid_test(e.scores) | {EPOCH: e.summary.get("epoch_time_s", np.nan)}
                   for e in experiments}, [NAMES[k] for k in keys])
    reference = _frame(_published_valid_test(name, published_keys), [NAMES[k] for k in keys])
    caption = (f"PCKsh@beta and mKS of the {_settings(experiments, 'decoder')} decoder on the "
               f"{_settings(experiments, 'eval_subset')} keypoints; cells are valid/test. Epoch time: "
               "median seconds per training epoch (ours on our device, published on the authors' GPU). "
               "Per setting: ours, the published value, and the difference ours - published.")
    return Table(name, title, caption, _compare(ours, reference))


@register("loss")
def loss_table(results: Results) -> Table:
    return _comparison(results, "loss", "Models and loss functions", "loss", ("model", "loss"),
                       ["model", "loss"])


@register("occlusion")
def occlusion_table(results: Results) -> Table:
    return _comparison(results, "occlusion", "Face occlusion", "occlusion", OCCLUSION,
                       ["train_face", "valid_face", "facial_keypoints"])


@register("per_region")
def per_region_table(results: Results) -> Table:
    title = "PCKsh@0.1 per body region (test split)"
    experiments = results.group("occlusion")
    if not experiments:
        return Table("per_region", title, note=NOT_RUN)
    rows = {}
    for e in experiments:
        _, arrays = e.arrays("Test")
        regions = per_region(arrays["prediction"], arrays["annotation"], beta=0.1)["pck"]
        rows[e.setting] = dict(regions) | {"avg": (e.scores("Test") or {}).get("pck@0.1", np.nan)}
    names = [NAMES[k] for k in OCCLUSION]
    reference = published("per_region").rename(columns={r.lower(): r for r in REGIONS})
    reference = reference.set_index(["train_face", "valid_face", "facial_keypoints"])[[*REGIONS, "avg"]]
    reference.index.names = names
    caption = ("PCKsh@0.1 on the test split per body region, left and right pooled; avg is over the "
               f"{_settings(experiments, 'eval_subset')} keypoints ({_settings(experiments, 'decoder')} "
               "decoder). Per setting: ours, published, and the difference ours - published.")
    return Table("per_region", title, caption, _compare(_frame(rows, names), reference))


@register("decoder")
def decoder_table(results: Results) -> Table:
    title = "Decoders (test split)"
    experiments = _ordered(results)
    if not experiments:
        return Table("decoder", title, note=NOT_RUN)
    decoders = list(dict.fromkeys(d for e in experiments for d in e.summary["metrics"]))
    rows = {(e.group, e.label): {(decoder, t): (e.scores("Test", decoder) or {}).get(m, np.nan)
                                 for decoder in decoders for m, t in SHORT.items()}
            for e in experiments}
    caption = ("The same trained models decoded by each decoder: PCKsh and mKS on the test split, "
               f"{_settings(experiments, 'eval_subset')} keypoints, against the annotation.")
    return Table("decoder", title, caption, _frame(rows, ["group", "setting"]))


@register("truth")
def truth_table(results: Results) -> Table:
    title = "Annotation noise: error against the annotation and against the exact truth (test split)"
    experiments = _ordered(results)
    if not experiments:
        return Table("truth", title, note=NOT_RUN)
    if not results.synthetic:
        return Table("truth", title, note="real data has no exact truth: this table needs synthetic data")
    rows = {}
    first = experiments[0]
    _, arrays = first.arrays("Test")
    subset = first.config["eval_subset"]
    truth = labelled_truth(arrays)
    noise = evaluate(arrays["annotation"], truth, subset)
    rows[("annotation", "the annotations themselves")] = (
        {("vs truth", t): noise[m] for m, t in SHORT.items()}
        | {("vs truth", ERROR): _mean_error(arrays["annotation"], truth, subset)})
    for e in experiments:
        _, arrays = e.arrays("Test")
        arrays = arrays | {"truth": labelled_truth(arrays)}
        row = {}
        for column, reference in (("vs annotation", "annotation"), ("vs truth", "truth")):
            scores = e.scores("Test", reference=reference) or {}
            row |= {(column, t): scores.get(m, np.nan) for m, t in SHORT.items()}
            row[(column, ERROR)] = _mean_error(arrays["prediction"], arrays[reference], e.config["eval_subset"])
        rows[(e.group, e.label)] = row
    caption = ("Each model's test predictions scored against the noisy annotation and against the "
               "exact synthetic truth; the first row scores the annotations themselves against the "
               "truth, the ceiling that annotation noise puts on any model. error: mean distance in "
               f"image pixels; {subset} keypoints.")
    frame = _frame(rows, ["group", "setting"])
    return Table("truth", title, caption, frame[[c for c in frame.columns if c[0] == "vs annotation"]
                                                + [c for c in frame.columns if c[0] == "vs truth"]])


def _smoothness(results: Results, name: str, title: str, per_keypoint: bool) -> Table:
    """Jitter of the annotation, the prediction and the truth of the showcase experiment's test
    videos, side by side (:func:`benchmark.study.smoothness.compare_sources`)."""
    e = showcase(results)
    if e is None:
        return Table(name, title, note=NOT_RUN)
    table = jitter_table(e.rows("Test"))
    table["acceleration"] *= 1000  # the unit shown: 1e-3 S / frame²
    if per_keypoint:
        scored = [LABELS[i] for i in subset_indices(e.config["eval_subset"])]
        wide = compare_sources(table[table["keypoint"].isin(scored)], "keypoint").rename(index=DISPLAY_NAMES)
    else:
        wide = compare_sources(by_region(table), "region")
    wide = wide.rename(columns={"acceleration": ACCELERATION, "residual": RESIDUAL}, level=0)
    caption = (f"{e.label} ({e.decoder} decoder), averaged over the test videos. Acceleration: mean "
               "magnitude of the second derivative over consecutive labelled frames (frame gaps taken "
               f"into account); residual: RMS distance to a Savitzky-Golay smoothing (window {WINDOW} "
               f"labelled frames, order {POLYORDER}); both in units of the annotation's reference "
               "scale S. prediction / annotation below 1: the model is smoother than the labels. "
               "annotator noise: 1 - truth / annotation, the share of the annotation's jitter that "
               "the true motion does not have (synthetic data only). A prediction smoother than the "
               "truth itself follows the real motion too little, rather than removing noise.")
    return Table(name, title, caption, wide)


@register("smoothness")
def smoothness_table(results: Results) -> Table:
    return _smoothness(results, "smoothness", "Temporal smoothness per body region (test split)", False)


@register("smoothness_keypoint")
def smoothness_keypoint_table(results: Results) -> Table:
    return _smoothness(results, "smoothness_keypoint", "Temporal smoothness per keypoint (test split)", True)


@register("audit")
def audit_table(results: Results) -> Table:
    """The privacy audit (``python -m benchmark audit``) of the dataset, from the run stage's snapshot."""
    title = "Privacy audit of the dataset"
    if results.dataset is None:
        return Table("audit", title, note=NOT_RUN)
    root, rows = results.dataset["root"], results.dataset["audit"]["rows"]
    rows = rows or [{"severity": "none", "check": "-", "files": 0, "example": "clean"}]
    caption = ("Findings per severity and check; run `python -m benchmark audit ROOT` for the list. "
               "Synthetic faces are drawn visible on purpose (the occluded experiments mosaic them at "
               "load time), so 'face' findings are expected there; on real data any high finding "
               "must be fixed (`python -m benchmark scrub`) before sharing.")
    frame = pd.DataFrame(rows).assign(dataset=root).set_index(["dataset", "severity", "check"])
    return Table("audit", title, caption, frame[["files", "example"]])


@register("movement")
def movement_table(results: Results) -> Table:
    """How pose error propagates into the movement features (:mod:`benchmark.movement.robustness`)."""
    title = "Movement features computed from each source: error against the exact truth (test split)"
    experiments = [e for e in results.group("loss") if e.config["loss"] == "kce"] or results.experiments
    if not experiments:
        return Table("movement", title, note=NOT_RUN)
    timing = results.timing
    if timing is None:
        return Table("movement", title, note="needs synthetic data (exact truth and the videos' frame rate)")
    parts = []
    for i, e in enumerate(experiments):
        table = robustness_table(e.rows("Test"), timing["fps"], timing["frame_step"])
        table = table[table["source"] != "annotation"] if i else table  # the annotation once
        names = {"prediction": e.config["model"], "prediction_oneeuro": f"{e.config['model']} + One Euro",
                 "prediction_savgol": f"{e.config['model']} + Savitzky-Golay"}
        parts.append(table.assign(source=table["source"].replace(names)))
    long = pd.concat(parts, ignore_index=True)
    if long.empty:
        return Table("movement", title, note="no video long enough for the movement features")
    wide = long.pivot_table(index=["feature", "error_kind"], columns="source", sort=False,
                            values=["error", "ci_low", "ci_high"])
    wide = wide.swaplevel(axis=1).reindex(columns=[(s, v) for s in long["source"].unique()
                                                   for v in ("error", "ci_low", "ci_high")])
    wide = wide.rename(columns={"ci_low": "95% lo", "ci_high": "95% hi"}, level=1)
    caption = (f"Movement features (docs/MOVEMENT.md) of each test video computed from the noisy annotation, "
               f"each KCE model's predictions, and those predictions after the One Euro and Savitzky-Golay "
               f"filters, each compared with the same features of the exact truth: relative error for features "
               f"on a ratio scale, absolute error for band shares and correlations; mean over "
               f"{int(long['videos'].max())} test videos with a 95 % bootstrap interval over videos. Lower is "
               "better: a feature whose error stays small under a model's pose error can be trusted from it.")
    return Table("movement", title, caption, wide)


def problems_table(results: Results) -> Table:
    """Failed, interrupted or unreadable experiments (never aggregated into the other tables)."""
    title = "Experiments not included"
    if not results.problems:
        return Table("problems", title, note="none: every experiment folder finished")
    frame = pd.DataFrame([{"experiment": p.id, "status": p.status, "error": p.error} for p in results.problems])
    return Table("problems", title, "Folders without a usable COMPLETE.json.", frame.set_index("experiment"))


# --- display -----------------------------------------------------------------------------------

def _cell(value, spec: str, signed: bool) -> str:
    if isinstance(value, str):
        return value
    if value is None or not np.isfinite(value):
        return "–"
    return format(value, ("+" if signed else "") + spec)


def display(table: Table) -> pd.DataFrame:
    """The table as strings: numbers formatted (differences signed, missing as "–"), and each
    valid/test column pair merged into one "valid/test" column."""
    data = table.data
    signed = (data.index.get_level_values("source") == "difference" if "source" in data.index.names
              else np.zeros(len(data), dtype=bool))
    cells = {}
    for column in data.columns:
        parts = column if isinstance(column, tuple) else (column,)
        spec = next((FORMATS[p] for p in reversed(parts) if p in FORMATS), ".3f")  # innermost wins
        cells[column] = [_cell(v, spec, s) for v, s in zip(data[column], signed)]
    frame = pd.DataFrame(cells, index=data.index)
    if isinstance(data.columns, pd.MultiIndex) and set(data.columns.get_level_values(1)) <= {"valid", "test", ""}:
        merged = {}
        for metric in dict.fromkeys(data.columns.get_level_values(0)):
            part = frame[metric]  # a Series for a column without split ("" is dropped by pandas)
            merged[metric] = part["valid"] + "/" + part["test"] if isinstance(part, pd.DataFrame) else part
        frame = pd.DataFrame(merged, index=data.index)
    return frame
