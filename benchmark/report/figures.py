"""The study's figures: one registered function per figure, ``FIGURES[name](results, folder) -> Figure``.

Each function writes ``<folder>/<name>.png`` and returns its title and caption, or a note saying why
it was skipped (no results yet, no images). Plots use matplotlib's object API (no pyplot state, no
display needed) with seaborn. Images of infants come from the run stage's dataset snapshot, face-mosaicked before they were written
(:mod:`benchmark.runner.snapshot`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import figure as mpl
from matplotlib import lines as mpl_lines
from matplotlib import rc_context
from matplotlib.ticker import MaxNLocator
from PIL import Image

from benchmark.common.result_files import LABELLING
from benchmark.data.drawing import draw_pose, grid
from benchmark.evidence import Cell, interval
from benchmark.labelling.select import STRATEGIES
from benchmark.movement.robustness import robustness_figure, robustness_table
from benchmark.report.results import Result, Results, showcase
from benchmark.report.tables import NOT_RUN, generalisation_table, per_region_table
from benchmark.report.verdicts import gist
from benchmark.study.keypoints import DISPLAY_NAMES, INDEX, LABELS
from benchmark.study.losses import LOSSES
from benchmark.study.metrics import evaluate
from benchmark.study.smoothness import POLYORDER, WINDOW, jitter_table, video_trajectories

DPI = 110
SOURCE_STYLE = {  # trajectory source -> line style
    "annotation": {"marker": "o", "linestyle": "", "markersize": 4, "color": "#1f77b4"},
    "prediction": {"marker": ".", "linestyle": "-", "linewidth": 1.2, "color": "#d62728"},
    "truth": {"linestyle": "--", "linewidth": 1.2, "color": "#2ca02c"},
}
SOURCE_COLOURS = {s: style["color"] for s, style in SOURCE_STYLE.items()}
TRAJECTORY_KEYPOINTS = ("Hip_R", "Wrist_R")
SAMPLE_FRAMES = 4
SEQUENCE_GAP = 15    # video frames between the panels of the frame sequence (the study's t, t+15, t+30)
SEQUENCE_VIDEOS = 2
GALLERY_FRAMES = 8
PCK_BETAS = np.round(np.linspace(0, 0.2, 41), 3)
STYLE = {**sns.axes_style("whitegrid"), **sns.plotting_context("notebook")}


@dataclass
class Figure:
    """A figure of the report; ``path`` (relative to the report) is None when ``note`` says why not."""

    name: str
    title: str
    caption: str = ""
    path: str | None = None
    note: str = ""


FIGURES: dict[str, Callable[[Results, Path], Figure]] = {}


def register(name: str):
    """Decorator adding a figure function to :data:`FIGURES` under ``name``; it draws in the
    report's seaborn style without changing matplotlib's global settings."""
    def add(function: Callable[[Results, Path], Figure]) -> Callable[[Results, Path], Figure]:
        @functools.wraps(function)
        def styled(results: Results, folder: Path) -> Figure:
            with rc_context(STYLE):
                return function(results, folder)
        FIGURES[name] = styled
        return styled
    return add


def _new(width: float, height: float) -> mpl.Figure:
    return mpl.Figure(figsize=(width, height), layout="constrained")


def _save(fig: mpl.Figure, folder: Path, name: str) -> str:
    fig.savefig(folder / f"{name}.png", dpi=DPI)
    return f"{folder.name}/{name}.png"


def _loss_facets(experiments: list[Result], draw, width: float = 4.2, height: float = 3.2,
                 rows: int = 1) -> mpl.Figure:
    """One column per loss, one line per model: ``draw(axes_column, experiment, colour)``."""
    losses = list(dict.fromkeys(e.config["loss"] for e in experiments))
    models = list(dict.fromkeys(e.config["model"] for e in experiments))
    colours = dict(zip(models, sns.color_palette("colorblind", len(models))))
    fig = _new(width * len(losses), height * rows)
    axes = np.asarray(fig.subplots(rows, len(losses), squeeze=False, sharex=True))
    for column, loss in enumerate(losses):
        for e in experiments:
            if e.config["loss"] == loss:
                draw(axes[:, column], e, colours[e.config["model"]])
        axes[0, column].set_title(f"loss: {LOSSES[loss].title if loss in LOSSES else loss}")
    fig.legend(*_unique(axes), loc="outside lower center", ncols=len(models), title="model")
    return fig


def _unique(axes) -> tuple[list, list]:
    """Legend entries of all axes, each label once."""
    entries = {}
    for ax in np.ravel(axes):
        for handle, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    return list(entries.values()), list(entries)


VERDICT_COLOURS = {"holds": "#1b9e77", "contradicted": "#d95f02", "inconclusive": "#7570b3", "untested": "#b0b0b0",
                   "not run": "#666666"}


@register("verdicts")
def verdicts(results: Results, folder: Path) -> Figure:
    name, title = "verdicts", "Does the study hold? Every comparison behind its claims"
    if not results.experiments:
        return Figure(name, title, note=NOT_RUN)
    table, claims = results.verdicts.comparisons, results.verdicts.claims.set_index("claim")
    names = list(dict.fromkeys(table["claim"]))
    heights = [table["claim"].eq(c).sum() + 1.5 for c in names]
    fig = _new(12, 0.22 * sum(heights) + 1.2)
    axes = fig.subplots(len(names), 1, squeeze=False, gridspec_kw={"height_ratios": heights})[:, 0]
    for ax, claim in zip(axes, names):
        part = table[table["claim"] == claim].reset_index(drop=True)
        y = np.arange(len(part))[::-1]
        for yi, row in zip(y, part.itertuples()):
            colour = VERDICT_COLOURS[row.verdict]
            if np.isfinite(row.difference) and np.isfinite(row.low):
                ax.errorbar(row.difference, yi, xerr=[[row.difference - row.low], [row.high - row.difference]],
                            fmt="o", color=colour, markersize=5, capsize=2,
                            alpha=0.45 if row.verdict == "untested" else 1.0)
            for margin in ([row.margin] if row.direction == "noninferior" else
                           [-row.margin, row.margin] if row.direction == "equivalent" else []):
                sign = -1 if row.direction == "noninferior" else 1
                ax.plot([sign * margin] * 2, [yi - 0.4, yi + 0.4], color="black", linestyle="--", linewidth=0.8)
        labels = [f"{row.comparison}" + (f"  [{gist(row.reason)}]" if row.reason else "")
                  for row in part.itertuples()]
        ax.set_yticks(y, labels=labels, fontsize=8)
        ax.set_ylim(-0.8, len(part) - 0.2)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_title(f"{claim}: {claims.loc[claim, 'verdict']}", loc="left", fontsize=10,
                     color=VERDICT_COLOURS[claims.loc[claim, "verdict"]])
        ax.tick_params(axis="x", labelsize=8)
    axes[-1].set_xlabel("a - b with its paired 95 % video-bootstrap interval")
    handles = [mpl_lines.Line2D([], [], marker="o", linestyle="", color=c, label=v) for v, c in VERDICT_COLOURS.items()]
    fig.legend(handles=handles, loc="outside upper center", ncols=len(handles), title="verdict")
    caption = ("One line per comparison of experiments/claims.yaml, grouped by claim: the difference a - b (or "
               "the ratio minus its constant) with its paired 95 % video-bootstrap interval, the zero line, and "
               "dashed the margin of an equivalence or non-inferiority comparison. Coloured by verdict; a grey, "
               "faded line is untested, its reason in brackets (an arm that did not beat the chance level on Valid, "
               "or had not converged); a comparison whose experiments this profile does not run has no line and "
               "reads [not run]. The comparisons below give the numbers and the full reasons.")
    return Figure(name, title, caption, _save(fig, folder, name))


@register("per_region_bars")
def per_region_bars(results: Results, folder: Path) -> Figure:
    name, title = "per_region_bars", "PCKsh@0.1 per body region across the face-occlusion settings"
    table = per_region_table(results)
    if table.data is None:
        return Figure(name, title, note=table.note)
    long = table.data.rename_axis(columns="region").stack().rename("PCKsh@0.1").reset_index()
    long = long[long["source"] != "difference"]
    long["setting"] = long[["train face", "valid face", "facial keypoints"]].agg(" / ".join, axis=1)
    fig = _new(13, 4.6)
    axes = fig.subplots(1, 2, sharey=True)
    for ax, source in zip(axes, ("ours", "published")):
        sns.barplot(long[long["source"] == source], x="region", y="PCKsh@0.1", hue="setting", ax=ax,
                    palette="colorblind", legend=source == "ours")
        ax.set_title(source)
        ax.set_xlabel("body region (avg: all scored keypoints)")
        ax.set_ylim(0, 1)
        ax.tick_params(axis="x", labelrotation=30)
    handles, labels = axes[0].get_legend_handles_labels()
    axes[0].get_legend().remove()
    fig.legend(handles, labels, loc="outside lower center", ncols=3,
               title="train face / valid face / facial keypoints")
    fig.suptitle(title)
    caption = ("Test split, left and right pooled per region; our runs (left) beside the published "
               "values (right).")
    return Figure(name, title, caption, _save(fig, folder, name))


@register("training_curves")
def training_curves(results: Results, folder: Path) -> Figure:
    name, title = "training_curves", "Training curves per model and loss"
    experiments = results.group("loss")
    if not experiments:
        return Figure(name, title, note=NOT_RUN)

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

    fig = _loss_facets(experiments, draw, rows=2)
    fig.suptitle(title)
    caption = ("Training loss (each loss has its own scale) and validation PCKsh@0.1 after every epoch, "
               "with the experiment's decoder.")
    return Figure(name, title, caption, _save(fig, folder, name))


def learning_curves(results: Results) -> pd.DataFrame:
    """Valid PCK@0.1 after every epoch of each trained model (its twins and shared settings left out),
    against epochs and cumulative training seconds; ``converged`` (True, False or None: untested) on
    the last epoch of each, where it stopped."""
    frames = []
    for e in results.experiments:
        if not e.trained or e.summary.get("trained_by") or e.record.get("same_as") or e.history.empty:
            continue
        history = e.history.assign(seconds=e.history["epoch_time_s"].cumsum()).dropna(subset=["val_pck@0.1"])
        arm = e.label if e.group == "loss" else f"{e.group}: {e.label}"
        frames.append(pd.DataFrame({"arm": arm, "model": e.config["model"], "epoch": history["epoch"],
                                    "seconds": history["seconds"], "pck": history["val_pck@0.1"],
                                    "converged": [None] * (len(history) - 1) + [e.convergence.converged()]}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


@register("convergence")
def convergence(results: Results, folder: Path) -> Figure:
    name, title = "convergence", "How long each arm trained: Valid PCKsh@0.1 against epochs and against seconds"
    curves = learning_curves(results)
    if curves.empty:
        return Figure(name, title, note=NOT_RUN)
    models = list(dict.fromkeys(curves["model"]))
    arms = curves["arm"].nunique()
    colours = dict(zip(dict.fromkeys(curves["arm"]), sns.color_palette("colorblind" if arms <= 10 else "husl", arms)))
    fig = _new(4.2 * len(models), 6.2)
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
    handles, labels = _unique(axes)
    handles += [mpl_lines.Line2D([], [], color="black", marker=m, linestyle="none") for m in "ox"]
    fig.legend(handles, labels + ["converged: stopped", "not converged"], loc="outside lower center",
               ncols=min(4, len(labels) + 2))
    fig.suptitle(title)
    caption = ("Every trained arm's Valid PCKsh@0.1 after each epoch (its configured decoder), against epochs "
               "(log scale: each doubling of the budget is one step) and against the seconds its epochs took. "
               "Training doubles its epochs until the convergence test passes (docs/EVIDENCE.md): a dot marks "
               "where an arm stopped because it had converged, a cross where it stopped without (at max_epochs).")
    return Figure(name, title, caption, _save(fig, folder, name))


@register("pck_curves")
def pck_curves(results: Results, folder: Path) -> Figure:
    name, title = "pck_curves", "PCKsh against the threshold beta (test split)"
    experiments = results.group("loss")
    if not experiments:
        return Figure(name, title, note=NOT_RUN)

    def curve(e: Result) -> list[float]:
        _, arrays = e.arrays("Test")
        scores = evaluate(arrays["prediction"], arrays["annotation"], e.config["eval_subset"], betas=PCK_BETAS)
        return [scores[f"pck@{b:g}"] for b in PCK_BETAS]

    def draw(axes, e: Result, colour):
        axes[0].plot(PCK_BETAS, curve(e), color=colour, label=e.config["model"])
        axes[0].set_xlabel("threshold beta (fraction of S)")
        axes[0].set_ylabel("PCKsh@beta")
        axes[0].set_ylim(0, 1)

    fig = _loss_facets(experiments, draw)
    baselines = results.group("baseline") + results.group("reference")
    for e, style in zip(baselines, ("--", ":", "-.", (0, (1, 4)))):
        values = curve(e)
        kind = "zero-shot" if e.baseline else "chance level"
        for ax in fig.axes:
            ax.plot(PCK_BETAS, values, color="black", linestyle=style, label=f"{e.config['model']} ({kind})")
    if baselines:  # the legend again, with the baselines and the chance level
        fig.legends.clear()
        fig.legend(*_unique(fig.axes), loc="outside lower center", ncols=len(fig.axes[0].lines), title="model")
    fig.suptitle(title)
    caption = ("Fraction of keypoints closer than beta * S to the annotation, for beta from 0 to 0.2; "
               "the study's tables read these curves at 0.1 ... 0.02. Black dashed: an off-the-shelf baseline "
               "run zero-shot; dotted: the chance level, the Train split's mean pose in every frame (the same "
               "curves in every panel: they have no loss).")
    return Figure(name, title, caption, _save(fig, folder, name))


def _frames(results: Results, split: str) -> dict | str:
    """``{(video, frame): snapshot entry}`` of a split, or why there are no images to draw."""
    if results.dataset is None:
        return (f"skipped: no dataset snapshot in {results.root} (written by `python -m benchmark run`; "
                "rerun it to add the images)")
    return results.frames(split) or f"skipped: the snapshot has no {split} frames"


def _overlays(results: Results, e: Result, split: str, frames: dict, keys: list[tuple]) -> list[np.ndarray]:
    """The frames ``keys`` of a split (face mosaicked in the snapshot), with the annotation (magenta)
    and ``e``'s prediction (by side) drawn on them."""
    index, arrays = e.arrays(split)
    position = {key: i for i, key in enumerate(index)}
    images = []
    for key in keys:
        entry = frames[key]
        image = draw_pose(results.image(entry), arrays["annotation"][position[key]] * entry["scale"],
                          color_by_side=False)
        images.append(draw_pose(image, arrays["prediction"][position[key]] * entry["scale"]))
    return images


