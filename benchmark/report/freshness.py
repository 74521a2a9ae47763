"""Is a rendered report up to date? A key over everything the report is rendered from.

The key hashes the report's own code (:mod:`benchmark.report.render` and what it imports, found by
:func:`benchmark.common.sources.closure`), its templates, the claims file its verdicts read and the
published tables, the reference result the run is compared with (:mod:`benchmark.report.reproduce`), the
tables and figures asked for, the run plan's experiments and settings and the
manifest's showcase, and the state of the planned experiments' folders: each one's ``COMPLETE.json``,
``FAILED.json`` or ``SKIPPED.json`` (which change whenever an experiment is rerun), and the dataset
snapshot's fingerprint. The report stores its key
in :data:`KEY_FILE`; when the key matches, nothing needs rendering.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from benchmark.common.result_files import OUTCOMES
from benchmark.common.sources import closure
from benchmark.runner.plan import RunPlan
from benchmark.runner.snapshot import recorded

HERE = Path(__file__).resolve().parent
KEY_FILE = ".inputs-key"
CLAIMS = HERE.parents[1] / "experiments" / "claims.yaml"  # benchmark.evidence.claims.CLAIMS, unimported: light


def report_key(plan: RunPlan, tables: list[str], figures: list[str], claims: Path = CLAIMS, oks: bool = False,
               reference: Path | None = None) -> str:
    """The key of the report of ``plan`` with these lists, the claims file ``claims`` and OKS asked for
    or not: its planned experiments and their settings, and the state of their folders only (folders
    the plan ignores change nothing but their list)."""
    planned = [[e.id, e.config.model_dump(mode="json")] for e in plan.experiments]
    digest = hashlib.sha256(json.dumps([tables, figures, planned, plan.manifest.data.showcase,
                                       plan.unplanned(), oks]).encode())
    published = sorted((HERE.parent / "published").glob("*.csv"))
    for path in closure([HERE / "render.py", HERE / "reproduce.py", *sorted((HERE / "templates").glob("*")), Path(claims), *published]):
        digest.update(path.name.encode() + path.read_bytes())
    if reference is not None and Path(reference).is_file():
        digest.update(b"reference" + Path(reference).read_bytes())
    for exp_id in plan.ids:
        folder = plan.folder(exp_id)
        digest.update(exp_id.encode())
        for name in OUTCOMES:
            if (folder / name).is_file():
                digest.update(name.encode() + (folder / name).read_bytes())
    snapshot = recorded(plan.results)  # its data, not the file times it records
    digest.update(json.dumps([snapshot.get("fingerprint"), snapshot.get("format")] if snapshot else None).encode())
    return digest.hexdigest()


def up_to_date(report: Path, key: str) -> bool:
    """Whether the report folder ``report`` was rendered with ``key``."""
    try:
        return (Path(report) / KEY_FILE).read_text().strip() == key
    except OSError:
        return False
