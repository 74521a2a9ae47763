"""The study's tables: one registered function per table, ``TABLES[name](results) -> Table``.

A table holds numbers (``Table.data``, rows and columns as pandas MultiIndexes) and their evidence:
the 95 % video-bootstrap interval of each of our numbers (``low``, ``high``; :mod:`benchmark.evidence`),
the spread between training seeds (``spread``), how many seeds each row has (``seeds``) and which
rows come from an experiment that had not converged (``stalled``). The experiments of one setting
that differ only in their seed are one row: their mean, the interval resampling the same videos
for every seed. :func:`display` turns a table into the strings that the Markdown, LaTeX and HTML
renderings show (``0.274 [0.23, 0.32] ±0.01``, a dagger on a stalled row), :func:`numbers` into
the CSV (``_lo``, ``_hi`` and ``_seed_sd`` columns). Tables compared with the publication stack three
rows per setting: ``ours``, ``published`` and ``difference`` (ours minus published, with our interval
shifted by the published value). Columns split into ``valid`` and ``test`` are shown as
"valid/test" cells, as printed in the publication. Adding a table is one function decorated with
``@register("name")``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from benchmark.evidence import Cell, Interval, check, interval, mean_cell, metric_cell, pooled_cell, ratio, video_sums
from benchmark.evidence.convergence import METRIC
from benchmark.movement.robustness import robustness_table
from benchmark.report.results import Result, Results, published, showcase
from benchmark.study.keypoints import DISPLAY_NAMES, INDEX, LABELS, REGIONS, subset_indices
from benchmark.study.metrics import BETAS, correct_per_keypoint, distances, per_region
from benchmark.study.smoothness import MEASURES, POLYORDER, WINDOW, video_jitter

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
KEPT = "PCK@0.1 / Test"  # the generalisation table's share of the test accuracy a shift keeps
RESIDUAL = "residual (S)"
RATIO, NOISE = "prediction / annotation", "annotator noise"
DIFFERENCE = "a - b"
FORMATS = {EPOCH[0]: ".1f", ERROR: ".2f", "files": ".0f", ACCELERATION: ".2f", RATIO: ".2f", NOISE: ".0%", KEPT: ".0%",
           "videos": ".0f", DIFFERENCE: "+.3f"}  # every other number: ".3f"
STALLED = "†"
STALLED_NOTE = (f"{STALLED} not converged: the validation PCK of (a seed of) this experiment was still rising "
                "when training stopped (slope test, docs/EVIDENCE.md), so its numbers understate the setting.")
EXPLANATION = ("Each of our numbers is followed by its 95 % interval [low, high]: a video bootstrap (2000 "
               "resamples of the split's videos, seeded; docs/EVIDENCE.md), since frames of one video are not "
               "independent. Where a setting was trained with several seeds, the number is their mean, the "
               "interval resamples the same videos for every seed, ±x is the standard deviation between the "
               "seeds, and a 'seeds' column says how many; otherwise one seed. A difference to the published "
               f"value carries our interval shifted by it. {STALLED_NOTE} The CSV files hold the same numbers "
               "with _lo, _hi and _seed_sd columns.")


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


def _mean(rows: list[dict]) -> dict:
    """The mean over seeds of each number (missing ones skipped)."""
    return pd.DataFrame(rows).mean().to_dict()


def _by_setting(experiments: list[Result]) -> dict[tuple, list[Result]]:
    """The experiments of each ``(group, setting)``, in order: the setting's seeds."""
    settings: dict[tuple, list[Result]] = {}
    for e in experiments:
        settings.setdefault((e.group, e.setting), []).append(e)
    return settings


def _tagged(cell: Cell, e: Result) -> Cell:
    """A one-seed cell labelled with its experiment's seed and id."""
    return dataclasses.replace(cell, seeds=(e.config.get("seed", 0),), experiments=(e.id,), converged=(None,))


def _bootstrap(cells: list[Cell]) -> Interval | None:
    """The interval of the seeds' cells of one number (None when no video contributes)."""
    cells = [c for c in cells if (c.den > 0).any()]
    return interval(Cell.stack(cells)) if cells else None