def _spread(e: Result, split: str, frames: dict, count: int) -> list[tuple]:
    """``count`` frames of a split spread evenly over its sorted ``(video, frame)`` keys (so over
    the videos), among those with images."""
    index = [key for key in e.arrays(split)[0] if key in frames]
    picks = np.unique(np.linspace(0, len(index) - 1, count).round().astype(int)) if index else []
    return [index[i] for i in picks]


def _save_image(image: np.ndarray, folder: Path, name: str) -> str:
    Image.fromarray(image).save(folder / f"{name}.png")
    return f"{folder.name}/{name}.png"


@register("sample_predictions")
def sample_predictions(results: Results, folder: Path) -> Figure:
    name, title = "sample_predictions", "Sample test predictions"
    first_seed: dict[tuple, Result] = {}  # one row per setting, not per seed
    for e in (results.group("loss") + results.group("baseline")) or results.experiments:
        first_seed.setdefault((e.group, e.setting), e)
    experiments = list(first_seed.values())
    if not experiments:
        return Figure(name, title, note=NOT_RUN)
    frames = _frames(results, "Test")
    if isinstance(frames, str):
        return Figure(name, title, note=frames)
    chosen = _spread(experiments[0], "Test", frames, SAMPLE_FRAMES)
    if not chosen:
        return Figure(name, title, note="skipped: the test frames of the results are not in the dataset")
    images, titles = [], []
    for e in experiments:
        images += _overlays(results, e, "Test", frames, chosen)
        titles += [f"{e.label}  {frames[key]['stem']}" for key in chosen]
    caption = (f"Predicted poses ({experiments[0].decoder} decoder; left side orange, right side blue, "
               f"midline green) over the annotation (magenta) on {len(chosen)} test frames, one row per "
               "experiment. Faces are mosaicked.")
    return Figure(name, title, caption, _save_image(grid(images, cols=len(chosen), titles=titles), folder, name))


