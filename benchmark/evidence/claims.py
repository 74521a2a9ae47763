"""The study's claims in a checkable form (``experiments/claims.yaml``) and their verdicts.

A claim has an id, a statement, the published evidence and one or more comparisons. A comparison
sets a side ``a`` (a selector of experiment settings) against a side ``b`` (another selector, a
constant such as 1 for a ratio, or omitted: the same experiments as ``a``) on one split and metric,
each side with its own decoder and metric where needed (``b_decoder``, ``b_metric``). ``each``
expands one comparison into several: a key that is a comparison field (``metric``, ``split``, ...)
takes each listed value; any other key is a setting put into ``a``, and into ``b`` unless ``b`` sets it
itself (``a: {loss: kce}, b: {loss: kce, model: hourglass}, each: {model: [resunet, ...]}``).

**Preconditions.** A comparison is evidence only when every arm in it (each side that is a selector,
with its decoder) was trained to something worth comparing:

- *learned*: on ``learned_split`` (Valid), the arm's ``learned_metric`` (PCK@0.1) beats the
  chance-level reference (``reference``: the Train split's mean pose drawn in every frame) by more
  than ``learned_margin``: the low end of their paired interval is above it;
- *converged*: none of the arm's experiments was still improving when training stopped
  (:mod:`.convergence`: its last learning-rate cycle did not clearly raise Valid PCK@0.1 by more
  than ``convergence_tolerance``).

A comparison whose arm fails either is **untested**, with the arm and the reason ("MSE arm did not
learn: Valid PCK@0.1 0.011, mean pose 0.052"); a smoothness comparison (``jitter:*``) is judged only
on arms that learned, like every other, since a constant prediction has no jitter at all.

**Verdict.** The statistic is ``D = value(a) - value(b)`` with its paired video-bootstrap interval
``[low, high]`` (:func:`.bootstrap.difference`). By ``direction``:

- ``greater`` (a beats b): holds when ``low > 0``, contradicted when ``high < 0``;
- ``less`` (a below b): holds when ``high < 0``, contradicted when ``low > 0``;
- ``equivalent`` (``|D| < margin``): holds when ``-margin < low`` and ``high < margin``, contradicted
  when ``low >= margin`` or ``high <= -margin``;
- ``noninferior`` (``D > -margin``): holds when ``low > -margin``, contradicted when ``high < -margin``.

Anything else is **inconclusive**, and so is a comparison with fewer than ``min_videos`` (10)
contributing videos: a percentile bootstrap over so few clusters covers too rarely (docs/EVIDENCE.md).
A comparison with a missing experiment is **not run**: nothing was judged. A claim holds when all its
comparisons hold, is contradicted when any is contradicted, is not run when none was run, is untested
when every one that ran is untested, and is inconclusive otherwise.

**Knobs.** The engine's constants (``min_videos``, ``n_boot``, ``level``, ``learned_margin``,
``learned_metric``, ``learned_split``, ``convergence_tolerance``) have the defaults of
:class:`Settings`; the file's ``defaults:`` overrides them for every claim and a claim's ``settings:``
for its own comparisons.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator

from benchmark.common.errors import InputError
from benchmark.common.strict import Strict
from benchmark.common.yaml_file import YamlFile
from benchmark.study.bootstrap import LEVEL, N_BOOT, Cell, difference
from benchmark.study.convergence import TOLERANCE
from benchmark.evidence.sources import StatsSource, parse_metric
from benchmark.labelling.config import LabellingConfig

CLAIMS = Path(__file__).resolve().parents[2] / "experiments" / "claims.yaml"
SPLITS = ("Valid", "Test", "DomainShift")
DECODERS = ("argmax", "wa", "dark", "best")  # best: the decoder each side scores best with on Valid
NOT_RUN = "not run"  # a comparison whose experiments are missing: nothing was judged
VERDICTS = ("holds", "contradicted", "inconclusive", "untested", NOT_RUN)
MIN_VIDEOS = 10  # the fewest contributing videos a verdict needs
FIELDS = ("metric", "b_metric", "split", "decoder", "b_decoder")  # comparison fields `each` may vary
SETTINGS = (*LabellingConfig.model_fields, "group", "id", "reference")  # selector keys (a TrainConfig's and more)
Scalar = str | int | float | bool


class ClaimsError(InputError):
    """A claims file problem, naming the file, line, claim and field."""


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


class Settings(Strict):
    """The engine's constants (module docstring), every one settable per claim."""

    min_videos: int = Field(MIN_VIDEOS, ge=1)
    n_boot: int = Field(N_BOOT, ge=100)
    level: float = Field(LEVEL, gt=0, lt=1)
    learned_margin: float = Field(0.0, ge=0)
    learned_metric: str = "pck@0.1"
    learned_split: str = "Valid"
    convergence_tolerance: float = Field(TOLERANCE, ge=0)

    @field_validator("learned_metric", "learned_split")
    @classmethod
    def _value(cls, value, info):
        _check_value({"learned_metric": "metric", "learned_split": "split"}[info.field_name], value)
        return value


class Comparison(Strict):
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