def _arrays(e: Result, split: str, decoder: str | None = None):
    """``(videos, arrays)`` of a split (:func:`keypoint_arrays`), or None when it has no predictions."""
    if e.rows(split, decoder).empty:
        return None
    index, arrays = e.arrays(split, decoder)
    return index.get_level_values("video"), arrays


def _metric_cells(e: Result, split: str, metrics, decoder: str | None = None,
                  reference: str = "annotation") -> dict[str, Cell]:
    """One cell per metric of an experiment's split, scored against the annotation or the truth."""
    found = _arrays(e, split, decoder)
    if found is None:
        return {}
    videos, arrays = found
    labels = arrays["annotation"] if reference == "annotation" else labelled_truth(arrays)
    sums = video_sums(arrays["prediction"], labels, videos, e.config["eval_subset"])
    return {m: _tagged(metric_cell(sums, m), e) for m in metrics}


def _stalled(experiments: list[Result]) -> bool:
    """Whether any of the experiments had not converged (:func:`benchmark.evidence.check`; a history
    without the validation metric is untested)."""
    return any(METRIC in e.history and check(e.history).converged is False for e in experiments)


def _field(data: pd.DataFrame, intervals: dict[tuple, dict], value: Callable[[Interval], float]) -> pd.DataFrame:
    """One number of each interval (e.g. its low end), placed in ``data``'s cells."""
    out = np.full(data.shape, np.nan)
    for row, cells in intervals.items():
        for column, found in cells.items():
            if found is not None:
                out[data.index.get_loc(row), data.columns.get_loc(column)] = value(found)
    return pd.DataFrame(out, index=data.index, columns=data.columns)


def _table(name: str, title: str, caption: str, data: pd.DataFrame, intervals: dict[tuple, dict],
           members: dict[tuple, list[Result]], reference: pd.DataFrame | None = None) -> Table:
    """A table with its evidence: ``intervals`` ``{row: {column: Interval}}`` and ``members`` (the
    experiments behind each row) for the rows of ``data``; with ``reference``, three rows per setting."""
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
    return Table(name, title, caption, data, low=low, high=high, spread=spread, seeds=seeds, stalled=stalled)


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


def _stack(ours: pd.DataFrame, reference: pd.DataFrame, difference: pd.DataFrame) -> pd.DataFrame:
    """Three rows per setting of ``ours``: ours, published, difference."""
    stacked = pd.concat([ours, reference, difference], keys=SOURCES, names=["source"])
    order = [(*key, source) for key in ours.index for source in SOURCES]
    return stacked.reorder_levels([*range(1, ours.index.nlevels + 1), 0]).reindex(order)


def _settings(experiments: list[Result], field_name: str) -> str:
    return ", ".join(sorted({str(e.config[field_name]) for e in experiments}))


def _error_cell(pred: np.ndarray, reference: np.ndarray, videos, subset: str) -> Cell:
    """Mean Euclidean distance in image pixels over the scored keypoints, per video."""
    return pooled_cell(distances(pred, reference)[:, subset_indices(subset)], videos)


def labelled_truth(arrays: dict) -> np.ndarray:
    """The exact truth where an annotation exists: keypoints outside the picture were never
    labelled, so scoring them would measure visibility, not annotation noise."""
    return np.where(np.isnan(arrays["annotation"]), np.nan, arrays["truth"])


def _ordered(results: Results) -> list[Result]:
    """Every finished experiment, grouped as in the manifest (loss, occlusion, then others)."""
    groups = sorted({e.group for e in results.experiments}, key=lambda g: (g not in ("loss", "occlusion"), g))
    return [e for g in groups for e in results.group(g)]


# --- the study's tables ------------------------------------------------------------------------

