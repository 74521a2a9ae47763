"""Did a run reproduce the reference result shipped with the artifact?

A reference result, ``experiments/reference_results/<dataset>/<profile>.json`` beside the manifest,
is what :func:`describe` makes of a finished run: per experiment its Test and Valid PCK@0.1 and mKS
with their 95 % video-bootstrap intervals, its epochs, whether it converged, the hash of its settings,
its commit and environment; and the verdict of each claim (docs/RESULTS.md). :func:`compare` sets a
run's description beside it: an experiment reproduced when each figure lies in the other's interval
both ways, a verdict that changed, and what differs in the environment. An experiment whose settings
hash differs (changed since the reference was written) is not comparable, and is not compared.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from benchmark.common.atomic import staged_file
from benchmark.common.environment import git_commit
from benchmark.common.errors import InputError
from benchmark.common.strict import Strict
from benchmark.report.evidence_table import bootstrap, metric_cells
from benchmark.report.results import Result, Results
from benchmark.runner.plan import RunPlan

FORMAT = 1
FIGURES = (("Test", "pck@0.1"), ("Test", "mks"), ("Valid", "pck@0.1"), ("Valid", "mks"))
TOLERANCE = 5e-5  # the reference stores 4 decimals


class ReferenceFileError(InputError):
    """A reference result that does not follow its schema; the message names the file and field."""


class Figure(Strict):
    estimate: float
    low: float
    high: float


class Experiment(Strict):
    group: str
    kind: str
    settings_hash: str
    figures: dict[str, dict[str, Figure | None]]  # split -> metric -> figure (None: nothing scored)
    epochs_run: int | None
    converged: bool | None
    commit: str
    environment: str  # a key of ReferenceFile.environments


class ReferenceFile(Strict):
    format: int
    dataset: str
    profile: str
    written: str
    commit: str
    claims_sha256: str
    experiments: dict[str, Experiment]
    verdicts: dict[str, str]
    environments: dict[str, dict[str, Any]]


def reference_path(plan: RunPlan) -> Path:
    """Where the reference result of ``plan``'s dataset and profile lives, beside its manifest."""
    return plan.manifest.path.parent / "reference_results" / plan.name / f"{plan.profile}.json"


def settings_hash(config: dict) -> str:
    """16 hex digits of an experiment's settings (its ``metrics.json`` ``config``)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


def _figure(e: Result, split: str, metric: str) -> dict | None:
    cells = metric_cells(e, split, (metric,))
    found = bootstrap([cells[metric]]) if cells else None
    if found is None or math.isnan(found.estimate):
        return None
    return {"estimate": round(found.estimate, 4), "low": round(found.low, 4), "high": round(found.high, 4)}


def _environment(e: Result) -> dict:
    """What of an experiment's environment record the comparison names when it differs."""
    env, lock = e.summary.get("environment", {}), e.summary.get("environment", {}).get("lock") or {}
    return {"backend": env.get("backend"), "device": env.get("device"), "cpu": env.get("cpu"),
            "cpu_features": " ".join(env.get("cpu_features", [])) or None, "python": env.get("python"),
            "precision": e.summary.get("compute", {}).get("precision"), "packages": env.get("packages", {}),
            "lock": {"mode": lock.get("mode"), "file": lock.get("lock"), "sha256": lock.get("sha256"),
                     "matches": lock.get("matches")}}


def describe(results: Results, dataset: str, claims: Path) -> dict:
    """The reference document of ``results`` (of ``dataset``'s results folder name), whose verdicts
    judge the claims file ``claims``."""
    environments, experiments = {}, {}
    for e in results.experiments:
        env = _environment(e)
        key = hashlib.sha256(json.dumps(env, sort_keys=True).encode()).hexdigest()[:8]
        environments.setdefault(key, env)
        experiments[e.id] = {
            "group": e.group, "kind": e.kind, "settings_hash": settings_hash(e.config),
            "figures": {split: {m: _figure(e, split, m) for s, m in FIGURES if s == split} for split in ("Test", "Valid")},
            "epochs_run": e.summary.get("epochs_run"), "converged": e.convergence.converged(),
            "commit": e.summary.get("environment", {}).get("commit", "unknown"), "environment": key}
    verdicts = results.verdicts.claims
    verdicts = {} if verdicts.empty else dict(zip(verdicts["claim"], verdicts["verdict"]))
    return {"format": FORMAT, "dataset": dataset, "profile": results.profile,
            "written": datetime.now(timezone.utc).isoformat(timespec="seconds"), "commit": git_commit(),
            "claims_sha256": hashlib.sha256(Path(claims).read_bytes()).hexdigest()[:16],
            "experiments": experiments, "verdicts": verdicts,
            "environments": environments}


