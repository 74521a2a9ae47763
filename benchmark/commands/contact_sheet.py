"""``python -m benchmark contact-sheet``: the command line of :mod:`benchmark.data.contact_sheet`."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmark.data.contact_sheet import contact_sheet


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("root", type=Path, help="dataset root (holds Train/, Valid/, ...)")
    parser.add_argument("--out", type=Path, required=True, help="PNG file to write")
    parser.add_argument("--split", help="only this split (default: all)")
    parser.add_argument("--n", type=int, default=12, help="number of frames (default 12)")
    parser.add_argument("--cols", type=int, default=4, help="frames per row (default 4)")
    parser.add_argument("--seed", type=int, default=0, help="which frames (default 0)")
    parser.add_argument("--cell", type=int, default=256, help="cell size in pixels (default 256)")
    parser.add_argument("--colors", type=int, help="quantise to this many colours (smaller file)")


def main(args: argparse.Namespace) -> int:
    out = contact_sheet(args.root, args.out, args.split, args.n, args.cols, args.seed, args.cell,
                        args.colors)
    print(f"wrote {out}")
    return 0
