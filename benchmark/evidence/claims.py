"""The study's claims in a checkable form (``experiments/claims.yaml``) and their verdicts.

A claim has an id, a statement, the published evidence and one or more comparisons. A comparison
sets a side ``a`` (a selector of experiment settings) against a side ``b`` (another selector, a
constant such as 1 for a ratio, or omitted: the same experiments as ``a``) on one split and metric,
each side with its own decoder and metric where needed (``b_decoder``, ``b_metric``). ``each``
expands one comparison into several: a key that is a comparison field (``metric``, ``split``, ...)
takes each listed value; any other key is a setting put into ``a``, and into ``b`` unless ``b`` sets it
itself (``a: {loss: kce}, b: {loss: kce, model: hourglass}, each: {model: [resunet, ...]}``).

The statistic is ``D = value(a) - value(b)`` with its paired video-bootstrap interval ``[low, high]``
(:func:`.bootstrap.difference`). Verdict of a comparison, by ``direction``:

- ``greater`` (a beats b): holds when ``low > 0``, contradicted when ``high < 0``;
- ``less`` (a below b): holds when ``high < 0``, contradicted when ``low > 0``;
- ``equivalent`` (``|D| < margin``): holds when ``-margin < low`` and ``high < margin``, contradicted
  when ``low >= margin`` or ``high <= -margin``;
- ``noninferior`` (``D > -margin``): holds when ``low > -margin``, contradicted when ``high < -margin``.

Anything else is **inconclusive**, and so is a comparison with a missing experiment or with fewer
than ``min_videos`` (10) contributing videos: a percentile bootstrap over so few clusters covers too
rarely (docs/EVIDENCE.md). A claim holds when all its comparisons hold, is contradicted when any is
contradicted, and is inconclusive otherwise. Rows drawn from an experiment that :mod:`.convergence`
marks not converged say so (``not_converged``).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from benchmark.evidence.bootstrap import LEVEL, N_BOOT, Cell, difference
from benchmark.evidence.sources import StatsSource, parse_metric
from benchmark.runner.manifest import line_index, where
from benchmark.training.config import TrainConfig

CLAIMS = Path(__file__).resolve().parents[2] / "experiments" / "claims.yaml"
SPLITS = ("Valid", "Test", "DomainShift")
DECODERS = ("argmax", "wa", "dark")
VERDICTS = ("holds", "contradicted", "inconclusive")
MIN_VIDEOS = 10
FIELDS = ("metric", "b_metric", "split", "decoder", "b_decoder")  # comparison fields `each` may vary
SETTINGS = (*TrainConfig.model_fields, "group", "id")             # selector keys
Scalar = str | int | float | bool


class ClaimsError(ValueError):
    """A claims file problem, naming the file, line, claim and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_selector(selector: dict) -> dict:
    unknown = [k for k in selector if k not in SETTINGS]
    if unknown:
        raise ValueError(f"unknown setting {unknown[0]!r} (allowed: {', '.join(SETTINGS)})")
    return selector


def _check_value(key: str, value) -> None:
    if key in ("metric", "b_metric"):
        parse_metric(str(value))
    elif key == "split" and value not in SPLITS:
        raise ValueError(f"unknown split {value!r} (allowed: {', '.join(SPLITS)})")
    elif key in ("decoder", "b_decoder") and value not in DECODERS:
        raise ValueError(f"unknown decoder {value!r} (allowed: {', '.join(DECODERS)})")