def _comparison(experiments: list[Result], name: str, title: str, keys: tuple[str, ...],
                published_keys: list[str]) -> Table:
    """The loss and occlusion tables: valid/test metrics and epoch time beside the publication."""
    if not experiments:
        return Table(name, title, note=NOT_RUN)
    values, intervals, members = {}, {}, {}
    for (_, setting), seeds in _by_setting(experiments).items():
        members[setting] = seeds
        values[setting] = _mean([_valid_test(e.scores) | {EPOCH: e.summary.get("epoch_time_s", np.nan)}
                                 for e in seeds])
        cells = {split: [_metric_cells(e, folder, METRICS) for e in seeds] for split, folder in SPLITS.items()}
        intervals[setting] = {(title_, split): _bootstrap([c[metric] for c in cells[split] if metric in c])
                              for metric, title_ in METRICS.items() for split in SPLITS}
    names = [NAMES[k] for k in keys]
    reference = _frame(_published_valid_test(name, published_keys), names)
    caption = (f"PCKsh@beta and mKS of the {_settings(experiments, 'decoder')} decoder on the "
               f"{_settings(experiments, 'eval_subset')} keypoints; cells are valid/test. Epoch time: "
               "median seconds per training epoch (ours on our device, published on the authors' GPU). "
               "Per setting: ours, the published value, and the difference ours - published.")
    return _table(name, title, caption, _frame(values, names), intervals, members, reference)


# What a reader must know about a model row the publication does not have.
MODEL_NOTES = {
    "hrnet": "hrnet: HRNet (Sun et al. 2019), the field's standard top-down baseline, not in the publication.",
    "vitpose": ("vitpose: a ViTPose-style plain vision transformer (Xu et al. 2022), not in the publication, "
                "trained here from random initialisation; plain transformers are known to need pre-training "
                "(ViTPose starts from MAE ImageNet weights), so its row understates the architecture."),
}


def baseline_notes(results: Results) -> list[str]:
    """What a reader must know about each zero-shot baseline row (or why it is missing), and how it
    compares with the trained models of the loss table on the test split, said plainly."""
    notes = []
    trained = [e.scores("Test")["pck@0.1"] for e in results.group("loss") if e.scores("Test")]
    for e in results.group("baseline"):
        test, found = e.scores("Test") or {}, e.summary["detection"].get("Test", {})
        mapped = e.summary["mapped"][e.decoder].get("Test", {})
        unmapped = ", ".join(f"{k} ({why})" for k, why in e.summary["mapping"]["unmapped"].items())
        note = (f"{e.config['model']}: {e.summary['baseline']['title']}, run as published (no training on this "
                f"data; decoder: its own landmarks, mapped onto our keypoints as docs/BASELINES.md says). "
                f"Not produced: {unmapped}. It found a person in {found.get('found')} of {found.get('frames')} "
                f"test frames; the others count as wrong. Test PCK@0.1 {test.get('pck@0.1', np.nan):.3f} on the "
                f"{e.config['eval_subset']} keypoints, {mapped.get('pck@0.1', np.nan):.3f} on the "
                f"{mapped.get('keypoints')} of them it maps.")
        if trained:
            best = max(trained)
            verdict = "above every" if test.get("pck@0.1", np.nan) > best else (
                "below every" if test.get("pck@0.1", np.nan) < min(trained) else "within the range of the")
            note += (f" That is {verdict} trained model of this table (test PCK@0.1 "
                     f"{min(trained):.3f}-{best:.3f}).")
        notes.append(note)
    notes += [f"{p.id}: skipped, {p.error}." for p in results.problems if p.status == "skipped"]
    return notes


@register("loss")
def loss_table(results: Results) -> Table:
    rows = results.group("loss") + results.group("baseline")
    table = _comparison(rows, "loss", "Models and loss functions", ("model", "loss"), ["model", "loss"])
    notes = [note for model, note in MODEL_NOTES.items() if any(e.config["model"] == model for e in rows)]
    table.caption = " ".join([table.caption, *notes, *baseline_notes(results)])
    return table


@register("occlusion")
def occlusion_table(results: Results) -> Table:
    return _comparison(results.group("occlusion"), "occlusion", "Face occlusion", OCCLUSION,
                       ["train_face", "valid_face", "facial_keypoints"])


