"""The study's tables: one registered function per table, ``TABLES[name](results) -> Table``
(:mod:`benchmark.report.evidence_table`); the claims' tables are in :mod:`benchmark.report.verdicts`.

Each builds numbers and their evidence from the results; :mod:`benchmark.report.formatting` shows
them. Adding a table is one function decorated with ``@register_table("name", "title")``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd

from benchmark.evidence import Cell, Interval, interval, mean_cell, metric_cell, pooled_cell, ratio, video_sums
from benchmark.evidence.oks_cell import oks_cell, oks_frames
from benchmark.movement.robustness import robustness_table
from benchmark.report.evidence_table import (
    NOT_RUN,
    Table,
    bootstrap,
    by_setting,
    evidence_table,
    frame_of,
    labelled_truth,
    mean_of,
    metric_cells,
    register_table,
    settings_text,
    split_arrays,
    tagged,
)
from benchmark.report.formatting import ACCELERATION, EPOCH, ERROR, KEPT, NOISE, RATIO
from benchmark.report.results import Result, Results, published, showcase
from benchmark.study.keypoints import DISPLAY_NAMES, INDEX, LABELS, OKS_SIGMAS, REGIONS, subset_indices
from benchmark.study.metrics import BETAS, correct_per_keypoint, distances, per_region
from benchmark.study.smoothness import MEASURES, POLYORDER, WINDOW, video_jitter

SPLITS = {"valid": "Valid", "test": "Test"}           # published split -> our split folder
METRICS = {f"pck@{b:g}": f"PCK@{b:g}" for b in BETAS} | {"mks": "mKS"}
SHORT = {"pck@0.1": "PCK@0.1", "pck@0.04": "PCK@0.04", "mks": "mKS"}  # decoder and truth tables
OKS = {"ap": "OKS AP", "ap50": "OKS AP50", "ar": "OKS AR"}  # the loss and occlusion tables' optional columns
NAMES = {"model": "model", "loss": "loss", "train_face": "train face", "eval_face": "valid face",
         "facial_keypoints": "facial keypoints"}
OCCLUSION = ("train_face", "eval_face", "facial_keypoints")
RESIDUAL = "residual (S)"


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
        row[(EPOCH, "")] = record.get("epoch_time_s", np.nan)
    return rows


def _error_cell(pred: np.ndarray, reference: np.ndarray, videos, subset: str) -> Cell:
    """Mean Euclidean distance in image pixels over the scored keypoints, per video."""
    return pooled_cell(distances(pred, reference)[:, subset_indices(subset)], videos)


def _oks_cells(e: Result, split: str) -> dict[str, Cell]:
    """One cell per OKS statistic of :data:`OKS` of an experiment's split (none without predictions),
    with the sigmas its evaluation recorded."""
    if e.rows(split).empty:
        return {}
    frames = e.cached(("oks", split), lambda: oks_frames(e.rows(split), e.oks_sigmas, e.config["eval_subset"]))
    return {statistic: oks_cell(frames, statistic, e.config.get("seed", 0), e.id) for statistic in OKS}


def _oks_note(experiments: list[Result]) -> str:
    """What the OKS columns are, for a caption."""
    own = any(e.oks_sigmas not in (None, OKS_SIGMAS) for e in experiments)
    sigmas = "the dataset's own sigmas (its oks_sigmas.json)" if own else "the default sigmas"
    return (" OKS AP, AP50, AR: COCO's keypoint average precision and recall (pycocotools' rule, one infant per "
            f"frame) with {sigmas} (docs/CONVENTIONS.md, OKS), the box of the frame's labelled keypoints as the "
            "object's area and the mean confidence (heatmap peak) of the evaluated keypoints as the score; the "
            "publication reports none (–).")


def _ordered(results: Results) -> list[Result]:
    """Every finished experiment, grouped as in the manifest (loss, occlusion, then others)."""
    groups = sorted({e.group for e in results.experiments}, key=lambda g: (g not in ("loss", "occlusion"), g))
    return [e for g in groups for e in results.group(g)]


CHANCE_NOTE = ("the Train split's mean pose drawn in every frame (through the letterboxed picture the models "
               "see first), nothing learned: the floor a trained row must clear before its comparisons count.")


def _padded(setting: tuple, width: int) -> tuple:
    """A row key of ``width`` levels: a reference or baseline row (model, loss) padded with dashes."""
    return tuple(setting[:width]) + ("–",) * (width - len(setting))


def _comparison(table: Table, experiments: list[Result], keys: tuple[str, ...], published_keys: list[str],
                oks: bool = False) -> Table:
    """The loss and occlusion tables: valid/test metrics (with ``oks``, OKS AP, AP50 and AR too) and
    epoch time beside the publication."""
    if not experiments:
        return replace(table, note=NOT_RUN)
    values, intervals, members = {}, {}, {}
    for (_, setting), seeds in by_setting(experiments).items():
        setting = _padded(setting, len(keys))
        members[setting] = seeds
        values[setting] = mean_of([_valid_test(e.scores) | {(EPOCH, ""): e.summary.get("epoch_time_s", np.nan)}
                                 for e in seeds])
        cells = {split: [metric_cells(e, folder, METRICS) for e in seeds] for split, folder in SPLITS.items()}
        intervals[setting] = {(title, split): bootstrap([c[metric] for c in cells[split] if metric in c])
                              for metric, title in METRICS.items() for split in SPLITS}
        if oks:
            cells = {split: [_oks_cells(e, folder) for e in seeds] for split, folder in SPLITS.items()}
            found = {(title, split): bootstrap([c[statistic] for c in cells[split] if statistic in c])
                     for statistic, title in OKS.items() for split in SPLITS}
            intervals[setting] |= found
            values[setting] |= {column: np.nan if iv is None else iv.estimate for column, iv in found.items()}
    names = [NAMES[k] for k in keys]
    reference = frame_of(_published_valid_test(table.name, published_keys), names)
    titles = [*METRICS.values(), *(OKS.values() if oks else ())]
    data = frame_of(values, names).reindex(columns=[(t, split) for t in titles for split in SPLITS] + [(EPOCH, "")])
    caption = (f"PCKsh@beta and mKS of the {settings_text(experiments, 'decoder')} decoder on the "
               f"{settings_text(experiments, 'eval_subset')} keypoints; cells show the test split (hover: the valid "
               "split). Epoch time: median seconds per training epoch (ours on our device, published on the authors' "
               "GPU). Per setting: ours, the published value, and the difference ours - published. mean_pose / "
               f"chance level: {CHANCE_NOTE}") + (_oks_note(experiments) if oks else "")
    return evidence_table(table, caption, data, intervals, members, reference)


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
    skipped: dict[str, list[str]] = {}  # why -> the experiments skipped for it, named once per reason
    for p in results.problems:
        if p.status == "skipped":
            skipped.setdefault(p.error, []).append(p.id)
    return notes + [f"{', '.join(ids)}: skipped, {why}." for why, ids in skipped.items()]


@register_table("loss", "Models and loss functions")
def loss_table(results: Results, table: Table) -> Table:
    rows = results.group("loss") + results.group("baseline") + results.group("reference")
    table = _comparison(table, rows, ("model", "loss"), ["model", "loss"], results.shows_oks)
    notes = [note for model, note in MODEL_NOTES.items() if any(e.config["model"] == model for e in rows)]
    table.caption = " ".join([table.caption, *notes, *baseline_notes(results)])
    return table


@register_table("occlusion", "Face occlusion")
def occlusion_table(results: Results, table: Table) -> Table:
    return _comparison(table, results.group("occlusion") + results.group("reference"), OCCLUSION,
                       ["train_face", "valid_face", "facial_keypoints"], results.shows_oks)


@register_table("per_region", "PCKsh@0.1 per body region (test split)")
def per_region_table(results: Results, table: Table) -> Table:
    experiments = results.group("occlusion")
    if not experiments:
        return replace(table, note=NOT_RUN)
    values, intervals, members = {}, {}, {}
    for (group, setting), seeds in by_setting(experiments + results.group("baseline") + results.group("reference")).items():
        if group == "baseline":  # its own row: nothing trained, evaluated with faces as configured
            setting = (f"zero-shot {seeds[0].config['model']}", seeds[0].config["eval_face"], "–")
        elif group == "reference":
            setting = _padded(setting, 3)
        rows, cells = [], {}
        for e in seeds:
            videos, arrays = split_arrays(e, "Test")
            regions = per_region(arrays["prediction"], arrays["annotation"], beta=0.1)["pck"]
            rows.append(dict(regions) | {"avg": (e.scores("Test") or {}).get("pck@0.1", np.nan)})
            correct = correct_per_keypoint(arrays["prediction"], arrays["annotation"], 0.1)
            for region, names in REGIONS.items():
                cells.setdefault(region, []).append(tagged(pooled_cell(correct[:, [INDEX[k] for k in names]],
                                                                        videos), e))
            cells.setdefault("avg", []).append(metric_cells(e, "Test", ["pck@0.1"])["pck@0.1"])
        values[setting], members[setting] = mean_of(rows), seeds
        intervals[setting] = {column: bootstrap(found) for column, found in cells.items()}
    names = [NAMES[k] for k in OCCLUSION]
    reference = published("per_region").rename(columns={r.lower(): r for r in REGIONS})
    reference = reference.set_index(["train_face", "valid_face", "facial_keypoints"])[[*REGIONS, "avg"]]
    reference.index.names = names
    caption = ("PCKsh@0.1 on the test split per body region, left and right pooled; avg is over the "
               f"{settings_text(experiments, 'eval_subset')} keypoints ({settings_text(experiments, 'decoder')} "
               "decoder). Per setting: ours, published, and the difference ours - published. A 'zero-shot' row "
               "is an off-the-shelf baseline run as published, not trained here (its Vertex cannot be produced).")
    return evidence_table(table, caption, frame_of(values, names), intervals, members, reference)


@register_table("decoder", "Decoders (test split)")
def decoder_table(results: Results, table: Table) -> Table:
    experiments = [e for e in _ordered(results) if e.trained]  # only a trained model has heatmaps to decode
    if not experiments:
        return replace(table, note=NOT_RUN)
    decoders = list(dict.fromkeys(d for e in experiments for d in e.summary["metrics"]))
    values, intervals, members = {}, {}, {}
    for (group, _), seeds in by_setting(experiments).items():
        row = (group, seeds[0].label)
        members[row] = seeds
        values[row] = mean_of([{(decoder, t): (e.scores("Test", decoder) or {}).get(m, np.nan)
                              for decoder in decoders for m, t in SHORT.items()} for e in seeds])
        cells = {decoder: [metric_cells(e, "Test", SHORT, decoder) for e in seeds] for decoder in decoders}
        intervals[row] = {(decoder, t): bootstrap([c[m] for c in cells[decoder] if m in c])
                          for decoder in decoders for m, t in SHORT.items()}
    caption = ("The same trained models decoded by each decoder: PCKsh and mKS on the test split, "
               f"{settings_text(experiments, 'eval_subset')} keypoints, against the annotation.")
    return evidence_table(table, caption, frame_of(values, ["group", "setting"]), intervals, members)


@register_table("truth", "Annotation noise: error against the annotation and against the exact truth (test split)")
def truth_table(results: Results, table: Table) -> Table:
    experiments = _ordered(results)
    if not experiments:
        return replace(table, note=NOT_RUN)
    if not results.synthetic:
        return replace(table, note="real data has no exact truth: this table needs synthetic data")
    subset = experiments[0].config["eval_subset"]
    videos, arrays = split_arrays(experiments[0], "Test")
    truth = labelled_truth(arrays)
    sums = video_sums(arrays["annotation"], truth, videos, subset)
    first = ("annotation", "the annotations themselves")
    intervals = {first: {("vs truth", t): bootstrap([metric_cell(sums, m)]) for m, t in SHORT.items()}
                 | {("vs truth", ERROR): bootstrap([_error_cell(arrays["annotation"], truth, videos, subset)])}}
    values = {first: {column: found.estimate for column, found in intervals[first].items()}}
    members = {}
    for (group, _), seeds in by_setting(experiments).items():
        row = (group, seeds[0].label)
        members[row], rows, cells = seeds, [], {}
        for e in seeds:
            videos, arrays = split_arrays(e, "Test")
            arrays = arrays | {"truth": labelled_truth(arrays)}
            found = {}
            for column, reference in (("vs annotation", "annotation"), ("vs truth", "truth")):
                scores = e.scores("Test", reference=reference) or {}
                found |= {(column, t): scores.get(m, np.nan) for m, t in SHORT.items()}
                metric = metric_cells(e, "Test", SHORT, reference=reference)
                for m, t in SHORT.items():
                    cells.setdefault((column, t), []).append(metric[m])
                error = tagged(_error_cell(arrays["prediction"], arrays[reference], videos, e.config["eval_subset"]), e)
                cells.setdefault((column, ERROR), []).append(error)
            rows.append(found)
        intervals[row] = {column: bootstrap(found) for column, found in cells.items()}
        values[row] = mean_of(rows) | {column: intervals[row][column].estimate for column in cells
                                      if column[1] == ERROR and intervals[row][column] is not None}
    caption = ("Each model's test predictions scored against the noisy annotation and against the "
               "exact synthetic truth; the first row scores the annotations themselves against the "
               "truth, the ceiling that annotation noise puts on any model. error: mean distance in "
               f"image pixels; {subset} keypoints.")
    frame = frame_of(values, ["group", "setting"])
    frame = frame[[c for c in frame.columns if c[0] == "vs annotation"] + [c for c in frame.columns if c[0] == "vs truth"]]
    return evidence_table(table, caption, frame, intervals, members)


def _smoothness(results: Results, table: Table, per_keypoint: bool) -> Table:
    """Jitter of the annotation, the prediction and the truth of the showcase setting's test videos,
    side by side (as :func:`benchmark.study.smoothness.compare_sources`), over its seeds.

    A row's value is a mean over its keypoints of each keypoint's mean over videos, and over seeds:
    one :class:`Cell` with a row per (seed, keypoint), bootstrapped with the same videos for all.
    """
    e = showcase(results)
    if e is None:
        return replace(table, note=NOT_RUN)
    seeds = [m for m in results.group(e.group) if m.setting == e.setting]
    jitter = [m.cached(("video_jitter", "Test"), lambda m=m: video_jitter(m.rows("Test"))) for m in seeds]
    sources = [s for s in ("annotation", "prediction", "truth")
               if all((m, s) in j for j in jitter for m in MEASURES)]
    if not {"annotation", "prediction"} <= set(sources) or \
            all(j[("acceleration", "annotation")].isna().to_numpy().all() for j in jitter):
        return replace(table, note="no test video has enough labelled frames in a row for the smoothness "
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
                row[(shown, s)] = replace(interval(pooled[s]), seed_values=tuple(one[s]))
            row[(shown, RATIO)] = replace(ratio(pooled["prediction"], pooled["annotation"]),
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
    return evidence_table(table, caption, data, intervals, {key: seeds for key in keys})


@register_table("smoothness", "Temporal smoothness per body region (test split)")
def smoothness_table(results: Results, table: Table) -> Table:
    return _smoothness(results, table, False)


@register_table("smoothness_keypoint", "Temporal smoothness per keypoint (test split)")
def smoothness_keypoint_table(results: Results, table: Table) -> Table:
    return _smoothness(results, table, True)


GENERALISATION_METRICS = {"pck@0.1": "PCK@0.1", "mks": "mKS"}


@register_table("generalisation", "Generalisation: the test split against each held-out shift")
def generalisation_table(results: Results, table: Table) -> Table:
    """Each model on the test split and on each named shift of the DomainShift split, and the share of
    its test PCK@0.1 it keeps there (shift / Test, independent video bootstraps of the two)."""
    loss = results.group("loss")
    experiments = (([e for e in loss if e.config["loss"] == results.recommended_loss] or loss) + results.group("baseline")
                   + results.group("reference"))
    if not experiments:
        return replace(table, note=NOT_RUN)
    shifts = results.shifts or dict.fromkeys(experiments[0].rows("DomainShift")["video"], "DomainShift")  # unnamed
    if not shifts:
        return replace(table, note="the dataset has no DomainShift split (synthetic data only)")
    names = list(dict.fromkeys(shifts.values()))
    values, intervals, members = {}, {}, {}
    for (_, _), seeds in by_setting(experiments).items():
        test = [metric_cells(e, "Test", GENERALISATION_METRICS) for e in seeds]
        shifted = [metric_cells(e, "DomainShift", GENERALISATION_METRICS) for e in seeds]
        for name in ["Test", *names]:
            videos = np.array([v for v, s in shifts.items() if s == name], dtype=object)
            cells = test if name == "Test" else [{m: c.on(videos) for m, c in found.items()} for found in shifted]
            row = (seeds[0].config["model"], seeds[0].config["loss"], name)
            members[row] = seeds
            found = {t: bootstrap([c[m] for c in cells if m in c]) for m, t in GENERALISATION_METRICS.items()}
            if name != "Test" and all(cells) and all(test):
                found[KEPT] = ratio(Cell.stack([c["pck@0.1"] for c in cells]),
                                    Cell.stack([c["pck@0.1"] for c in test]), paired=False)
            intervals[row] = found
            count = len(videos) if name != "Test" else len(test[0]["pck@0.1"].videos) if test[0] else 0
            values[row] = {"videos": count} | {
                column: (iv.estimate if iv is not None else np.nan) for column, iv in found.items()}
    data = frame_of(values, ["model", "loss", "split"])
    data = data.reindex(columns=["videos", *GENERALISATION_METRICS.values(), KEPT])
    caption = (f"Each model (the loss grid's rows with the study's recommended loss, {results.recommended_loss or 'any'}, "
               "and the zero-shot baselines) "
               "on the test split and on each named shift of the DomainShift split; each shift changes one "
               "family of factors that the training splits never contain (the dataset's synth.json, "
               "docs/SYNTHETIC.md). PCK@0.1 / Test: the share of its test PCK@0.1 a model keeps on the shift, "
               "with a 95 % interval from independent video bootstraps of the two splits; with few videos per "
               f"shift these intervals are wide. {settings_text(experiments, 'eval_subset')} keypoints.")
    return evidence_table(table, caption, data, intervals, members)


@register_table("audit", "Privacy audit of the dataset")
def audit_table(results: Results, table: Table) -> Table:
    """The privacy audit (``python -m benchmark audit``) of the dataset, from the run stage's snapshot."""
    if results.dataset is None:
        return replace(table, note=NOT_RUN)
    root, rows = results.dataset["root"], results.dataset["audit"]["rows"]
    rows = rows or [{"severity": "none", "check": "-", "files": 0, "example": "clean"}]
    caption = ("Findings per severity and check; run `python -m benchmark audit ROOT` for the list. "
               "Synthetic faces are drawn visible on purpose (the occluded experiments mosaic them at "
               "load time), so 'face' findings are expected there; on real data any high finding "
               "must be fixed (`python -m benchmark scrub`) before sharing.")
    frame = pd.DataFrame(rows).assign(dataset=root).set_index(["dataset", "severity", "check"])
    return replace(table, caption=caption, data=frame[["files", "example"]])