@register("frame_sequence")
def frame_sequence(results: Results, folder: Path) -> Figure:
    name, title = "frame_sequence", f"Frames t, t+{SEQUENCE_GAP} and t+{2 * SEQUENCE_GAP}: annotation and prediction"
    e = showcase(results)
    if e is None:
        return Figure(name, title, note=NOT_RUN)
    frames = _frames(results, "Test")
    if isinstance(frames, str):
        return Figure(name, title, note=frames)
    rows: dict[str, list[tuple]] = {}  # video -> its first frames t, t+gap, t+2 gap with images
    for video, t in e.arrays("Test")[0]:
        keys = [(video, t + k * SEQUENCE_GAP) for k in range(3)]
        if video not in rows and all(key in frames for key in keys):
            rows[video] = keys
    if not rows:
        return Figure(name, title, note=f"skipped: no test video has labelled frames {SEQUENCE_GAP} frames apart")
    chosen = list(rows.values())[:SEQUENCE_VIDEOS]
    keys = [key for row in chosen for key in row]
    titles = [f"video {v}  t{f'+{k * SEQUENCE_GAP}' if k else ''} (frame {f})"
              for row in chosen for k, (v, f) in enumerate(row)]
    image = grid(_overlays(results, e, "Test", frames, keys), cols=3, titles=titles, cell=320)
    caption = (f"{e.label} ({e.decoder} decoder): the prediction (left side orange, right side blue) and the "
               f"annotation (magenta) on frames {SEQUENCE_GAP} video frames apart, one test video per row, "
               "as in the study's comparison of annotation and prediction over time. Faces are mosaicked.")
    return Figure(name, title, caption, _save_image(image, folder, name))