@register("per_region")
def per_region_table(results: Results) -> Table:
    title = "PCKsh@0.1 per body region (test split)"
    experiments = results.group("occlusion")
    if not experiments:
        return Table("per_region", title, note=NOT_RUN)
    values, intervals, members = {}, {}, {}
    for (group, setting), seeds in _by_setting(experiments + results.group("baseline")).items():
        if group == "baseline":  # its own row: nothing trained, evaluated with faces as configured
            setting = (f"zero-shot {seeds[0].config['model']}", seeds[0].config["eval_face"], "–")
        rows, cells = [], {}
        for e in seeds:
            videos, arrays = _arrays(e, "Test")
            regions = per_region(arrays["prediction"], arrays["annotation"], beta=0.1)["pck"]
            rows.append(dict(regions) | {"avg": (e.scores("Test") or {}).get("pck@0.1", np.nan)})
            correct = correct_per_keypoint(arrays["prediction"], arrays["annotation"], 0.1)
            for region, names in REGIONS.items():
                cells.setdefault(region, []).append(_tagged(pooled_cell(correct[:, [INDEX[k] for k in names]],
                                                                        videos), e))
            cells.setdefault("avg", []).append(_metric_cells(e, "Test", ["pck@0.1"])["pck@0.1"])
        values[setting], members[setting] = _mean(rows), seeds
        intervals[setting] = {column: _bootstrap(found) for column, found in cells.items()}
    names = [NAMES[k] for k in OCCLUSION]
    reference = published("per_region").rename(columns={r.lower(): r for r in REGIONS})
    reference = reference.set_index(["train_face", "valid_face", "facial_keypoints"])[[*REGIONS, "avg"]]
    reference.index.names = names
    caption = ("PCKsh@0.1 on the test split per body region, left and right pooled; avg is over the "
               f"{_settings(experiments, 'eval_subset')} keypoints ({_settings(experiments, 'decoder')} "
               "decoder). Per setting: ours, published, and the difference ours - published. A 'zero-shot' row "
               "is an off-the-shelf baseline run as published, not trained here (its Vertex cannot be produced).")
    return _table("per_region", title, caption, _frame(values, names), intervals, members, reference)


@register("decoder")
def decoder_table(results: Results) -> Table:
    title = "Decoders (test split)"
    experiments = [e for e in _ordered(results) if not e.baseline]  # a baseline has no heatmap to decode
    if not experiments:
        return Table("decoder", title, note=NOT_RUN)
    decoders = list(dict.fromkeys(d for e in experiments for d in e.summary["metrics"]))
    values, intervals, members = {}, {}, {}
    for (group, _), seeds in _by_setting(experiments).items():
        row = (group, seeds[0].label)
        members[row] = seeds
        values[row] = _mean([{(decoder, t): (e.scores("Test", decoder) or {}).get(m, np.nan)
                              for decoder in decoders for m, t in SHORT.items()} for e in seeds])
        cells = {decoder: [_metric_cells(e, "Test", SHORT, decoder) for e in seeds] for decoder in decoders}
        intervals[row] = {(decoder, t): _bootstrap([c[m] for c in cells[decoder] if m in c])
                          for decoder in decoders for m, t in SHORT.items()}
    caption = ("The same trained models decoded by each decoder: PCKsh and mKS on the test split, "
               f"{_settings(experiments, 'eval_subset')} keypoints, against the annotation.")
    return _table("decoder", title, caption, _frame(values, ["group", "setting"]), intervals, members)


