"""``python -m benchmark info``: the command line of :mod:`benchmark.data.info`: the summary, then
every image decoded (exit 2, naming the files, when one cannot be used)."""

from __future__ import annotations

from pathlib import Path

from benchmark.data.info import check_images, describe, labelme_command
from benchmark.data.labelme import load_dataset


def configure(parser) -> None:
    parser.add_argument("root", type=Path, help="dataset root (<root>/<Split>/img, ann)")


def main(args) -> int:
    dataset = load_dataset(args.root)
    print(describe(dataset, dataset.fingerprint()))
    print(f"{check_images(dataset, progress=True)} images decode completely at the size of their annotation")
    split = next(iter(dataset.splits), "Train")
    print(f"open a split in LabelMe (docs/LABELLING.md): {labelme_command(Path(args.root) / split)}")
    return 0