@register("domain_shift_gallery")
def domain_shift_gallery(results: Results, folder: Path) -> Figure:
    name, title = "domain_shift_gallery", "Generalisation: predictions on the domain-shift set"
    e = showcase(results)
    if e is None:
        return Figure(name, title, note=NOT_RUN)
    scores = e.scores("DomainShift")
    if scores is None:
        return Figure(name, title, note="skipped: the dataset has no DomainShift split (synthetic data only)")
    frames = _frames(results, "DomainShift")
    if isinstance(frames, str):
        return Figure(name, title, note=frames)
    chosen = _spread(e, "DomainShift", frames, GALLERY_FRAMES)
    image = grid(_overlays(results, e, "DomainShift", frames, chosen), cols=4,
                 titles=[f"{results.shifts.get(k[0], '')}  {frames[k]['stem']}".strip() for k in chosen])
    test = e.scores("Test") or {}
    caption = (f"{e.label} ({e.decoder} decoder) on {len(chosen)} frames of the DomainShift split (infants, "
               "mats and cameras the model never saw), annotation in magenta. PCKsh@0.1 there: "
               f"{scores['pck@0.1']:.3f} (test split: {test.get('pck@0.1', np.nan):.3f}); mKS "
               f"{scores['mks']:.3f} ({test.get('mks', np.nan):.3f}). `python -m benchmark gallery` draws "
               "the same for any folder of unlabelled images. Faces are mosaicked.")
    return Figure(name, title, caption, _save_image(image, folder, name))