@register("truth")
def truth_table(results: Results) -> Table:
    title = "Annotation noise: error against the annotation and against the exact truth (test split)"
    experiments = _ordered(results)
    if not experiments:
        return Table("truth", title, note=NOT_RUN)
    if not results.synthetic:
        return Table("truth", title, note="real data has no exact truth: this table needs synthetic data")
    subset = experiments[0].config["eval_subset"]
    videos, arrays = _arrays(experiments[0], "Test")
    truth = labelled_truth(arrays)
    sums = video_sums(arrays["annotation"], truth, videos, subset)
    first = ("annotation", "the annotations themselves")
    intervals = {first: {("vs truth", t): _bootstrap([metric_cell(sums, m)]) for m, t in SHORT.items()}
                 | {("vs truth", ERROR): _bootstrap([_error_cell(arrays["annotation"], truth, videos, subset)])}}
    values = {first: {column: found.estimate for column, found in intervals[first].items()}}
    members = {}
    for (group, _), seeds in _by_setting(experiments).items():
        row = (group, seeds[0].label)
        members[row], rows, cells = seeds, [], {}
        for e in seeds:
            videos, arrays = _arrays(e, "Test")
            arrays = arrays | {"truth": labelled_truth(arrays)}
            found = {}
            for column, reference in (("vs annotation", "annotation"), ("vs truth", "truth")):
                scores = e.scores("Test", reference=reference) or {}
                found |= {(column, t): scores.get(m, np.nan) for m, t in SHORT.items()}
                metric = _metric_cells(e, "Test", SHORT, reference=reference)
                for m, t in SHORT.items():
                    cells.setdefault((column, t), []).append(metric[m])
                error = _tagged(_error_cell(arrays["prediction"], arrays[reference], videos, e.config["eval_subset"]), e)
                cells.setdefault((column, ERROR), []).append(error)
            rows.append(found)
        intervals[row] = {column: _bootstrap(found) for column, found in cells.items()}
        values[row] = _mean(rows) | {column: intervals[row][column].estimate for column in cells
                                      if column[1] == ERROR and intervals[row][column] is not None}
    caption = ("Each model's test predictions scored against the noisy annotation and against the "
               "exact synthetic truth; the first row scores the annotations themselves against the "
               "truth, the ceiling that annotation noise puts on any model. error: mean distance in "
               f"image pixels; {subset} keypoints.")
    frame = _frame(values, ["group", "setting"])
    frame = frame[[c for c in frame.columns if c[0] == "vs annotation"] + [c for c in frame.columns if c[0] == "vs truth"]]
    return _table("truth", title, caption, frame, intervals, members)


def _smoothness(results: Results, name: str, title: str, per_keypoint: bool) -> Table:
    """Jitter of the annotation, the prediction and the truth of the showcase setting's test videos,
    side by side (as :func:`benchmark.study.smoothness.compare_sources`), over its seeds.

    A row's value is a mean over its keypoints of each keypoint's mean over videos, and over seeds:
    one :class:`Cell` with a row per (seed, keypoint), bootstrapped with the same videos for all.
    """
    e = showcase(results)
    if e is None:
        return Table(name, title, note=NOT_RUN)
    seeds = [m for m in results.group(e.group) if m.setting == e.setting]
    jitter = [m.cached(("video_jitter", "Test"), lambda m=m: video_jitter(m.rows("Test"))) for m in seeds]
    sources = [s for s in ("annotation", "prediction", "truth")
               if all((m, s) in j for j in jitter for m in MEASURES)]
    if not {"annotation", "prediction"} <= set(sources) or \
            all(j[("acceleration", "annotation")].isna().to_numpy().all() for j in jitter):
        return Table(name, title, note="no test video has enough labelled frames in a row for the smoothness "
                                       "measures (e.g. one labelled frame per video)")
    videos = jitter[0][("acceleration", "annotation")].index
    keys = ({DISPLAY_NAMES[LABELS[i]]: [LABELS[i]] for i in subset_indices(e.config["eval_subset"])}
            if per_keypoint else dict(REGIONS))
    intervals: dict[str, dict] = {}
    for key, keypoints in keys.items():
        row = intervals[key] = {}
        for measure, shown in zip(MEASURES, (ACCELERATION, RESIDUAL)):
            unit = 1000 if measure == "acceleration" else 1  # the unit shown: 1e-3 S / frame²
            per_seed = {s: [j[(measure, s)].reindex(videos)[list(keypoints)].to_numpy().T * unit for j in jitter]
                        for s in sources}
            pooled = {s: mean_cell(np.concatenate(v), videos.to_numpy()) for s, v in per_seed.items()}
            one = {s: np.array([mean_cell(x, videos.to_numpy()).value for x in v]) for s, v in per_seed.items()}
            for s in sources:
                row[(shown, s)] = dataclasses.replace(interval(pooled[s]), seed_values=tuple(one[s]))
            row[(shown, RATIO)] = dataclasses.replace(ratio(pooled["prediction"], pooled["annotation"]),
                                                      seed_values=tuple(one["prediction"] / one["annotation"]))
            if "truth" in sources:
                t = ratio(pooled["truth"], pooled["annotation"])
                row[(shown, NOISE)] = Interval(1 - t.estimate, 1 - t.high, 1 - t.low, n_videos=t.n_videos,
                                               seed_values=tuple(1 - one["truth"] / one["annotation"]))
    data = pd.DataFrame([{c: iv.estimate for c, iv in row.items()} for row in intervals.values()],
                        index=pd.Index(list(keys), name="keypoint" if per_keypoint else "region"))
    data.columns = pd.MultiIndex.from_tuples(data.columns)
    caption = (f"{e.label} ({e.decoder} decoder, {len(seeds)} seed(s)), averaged over the test videos. "
               "Acceleration: mean magnitude of the second derivative over consecutive labelled frames "
               f"(frame gaps taken into account); residual: RMS distance to a Savitzky-Golay smoothing (window "
               f"{WINDOW} labelled frames, order {POLYORDER}); both in units of the annotation's reference "
               "scale S. prediction / annotation below 1: the model is smoother than the labels. "
               "annotator noise: 1 - truth / annotation, the share of the annotation's jitter that "
               "the true motion does not have (synthetic data only). A prediction smoother than the "
               "truth itself follows the real motion too little, rather than removing noise.")
    return _table(name, title, caption, data, intervals, {key: seeds for key in keys})


