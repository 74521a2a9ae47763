"""Output folders of the privacy commands: never inside the input, never half-written."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class OutputError(ValueError):
    """The output folder would overwrite something or lie inside the input."""


def check_output(out: Path, source: Path) -> None:
    """Refuse an ``out`` that is ``source``, lies inside it (when it is a folder), or is anything
    but a new or empty folder. Both paths are resolved first."""
    out, source = Path(out).resolve(), Path(source).resolve()
    if source.is_dir() and out.is_relative_to(source):
        raise OutputError(f"--out {out} is the input folder {source} or inside it; choose another folder")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise OutputError(f"--out {out} exists and is not an empty folder; choose a new folder")


@contextmanager
def staged_folder(out: Path) -> Iterator[Path]:
    """A temporary folder next to ``out`` that is renamed to ``out`` when the block succeeds and
    removed when it fails, so ``out`` is either complete or absent."""
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)  # mkdtemp makes private folders
        if out.exists():
            out.rmdir()  # an empty folder (check_output refused anything else)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
