"""Is a rendered report up to date? A key over everything the report is rendered from.

The key hashes the report's own code (:mod:`benchmark.report.render` and what it imports, found by
:func:`benchmark.common.sources.closure`), its templates, the claims file its verdicts read and the
published tables, the tables and figures and the manifest's experiments asked for, and the results folder's state: every
experiment folder's ``COMPLETE.json`` or ``FAILED.json`` (which change whenever an experiment is
rerun) and the dataset snapshot's fingerprint. The report stores its key
in :data:`KEY_FILE`; when the key matches, nothing needs rendering.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from benchmark.common.sources import closure
from benchmark.runner.snapshot import recorded

HERE = Path(__file__).resolve().parent
KEY_FILE = ".inputs-key"
CLAIMS = HERE.parents[1] / "experiments" / "claims.yaml"  # benchmark.evidence.claims.CLAIMS, unimported: light


def report_key(results_root: Path, tables: list[str], figures: list[str],
               experiments: list[str] | None = None) -> str:
    """The key of the report of ``results_root`` (a profile's results folder) with these lists and
    the manifest's experiments (``build_report``)."""
    digest = hashlib.sha256(json.dumps([tables, figures, experiments]).encode())
    published = sorted((HERE.parent / "reference").glob("*.csv"))
    for path in closure([HERE / "render.py", *sorted((HERE / "templates").glob("*")), CLAIMS, *published]):
        digest.update(path.name.encode() + path.read_bytes())
    root = Path(results_root)
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")) if root.is_dir() else []
    for folder in folders:
        digest.update(folder.name.encode())
        for name in ("COMPLETE.json", "FAILED.json"):
            if (folder / name).is_file():
                digest.update(name.encode() + (folder / name).read_bytes())
    snapshot = recorded(root)  # its data, not the file times it records
    digest.update(json.dumps([snapshot.get("fingerprint"), snapshot.get("format")] if snapshot else None).encode())
    return digest.hexdigest()


def up_to_date(report: Path, key: str) -> bool:
    """Whether the report folder ``report`` was rendered with ``key``."""
    try:
        return (Path(report) / KEY_FILE).read_text().strip() == key
    except OSError:
        return False