@register("smoothness")
def smoothness_table(results: Results) -> Table:
    return _smoothness(results, "smoothness", "Temporal smoothness per body region (test split)", False)


@register("smoothness_keypoint")
def smoothness_keypoint_table(results: Results) -> Table:
    return _smoothness(results, "smoothness_keypoint", "Temporal smoothness per keypoint (test split)", True)


GENERALISATION_METRICS = {"pck@0.1": "PCK@0.1", "mks": "mKS"}


@register("generalisation")
def generalisation_table(results: Results) -> Table:
    """Each model on the test split and on each named shift of the DomainShift split, and the share of
    its test PCK@0.1 it keeps there (shift / Test, independent video bootstraps of the two)."""
    title = "Generalisation: the test split against each held-out shift"
    loss = results.group("loss")
    experiments = ([e for e in loss if e.config["loss"] == "kce"] or loss) + results.group("baseline")
    if not experiments:
        return Table("generalisation", title, note=NOT_RUN)
    shifts = results.shifts or dict.fromkeys(experiments[0].rows("DomainShift")["video"], "DomainShift")  # unnamed
    if not shifts:
        return Table("generalisation", title, note="the dataset has no DomainShift split (synthetic data only)")
    names = list(dict.fromkeys(shifts.values()))
    values, intervals, members = {}, {}, {}
    for (_, _), seeds in _by_setting(experiments).items():
        test = [_metric_cells(e, "Test", GENERALISATION_METRICS) for e in seeds]
        shifted = [_metric_cells(e, "DomainShift", GENERALISATION_METRICS) for e in seeds]
        for name in ["Test", *names]:
            videos = np.array([v for v, s in shifts.items() if s == name], dtype=object)
            cells = test if name == "Test" else [{m: c.on(videos) for m, c in found.items()} for found in shifted]
            row = (seeds[0].config["model"], seeds[0].config["loss"], name)
            members[row] = seeds
            found = {t: _bootstrap([c[m] for c in cells if m in c]) for m, t in GENERALISATION_METRICS.items()}
            if name != "Test" and all(cells) and all(test):
                found[KEPT] = ratio(Cell.stack([c["pck@0.1"] for c in cells]),
                                    Cell.stack([c["pck@0.1"] for c in test]), paired=False)
            intervals[row] = found
            count = len(videos) if name != "Test" else len(test[0]["pck@0.1"].videos) if test[0] else 0
            values[row] = {"videos": count} | {
                column: (iv.estimate if iv is not None else np.nan) for column, iv in found.items()}
    data = _frame(values, ["model", "loss", "split"])
    data = data.reindex(columns=["videos", *GENERALISATION_METRICS.values(), KEPT])
    caption = ("Each model (the loss grid's KCE rows, the study's recommended loss, and the zero-shot baselines) "
               "on the test split and on each named shift of the DomainShift split; each shift changes one "
               "family of factors that the training splits never contain (the dataset's synth.json, "
               "docs/SYNTHETIC.md). PCK@0.1 / Test: the share of its test PCK@0.1 a model keeps on the shift, "
               "with a 95 % interval from independent video bootstraps of the two splits; with few videos per "
               f"shift these intervals are wide. {_settings(experiments, 'eval_subset')} keypoints.")
    return _table("generalisation", title, caption, data, intervals, members)


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
    one_seed: dict[tuple, Result] = {}  # the first seed of each KCE model
    for e in results.group("loss"):
        if e.config["loss"] == "kce":
            one_seed.setdefault(e.setting, e)
    experiments = list(one_seed.values()) or results.experiments[:1]
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
               f"each KCE model's predictions (its first seed), and those predictions after the One Euro and Savitzky-Golay "
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


