"""The claims' tables: the verdict of each of the study's claims, and the paired comparisons behind
them (:func:`benchmark.evidence.evaluate` on the results; :mod:`benchmark.report.table`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark.report.formatting import DIFFERENCE
from benchmark.report.results import Results
from benchmark.report.table import NOT_RUN, STALLED_NOTE, Table, register
from benchmark.report.tables import baseline_notes

CLAIMS_CAPTION = (
    "Each claim of the publication, judged on paired 95 % video-bootstrap intervals of its comparisons (next "
    "table and the verdicts figure): holds when every comparison holds, contradicted when any is contradicted, "
    "untested when every comparison is, otherwise inconclusive. A comparison is untested when an arm in it did "
    "not learn (its Valid PCK@0.1 does not clearly beat the chance level, the Train split's mean pose) or had not "
    "converged (its last learning-rate cycle still raised Valid PCK@0.1 clearly); it is inconclusive with fewer "
    "than 10 contributing videos or an interval that decides nothing (docs/EVIDENCE.md). `python -m benchmark "
    "claims` prints the same table.")


def _summary(part: pd.DataFrame) -> str:
    """``"2 hold, 0 contradicted, 1 inconclusive, 9 untested of 12 (why)"`` for one claim's comparisons."""
    counts = part["verdict"].value_counts()
    why = sorted({r.split(":")[0] if r.startswith("not run") else "arms that did not learn" if "did not learn" in r
                  else "arms not converged" if "not converged" in r else "convergence untested"
                  if "convergence untested" in r else "too few videos" if "too few" in r else r
                  for r in part["reason"] if r})
    text = ", ".join(f"{int(counts.get(v, 0))} {label}" for v, label in
                     (("holds", "hold"), ("contradicted", "contradicted"), ("inconclusive", "inconclusive"),
                      ("untested", "untested")))
    return f"{text} of {len(part)}" + (f" ({'; '.join(why)})" if why else "")


@register("claims")
def claims_table(results: Results) -> Table:
    """The verdict of each of the study's claims (``experiments/claims.yaml``) beside its published
    evidence."""
    title = "The study's claims: verdicts on these results"
    if not results.experiments:
        return Table("claims", title, note=NOT_RUN)
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
    return Table("claims", title, caption + (f" {STALLED_NOTE}" if stalled.any() else ""), data, stalled=stalled)


@register("comparisons")
def comparisons_table(results: Results) -> Table:
    """Every comparison behind the claims: the two sides' values, their paired difference, the
    verdict and why."""
    title = "Paired comparisons behind the claims (same videos, seeds pooled)"
    if not results.experiments:
        return Table("comparisons", title, note=NOT_RUN)
    table = results.verdicts.comparisons
    data = pd.DataFrame({
        "metric": table["split"] + " " + table["metric"], "a": table["a"], "b": table["b"],
        "value a": table["value_a"], "value b": table["value_b"], DIFFERENCE: table["difference"],
        "seeds": table["seeds"], "videos": table["n_videos"], "verdict": table["verdict"], "why": table["reason"],
    }, dtype=object)
    data.index = pd.MultiIndex.from_arrays([table["claim"], table["comparison"]], names=["claim", "comparison"])
    empty = pd.DataFrame(np.nan, index=data.index, columns=data.columns)
    low, high = empty.copy(), empty.copy()
    low[DIFFERENCE], high[DIFFERENCE] = table["low"].to_numpy(), table["high"].to_numpy()
    stalled = pd.Series(table["not_converged"].to_numpy(), index=data.index)
    caption = (f"{DIFFERENCE}: value a minus value b with its paired 95 % video-bootstrap interval (both sides "
               "resampled with the same videos, so what the videos share cancels); seeds: the spread of the "
               "per-seed differences where the sides have several seeds; why: what made a comparison untested or "
               "inconclusive. Direction and margin of each comparison: experiments/claims.yaml; each experiment's "
               "convergence test: `python -m benchmark claims`.")
    return Table("comparisons", title, caption + (f" {STALLED_NOTE}" if stalled.any() else ""), data,
                 low=low, high=high, stalled=stalled)