class Comparison(_Strict):
    a: dict[str, Scalar]
    b: dict[str, Scalar] | float | None = None  # None: the same experiments as a
    metric: str
    b_metric: str | None = None
    split: str = "Test"
    decoder: str | None = None                  # None: each experiment's configured decoder
    b_decoder: str | None = None
    direction: Literal["greater", "less", "equivalent", "noninferior"]
    margin: float | None = Field(None, gt=0)
    each: dict[str, list[Scalar]] = {}
    label: str | None = None

    @field_validator("a", "b")
    @classmethod
    def _selector(cls, value):
        return _check_selector(value) if isinstance(value, dict) else value

    @field_validator("metric", "b_metric", "split", "decoder", "b_decoder")
    @classmethod
    def _value(cls, value, info):
        if value is not None:
            _check_value(info.field_name, value)
        return value

    @model_validator(mode="after")
    def _consistent(self):
        if (self.margin is None) != (self.direction in ("greater", "less")):
            raise ValueError(f"direction {self.direction!r} "
                             + ("needs a margin" if self.margin is None else "takes no margin"))
        for key, values in self.each.items():
            if key not in FIELDS and key not in SETTINGS:
                raise ValueError(f"each: unknown key {key!r} (a setting or one of {', '.join(FIELDS)})")
            for value in values:
                _check_value(key, value)
        return self

    def expand(self) -> list[Resolved]:
        """One :class:`Resolved` comparison per combination of the ``each`` values."""
        out = []
        for values in itertools.product(*self.each.values()):
            chosen = dict(zip(self.each, values))
            fields = {k: chosen.get(k, getattr(self, k)) for k in FIELDS}
            settings = {k: v for k, v in chosen.items() if k not in FIELDS}
            a = {**self.a, **settings}
            b = a if self.b is None else {**settings, **self.b} if isinstance(self.b, dict) else float(self.b)
            label = ", ".join([self.label] * bool(self.label) + [f"{k}={v}" for k, v in chosen.items()]) \
                or fields["metric"]
            out.append(Resolved(label, a, b, fields["metric"], fields["b_metric"] or fields["metric"],
                                fields["split"], fields["decoder"], fields["b_decoder"] or fields["decoder"],
                                self.direction, self.margin))
        return out


class Published(_Strict):
    text: str
    source: str = ""                  # file(s) of shared/paper_reference
    numbers: dict[str, float] = {}    # "what, split, metric" -> published value


class Claim(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    statement: str
    paper_claim: int | None = None    # its number in shared/paper_reference/claims.md
    published: Published
    comparisons: list[Comparison] = Field(min_length=1)


class ClaimsFile(_Strict):
    claims: list[Claim]

    @model_validator(mode="after")
    def _unique(self):
        ids = [c.id for c in self.claims]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"claim id(s) {', '.join(repeated)} appear more than once")
        return self


@dataclass(frozen=True)
class Resolved:
    """One concrete comparison: ``a`` and ``b`` selectors (``b`` may be a constant)."""

    label: str
    a: dict
    b: dict | float
    metric: str
    b_metric: str
    split: str
    decoder: str | None
    b_decoder: str | None
    direction: str
    margin: float | None


def load_claims(path: Path | str = CLAIMS) -> list[Claim]:
    """The validated claims of a file; :class:`ClaimsError` names file, line, claim and field."""
    path = Path(path)
    try:
        text = path.read_text()
        raw, node = yaml.safe_load(text), yaml.compose(text)
    except FileNotFoundError:
        raise ClaimsError(f"{path}: claims file not found") from None
    except yaml.YAMLError as e:
        raise ClaimsError(f"{path}: not valid YAML: {e}") from None
    try:
        return ClaimsFile.model_validate(raw).claims
    except ValidationError as e:
        lines = line_index(node) if node is not None else {}
        raise ClaimsError("\n".join(_message(path, lines, raw, err) for err in e.errors())) from None


def _message(path: Path, lines: dict, raw, err: dict) -> str:
    loc = tuple(err["loc"])
    place = where(path, lines, loc)
    if loc[:1] == ("claims",) and len(loc) > 1 and isinstance(loc[1], int):
        entry = raw["claims"][loc[1]]
        claim = entry.get("id") if isinstance(entry, dict) and entry.get("id") else f"#{loc[1] + 1}"
        return f"{place}: claim {claim!r}: {_dotted(loc[2:]) or '(claim)'}: {err['msg']}"
    return f"{place}: {_dotted(loc) or '(file)'}: {err['msg']}"


def _dotted(loc: tuple) -> str:
    """``("comparisons", 0, "direction")`` -> ``comparisons[0].direction``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def verdict(direction: str, low: float, high: float, margin: float | None = None) -> str:
    """The verdict rule of the module docstring for an interval ``[low, high]`` of ``a - b``."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return "inconclusive"
    m = margin or 0.0
    holds, contradicted = {
        "greater": (low > 0, high < 0),
        "less": (high < 0, low > 0),
        "equivalent": (-m < low and high < m, low >= m or high <= -m),
        "noninferior": (low > -m, high < -m),
    }[direction]
    return "holds" if holds else "contradicted" if contradicted else "inconclusive"


