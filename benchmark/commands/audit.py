"""``python -m benchmark audit``: the command line of :mod:`benchmark.privacy.audit`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from benchmark.privacy.audit import audit_dataset


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("root", type=Path, help="dataset root (<root>/<Split>/img, ann)")
    parser.add_argument("--json", type=Path, help="also write the full report as JSON to this file")


def main(args: argparse.Namespace) -> int:
    report = audit_dataset(args.root, progress=True)
    print(report.summary())
    if report.findings:
        with pd.option_context("display.max_colwidth", 120, "display.width", 250):
            print(report.table().to_string(index=False))
    if args.json:
        args.json.write_text(json.dumps(report.to_json(), indent=2))
        print(f"wrote {args.json}")
    return 0 if report.clean else 1
