"""``python -m benchmark convert``: COCO keypoint JSON to and from the LabelMe dataset layout
(:mod:`benchmark.data.coco`; the conventions in docs/CONVENTIONS.md, "COCO keypoints")::

    convert ROOT --to coco --out FILE.json [--split S]
    convert FILE.json --images DIR --to labelme --out NEWROOT [--split S] [--split-by FIELD_OR_PATTERN]
            [--link [hard|symbolic]]

On the way in every image is de-identified before it is written, by the policy of ``scrub``
(:mod:`benchmark.privacy.scrub`): a face the audit's test finds visible, or too small to judge, is
mosaicked (:func:`benchmark.data.mosaic.mosaic_face`, grown where no lip is labelled, as in COCO's
17 keypoints; the whole picture, :func:`benchmark.data.mosaic.safe_to_show`, where the keypoints give
no face region, fewer than two facial keypoints being labelled), and metadata is stripped. Only an
image that needs neither is copied as it is, or linked with ``--link``. The new root, with
``coco_source.json``, is written to a temporary folder, audited (:mod:`benchmark.privacy.audit`), and
moved into place only when the audit finds nothing of high severity.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from benchmark.common.atomic import OutputError, check_output, staged_file, staged_folder
from benchmark.common.errors import InputError
from benchmark.data import coco
from benchmark.data.labelme import load_dataset, load_image
from benchmark.data.layout import COCO_SOURCE, SPLITS
from benchmark.data.mosaic import face_ellipse, mosaic_face, safe_to_show
from benchmark.privacy.audit import audit_dataset
from benchmark.privacy.faces import check_face
from benchmark.privacy.scrub import clean_image
from benchmark.study.keypoints import INDEX

LIPS = [INDEX["Upper_Lip"], INDEX["Lower_Lip"]]
# Growth of the face mosaic where no lip is labelled (COCO-17): the face's axis then ends at the
# nose, and the default margin (0.6) left 10 % of the face uncovered in half of 78 synthetic frames
# (43 % at worst); 2.0 leaves none in half of them and 10 % at worst (about twice the mosaic area).
MARGIN_WITHOUT_LIPS = 2.0


def configure(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("source", type=Path, help="a dataset root (--to coco) or a COCO keypoint JSON file (--to labelme)")
    add("--to", choices=("coco", "labelme"), required=True, help="the format to write")
    add("--out", type=Path, required=True,
        help="--to coco: the JSON file; --to labelme: a new or empty folder, the new dataset root")
    add("--split", choices=SPLITS,
        help="--to coco: only this split; --to labelme: the split of every image where the file names "
             "none, else only the images of this split")
    add("--images", type=Path, help="--to labelme: the folder the COCO file_names are relative to")
    add("--split-by", metavar="FIELD_OR_PATTERN",
        help="--to labelme: the image field holding the split (default 'split'), 'folder' (the first "
             "folder of file_name), or a regular expression searched in file_name with named groups "
             "split, video and/or frame, e.g. '(?P<split>[a-z]+)/(?P<video>[^/]+)_(?P<frame>\\d+)'")
    add("--link", nargs="?", const="hard", choices=("hard", "symbolic"),
        help="--to labelme: link images that need no de-identification instead of copying them "
             "(default hard)")
    add("--overwrite", action="store_true", help="replace an existing --out")


def main(args: argparse.Namespace) -> int:
    return to_coco(args) if args.to == "coco" else to_labelme(args)


def to_coco(args: argparse.Namespace) -> int:
    misplaced = [f"--{name.replace('_', '-')}" for name in ("images", "split_by", "link") if getattr(args, name)]
    if misplaced:
        raise InputError(f"{', '.join(misplaced)}: only with --to labelme")
    out = Path(args.out)
    if out.is_dir() or (out.exists() and not args.overwrite):
        raise OutputError(f"--out {out} exists; choose a new file" + ("" if out.is_dir() else " or add --overwrite"))
    dataset = load_dataset(args.source, [args.split] if args.split else None)
    doc = coco.to_coco(dataset)
    with staged_file(out) as tmp:
        tmp.write_text(json.dumps(doc))
    splits = ", ".join(f"{split} {len(frames)}" for split, frames in dataset.splits.items())
    print(f"wrote {out}: {len(doc['images'])} images with their keypoints ({splits}); file_names are "
          f"relative to {dataset.root} (--images when converting back)")
    return 0


def deidentified(frame: coco.CocoFrame) -> tuple[bytes | None, str]:
    """The image file to write for ``frame`` and what was done to it; None where the source file
    may be used as it is (its face already mosaicked, no metadata)."""
    pixels = load_image(frame.source)
    verdict = check_face(pixels, frame.keypoints)
    changed = verdict is None or not verdict.mosaicked
    if changed and face_ellipse(frame.keypoints) is None:
        pixels = safe_to_show(pixels, frame.keypoints, seed=frame.stem)
    elif changed:
        grown = {"margin": MARGIN_WITHOUT_LIPS} if np.isnan(frame.keypoints[LIPS]).all() else {}
        pixels = mosaic_face(pixels, frame.keypoints, seed=frame.stem, **grown)
    data = clean_image(frame.source, pixels, changed)
    done = ("whole picture mosaicked (no face region)" if face_ellipse(frame.keypoints) is None
            else "face mosaicked" if changed else "face already mosaicked")
    return (None if not changed and data == frame.source.read_bytes() else data), done


def _check_out(args: argparse.Namespace) -> None:
    """Refuse an --out that holds the images, lies inside them, or (without --overwrite) exists."""
    out, images = Path(args.out).resolve(), Path(args.images).resolve()
    if images.is_relative_to(out):
        raise OutputError(f"--out {out} holds the --images folder {images}; choose another folder")
    if Path(args.source).resolve().is_relative_to(out):
        raise OutputError(f"--out {out} holds the COCO file {args.source}; choose another folder")
    if args.overwrite:
        if out.is_relative_to(images):
            raise OutputError(f"--out {out} lies inside the --images folder {images}; choose another folder")
    else:
        try:
            check_output(out, images)
        except OutputError as err:
            raise OutputError(f"{err}, or add --overwrite") from None


def to_labelme(args: argparse.Namespace) -> int:
    if args.images is None:
        raise InputError("--images: required with --to labelme (the folder the COCO file_names are relative to)")
    _check_out(args)
    rule = coco.Rule(args.split_by, args.split)
    conversion = coco.coco_frames(coco.read_coco(args.source), args.source, args.images, rule)
    done = Counter()
    with staged_folder(args.out, replace=args.overwrite) as tmp:
        for frame in tqdm(conversion.frames, desc="convert", unit="image"):
            image, what = deidentified(frame)
            done[what] += 1
            done["written, not linked (de-identified)"] += bool(args.link and image is not None)
            coco.write_frame(tmp, frame, image, args.link)
        record = coco.source_record(args.source, rule, conversion)
        (tmp / COCO_SOURCE).write_text(json.dumps(record, indent=2))
        report = audit_dataset(tmp, progress=True)
        if not report.clean:
            high = report.table().query("severity == 'high'")
            raise InputError(f"the converted dataset fails the privacy audit; nothing written:\n"
                             f"{high.to_string(index=False)}")
    report.root = Path(args.out)
    frames = Counter(frame.split for frame in conversion.frames)
    videos = {split: len({f.video for f in conversion.frames if f.split == split}) for split in frames}
    print(f"wrote {args.out}: " + ", ".join(f"{split} {frames[split]} frames of {videos[split]} videos"
                                            for split in SPLITS if split in frames))
    for what, count in done.items():
        if count:
            print(f"  {what}: {count}")
    print(f"  audit: {report.summary()}")
    return 0
