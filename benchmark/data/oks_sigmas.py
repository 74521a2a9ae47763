"""A dataset's OKS sigmas and origin: what an evaluation records in ``metrics.json``'s ``dataset``
(``oks_sigmas``, ``coco``), so that the report computes OKS AP without reading the dataset.

The sigmas are :data:`benchmark.study.keypoints.OKS_SIGMAS`, each overridden by the dataset's optional
``<root>/oks_sigmas.json`` (``{label: sigma}``, labels of :data:`benchmark.study.keypoints.LABELS`,
any subset of them); ``coco`` says that the dataset was converted from COCO (``<root>/coco_source.json``),
which turns the report's OKS columns on.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from benchmark.common.errors import InputError
from benchmark.data.layout import COCO_SOURCE, OKS_SIGMAS_FILE
from benchmark.study.keypoints import LABELS, OKS_SIGMAS


class SigmasError(InputError):
    """An ``oks_sigmas.json`` in error; the message names the file and the key."""


def read_sigmas(root: Path) -> dict[str, float]:
    """The OKS sigma of each of the 22 keypoints for the dataset at ``root`` (module docstring)."""
    path = Path(root) / OKS_SIGMAS_FILE
    if not path.is_file():
        return dict(OKS_SIGMAS)
    try:
        given = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise SigmasError(f"{path}: cannot be read as JSON ({e})") from None
    if not isinstance(given, dict):
        raise SigmasError(f"{path}: expected an object {{keypoint label: sigma}}")
    for label, sigma in given.items():
        if label not in LABELS:
            raise SigmasError(f"{path}: {label}: unknown keypoint (allowed: {', '.join(LABELS)})")
        if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not (math.isfinite(sigma) and sigma > 0):
            raise SigmasError(f"{path}: {label}: the sigma must be a positive number, not {sigma!r}")
    return OKS_SIGMAS | {label: float(sigma) for label, sigma in given.items()}


def oks_record(root: Path) -> dict:
    """``{"oks_sigmas": {label: sigma}, "coco": bool}``: the fields of ``metrics.json``'s ``dataset``
    that every evaluation adds (:class:`benchmark.common.metrics_file.DatasetRecord`)."""
    return {"oks_sigmas": read_sigmas(root), "coco": (Path(root) / COCO_SOURCE).is_file()}