class Published(Strict):
    text: str
    source: str = ""                  # file(s) of shared/paper_reference
    numbers: dict[str, float] = {}    # "what, split, metric" -> published value


class Claim(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    statement: str
    paper_claim: int | None = None    # its number in shared/paper_reference/claims.md
    published: Published
    settings: dict[str, Scalar] = {}  # overrides of the file's defaults for this claim
    comparisons: list[Comparison] = Field(min_length=1)

    @field_validator("settings")
    @classmethod
    def _settings(cls, value):
        unknown = [k for k in value if k not in Settings.model_fields]
        if unknown:
            raise ValueError(f"unknown setting {unknown[0]!r} (allowed: {', '.join(Settings.model_fields)})")
        return value


class ClaimsFile(Strict):
    defaults: Settings = Settings()
    reference: dict[str, Scalar] = {"group": "reference", "reference": "mean_pose"}  # the chance level
    claims: list[Claim]
    _path: Path = PrivateAttr(default=CLAIMS)

    @field_validator("reference")
    @classmethod
    def _reference(cls, value):
        return _check_selector(value)

    @model_validator(mode="after")
    def _claim_settings(self):
        for claim in self.claims:
            try:
                self.settings(claim)
            except ValidationError as e:
                error = e.errors()[0]
                raise ValueError(f"claim {claim.id!r}: settings.{'.'.join(map(str, error['loc']))}: {error['msg']}") from None
        return self

    def settings(self, claim: Claim) -> Settings:
        """The engine's constants for ``claim``: the defaults, overridden by its own ``settings``."""
        return Settings.model_validate({**self.defaults.model_dump(exclude_unset=True), **claim.settings})

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


def load_claims(path: Path | str = CLAIMS) -> ClaimsFile:
    """The validated claims file; :class:`ClaimsError` names file, line, claim and field."""
    document = YamlFile.load(path, ClaimsError, "claims file")
    try:
        loaded = ClaimsFile.model_validate(document.data)
    except ValidationError as e:
        raise ClaimsError(document.invalid(e, lambda loc: _field(document.data, loc))) from None
    loaded._path = document.path
    return loaded


def _field(raw, loc: tuple) -> str:
    """The field of a message: in a claim, the claim (its id, else its number) and the field in it."""
    if loc[:1] == ("claims",) and len(loc) > 1 and isinstance(loc[1], int):
        entry = raw["claims"][loc[1]]
        claim = entry.get("id") if isinstance(entry, dict) and entry.get("id") else f"#{loc[1] + 1}"
        return f"claim {claim!r}: {_dotted(loc[2:]) or '(claim)'}"
    return _dotted(loc) or "(file)"


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
    """A claim's verdict from its comparisons' verdicts (module docstring)."""
    verdicts = list(verdicts)
    ran = [v for v in verdicts if v != NOT_RUN]
    if not ran:
        return NOT_RUN
    if all(v == "holds" for v in verdicts):
        return "holds"
    if "contradicted" in ran:
        return "contradicted"
    return "untested" if all(v == "untested" for v in ran) else "inconclusive"


def _describe(selector: Mapping | float, decoder: str | None = None, chosen: bool = False) -> str:
    if not isinstance(selector, Mapping):
        return f"{selector:g}"
    text = ", ".join(f"{k}={v}" for k, v in selector.items() if k != "group")
    return f"{text} ({decoder}{', best on Valid' if chosen else ''})" if decoder else text


def _named(selector: Mapping) -> str:
    """A selector in words, its group only where nothing else names it."""
    return ", ".join(f"{k}={v}" for k, v in selector.items() if k != "group" or len(selector) == 1)


@dataclass
class Verdicts:
    """``comparisons``: one row per resolved comparison; ``claims``: one row per claim."""

    comparisons: pd.DataFrame
    claims: pd.DataFrame


def evaluate(claims: ClaimsFile, source: StatsSource, seed: int = 0) -> Verdicts:
    """Every comparison of every claim against ``source``, each with the same bootstrap seed.

    A selector that matches experiments differing in more than their seed is a mistake in the
    claims file, not missing evidence: :class:`ClaimsError` names the claim and the experiments."""
    rows = []
    for claim in claims.claims:
        settings = claims.settings(claim)
        part = []
        for comparison in (r for c in claim.comparisons for r in c.expand()):
            try:
                part.append({"claim": claim.id, **_compare(comparison, source, settings, claims.reference, seed)})
            except ValueError as e:
                raise ClaimsError(f"{claims._path}: claim {claim.id!r}, comparison {comparison.label!r}: {e}; "
                                  "make its selectors name one setting (e.g. add the model)") from None
        labels = [row["comparison"] for row in part]
        for row in part:  # comparisons that share a label are told apart by their side b
            if labels.count(row["comparison"]) > 1:
                row["comparison"] = f"{row['comparison']} vs {row['b']}"
        rows += part
    table = pd.DataFrame(rows)
    summary = []
    for claim in claims.claims:
        part = table[table["claim"] == claim.id]
        counts = part["verdict"].value_counts()
        summary.append({"claim": claim.id, "statement": claim.statement, "verdict": combine(part["verdict"]),
                        **{v: int(counts.get(v, 0)) for v in VERDICTS},
                        "not_converged": bool(part["not_converged"].any()), "published": claim.published.text})
    return Verdicts(table, pd.DataFrame(summary))


def _arms(c: Resolved) -> list[tuple[str, Mapping, str | None]]:
    """The sides of a comparison that are trained arms: ``(side, selector, decoder)``, once each."""
    arms = [("a", c.a, c.decoder)]
    if isinstance(c.b, Mapping) and (c.b, c.b_decoder) != (c.a, c.decoder):
        arms.append(("b", c.b, c.b_decoder))
    return arms


def _preconditions(c: Resolved, source: StatsSource, settings: Settings, reference: Mapping, seed: int,
                   cells: dict[str, Cell]) -> tuple[list[str], list[str], bool]:
    """Why the comparison is untested (each arm that did not learn or converge), the convergence
    notes of its experiments, and whether any of them had not converged."""
    reasons, notes, stalled = [], [], False
    try:
        chance = source.cell(reference, settings.learned_split, settings.learned_metric, None)
    except LookupError:
        chance = None
    for side, selector, decoder in _arms(c):
        arm = f"{_describe(selector, decoder)} arm"
        if chance is None:
            reasons.append(f"{arm}: no chance-level reference ({_named(reference)}) to test learning against (run it)")
        else:
            try:
                mine = source.cell(selector, settings.learned_split, settings.learned_metric, decoder)
            except LookupError as e:
                reasons.append(f"{arm}: no {settings.learned_split} predictions to test learning ({e.args[0]})")
            else:
                d = difference(mine, chance, paired=True, n_boot=settings.n_boot, seed=seed, level=settings.level)
                if not d.low > settings.learned_margin:
                    reasons.append(f"{arm} did not learn: {settings.learned_split} {settings.learned_metric} "
                                   f"{mine.value:.3f}, chance level {chance.value:.3f} ({_named(reference)}; "
                                   f"difference {d.format(signed=True)}, needs its low end above "
                                   f"{settings.learned_margin:g})")
        for experiment in cells[side].experiments:
            test = source.convergence(experiment)
            converged = test.converged(settings.convergence_tolerance)
            stalled |= converged is False
            if converged is not True:
                reasons.append(f"{experiment} {test.reason(settings.convergence_tolerance)}")
            notes.append(f"{experiment}: {test.reason(settings.convergence_tolerance)}")
    return list(dict.fromkeys(reasons)), list(dict.fromkeys(notes)), stalled


def _compare(c: Resolved, source: StatsSource, settings: Settings, reference: Mapping, seed: int) -> dict:
    """One verdict row: the sides, the paired difference, the verdict and why (``reason``)."""
    row = {"comparison": c.label, "split": c.split,
           "metric": f"{c.metric} vs {c.b_metric}" if c.metric != c.b_metric else c.metric,
           "a": _describe(c.a, c.decoder), "b": _describe(c.b, c.b_decoder), "direction": c.direction,
           "margin": c.margin, "value_a": np.nan, "value_b": np.nan, "difference": np.nan, "low": np.nan,
           "high": np.nan, "display": "n/a", "seeds": "", "n_videos": 0, "verdict": "inconclusive",
           "not_converged": False, "convergence": "", "reason": ""}
    try:
        if "best" in (c.decoder, c.b_decoder):  # chosen on Valid, never on the split compared
            c = dataclasses.replace(
                c, decoder=source.best_decoder(c.a, c.metric) if c.decoder == "best" else c.decoder,
                b_decoder=source.best_decoder(c.b, c.b_metric) if c.b_decoder == "best" else c.b_decoder)
            row |= {"a": _describe(c.a, c.decoder, True), "b": _describe(c.b, c.b_decoder, True)}
        a = source.cell(c.a, c.split, c.metric, c.decoder)
        b = source.cell(c.b, c.split, c.b_metric, c.b_decoder) if isinstance(c.b, Mapping) else c.b
    except LookupError as e:
        return row | {"verdict": NOT_RUN, "reason": f"not run: {e.args[0]}"}
    d = difference(a, b, paired=True, n_boot=settings.n_boot, seed=seed, level=settings.level)
    untested, notes, stalled = _preconditions(c, source, settings, reference, seed,
                                              {"a": a, "b": b} if isinstance(b, Cell) else {"a": a})
    low, high, _ = d.seed_spread
    row |= {
        "value_a": a.value, "value_b": b.value if isinstance(b, Cell) else b, "difference": d.estimate,
        "low": d.low, "high": d.high, "display": d.format(signed=True), "n_videos": d.n_videos,
        "seeds": f"{len(d.seed_values)} per-seed differences: {low:+.3f} to {high:+.3f}"
                 if len(d.seed_values) > 1 else "",
        "not_converged": stalled, "convergence": "; ".join(notes),
    }
    if untested:
        return row | {"verdict": "untested", "reason": "; ".join(untested)}
    if d.n_videos < settings.min_videos:
        return row | {"reason": f"only {d.n_videos} videos (< {settings.min_videos}): too few to judge"}
    return row | {"verdict": verdict(c.direction, d.low, d.high, c.margin)}