def write_reference(document: dict, path: Path) -> Path:
    """Write the reference document (:func:`describe`) to ``path``, atomically."""
    ReferenceFile.model_validate(document)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with staged_file(path) as tmp:
        tmp.write_text(json.dumps(document, indent=1) + "\n")
    return path


def read_reference(path: Path) -> dict:
    """A reference result; :class:`ReferenceFileError` names the file and what is wrong."""
    try:
        document = json.loads(Path(path).read_text())
        ReferenceFile.model_validate(document)
    except OSError as e:
        raise ReferenceFileError(f"{path}: cannot be read ({e.strerror or e})") from None
    except ValueError as e:
        if not isinstance(e, ValidationError):
            raise ReferenceFileError(f"{path}: not valid JSON ({e})") from None
        error = e.errors()[0]
        raise ReferenceFileError(f"{path}: {'.'.join(map(str, error['loc']))}: {error['msg']}; "
                                 "write it again with `python -m benchmark reproduce --write`") from None
    return document


def _shown(figure: dict) -> str:
    return f"{figure['estimate']:.3f} [{figure['low']:.3f}, {figure['high']:.3f}]"


def _inside(value: float, figure: dict) -> bool:
    return figure["low"] - TOLERANCE <= value <= figure["high"] + TOLERANCE


def _figure_differences(reference: dict, here: dict) -> list[str]:
    """One phrase per figure that did not reproduce, naming it and both values."""
    found = []
    for split, metric in FIGURES:
        ours, theirs = here["figures"][split][metric], reference["figures"].get(split, {}).get(metric)
        if ours is None or theirs is None:
            if (ours is None) != (theirs is None):
                found.append(f"{split} {metric} {'missing here' if ours is None else 'not in the reference'}")
            continue
        outside = [what for what, value, figure in (("this run outside the reference's interval", ours, theirs),
                                                    ("the reference outside this run's", theirs, ours))
                   if not _inside(value["estimate"], figure)]
        if outside:
            found.append(f"{split} {metric} {_shown(ours)} here, {_shown(theirs)} in the reference "
                         f"({'; '.join(outside)})")
    return found


def _flat(record: dict, prefix: str = "") -> dict[str, str]:
    """``{dotted.name: value}`` of a nested environment record."""
    flat = {}
    for key, value in record.items():
        if isinstance(value, dict):
            flat |= _flat(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = "–" if value is None else str(value)
    return flat


@dataclass
class Row:
    """One experiment of the reference or the run: ``status`` reproduced, differs, not comparable,
    missing (in the reference, not finished here) or new (not in the reference); why, one phrase each."""

    id: str
    status: str
    why: list[str] = field(default_factory=list)


@dataclass
class Reproduction:
    """A run beside its reference result."""

    reference: Path
    commit: str  # the reference's
    rows: list[Row]
    verdicts: list[tuple[str, str, str]]  # claim, verdict in the reference, verdict here
    environment: list[str]  # what differs, with the experiments it concerns
    claims_changed: bool  # the claims file is not the one the reference's verdicts judged

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.rows)

    @property
    def changed_verdicts(self) -> list[tuple[str, str, str]]:
        return [v for v in self.verdicts if v[1] != v[2]]

    @property
    def reproduced(self) -> bool:
        """Every experiment of the reference within its intervals, every verdict unchanged."""
        return all(r.status in ("reproduced", "new") for r in self.rows) and not self.changed_verdicts

    @property
    def summary(self) -> str:
        """One line, e.g. ``reproduced: 14 of 14 experiments within their intervals, 7 of 7 verdicts unchanged``."""
        expected = sum(r.status != "new" for r in self.rows)
        line = (f"{'reproduced' if self.reproduced else 'NOT REPRODUCED'}: {self.count('reproduced')} of {expected} "
                f"experiments within their intervals, {len(self.verdicts) - len(self.changed_verdicts)} of "
                f"{len(self.verdicts)} verdicts unchanged")
        extra = [f"{self.count(s)} {s}" for s in ("differs", "not comparable", "missing", "new") if self.count(s)]
        extra += [f"{len(self.environment)} environment difference(s)"] if self.environment else []
        return line + (f" ({', '.join(extra)})" if extra else "")

    def lines(self) -> list[str]:
        """The comparison for a console: each experiment that did not reproduce and why, each changed
        verdict (in capitals), each environment difference, then :attr:`summary`."""
        lines = [f"compared with {self.reference} (commit {self.commit})"]
        for row in self.rows:
            if row.status != "reproduced":
                lines.append(f"  {row.status.upper()} {row.id}: {'; '.join(row.why)}")
        for claim, theirs, ours in self.changed_verdicts:
            lines.append(f"  VERDICT CHANGED {claim}: {theirs} in the reference, {ours} here"
                         + (" (the claims file changed since the reference)" if self.claims_changed else ""))
        lines += [f"  environment: {difference}" for difference in self.environment]
        return [*lines, self.summary]


