"""``metrics.json``, the summary every experiment writes last: its schema, its one writer and its reader.

Every experiment kind writes it through :func:`write_metrics`, which validates it against the schema
below first (so a result that the report could not read is never written), and the report reads it
through :func:`read_metrics`, whose error names the file and the field. Fields (docs/RESULTS.md):

- every kind: ``kind`` (``train``, ``baseline``, ``reference``, ``labelling``), ``config`` (the experiment's
  settings), ``dataset`` (root, fingerprint, synthetic, frames per split; the OKS sigmas the
  evaluation used and whether the dataset came from COCO, absent in older files), ``environment`` (what
  computed it: ``benchmark.common.environment.record``; its ``lock``, how the environment was installed
  and whether it matched its lock file, is absent in older files), ``wall_time_s`` and ``metrics``:
  ``{decoder: {split: {"annotation" | "truth": {metric: value}}}}`` as
  :func:`benchmark.study.predictions.split_scores` gives them;
- ``train``: ``model``, ``imagenet_weights``, ``codec``, ``compute``, ``epochs_run``,
  ``epoch_time_s``, ``train_images_per_s``, ``timings_s``, ``trained_by`` (the experiment whose
  model it evaluates, when the two differ only in evaluation settings; else null), ``resumed_from``
  (the cached run of a lower ``max_epochs`` that training went on from, and its epochs; else null);
- ``baseline``: ``baseline``, ``mapping``, ``detection``, ``frames_per_s``, ``mapped``;
- ``reference``: ``reference`` (what it is and how it was placed);
- ``labelling``: ``model``, ``codec``, ``labelling`` (the start videos and each round's labelled
  frames, epochs, steps and Test PCK@0.1: :mod:`benchmark.labelling.simulate`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from benchmark.common.atomic import staged_file
from benchmark.common.errors import InputError
from benchmark.common.result_files import METRICS as FILE
from benchmark.common.strict import Strict

Scores = dict[str, dict[str, dict[str, dict[str, float]]]]  # decoder -> split -> reference -> metric


class DatasetRecord(Strict):
    root: str
    fingerprint: str
    synthetic: bool
    frames: dict[str, int]
    train_frames_used: int | None = None
    oks_sigmas: dict[str, float] | None = None  # benchmark.data.oks_sigmas.oks_record (None: defaults)
    coco: bool = False  # converted from COCO: the report shows OKS AP


class LockRecord(Strict):
    """How the environment was installed (:func:`benchmark.common.lock.install_record`)."""

    mode: Literal["locked", "latest", "unmanaged", "unknown"]  # unmanaged: not installed by the set-up
    lock: str | None = None  # the lock file, e.g. locks/cpu.txt
    sha256: str | None = None  # its hash when installed (16 hex digits)
    device: str | None = None
    lock_changed: str | None = None  # the lock's hash now, when it was edited since the install
    matches: bool | None = None  # the installed versions are the lock's
    differences: list[str] = []  # the installed versions that are not (at most 20)
    differences_total: int = 0


class EnvironmentRecord(BaseModel):
    """``benchmark.common.environment.record``: free-form but for ``lock`` (absent in older files)."""

    model_config = ConfigDict(extra="allow")
    lock: LockRecord | None = None


class _Common(Strict):
    config: dict[str, Any]
    dataset: DatasetRecord
    environment: EnvironmentRecord
    wall_time_s: float = Field(ge=0)
    metrics: Scores


class TrainedMetrics(_Common):
    kind: Literal["train"] = "train"
    model: dict[str, Any]
    imagenet_weights: Any
    codec: dict[str, Any]
    compute: dict[str, Any]
    epochs_run: int = Field(ge=0)
    epoch_time_s: float
    train_images_per_s: float
    timings_s: dict[str, float]
    trained_by: str | None = None  # the experiment whose model it evaluates (it differs only in evaluation)
    resumed_from: dict[str, Any] | None = None  # the cached shorter run it went on from: experiment, epochs


class BaselineMetrics(_Common):
    kind: Literal["baseline"]
    baseline: dict[str, Any]
    mapping: dict[str, Any]
    detection: dict[str, dict[str, int]]
    frames_per_s: float
    mapped: dict[str, dict[str, dict[str, float]]]


class ReferenceMetrics(_Common):
    kind: Literal["reference"]
    reference: dict[str, Any]


class LabellingMetrics(_Common):
    kind: Literal["labelling"]
    model: dict[str, Any]
    codec: dict[str, Any]
    labelling: dict[str, Any]


MetricsFile = Annotated[TrainedMetrics | BaselineMetrics | ReferenceMetrics | LabellingMetrics,
                        Field(discriminator="kind")]
_ADAPTER = TypeAdapter(MetricsFile)


class ResultsError(InputError):
    """A results file that does not follow its schema; the message names the file and field."""


def _validated(summary: dict, path: Path) -> dict:
    try:
        _ADAPTER.validate_python({"kind": "train", **summary})  # files written before `kind` are trained
    except ValidationError as e:
        error = e.errors()[0]
        field = ".".join(str(p) for p in error["loc"][1:] or error["loc"])
        raise ResultsError(f"{path}: {field}: {error['msg']}") from None
    return summary


def write_metrics(folder: Path, summary: dict) -> Path:
    """Validate ``summary`` and write it as ``<folder>/metrics.json`` (atomically)."""
    path = Path(folder) / FILE
    text = json.dumps(_validated(json.loads(json.dumps(summary, default=float)), path), indent=2)
    with staged_file(path) as tmp:
        tmp.write_text(text)
    return path


def read_metrics(folder: Path) -> dict:
    """The ``metrics.json`` of an experiment folder; :class:`ResultsError` names the file and what is
    wrong (unreadable, not JSON, or not of the schema)."""
    path = Path(folder) / FILE
    try:
        summary = json.loads(path.read_text())
    except OSError as e:
        raise ResultsError(f"{path}: cannot be read ({e.strerror or e})") from None
    except ValueError as e:
        raise ResultsError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(summary, dict):
        raise ResultsError(f"{path}: expected a JSON object")
    return _validated(summary, path)