MOVEMENT_FILTERS = {"annotation": "unfiltered", "prediction": "unfiltered", "prediction_oneeuro": "One Euro",
                    "prediction_savgol": "Savitzky-Golay"}  # robustness_table's sources: the filter of each


@register_table("movement", "Movement features computed from each source: error against the exact truth (test split)")
def movement_table(results: Results, table: Table) -> Table:
    """How pose error propagates into the movement features (:mod:`benchmark.movement.robustness`)."""
    one_seed: dict[tuple, Result] = {}  # the first seed of each model with the recommended loss
    for e in results.group("loss"):
        if e.config["loss"] == results.recommended_loss:
            one_seed.setdefault(e.setting, e)
    experiments = list(one_seed.values()) or results.experiments[:1]
    if not experiments:
        return replace(table, note=NOT_RUN)
    timing = results.timing
    if timing is None:
        return replace(table, note="needs synthetic data (exact truth and the videos' frame rate)")
    parts = []
    for i, e in enumerate(experiments):
        rows = robustness_table(e.rows("Test"), timing["fps"], timing["frame_step"])
        rows = rows[rows["source"] != "annotation"] if i else rows  # the annotation once
        parts.append(rows.assign(filter=rows["source"].map(MOVEMENT_FILTERS),
                                 source=rows["source"].where(rows["source"] == "annotation", e.config["model"])))
    long = pd.concat(parts, ignore_index=True)
    if long.empty:
        return replace(table, note="no video long enough for the movement features")

    def pivot(values: str) -> pd.DataFrame:  # one row per feature and source, one column per filter
        return long.pivot_table(index=["feature", "error_kind", "source"], columns="filter", values=values,
                                sort=False).reindex(columns=list(dict.fromkeys(MOVEMENT_FILTERS.values())))

    caption = (f"Movement features (docs/MOVEMENT.md) of each test video computed from the noisy annotation, "
               f"each model's predictions with the recommended loss (its first seed), and those predictions after the One Euro and Savitzky-Golay "
               f"filters, each compared with the same features of the exact truth: relative error for features "
               f"on a ratio scale, absolute error for band shares and correlations; mean over "
               f"{int(long['videos'].max())} test videos with its 95 % bootstrap interval over videos. Lower is "
               "better: a feature whose error stays small under a model's pose error can be trusted from it.")
    data = pivot("error")  # an interval is missing where a single video has the feature
    return replace(table, caption=caption, data=data, low=pivot("ci_low").reindex(data.index),
                   high=pivot("ci_high").reindex(data.index))


def problems_table(results: Results) -> Table:
    """Failed, interrupted or unreadable experiments (never aggregated into the other tables)."""
    title = "Experiments not included"
    if not results.problems:
        return Table("problems", title, note="none: every experiment folder finished")
    frame = pd.DataFrame([{"experiment": p.id, "status": p.status, "error": p.error} for p in results.problems])
    return Table("problems", title, "Folders without a usable COMPLETE.json.", frame.set_index("experiment"))


