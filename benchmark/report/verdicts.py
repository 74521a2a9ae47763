"""The claims' tables: the verdict of each of the study's claims, and the paired comparisons behind
them (:func:`benchmark.evidence.evaluate` on the results; :mod:`benchmark.report.evidence_table`)."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pandas as pd

from benchmark.evidence.claims import VERDICTS
from benchmark.report.evidence_table import NOT_RUN, STALLED_NOTE, Table, register_table
from benchmark.report.formatting import DIFFERENCE
from benchmark.report.results import Results
from benchmark.report.tables import baseline_notes

CLAIMS_CAPTION = (
    "Each claim of the publication, judged on paired 95 % video-bootstrap intervals of its comparisons (the "
    "verdicts figure, and the comparisons folded under it): holds when every comparison holds, contradicted when any is contradicted, "
    "not run when no comparison ran (its experiments are not in this profile), untested when every comparison "
    "that ran is, otherwise inconclusive. A comparison is untested when an arm in it did "
    "not learn (its Valid PCK@0.1 does not clearly beat the chance level, the Train split's mean pose) or had not "
    "converged (its last learning-rate cycle still raised Valid PCK@0.1 clearly); it is inconclusive with fewer "
    "than 10 contributing videos or an interval that decides nothing (docs/EVIDENCE.md). `python -m benchmark "
    "claims` prints the same table.")


GISTS = (("did not learn", "an arm did not learn"),
         ("not converged", "an arm had not converged"), ("convergence untested", "convergence untested"),
         ("too few", "too few videos"))


def clip(text: str, length: int = 40) -> str:
    """``text`` cut to ``length`` characters, an ellipsis marking the cut."""
    return text if len(text) <= length else text[:length - 1].rstrip() + "…"


def gists(reason: str) -> list[str]:
    """The gists of why a comparison is untested, inconclusive or not run (``["an arm had not converged"]``);
    a comparison not run has that one (its reason says why the experiments did not run, not a judgment)."""
    if reason.startswith("not run"):
        return ["not run"]
    return [short for phrase, short in GISTS if phrase in reason] or [clip(reason)]


def gist(reason: str) -> str:
    """:func:`gists` in one line."""
    return ", ".join(gists(reason))


def brief(side: str) -> str:
    """A side of a comparison in few words: ``model=resunet, loss=kce (wa, best on Valid)`` -> ``resunet, kce (wa)``."""
    return re.sub(r"\w+=|, best on Valid", "", side)


def _summary(part: pd.DataFrame) -> str:
    """``"2 hold, 1 inconclusive, 9 untested of 12 (why)"`` for one claim's comparisons."""
    counts = part["verdict"].value_counts()
    why = sorted({g for r in part["reason"] if r for g in gists(r)})
    text = ", ".join(f"{counts[v]} {'hold' if v == 'holds' else v}" for v in VERDICTS if v in counts)
    return f"{text} of {len(part)}" + (f" ({'; '.join(why)})" if why else "")


@register_table("claims", "The study's claims: verdicts on these results")
def claims_table(results: Results, table: Table) -> Table:
    """The verdict of each of the study's claims (``experiments/claims.yaml``) beside its published
    evidence."""
    if not results.experiments:
        return replace(table, note=NOT_RUN)
    verdicts = results.verdicts
    rows = {}
    for claim in verdicts.claims.to_dict("records"):
        part = verdicts.comparisons[verdicts.comparisons["claim"] == claim["claim"]]
        rows[claim["claim"]] = {"verdict": claim["verdict"], "claim": claim["statement"],
                                "comparisons": _summary(part), "published": claim["published"]}
    data = pd.DataFrame.from_dict(rows, orient="index").rename_axis("id")
    caption = CLAIMS_CAPTION
    context = baseline_notes(results)
    if context:
        caption += " For context (not part of the claims): " + " ".join(context)
    stalled = pd.Series(verdicts.claims["not_converged"].to_numpy(), index=data.index)
    return replace(table, caption=caption + (f" {STALLED_NOTE}" if stalled.any() else ""), data=data,
                   stalled=stalled, short={"published": lambda text: clip(text, 60)})


@register_table("comparisons", "Paired comparisons behind the claims (same videos, seeds pooled)")
def comparisons_table(results: Results, table: Table) -> Table:
    """Every comparison behind the claims: the two sides' values, their paired difference, the
    verdict and why."""
    if not results.experiments:
        return replace(table, note=NOT_RUN)
    rows = results.verdicts.comparisons
    data = pd.DataFrame({
        "metric": rows["split"] + " " + rows["metric"], "a": rows["a"], "b": rows["b"],
        "value a": rows["value_a"], "value b": rows["value_b"], DIFFERENCE: rows["difference"],
        "seeds": rows["seeds"], "videos": rows["n_videos"], "verdict": rows["verdict"], "why": rows["reason"],
    }, dtype=object)
    data.index = pd.MultiIndex.from_arrays([rows["claim"], rows["comparison"]], names=["claim", "comparison"])
    empty = pd.DataFrame(np.nan, index=data.index, columns=data.columns)
    low, high = empty.copy(), empty.copy()
    low[DIFFERENCE], high[DIFFERENCE] = rows["low"].to_numpy(), rows["high"].to_numpy()
    stalled = pd.Series(rows["not_converged"].to_numpy(), index=data.index)
    caption = (f"{DIFFERENCE}: value a minus value b with its paired 95 % video-bootstrap interval (both sides "
               "resampled with the same videos, so what the videos share cancels); seeds: the spread of the "
               "per-seed differences where the sides have several seeds; why: what made a comparison untested, "
               "inconclusive or not run (hover over a cell for its whole text; the CSV has every reason in full). "
               "One block per claim, folded: click a claim to unfold its comparisons. Direction and margin of each comparison: experiments/claims.yaml; each experiment's "
               "convergence test: `python -m benchmark claims`.")
    claims = results.verdicts.claims.set_index("claim")
    folds = {claim: f"{claims.loc[claim, 'verdict']}: {_summary(rows[rows['claim'] == claim])}"
             for claim in claims.index}
    return replace(table, caption=caption + (f" {STALLED_NOTE}" if stalled.any() else ""), data=data,
                   low=low, high=high, stalled=stalled, compact=True, folds=folds,
                   short={"a": brief, "b": brief, "why": gist})