@register("generalisation")
def generalisation(results: Results, folder: Path) -> Figure:
    name, title = "generalisation", "Generalisation: PCKsh@0.1 on the test split and on each held-out shift"
    table = generalisation_table(results)
    if table.data is None:
        return Figure(name, title, note=table.note)
    data = table.data.reset_index()
    data["setting"] = data["model"] + " / " + data["loss"]
    low, high = table.low["PCK@0.1"].to_numpy(), table.high["PCK@0.1"].to_numpy()
    splits, settings = list(dict.fromkeys(data["split"])), list(dict.fromkeys(data["setting"]))
    fig = _new(max(11.0, 2.2 * len(splits)), 5.0)
    bars, kept = fig.subplots(1, 2, width_ratios=[1.6, 1])
    width = 0.8 / len(settings)
    colours = sns.color_palette("colorblind", len(settings))
    for i, setting in enumerate(settings):
        rows = (data["setting"] == setting).to_numpy()
        x = np.array([splits.index(s) for s in data.loc[rows, "split"]]) + (i - (len(settings) - 1) / 2) * width
        value = data.loc[rows, "PCK@0.1"].to_numpy()
        error = np.abs(np.vstack([value - low[rows], high[rows] - value]))
        bars.bar(x, value, width, yerr=np.nan_to_num(error), color=colours[i], label=setting, capsize=2)
    bars.set_xticks(range(len(splits)), splits, rotation=30)
    bars.set_ylabel("PCKsh@0.1 (95 % interval over videos)")
    bars.set_ylim(0, 1)
    fig.legend(*bars.get_legend_handles_labels(), loc="outside lower center", ncols=min(len(settings), 3),
               title="model / loss")
    share = data[data["split"] != "Test"].pivot(index="setting", columns="split", values="PCK@0.1 / Test")
    share = share.reindex(index=settings, columns=splits[1:])
    sns.heatmap(share, ax=kept, vmin=0, vmax=1, cmap="RdYlGn", annot=True, fmt=".0%", cbar=False)
    kept.set_title("share of test PCK@0.1 kept")
    kept.set_xlabel("")
    kept.set_ylabel("")
    fig.suptitle(title)
    caption = ("Left: PCKsh@0.1 of each model on the test split and on each named shift (each changes one family "
               "of factors the training splits never contain), with 95 % video-bootstrap intervals. Right: the "
               "share of its test PCK@0.1 each model keeps on each shift (1 = no loss). Numbers and intervals: the "
               "generalisation table.")
    return Figure(name, title, caption, _save(fig, folder, name))


