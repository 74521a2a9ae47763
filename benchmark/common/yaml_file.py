"""YAML files whose errors name the line: the manifest and the claims file are read here, with the
line of every key and item, so each problem (pydantic's among them) is one line
``file:line: field: message`` that points the user at the mistake."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from benchmark.common.errors import InputError

Loc = tuple  # a path of keys and indices into the document, as a pydantic error's ``loc``


def dotted(loc: Loc) -> str:
    """``("tables", 0)`` -> ``tables.0``: how a message names a field by default."""
    return ".".join(map(str, loc))


def line_index(node: yaml.Node, path: Loc = (), out: dict | None = None) -> dict[Loc, int]:
    """Map every path of keys/indices in the YAML document to its 1-based line number."""
    out = {} if out is None else out
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out[path + (key.value,)] = key.start_mark.line + 1
            line_index(value, path + (key.value,), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            line_index(value, path + (i,), out)
    return out


@dataclass(frozen=True)
class YamlFile:
    """A parsed YAML document (``data``) and the line of every path in it (``lines``)."""

    path: Path
    data: Any
    lines: dict[Loc, int]

    @classmethod
    def load(cls, path: Path | str, error: type[InputError], what: str) -> YamlFile:
        """Read ``path``; ``error`` says when it is missing (``"<path>: <what> not found"``) or not YAML."""
        path = Path(path)
        try:
            text = path.read_text()
            node = yaml.compose(text)
            data = yaml.safe_load(text)
        except FileNotFoundError:
            raise error(f"{path}: {what} not found") from None
        except yaml.YAMLError as e:
            raise error(f"{path}: not valid YAML: {e}") from None
        return cls(path, data, line_index(node) if node is not None else {})

    def where(self, loc: Loc) -> str:
        """``file:line`` of ``loc``, or of its nearest ancestor with a line (the file alone if none)."""
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return f"{self.path}:{self.lines[loc[:end]]}"
        return str(self.path)

    def message(self, loc: Loc, text: str, field: Callable[[Loc], str] = dotted) -> str:
        """``file:line: field: text`` for the field at ``loc`` (named by ``field``)."""
        return f"{self.where(loc)}: {field(loc)}: {text}"

    def invalid(self, error: ValidationError, field: Callable[[Loc], str] = dotted) -> str:
        """One :meth:`message` line per problem pydantic found in this document."""
        return "\n".join(self.message(tuple(e["loc"]), e["msg"], field) for e in error.errors())