# --- the claims --------------------------------------------------------------------------------

@register("claims")
def claims_table(results: Results) -> Table:
    """The verdict of each of the study's claims (``experiments/claims.yaml``) beside its published
    evidence (:func:`benchmark.evidence.evaluate`)."""
    title = "The study's claims: verdicts on these results"
    if not results.experiments:
        return Table("claims", title, note=NOT_RUN)
    verdicts = results.verdicts
    rows = {}
    for claim in verdicts.claims.to_dict("records"):
        part = verdicts.comparisons[verdicts.comparisons["claim"] == claim["claim"]]
        reasons = sorted({"experiments not run" if n.startswith("not run") else "too few videos"
                          for n in part["note"] if n})
        ours = (f"{claim['holds']} hold, {claim['contradicted']} contradicted, {claim['inconclusive']} "
                f"inconclusive of {len(part)}" + (f" ({', '.join(reasons)})" if reasons else ""))
        rows[claim["claim"]] = {"verdict": claim["verdict"], "claim": claim["statement"], "comparisons": ours,
                                "published": claim["published"]}
    data = pd.DataFrame.from_dict(rows, orient="index").rename_axis("id")
    caption = ("Each claim of the publication, judged on paired 95 % video-bootstrap intervals of its "
               "comparisons (next table): holds when every comparison holds, contradicted when any is "
               "contradicted, otherwise inconclusive; a comparison needs at least 10 contributing videos "
               "(docs/EVIDENCE.md). `python -m benchmark claims` prints the same table.")
    context = baseline_notes(results)
    if context:
        caption += " For context (not part of the claims): " + " ".join(context)
    stalled = pd.Series(verdicts.claims["not_converged"].to_numpy(), index=data.index)
    return Table("claims", title, caption + (f" {STALLED_NOTE}" if stalled.any() else ""), data, stalled=stalled)


@register("comparisons")
def comparisons_table(results: Results) -> Table:
    """Every comparison behind the claims: the two sides' values and their paired difference."""
    title = "Paired comparisons behind the claims (same videos, seeds pooled)"
    if not results.experiments:
        return Table("comparisons", title, note=NOT_RUN)
    table = results.verdicts.comparisons
    data = pd.DataFrame({
        "metric": table["split"] + " " + table["metric"], "a": table["a"], "b": table["b"],
        "value a": table["value_a"], "value b": table["value_b"], DIFFERENCE: table["difference"],
        "seeds": table["seeds"], "videos": table["n_videos"], "verdict": table["verdict"],
        "note": [("; ".join(filter(None, (c, n)))) for c, n in zip(table["convergence"], table["note"])],
    }, dtype=object)
    data.index = pd.MultiIndex.from_arrays([table["claim"], table["comparison"]], names=["claim", "comparison"])
    empty = pd.DataFrame(np.nan, index=data.index, columns=data.columns)
    low, high = empty.copy(), empty.copy()
    low[DIFFERENCE], high[DIFFERENCE] = table["low"].to_numpy(), table["high"].to_numpy()
    stalled = pd.Series(table["not_converged"].to_numpy(), index=data.index)
    caption = (f"{DIFFERENCE}: value a minus value b with its paired 95 % video-bootstrap interval (both sides "
               "resampled with the same videos, so what the videos share cancels); seeds: the spread of the "
               "per-seed differences where the sides have several seeds. Direction and margin of each "
               "comparison: experiments/claims.yaml.")
    return Table("comparisons", title, caption + (f" {STALLED_NOTE}" if stalled.any() else ""), data,
                 low=low, high=high, stalled=stalled)


