"""Registries read from the sources: the names a module registers with a decorator, found without
importing it (and so without the deep-learning or plotting libraries it needs)."""

from __future__ import annotations

import ast
from pathlib import Path


def decorated_names(path: Path, decorator: str) -> list[str]:
    """The first string argument of every ``@decorator("name")`` call in the source at ``path``,
    in source order."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"), str(path))
    return [node.args[0].value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == decorator
            and node.args and isinstance(node.args[0], ast.Constant)]
