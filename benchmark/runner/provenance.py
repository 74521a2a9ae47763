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

import ast
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from benchmark.common.environment import backend_name, gpu_computes, package_versions
from benchmark.models.registry import model_source
from benchmark.runner.manifest import REPO, Experiment

PACKAGE = Path(__file__).resolve().parents[1]  # the benchmark package
NOTEBOOK = REPO / "notebooks" / "train_evaluate.ipynb"
TRAINING = "benchmark.training.train"  # what the notebook runs


def _module_file(module: str, package: Path) -> Path | None:
    """The file of a ``benchmark...`` module under ``package`` (a module or a package's
    ``__init__``), or None when it is not part of the package."""
    parts = module.split(".")
    if parts[0] != package.name:
        return None
    base = package.parent.joinpath(*parts)
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def imported_modules(path: Path, package: Path) -> set[str]:
    """Every module of ``package`` that the source at ``path`` imports, anywhere in the file
    (imports inside functions too), with the packages they belong to."""
    name = ".".join(path.relative_to(package.parent).with_suffix("").parts)
    current = name.rsplit(".", 1)[0] if path.name != "__init__.py" else name.removesuffix(".__init__")
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = current.split(".")[:len(current.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}  # `from pkg import module`
    modules = set()
    for module in found:
        parts = module.split(".")
        modules |= {".".join(parts[:i]) for i in range(1, len(parts) + 1)}  # packages run their __init__
    return {m for m in modules if _module_file(m, package) is not None}


def closure(paths: Iterable[Path], package: Path = PACKAGE) -> list[Path]:
    """The files of ``paths`` and of every ``package`` module they import, directly or not, sorted."""
    seen: set[Path] = set()
    todo = [Path(p).resolve() for p in paths]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        if path.suffix == ".py" and path.is_relative_to(package):
            todo += [_module_file(m, package) for m in imported_modules(path, package)]
    return sorted(seen)


def code_hash(paths: Iterable[Path], package: Path = PACKAGE) -> str:
    """A hash of the files :func:`closure` finds (their paths relative to the repository and bytes)."""
    digest = hashlib.sha256()
    for path in closure(paths, package):
        where = path.relative_to(package.parent) if path.is_relative_to(package.parent) else Path(path.name)
        digest.update(where.as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def experiment_code(model: str, notebook: Path = NOTEBOOK, package: Path = PACKAGE) -> str:
    """The code hash of an experiment of ``model``: the notebook, the training entry point and the
    model's own module, each with what it imports."""
    return code_hash([notebook, _module_file(TRAINING, package), model_source(model)], package)


def training_environment() -> dict:
    """What else changes a trained result: the backend, its packages, and whether a GPU computes
    (precision ``auto`` is mixed there). Computed where the command runs: Dask workers must have
    the same kind of device (docs/SCALING.md)."""
    return {"backend": backend_name(), "packages": package_versions(), "gpu": gpu_computes()}


def experiment_hash(experiment: Experiment, fingerprint: str, code: str, environment: dict | None = None,
                    weights: dict | None = None) -> str:
    """Content hash over everything that changes the experiment's result; ``weights`` is the record
    of the ImageNet file it starts from, if any."""
    payload = {"config": experiment.config.model_dump(), "dataset": fingerprint, "code": code,
               "environment": environment or {}, "imagenet": weights}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