# --- display -----------------------------------------------------------------------------------

def _cell(value, spec: str, signed: bool, low=np.nan, high=np.nan, spread=np.nan) -> str:
    """``0.274``, ``0.274 [0.231, 0.320]`` with an interval, ``... ±0.012`` with a seed spread."""
    if isinstance(value, str):
        return value
    if value is None or not np.isfinite(value):
        return "–"
    spec = ("+" if signed and not spec.startswith("+") else "") + spec
    text = format(value, spec)
    if np.isfinite(low) and np.isfinite(high):
        text += f" [{low:{spec}}, {high:{spec}}]"
    if np.isfinite(spread):
        text += f" ±{spread:{spec.lstrip('+')}}"
    return text


def _aligned(frame: pd.DataFrame | None, data: pd.DataFrame) -> np.ndarray:
    return np.full(data.shape, np.nan) if frame is None else frame.to_numpy(float)


def display(table: Table) -> pd.DataFrame:
    """The table as strings: numbers formatted with their intervals and seed spreads (differences
    signed, missing as "–"), each valid/test column pair merged into one "valid/test" column, a
    ``seeds`` column where a row has several, and a dagger on the rows that had not converged."""
    data = table.data
    signed = (data.index.get_level_values("source") == "difference" if "source" in data.index.names
              else np.zeros(len(data), dtype=bool))
    low, high, spread = (_aligned(f, data) for f in (table.low, table.high, table.spread))
    cells = {}
    for j, column in enumerate(data.columns):
        parts = column if isinstance(column, tuple) else (column,)
        spec = next((FORMATS[p] for p in reversed(parts) if p in FORMATS), ".3f")  # innermost wins
        cells[column] = [_cell(v, spec, s, *bounds) for v, s, *bounds
                         in zip(data[column], signed, low[:, j], high[:, j], spread[:, j])]
    frame = pd.DataFrame(cells, index=data.index)
    if isinstance(data.columns, pd.MultiIndex) and set(data.columns.get_level_values(1)) <= {"valid", "test", ""}:
        merged = {}
        for metric in dict.fromkeys(data.columns.get_level_values(0)):
            part = frame[metric]  # a Series for a column without split ("" is dropped by pandas)
            merged[metric] = part["valid"] + "/" + part["test"] if isinstance(part, pd.DataFrame) else part
        frame = pd.DataFrame(merged, index=data.index)
    if table.seeds is not None and (table.seeds > 1).any():
        frame[("seeds", "") if frame.columns.nlevels > 1 else "seeds"] = [str(n) if n else "" for n in table.seeds]
    if table.stalled is not None and table.stalled.any():
        keys = [_mark(key) if flag else key for key, flag in zip(frame.index, table.stalled)]
        frame.index = (pd.MultiIndex.from_tuples(keys, names=data.index.names) if data.index.nlevels > 1
                       else pd.Index(keys, name=data.index.name))
    return frame


def _mark(key):
    """A row label with the not-converged dagger on its last part."""
    return (*key[:-1], f"{key[-1]} {STALLED}") if isinstance(key, tuple) else f"{key} {STALLED}"


def numbers(table: Table) -> pd.DataFrame:
    """The table as the CSV holds it: each number followed by its interval (``_lo``, ``_hi``) and the SD
    between seeds (``_seed_sd``) where it has them; ``seeds`` and ``not_converged`` per row."""
    columns = {}
    for j, column in enumerate(table.data.columns):
        name = " ".join(str(p) for p in column if p != "") if isinstance(column, tuple) else str(column)
        columns[name] = table.data[column].to_numpy()
        for suffix, frame in (("_lo", table.low), ("_hi", table.high), ("_seed_sd", table.spread)):
            values = _aligned(frame, table.data)[:, j]
            if np.isfinite(values).any():
                columns[name + suffix] = values
    out = pd.DataFrame(columns, index=table.data.index)
    if table.seeds is not None:
        out["seeds"] = table.seeds.to_numpy()
    if table.stalled is not None:
        out["not_converged"] = table.stalled.to_numpy()
    return out