def combine(verdicts) -> str:
    """A claim's verdict from its comparisons' verdicts."""
    verdicts = list(verdicts)
    if verdicts and all(v == "holds" for v in verdicts):
        return "holds"
    return "contradicted" if "contradicted" in verdicts else "inconclusive"


def _describe(selector: Mapping | float, decoder: str | None) -> str:
    if not isinstance(selector, Mapping):
        return f"{selector:g}"
    text = ", ".join(f"{k}={v}" for k, v in selector.items() if k != "group")
    return f"{text} ({decoder})" if decoder else text


@dataclass
class Verdicts:
    """``comparisons``: one row per resolved comparison; ``claims``: one row per claim."""

    comparisons: pd.DataFrame
    claims: pd.DataFrame


def evaluate(claims: list[Claim], source: StatsSource, n_boot: int = N_BOOT, seed: int = 0,
             level: float = LEVEL, min_videos: int = MIN_VIDEOS) -> Verdicts:
    """Every comparison of every claim against ``source``, each with the same bootstrap seed."""
    rows = []
    for claim in claims:
        for comparison in (r for c in claim.comparisons for r in c.expand()):
            rows.append({"claim": claim.id, **_compare(comparison, source, n_boot, seed, level, min_videos)})
    table = pd.DataFrame(rows)
    summary = []
    for claim in claims:
        part = table[table["claim"] == claim.id]
        counts = part["verdict"].value_counts()
        summary.append({"claim": claim.id, "statement": claim.statement, "verdict": combine(part["verdict"]),
                        **{v: int(counts.get(v, 0)) for v in VERDICTS},
                        "not_converged": bool(part["not_converged"].any()), "published": claim.published.text})
    return Verdicts(table, pd.DataFrame(summary))


def _compare(c: Resolved, source: StatsSource, n_boot: int, seed: int, level: float, min_videos: int) -> dict:
    """One verdict row: the sides, the paired difference, the verdict and its caveats."""
    row = {"comparison": c.label, "split": c.split,
           "metric": f"{c.metric} vs {c.b_metric}" if c.metric != c.b_metric else c.metric,
           "a": _describe(c.a, c.decoder), "b": _describe(c.b, c.b_decoder), "direction": c.direction,
           "margin": c.margin, "value_a": np.nan, "value_b": np.nan, "difference": np.nan, "low": np.nan,
           "high": np.nan, "display": "n/a", "seeds": "", "n_videos": 0, "verdict": "inconclusive",
           "not_converged": False, "convergence": "", "note": ""}
    try:
        a = source.cell(c.a, c.split, c.metric, c.decoder)
        b = source.cell(c.b, c.split, c.b_metric, c.b_decoder) if isinstance(c.b, Mapping) else c.b
    except LookupError as e:
        return row | {"note": f"not run: {e.args[0]}"}
    d = difference(a, b, paired=True, n_boot=n_boot, seed=seed, level=level)
    enough = d.n_videos >= min_videos
    cells = [a, b] if isinstance(b, Cell) else [a]
    flags = {e: ok for cell in cells for e, ok in zip(cell.experiments, cell.converged)}
    stalled = sorted(e for e, ok in flags.items() if ok is False)
    untested = sorted(e for e, ok in flags.items() if ok is None)
    low, high, _ = d.seed_spread
    return row | {
        "value_a": a.value, "value_b": b.value if isinstance(b, Cell) else b, "difference": d.estimate,
        "low": d.low, "high": d.high, "display": d.format(signed=True), "n_videos": d.n_videos,
        "seeds": f"{len(d.seed_values)} per-seed differences: {low:+.3f} to {high:+.3f}"
                 if len(d.seed_values) > 1 else "",
        "verdict": verdict(c.direction, d.low, d.high, c.margin) if enough else "inconclusive",
        "not_converged": bool(stalled),
        "convergence": "; ".join([f"not converged: {', '.join(stalled)}"] * bool(stalled)
                                 + [f"untested: {', '.join(untested)}"] * bool(untested)),
        "note": "" if enough else f"only {d.n_videos} videos (< {min_videos}): too few to judge",
    }
