"""Provenance: an experiment's cache key covers exactly the code it is computed by.

The scenarios of docs/ADDING_A_MODEL.md run on a copy of the package: adding a model as the document
says changes no existing experiment's key; editing one model's file changes only that model's
experiments; editing shared training code changes all of them; editing code that cannot change a
trained result (report, privacy, commands) changes none.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from benchmark.common.sources import closure, code_hash
from benchmark.models import registry
from benchmark.runner import provenance
from benchmark.runner.manifest import MANIFEST, REPO, LoadedManifest
from benchmark.runner.provenance import baseline_code, experiment_code, experiment_hash

PACKAGE = provenance.PACKAGE


def _example_model() -> str:
    """The complete example model file of docs/ADDING_A_MODEL.md."""
    doc = (REPO / "docs" / "ADDING_A_MODEL.md").read_text()
    return re.search(r"`benchmark/models/plain_fcn.py`, a complete example:\n\n```python\n(.*?)```", doc, re.S)[1]


@pytest.fixture
def copy(tmp_path, monkeypatch):
    """A copy of the package, notebook and manifest, with the registry reading the copy's models."""
    package = tmp_path / "benchmark"
    shutil.copytree(PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "notebooks", tmp_path / "notebooks")
    shutil.copy(MANIFEST, tmp_path / "manifest.yaml")
    monkeypatch.setattr(registry, "MODELS_DIR", package / "models")
    registry._index.cache_clear()
    yield tmp_path
    registry._index.cache_clear()


def _hashes(root: Path) -> dict[str, str]:
    experiments = LoadedManifest(root / "manifest.yaml").experiments("quick")
    trained = [e for e in experiments if e.kind == "train"]
    codes = {m: experiment_code(m, root / "notebooks" / "train_evaluate.ipynb", root / "benchmark")
             for m in {e.config.model for e in trained}}
    return {e.id: experiment_hash(e.config.model_dump(), "data", codes[e.config.model]) for e in trained} | {
        e.id: experiment_hash(e.config.model_dump(), "data", baseline_code(e.config.baseline, root / "benchmark"))
        for e in experiments if e.kind == "baseline"}


def _append(path: Path, line: str = "# edited\n") -> None:
    path.write_text(path.read_text() + line)


def test_training_closure_holds_shared_code_but_no_model_architecture_nor_report():
    files = {p.relative_to(PACKAGE).as_posix() for p in closure([PACKAGE / "training" / "train.py"])}
    assert {"training/train.py", "training/pipeline.py", "study/losses.py", "study/codec.py",
            "models/registry.py", "models/__init__.py", "__init__.py"} <= files
    assert not files & {"models/hourglass.py", "models/resunet.py", "models/simple_baseline.py"}
    assert not any(f.startswith(("report/", "privacy/", "commands/", "runner/")) for f in files)
    model = {p.relative_to(PACKAGE).as_posix() for p in closure([PACKAGE / "models" / "simple_baseline.py"])}
    assert "models/blocks.py" in model and "models/hourglass.py" not in model


def test_closure_follows_relative_absolute_and_function_level_imports(tmp_path):
    package = tmp_path / "benchmark"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "entry.py").write_text("from .sub import helper\n\ndef f():\n    import benchmark.late\n")
    (package / "sub" / "helper.py").write_text("from benchmark.sub.deep import x\n")
    (package / "sub" / "deep.py").write_text("x = 1\n")
    (package / "late.py").write_text("")
    (package / "unused.py").write_text("")
    names = {p.relative_to(package).as_posix() for p in closure([package / "entry.py"], package)}
    assert names == {"__init__.py", "entry.py", "sub/__init__.py", "sub/helper.py", "sub/deep.py", "late.py"}
    before = code_hash([package / "entry.py"], package)
    _append(package / "unused.py")
    assert code_hash([package / "entry.py"], package) == before
    _append(package / "sub" / "deep.py")
    assert code_hash([package / "entry.py"], package) != before


def test_adding_a_model_as_documented_changes_no_existing_key(copy):
    before = _hashes(copy)
    (copy / "benchmark" / "models" / "plain_fcn.py").write_text(_example_model())
    registry._index.cache_clear()  # a new process would read the folder afresh
    manifest = copy / "manifest.yaml"
    text = manifest.read_text()
    grid = "model: [simple_baseline, hourglass, resunet]"
    assert grid in text  # the loss grid the document edits
    manifest.write_text(text.replace(grid, grid.replace("]", ", plain_fcn]")))
    after = _hashes(copy)
    assert {k: after[k] for k in before} == before
    assert sorted(set(after) - set(before)) == ["loss-plain_fcn-bce", "loss-plain_fcn-kce", "loss-plain_fcn-mse"]


def test_editing_one_model_changes_only_its_experiments(copy):
    before = _hashes(copy)
    _append(copy / "benchmark" / "models" / "hourglass.py")
    after = _hashes(copy)
    changed = sorted(k for k in before if before[k] != after[k])
    assert changed == ["loss-hourglass-bce", "loss-hourglass-kce", "loss-hourglass-mse"]


def test_editing_shared_training_code_changes_every_trained_experiment(copy):
    before = _hashes(copy)
    _append(copy / "benchmark" / "training" / "pipeline.py")
    after = _hashes(copy)
    assert [k for k in before if before[k] == after[k]] == ["baseline-mediapipe_pose"]  # trains nothing


def test_editing_a_baseline_changes_only_its_experiment_and_shared_metrics_change_all(copy):
    before = _hashes(copy)
    _append(copy / "benchmark" / "baselines" / "mediapipe_pose.py")
    after = _hashes(copy)
    assert [k for k in before if before[k] != after[k]] == ["baseline-mediapipe_pose"]
    _append(copy / "benchmark" / "study" / "metrics.py")
    assert all(a != b for a, b in zip(after.values(), _hashes(copy).values()))


@pytest.mark.parametrize("module", ["report/tables.py", "privacy/audit.py", "commands/run.py",
                                    "runner/execute.py", "apply/predict.py", "data/synth/scene.py"])
def test_code_that_cannot_change_a_trained_result_changes_no_key(copy, module):
    before = _hashes(copy)
    _append(copy / "benchmark" / module)
    assert _hashes(copy) == before