def announce(lines: list[str]) -> None:
    """Print a comparison's lines (:meth:`Reproduction.lines`): a changed verdict on stderr, loudly,
    the rest on stdout."""
    for line in lines:
        print(line, file=sys.stderr if "VERDICT CHANGED" in line else sys.stdout)


def compare(reference: dict, here: dict, path: Path) -> Reproduction:
    """``here`` (:func:`describe` of a run) beside the reference document read from ``path``."""
    rows = []
    for exp_id, theirs in reference["experiments"].items():
        ours = here["experiments"].get(exp_id)
        if ours is None:
            rows.append(Row(exp_id, "missing", ["not finished in this run"]))
        elif ours["settings_hash"] != theirs["settings_hash"]:
            rows.append(Row(exp_id, "not comparable", [
                f"its settings changed since the reference (commit {theirs['commit']}; settings hash "
                f"{theirs['settings_hash']} there, {ours['settings_hash']} here): not compared"]))
        else:
            why = _figure_differences(theirs, ours)
            notes = [f"{name} {theirs[name]} in the reference, {ours[name]} here"
                     for name in ("epochs_run", "converged") if theirs[name] != ours[name]]
            rows.append(Row(exp_id, "differs" if why else "reproduced", why + notes))
    rows += [Row(exp_id, "new", ["not in the reference"]) for exp_id in here["experiments"]
             if exp_id not in reference["experiments"]]
    comparable = [r.id for r in rows if r.status in ("reproduced", "differs")]
    differences: dict[tuple, list[str]] = {}
    for exp_id in comparable:
        theirs = _flat(reference["environments"][reference["experiments"][exp_id]["environment"]])
        ours = _flat(here["environments"][here["experiments"][exp_id]["environment"]])
        for name in sorted(set(theirs) | set(ours)):
            if theirs.get(name, "–") != ours.get(name, "–"):
                differences.setdefault((name, theirs.get(name, "–"), ours.get(name, "–")), []).append(exp_id)
    environment = [f"{name} {theirs} in the reference, {ours} here ({len(ids)} experiment(s))"
                   for (name, theirs, ours), ids in differences.items()]
    verdicts = [(claim, verdict, here["verdicts"].get(claim, "absent")) for claim, verdict in reference["verdicts"].items()]
    verdicts += [(claim, "absent", verdict) for claim, verdict in here["verdicts"].items() if claim not in reference["verdicts"]]
    return Reproduction(Path(path), reference["commit"], rows, verdicts, environment,
                        reference["claims_sha256"] != here["claims_sha256"])


def reproduction(results: Results, plan: RunPlan, claims: Path) -> tuple[Reproduction | None, str]:
    """``results`` (of ``plan``, judged by ``claims``) beside the plan's reference result: the comparison
    and its summary line, or None and the one line saying there is no reference."""
    path = reference_path(plan)
    if not path.is_file():
        return None, (f"reproduce: no reference result for {plan.name}/{plan.profile} ({path}); nothing compared "
                      "(`python -m benchmark reproduce --write` makes one from this run)")
    found = compare(read_reference(path), describe(results, plan.name, claims), path)
    return found, found.summary