@register("trajectories")
def trajectories(results: Results, folder: Path) -> Figure:
    name, title = "trajectories", "Keypoint trajectories over time"
    e = showcase(results)
    if e is None:
        return Figure(name, title, note=NOT_RUN)
    tracks = video_trajectories(e.rows("Test"))
    video = max(tracks, key=lambda v: len(tracks[v][0]))
    frames, arrays = tracks[video]
    fig = _new(11, 3 * len(TRAJECTORY_KEYPOINTS))
    axes = fig.subplots(len(TRAJECTORY_KEYPOINTS), 2, sharex=True)
    for row, keypoint in zip(axes, TRAJECTORY_KEYPOINTS):
        for axis, ax in enumerate(row):
            for source, points in arrays.items():
                if not np.isnan(points).all():
                    ax.plot(frames, points[:, INDEX[keypoint], axis], label=source, **SOURCE_STYLE[source])
            ax.set_title(f"{DISPLAY_NAMES[keypoint]}: {'xy'[axis]}")
            ax.set_ylabel(f"{'xy'[axis]} (image pixels)")
    for ax in axes[-1]:
        ax.set_xlabel("frame index")
    fig.legend(*_unique(axes), loc="outside lower center", ncols=3)
    fig.suptitle(f"{title}: test video {video}, {e.label}, {e.decoder} decoder")
    caption = ("Image coordinates of two keypoints over one test video: the annotation, the prediction "
               "and, on synthetic data, the exact truth.")
    return Figure(name, title, caption, _save(fig, folder, name))


@register("jitter")
def jitter(results: Results, folder: Path) -> Figure:
    name, title = "jitter", "Temporal jitter per keypoint (test split)"
    e = showcase(results)
    if e is None:
        return Figure(name, title, note=NOT_RUN)
    table = jitter_table(e.rows("Test"))
    table["keypoint"] = table["keypoint"].map(DISPLAY_NAMES)
    order = [DISPLAY_NAMES[k] for k in LABELS]
    fig = _new(13, 7)
    axes = fig.subplots(2, 1, sharex=True)
    for ax, measure, label in ((axes[0], "acceleration", "mean |acceleration| (S / frame²)"),
                               (axes[1], "residual", "RMS residual to smoothing (S)")):
        sns.barplot(table, x="keypoint", y=measure, hue="source", order=order, palette=SOURCE_COLOURS, ax=ax)
        ax.get_legend().remove()
        ax.set_ylabel(label)
        if table[measure].isna().all():
            ax.text(0.5, 0.5, "no video long enough for this measure", transform=ax.transAxes,
                    ha="center", va="center", color="0.4")
    axes[1].set_xlabel("")
    axes[1].tick_params(axis="x", labelrotation=60)
    fig.legend(*_unique(axes[:1]), loc="outside lower center", ncols=3)
    fig.suptitle(f"{title}: {e.label}, {e.decoder} decoder")
    caption = ("Top: mean magnitude of the second derivative over consecutive labelled frames, divided by "
               "the squared frame gap and the reference scale S. Bottom: RMS distance to a Savitzky-Golay "
               f"smoothing (window {WINDOW} labelled frames, order {POLYORDER}). Averaged over test "
               "videos; benchmark/study/smoothness.py documents the formulas.")
    return Figure(name, title, caption, _save(fig, folder, name))


