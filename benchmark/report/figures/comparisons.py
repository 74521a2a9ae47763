"""Figures of accuracy and of the claims' comparisons: the verdicts, PCKsh per body region, PCKsh
against its threshold, and generalisation to the held-out shifts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import seaborn as sns
from matplotlib import lines as mpl_lines

from benchmark.report.figures.panels import legend_entries, loss_facets, loss_table_experiments
from benchmark.report.figures.registry import Figure, new_figure, register_figure
from benchmark.report.results import Result, Results
from benchmark.report.tables import generalisation_table, per_region_table
from benchmark.report.verdicts import gist
from benchmark.study.metrics import evaluate

VERDICT_COLOURS = {"holds": "#1b9e77", "contradicted": "#d95f02", "inconclusive": "#7570b3", "untested": "#b0b0b0",
                   "not run": "#666666"}


@register_figure("verdicts", "Does the study hold? Every comparison behind its claims",
                 needs=lambda results: results.verdicts if results.experiments else None)
def verdicts(judged, results: Results, folder: Path, figure: Figure) -> Figure:
    table, claims = judged.comparisons, judged.claims.set_index("claim")
    names = list(dict.fromkeys(table["claim"]))
    heights = [table["claim"].eq(c).sum() + 1.5 for c in names]
    fig = new_figure(12, 0.22 * sum(heights) + 1.2)
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
    return figure.saved(fig, folder, caption)


@register_figure("per_region_bars", "PCKsh@0.1 per body region across the face-occlusion settings", needs=per_region_table)
def per_region_bars(table, results: Results, folder: Path, figure: Figure) -> Figure:
    long = table.data.rename_axis(columns="region").stack().rename("PCKsh@0.1").reset_index()
    long = long[long["source"] != "difference"]
    long["setting"] = long[["train face", "valid face", "facial keypoints"]].agg(" / ".join, axis=1)
    fig = new_figure(13, 4.6, figure.title)
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
    caption = ("Test split, left and right pooled per region; our runs (left) beside the published "
               "values (right).")
    return figure.saved(fig, folder, caption)


PCK_BETAS = np.round(np.linspace(0, 0.2, 41), 3)


@register_figure("pck_curves", "PCKsh against the threshold beta (test split)", needs=loss_table_experiments)
def pck_curves(experiments: list[Result], results: Results, folder: Path, figure: Figure) -> Figure:

    def curve(e: Result) -> list[float]:
        _, arrays = e.arrays("Test")
        scores = evaluate(arrays["prediction"], arrays["annotation"], e.config["eval_subset"], betas=PCK_BETAS)
        return [scores[f"pck@{b:g}"] for b in PCK_BETAS]

    def draw(axes, e: Result, colour):
        axes[0].plot(PCK_BETAS, curve(e), color=colour, label=e.config["model"])
        axes[0].set_xlabel("threshold beta (fraction of S)")
        axes[0].set_ylabel("PCKsh@beta")
        axes[0].set_ylim(0, 1)

    fig = loss_facets(experiments, draw, figure.title)
    baselines = results.group("baseline") + results.group("reference")
    for e, style in zip(baselines, ("--", ":", "-.", (0, (1, 4)))):
        values = curve(e)
        kind = "zero-shot" if e.baseline else "chance level"
        for ax in fig.axes:
            ax.plot(PCK_BETAS, values, color="black", linestyle=style, label=f"{e.config['model']} ({kind})")
    if baselines:  # the legend again, with the baselines and the chance level
        fig.legends.clear()
        fig.legend(*legend_entries(fig.axes), loc="outside lower center", ncols=len(fig.axes[0].lines), title="model")
    caption = ("Fraction of keypoints closer than beta * S to the annotation, for beta from 0 to 0.2; "
               "the study's tables read these curves at 0.1 ... 0.02. Black dashed: an off-the-shelf baseline "
               "run zero-shot; dotted: the chance level, the Train split's mean pose in every frame (the same "
               "curves in every panel: they have no loss).")
    return figure.saved(fig, folder, caption)


@register_figure("generalisation", "Generalisation: PCKsh@0.1 on the test split and on each held-out shift",
                 needs=generalisation_table)
def generalisation(table, results: Results, folder: Path, figure: Figure) -> Figure:
    data = table.data.reset_index()
    data["setting"] = data["model"] + " / " + data["loss"]
    low, high = table.low["PCK@0.1"].to_numpy(), table.high["PCK@0.1"].to_numpy()
    splits, settings = list(dict.fromkeys(data["split"])), list(dict.fromkeys(data["setting"]))
    fig = new_figure(max(11.0, 2.2 * len(splits)), 5.0, figure.title)
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
    caption = ("Left: PCKsh@0.1 of each model on the test split and on each named shift (each changes one family "
               "of factors the training splits never contain), with 95 % video-bootstrap intervals. Right: the "
               "share of its test PCK@0.1 each model keeps on each shift (1 = no loss). Numbers and intervals: the "
               "generalisation table.")
    return figure.saved(fig, folder, caption)

