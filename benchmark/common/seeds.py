"""The seed part of an experiment id, written by the runner and read by the report (no Keras here).

An experiment of the manifest trained with seed 0 (or the configured seed) keeps its row's name; any
other seed ``s`` adds ``-s<s>``, so that every seed of a row has its own results folder.
"""

from __future__ import annotations

import re

SUFFIX = re.compile(r"-s\d+$")


def with_seed(name: str, seed: int | None) -> str:
    """The id of the row ``name`` trained with ``seed``."""
    return f"{name}-s{seed}" if seed else name


def without_seed(exp_id: str) -> str:
    """The row name of an experiment id."""
    return SUFFIX.sub("", exp_id)