@register("movement_robustness")
def movement_robustness(results: Results, folder: Path) -> Figure:
    name, title = "movement_robustness", "Movement features under pose error (test split)"
    e = showcase(results)
    if e is None:
        return Figure(name, title, note=NOT_RUN)
    timing = results.timing
    if timing is None:
        return Figure(name, title, note="skipped: needs synthetic data (exact truth and the videos' frame rate)")
    table = robustness_table(e.rows("Test"), timing["fps"], timing["frame_step"])
    if table.empty:
        return Figure(name, title, note="skipped: no video long enough for the movement features")
    fig = robustness_figure(table)
    fig.suptitle(f"{title}: {e.label}, {e.decoder} decoder")
    caption = ("Error of each movement feature against the exact truth, computed from the annotation, the "
               "prediction and the filtered predictions; mean over test videos with a 95 % bootstrap interval. "
               "The movement table gives the numbers for every model with the recommended loss.")
    return Figure(name, title, caption, _save(fig, folder, name))


STRATEGY_COLOURS = dict(zip(STRATEGIES, sns.color_palette("colorblind", len(STRATEGIES))))


def labelling_points(results: Results) -> pd.DataFrame:
    """Per strategy and round of the labelling simulations: ``labelled_frames`` and Test PCK@0.1
    (``pck``) with its 95 % video-bootstrap interval (``low``, ``high``), a strategy's seeds averaged."""
    runs: dict[str, list[tuple[Result, pd.DataFrame]]] = {}
    for e in results.group("labelling"):
        rows = e.cached(("labelling",), lambda e=e: pd.read_csv(e.path / LABELLING, dtype={"video": str}))
        runs.setdefault(e.config["strategy"], []).append((e, rows))
    points = []
    for strategy, seeds in sorted(runs.items(), key=lambda item: STRATEGIES.index(item[0])):
        for round_ in sorted(set().union(*(rows["round"] for _, rows in seeds))):
            parts = [(e, rows[rows["round"] == round_]) for e, rows in seeds]
            found = interval(Cell.stack([Cell(part["video"].to_numpy(), part["correct"].to_numpy(),
                                               part["scored"].to_numpy(), (e.config.get("seed", 0),), (e.id,))
                                          for e, part in parts if len(part)]))
            points.append({"strategy": strategy, "round": round_, "pck": found.estimate, "low": found.low,
                           "high": found.high, "labelled_frames": parts[0][1]["labelled_frames"].max()})
    return pd.DataFrame(points, columns=["strategy", "round", "labelled_frames", "pck", "low", "high"])


@register("labelling_curves")
def labelling_curves(results: Results, folder: Path) -> Figure:
    name, title = "labelling_curves", "The labelling loop: Test PCK@0.1 against labelled frames, per strategy"
    points = labelling_points(results)
    if points.empty:
        return Figure(name, title, note=NOT_RUN)
    fig = _new(7, 4.5)
    ax = fig.subplots()
    for strategy, part in points.groupby("strategy", sort=False):
        colour = STRATEGY_COLOURS.get(strategy, "0.3")
        ax.plot(part["labelled_frames"], part["pck"], marker="o", color=colour, label=strategy,
                linestyle="--" if strategy == "random" else "-")
        ax.fill_between(part["labelled_frames"], part["low"], part["high"], color=colour, alpha=0.15, linewidth=0)
    for e in results.group("reference"):
        chance = (e.scores("Test") or {}).get("pck@0.1")
        if chance is not None:
            ax.axhline(chance, color="black", linestyle=":", label=f"chance level ({e.config['model']})")
    ax.set_xlabel("labelled Train frames")
    ax.set_ylabel("Test PCKsh@0.1")
    ax.set_xticks(sorted(points["labelled_frames"].unique()))
    ax.legend(title="strategy", loc="best")
    fig.suptitle(title)
    caption = ("Each strategy's simulated labelling loop (benchmark/labelling/simulate.py, docs/LABELLING.md): the "
               "start videos' frames, then each round the frames the strategy picks from the other Train videos, "
               "labelled from the exact truth plus the synthetic annotator's noise; every round retrains from "
               "scratch with the same recipe and steps. Bands: 95 % video-bootstrap intervals over the Test "
               "videos; random (dashed) is the control; dotted: the chance level, the Train split's mean pose in "
               "every frame. The claims compare the strategies at the last round, paired over the same videos.")
    return Figure(name, title, caption, _save(fig, folder, name))
