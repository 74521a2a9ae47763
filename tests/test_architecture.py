"""The package's layers (docs/ARCHITECTURE.md): a module imports only from its own layer's package
or from the layers below it, so data flows one way and the study's formulas depend on nothing but
common/ (the registry mechanism)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmark.common.sources import PACKAGE, imported_modules

# Lower numbers are lower layers; packages on the same level may not import each other.
LAYERS = {
    "common": 0,
    "study": 5,
    "data": 10,
    "models": 20,
    "training": 30,
    "apply": 40, "baselines": 40, "references": 40,
    "privacy": 50, "movement": 50,
    "labelling": 55,
    "runner": 60,
    "evidence": 65,
    "report": 70,
    "commands": 80,
}
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _package(module: str) -> str | None:
    """The layer package of ``benchmark.<package>...``; None for the top-level modules."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def test_every_subpackage_has_a_layer():
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert folders == set(LAYERS), "give each new package a layer here and in docs/ARCHITECTURE.md"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_no_import_runs_upward(path: Path):
    importer = _package(".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts))
    if importer is None:  # benchmark/__init__.py, __main__.py: the entry points
        return
    for module in imported_modules(path, PACKAGE):
        imported = _package(module)
        if imported is None or imported == importer:
            continue
        assert LAYERS[imported] < LAYERS[importer], (
            f"{path.relative_to(PACKAGE)} ({importer}, layer {LAYERS[importer]}) imports {module} "
            f"({imported}, layer {LAYERS[imported]}): imports may only run downward")


def _module_name(path: Path) -> str:
    name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return name.removesuffix(".__init__")


def test_no_import_cycles():
    """No two modules import each other, directly or through others: imports inside functions count,
    since a lazy import that closes a circle only hides the circle."""
    import graphlib

    graph = {}
    for path in MODULES:
        name = _module_name(path)
        # A module's own packages (their __init__ runs first when it is imported) are no edge of it.
        own = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)} | {name}
        graph[name] = imported_modules(path, PACKAGE) - own
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as error:
        pytest.fail(f"import cycle: {' -> '.join(error.args[1])}")


def test_commands_that_train_nothing_load_no_deep_learning_library():
    """A cached run and an up-to-date report validate, hash and compare without TensorFlow or
    matplotlib (a cached ./run_all.sh takes seconds)."""
    import subprocess
    import sys

    code = ("import sys, benchmark.commands.run, benchmark.commands.report, benchmark.study.codec; "
            "sys.exit(bool({'keras', 'tensorflow', 'jax', 'torch', 'matplotlib'} & set(sys.modules)))")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_every_benchmark_import_names_a_module_that_exists(path: Path):
    """A stale path (``benchmark.metrics`` after a move) would escape the layer check and the
    provenance hash, which both follow only imports that resolve."""
    import ast

    from benchmark.common.sources import module_file

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else []
        for name in names:
            if name.split(".")[0] == "benchmark":
                assert module_file(name, PACKAGE) is not None, f"{path.relative_to(PACKAGE)} imports {name}"
