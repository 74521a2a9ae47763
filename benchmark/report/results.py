"""The finished experiments of one profile, read from ``results/<dataset>/<profile>/<id>/``, and the
published numbers they are compared with.

Only a folder with ``COMPLETE.json`` is a result, and, read through a run plan (:func:`results_of`),
only one the plan names with the settings it recorded. A ``FAILED.json``, a ``SKIPPED.json`` (a
baseline whose environment could not be built), a folder with neither (still running, or
interrupted), a complete folder whose files cannot be read and a folder the plan does not name are
listed as problems and never aggregated. Folders starting with a dot (the runner's ``.staging``) are ignored, and ``_dataset``
is the run stage's snapshot of the dataset (:mod:`benchmark.runner.snapshot`): its description,
privacy audit and the face-mosaicked evaluation frames the figures draw.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from benchmark.common.metrics_file import ResultsError, read_metrics
from benchmark.common.result_files import (
    COMPLETE,
    CYCLES,
    EXECUTED,
    FAILED,
    HISTORY,
    PREDICTIONS,
    SKIPPED,
    SNAPSHOT,
    SNAPSHOT_RECORD,
)
from benchmark.common.seeds import without_seed
from benchmark.evidence import PredictionsSource, Verdicts, evaluate, load_claims
from benchmark.evidence.claims import CLAIMS, ClaimsFile
from benchmark.runner.plan import RunPlan
from benchmark.study.convergence import Convergence, check
from benchmark.study.losses import LOSSES
from benchmark.study.smoothness import keypoint_arrays

REFERENCE = Path(__file__).resolve().parents[1] / "published"

# The fields that tell the experiments of a group apart, in table order.
SETTINGS: dict[str, tuple[str, ...]] = {
    "loss": ("model", "loss"),
    "baseline": ("model", "loss"),  # loss: "zero-shot" (benchmark.baselines.evaluate)
    "reference": ("model", "loss"),  # model: mean_pose, loss: "chance level" (benchmark.references)
    "occlusion": ("train_face", "eval_face", "facial_keypoints"),
    "labelling": ("strategy",),  # a labelling simulation (benchmark.labelling.simulate)
}


@dataclass
class Result:
    """One finished experiment: its ``COMPLETE.json`` record and ``metrics.json`` summary; the larger
    CSV files are read on first use."""

    id: str
    group: str
    path: Path
    record: dict
    summary: dict
    _derived: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def config(self) -> dict:
        return self.summary["config"]

    @property
    def decoder(self) -> str:
        """The decoder the experiment was configured with (the one the study's tables use)."""
        return self.config["decoder"]

    @property
    def setting(self) -> tuple:
        """The values that identify the experiment within its group, e.g. ``("hourglass", "kce")``; the
        seeds of one setting share it (in a group without settings: the id without its seed suffix)."""
        return tuple(self.config[f] for f in SETTINGS.get(self.group, ())) or (without_seed(self.id),)

    @property
    def label(self) -> str:
        return " / ".join(map(str, self.setting))

    def scores(self, split: str, decoder: str | None = None, reference: str = "annotation") -> dict | None:
        """``metrics.evaluate`` output for a split (``Valid``, ``Test``, ``DomainShift``) against the
        annotation or the exact truth; None when the experiment has no such entry."""
        by_split = self.summary["metrics"].get(decoder or self.decoder, {}).get(split, {})
        return by_split.get(reference)

    @property
    def kind(self) -> str:
        """``train``, ``baseline`` (zero-shot: no history, no model, its own decoder) or ``reference``
        (the chance level: nothing learned, no heatmap)."""
        return self.summary.get("kind", "train")

    @property
    def baseline(self) -> bool:
        return self.kind == "baseline"

    @property
    def trained(self) -> bool:
        return self.kind == "train"

    @cached_property
    def history(self) -> pd.DataFrame:
        """Per-epoch training history (empty for what was not trained)."""
        return pd.read_csv(self.path / HISTORY) if self.trained else pd.DataFrame()

    @cached_property
    def convergence(self) -> Convergence:
        """Whether training had converged (:mod:`benchmark.study.convergence`; untested without
        the per-cycle validation record, e.g. for a baseline or a reference)."""
        path = self.path / CYCLES
        cap = self.config.get("max_epochs") or self.config.get("epochs")
        return check(pd.read_csv(path, dtype={"video": str}) if path.is_file() else None, cap=cap)

    @cached_property
    def predictions(self) -> pd.DataFrame:
        return pd.read_csv(self.path / PREDICTIONS, dtype={"video": str, "split": str})

    def rows(self, split: str, decoder: str | None = None) -> pd.DataFrame:
        """The ``predictions.csv`` rows of one split and decoder (default: the configured one)."""
        decoder = decoder or self.decoder
        rows = self.predictions
        return self.cached(("rows", split, decoder),
                           lambda: rows[(rows["split"] == split) & (rows["decoder"] == decoder)])

    def arrays(self, split: str, decoder: str | None = None) -> tuple[pd.MultiIndex, dict[str, np.ndarray]]:
        """``(video, frame)`` index and ``{annotation, prediction, truth: (N, 22, 2)}`` of one split."""
        return self.cached(("arrays", split, decoder or self.decoder),
                           lambda: keypoint_arrays(self.rows(split, decoder)))

    def cached(self, key: tuple, compute):
        """``compute()``, computed once per ``key`` for this result: what several tables and figures
        derive from the same predictions (callers must not modify it)."""
        if key not in self._derived:
            self._derived[key] = compute()
        return self._derived[key]

    @property
    def notebook(self) -> Path | None:
        path = self.path / self.record.get("notebook", EXECUTED)
        return path if path.is_file() else None

    @property
    def oks_sigmas(self) -> dict[str, float] | None:
        """The OKS sigmas its evaluation recorded (None in older results: the defaults apply)."""
        return self.summary["dataset"].get("oks_sigmas")


@dataclass
class Problem:
    """An experiment folder that is not a usable result."""

    id: str
    path: Path
    status: str  # failed | skipped | incomplete | unreadable
    error: str = ""
    config: dict = field(default_factory=dict)  # a skipped experiment's settings (group and id included)

    @property
    def notebook(self) -> Path | None:
        path = self.path / EXECUTED
        return path if path.is_file() else None


@dataclass
class Results:
    profile: str
    root: Path
    experiments: list[Result] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    showcase: dict[str, str] = field(default_factory=dict)  # the manifest's recommended setting (a selector)
    claims: ClaimsFile | None = None  # the claims the verdicts judge (None: experiments/claims.yaml)
    oks: bool = False  # OKS AP asked for (`report --oks`)

    def matching(self, selector: Mapping[str, str]) -> list[Result]:
        """The experiments whose group and settings have every value of ``selector``."""
        return [e for e in self.experiments
                if all(str({"group": e.group, **e.config}.get(k)) == str(v) for k, v in selector.items())]

    def showcase_experiments(self) -> list[Result]:
        """The seeds of the manifest's showcase setting (none when it names none)."""
        return self.matching(self.showcase) if self.showcase else []

    @property
    def recommended_loss(self) -> str | None:
        """The showcase's loss: the generalisation and movement tables show each model with it."""
        return self.showcase.get("loss")

    @cached_property
    def dataset(self) -> dict | None:
        """The run stage's ``_dataset/dataset.json`` (None when absent: no run wrote it)."""
        try:
            return json.loads((self.root / SNAPSHOT / SNAPSHOT_RECORD).read_text())
        except (OSError, ValueError):
            return None

    @property
    def timing(self) -> dict | None:
        """``{fps, frame_step}`` of the synthetic dataset's videos (None on real data: no such record)."""
        return (self.dataset or {}).get("timing")

    @property
    def shifts(self) -> dict[str, str]:
        """``{video: shift name}`` of the DomainShift videos (synthetic data; empty on real data)."""
        return (self.dataset or {}).get("shifts") or {}

    def frames(self, split: str) -> dict[tuple[str, int], dict]:
        """``(video, frame)`` -> snapshot entry (``file``, ``scale``, ``stem``) of a split's frames."""
        entries = (self.dataset or {}).get("frames", [])
        return {(e["video"], e["frame"]): e for e in entries if e["split"] == split}

    def image(self, entry: dict) -> np.ndarray:
        """The face-mosaicked RGB picture of a snapshot entry (see :meth:`frames`)."""
        with Image.open(self.root / SNAPSHOT / entry["file"]) as image:
            return np.array(image.convert("RGB"))

    def group(self, name: str) -> list[Result]:
        """The finished experiments of a manifest group, ordered by their setting."""
        fields = SETTINGS.get(name, ())
        chosen = [e for e in self.experiments if e.group == name]
        return sorted(chosen, key=lambda e: tuple(_order(f, v) for f, v in zip(fields, e.setting)) + (e.id,))

    @property
    def synthetic(self) -> bool:
        return any(e.summary["dataset"].get("synthetic") for e in self.experiments)

    @property
    def shows_oks(self) -> bool:
        """Whether the loss and occlusion tables show OKS AP: asked for, or evaluated on a dataset
        converted from COCO."""
        return self.oks or any(e.summary["dataset"].get("coco") for e in self.experiments)

    @cached_property
    def verdicts(self) -> Verdicts:
        """The verdicts of the study's claims (``experiments/claims.yaml``) on these results: trained
        settings, judged against the chance-level reference (zero-shot baselines take no part)."""
        return evaluate(self.claims or load_claims(), PredictionsSource(
            [({"group": e.group, "id": e.id, **e.config}, lambda e=e: e.predictions, e.convergence)
             for e in self.experiments if not e.baseline], {e.id: e.oks_sigmas for e in self.experiments},
            not_run=[(p.config, p.error) for p in self.problems if p.status == "skipped"]))

    def provenance(self) -> dict:
        """What the results were computed on; lists hold every distinct value across experiments
        (more than one dataset fingerprint means the results mix datasets)."""
        def distinct(values) -> list:
            return sorted({str(v) for v in values})

        datasets = [e.summary.get("dataset", {}) for e in self.experiments]
        environments = [e.summary.get("environment", {}) for e in self.experiments]
        finished = distinct(e.record.get("finished", "") for e in self.experiments)
        return {
            "profile": self.profile,
            "results": str(self.root),
            "experiments": len(self.experiments),
            "problems": len(self.problems),
            "synthetic": self.synthetic,
            "dataset_roots": distinct(d.get("root") for d in datasets),
            "fingerprints": distinct(d.get("fingerprint") for d in datasets),
            "frames": distinct(", ".join(f"{k} {v}" for k, v in d.get("frames", {}).items()) for d in datasets),
            "commits": distinct(env.get("commit") for env in environments),
            "backends": distinct(env.get("backend") for env in environments),
            "devices": distinct(env.get("device") for env in environments),
            "finished": [finished[0], finished[-1]] if finished else [],
        }


def _order(field_name: str, value) -> tuple:
    """Sort key: the published tables' order (models, losses as registered, visible before occluded),
    then by name."""
    known = {
        "model": ("simple_baseline", "hourglass", "resunet"), "loss": tuple(LOSSES),
        "train_face": ("visible", "occluded"), "eval_face": ("visible", "occluded"),
        "facial_keypoints": ("preserved", "omitted"),
    }.get(field_name, ())
    return (known.index(value), "") if value in known else (len(known), str(value))


def _read(folder: Path) -> Result | Problem:
    complete, failed, skipped = folder / COMPLETE, folder / FAILED, folder / SKIPPED
    try:
        if skipped.is_file():
            record = json.loads(skipped.read_text())
            config = {"group": record.get("group"), "id": record.get("id"), **record.get("config", {})}
            return Problem(record.get("id", folder.name), folder, "skipped", record.get("reason", ""), config)
        if complete.is_file():
            record = json.loads(complete.read_text())
            return Result(record.get("id", folder.name), record.get("group", "?"), folder, record, read_metrics(folder))
        if failed.is_file():
            record = json.loads(failed.read_text())
            return Problem(record.get("id", folder.name), folder, "failed", record.get("error", ""))
    except ResultsError as err:
        return Problem(folder.name, folder, "unreadable", str(err))
    except (OSError, ValueError) as err:
        return Problem(folder.name, folder, "unreadable", f"{folder}: {type(err).__name__}: {err}")
    return Problem(folder.name, folder, "incomplete", f"no {COMPLETE} or {FAILED} (running or interrupted)")


def _differing(recorded: dict, expected: dict) -> list[str]:
    """The settings of ``expected`` (a planned experiment's configuration) that ``recorded`` (its
    folder's ``metrics.json`` configuration) does not share, as ``name here (plan: value)``."""
    return [f"{k} {recorded.get(k, 'missing')} (plan: {v})" for k, v in expected.items()
            if str(recorded.get(k, "missing")) != str(v)]


def load_results(root: Path, planned: Mapping[str, dict] | None = None, profile: str = "",
                 showcase: Mapping[str, str] | None = None) -> Results:
    """Every experiment folder of one profile's results ``root``; a missing folder gives no results.

    With ``planned`` (experiment id -> configuration, :func:`results_of`), a folder of any other
    experiment, or one whose recorded settings differ from its planned configuration, is never read
    as a result: it is listed as a problem (``ignored``)."""
    root = Path(root)
    results = Results(profile or root.name, root, showcase=dict(showcase or {}))
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))) \
        if root.is_dir() else []
    for folder in folders:
        if planned is not None and folder.name not in planned:
            item = Problem(folder.name, folder, "ignored", "not in this plan (a row removed from the manifest, a seed "
                           "no run asked for, or another manifest's experiment): delete the folder, or add the row back")
        else:
            item = _read(folder)
            differing = isinstance(item, Result) and planned is not None and _differing(item.config, planned[item.id])
            if differing:
                item = Problem(folder.name, folder, "ignored", f"its settings differ from the plan's: {', '.join(differing)}; "
                               "`python -m benchmark run` trains it again")
        (results.experiments if isinstance(item, Result) else results.problems).append(item)
    return results


def results_of(plan: RunPlan, claims: Path = CLAIMS) -> Results:
    """The results of a run plan: its experiments only, each with the settings the plan gives it,
    judged by the claims file ``claims`` (read first: an error in it is named before any folder is read)."""
    judged = load_claims(claims)
    results = load_results(plan.results, {e.id: e.config.model_dump(mode="json") for e in plan.experiments},
                           plan.profile, plan.manifest.data.showcase)
    results.claims = judged
    return results


def published(name: str) -> pd.DataFrame:
    """A table of :data:`REFERENCE` (``loss``, ``occlusion``, ``per_region``) as published."""
    return pd.read_csv(REFERENCE / f"{name}_table.csv")


def showcase(results: Results) -> Result | None:
    """The experiment whose predictions the sample figures show: the first of the manifest's
    ``showcase`` setting, else the first of the loss grid, else any."""
    candidates = results.group("loss") or results.experiments
    chosen = results.showcase_experiments()
    return (chosen or candidates or [None])[0]
