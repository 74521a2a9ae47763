"""The source files a piece of code depends on, found by following ``benchmark`` imports statically
(imports inside functions too; a package's ``__init__`` counts when one of its modules is imported),
and a content hash over them: what caches key on so that they go stale exactly when that code changes.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]  # the benchmark package


def module_file(module: str, package: Path) -> Path | None:
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
    return {m for m in modules if module_file(m, package) is not None}


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
            todo += [module_file(m, package) for m in imported_modules(path, package)]
    return sorted(seen)


def code_hash(paths: Iterable[Path], package: Path = PACKAGE) -> str:
    """A hash of the files :func:`closure` finds (their paths relative to the repository and bytes)."""
    digest = hashlib.sha256()
    for path in closure(paths, package):
        where = path.relative_to(package.parent) if path.is_relative_to(package.parent) else Path(path.name)
        digest.update(where.as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]
