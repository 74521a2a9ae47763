"""What one experiment's result depends on, as content hashes, so that the runner retrains exactly
the experiments whose inputs changed.

- Code: the source files the result is computed by, found by following ``benchmark`` imports
  statically (:func:`closure`) from the shared training entry point and from the experiment's own
  model module, plus the notebook. A model's module is found by the registry without importing it,
  so adding a model or editing one model's file changes only that model's experiments, while
  editing shared training code (the pipeline, a loss, the codec...) changes every experiment.
- Environment: the backend, the package versions and whether a GPU computes (``auto`` precision
  is mixed there); and, for an experiment that starts from ImageNet weights, that file's identity
  (:func:`benchmark.models.imagenet.check_imagenet_weights`).
- Data: the dataset's fingerprint (:meth:`benchmark.data.labelme.Dataset.fingerprint`).

Nothing here imports a deep-learning library.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from benchmark.baselines.registry import BASELINES
from benchmark.common.environment import backend_name, cpu_bfloat16, gpu_computes, package_versions
from benchmark.common.sources import PACKAGE, code_hash, module_file
from benchmark.models.registry import model_source
from benchmark.runner.manifest import REPO

NOTEBOOK = REPO / "notebooks" / "train_evaluate.ipynb"
TRAINING = "benchmark.training.train"  # what the notebook runs
BASELINE_NOTEBOOK = REPO / "notebooks" / "baseline_evaluate.ipynb"
BASELINE = "benchmark.baselines.evaluate"  # what the baseline notebook runs
REFERENCE_NOTEBOOK = REPO / "notebooks" / "reference_evaluate.ipynb"
REFERENCE = "benchmark.references.mean_pose"  # what the reference notebook runs
LABELLING_NOTEBOOK = REPO / "notebooks" / "labelling_evaluate.ipynb"
LABELLING = "benchmark.labelling.simulate"  # what the labelling notebook runs


def experiment_code(model: str, notebook: Path = NOTEBOOK, package: Path = PACKAGE) -> str:
    """The code hash of an experiment of ``model``: the notebook, the training entry point and the
    model's own module, each with what it imports."""
    return code_hash([notebook, module_file(TRAINING, package), model_source(model)], package)


def baseline_code(name: str, package: Path = PACKAGE) -> str:
    """The code hash of a baseline experiment: its notebook, the evaluation entry point and the
    baseline's own module, each with what it imports."""
    spec = BASELINES[name]
    return code_hash([BASELINE_NOTEBOOK, module_file(BASELINE, package), module_file(spec.module, package)], package)


def reference_code(package: Path = PACKAGE) -> str:
    """The code hash of a reference experiment: its notebook and the module it runs, with what it imports."""
    return code_hash([REFERENCE_NOTEBOOK, module_file(REFERENCE, package)], package)


def labelling_code(model: str, package: Path = PACKAGE) -> str:
    """The code hash of a labelling simulation of ``model``: its notebook, the simulation (which
    trains with the training entry point) and the model's own module, each with what it imports."""
    return code_hash([LABELLING_NOTEBOOK, module_file(LABELLING, package), model_source(model)], package)


def baseline_environment(name: str) -> dict:
    """What else changes a baseline's result: the requirements of its environment."""
    return {"kernel": BASELINES[name].kernel, "requirements": list(BASELINES[name].requirements)}


def training_environment() -> dict:
    """What else changes a trained result: the backend, its packages, and whether a GPU or the CPU's
    bfloat16 units compute (precision ``auto`` is mixed there). Computed where the command runs:
    Dask workers must have the same kind of device (docs/SCALING.md)."""
    return {"backend": backend_name(), "packages": package_versions(), "gpu": gpu_computes(),
            "cpu_bfloat16": cpu_bfloat16()}


def experiment_hash(settings: dict, fingerprint: str, code: str, environment: dict | None = None,
                    weights: dict | None = None) -> str:
    """Content hash over everything that changes an experiment's result (``settings``: its
    configuration, or the part of it that training reads); ``weights`` is the record of the
    ImageNet file it starts from, if any."""
    payload = {"config": settings, "dataset": fingerprint, "code": code,
               "environment": environment or {}, "imagenet": weights}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
