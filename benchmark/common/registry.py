"""The registries' one mechanism (models, losses, baselines, tables, figures), like timm's.

A registry is a plain ``dict`` from name to entry, in the order registered. :func:`register` adds an
entry once under its name, :func:`lookup` finds one or raises a ValueError that lists the registered
names, and :func:`decorated_names` lists the names a module registers with a decorator by reading its
source, without importing it (and so without the deep-learning or plotting libraries it needs).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def register(registry: dict[str, T], kind: str, entry: T, name: str | None = None) -> T:
    """Add ``entry`` (a ``kind``: "loss", "model"...) to ``registry`` under ``name``, by default its
    ``name`` attribute; a name taken already is an error."""
    name = entry.name if name is None else name
    if name in registry:
        raise ValueError(f"{kind} {name!r} is registered already (already registered: {', '.join(registry)})")
    registry[name] = entry
    return entry


def lookup(registry: Mapping[str, T], kind: str, name: str, choices: str = "allowed") -> T:
    """The entry ``name`` of ``registry``; a ValueError introducing the registered names with
    ``choices`` otherwise."""
    if name not in registry:
        raise ValueError(f"unknown {kind} {name!r}; {choices}: {', '.join(registry)}")
    return registry[name]


def decorated_names(path: Path, decorator: str) -> list[str]:
    """The first string argument of every ``@decorator("name", ...)`` call in the source at ``path``,
    in source order."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"), str(path))
    return [node.args[0].value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == decorator
            and node.args and isinstance(node.args[0], ast.Constant)]
