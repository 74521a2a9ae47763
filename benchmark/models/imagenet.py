"""ImageNet weights of the paper-size ResNet backbones: fetched once, cached, identified, checked up front.

The study initialises its ResNet encoders from ImageNet. The files are Keras's own (the URL and
MD5 hash of ``keras.applications``), fetched with ``keras.utils.get_file`` into
``$KERAS_HOME/models`` (default ``~/.keras/models``) on first use; a file already there is used
without network. Each file is identified by its name and SHA-256, which the caller records in
``metrics.json`` and in the experiment's cache key.

A cached file whose MD5 differs from Keras's is used all the same (it was put there on purpose, or
it is a mirror's copy), with a warning, and recorded with ``verified: false`` and its own SHA-256,
so results trained on it never share a cache key with the genuine file's. Delete it to fetch
Keras's file again. (``keras.utils.get_file`` would instead try to re-download it and, offline,
delete it.)
"""

from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from benchmark.models.registry import backbone_of

# From keras/src/applications/resnet.py (BASE_WEIGHTS_PATH and WEIGHTS_HASHES, no-top files);
# tests/test_imagenet.py checks them against the installed Keras.
BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
KERAS_MD5 = {
    "resnet50": "4d473c1dd8becc155b73f8504c6f6626",
    "resnet101": "88cf7a10940856eca736dc7b7e228a21",
    "resnet152": "ee4c566cf9a93f14d82f913c2dc6dd0c",
}


class ImagenetWeightsMissing(FileNotFoundError):
    """ImageNet weights are needed but neither cached nor downloadable; the message says what to do."""


@dataclass(frozen=True)
class ImagenetWeights:
    """One cached weights file: where it is, its SHA-256, and whether its MD5 is Keras's."""

    backbone: str
    path: Path
    sha256: str
    verified: bool

    def record(self) -> dict:
        """What identifies the file, for ``metrics.json`` and the cache key (no machine-specific path)."""
        return {"backbone": self.backbone, "file": self.path.name, "sha256": self.sha256,
                "verified": self.verified}


def keras_home() -> Path:
    """Keras's cache folder, read now (Keras itself reads ``KERAS_HOME`` once, at import)."""
    return Path(os.path.expanduser(os.environ.get("KERAS_HOME", os.path.join("~", ".keras"))))


def file_name(backbone: str) -> str:
    return f"{backbone}_weights_tf_dim_ordering_tf_kernels_notop.h5"


def url(backbone: str) -> str:
    return BASE_URL + file_name(backbone)


def imagenet_weights_path(backbone: str) -> str | None:
    """The cached ImageNet weights file (no top) of a keras.applications ResNet, or None if absent."""
    path = keras_home() / "models" / file_name(backbone)
    return str(path) if path.is_file() else None


@lru_cache(maxsize=8)
def _hashes(path: str, size: int, mtime_ns: int) -> tuple[str, str]:
    """MD5 and SHA-256 of a file, read once per version of the file (they are 100-250 MB)."""
    md5, sha256 = hashlib.md5(), hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            md5.update(chunk)
            sha256.update(chunk)
    return md5.hexdigest(), sha256.hexdigest()


def _identify(backbone: str, path: Path, warn: bool = True) -> ImagenetWeights:
    stat = path.stat()
    md5, sha256 = _hashes(str(path), stat.st_size, stat.st_mtime_ns)
    verified = md5 == KERAS_MD5[backbone]
    if warn and not verified:
        warnings.warn(f"{path}: its MD5 {md5} is not Keras's {KERAS_MD5[backbone]}; using it anyway and "
                      f"recording its SHA-256 {sha256} (delete it to fetch Keras's file from {url(backbone)})",
                      stacklevel=3)
    return ImagenetWeights(backbone, path, sha256, verified)


def _missing_message(backbone: str, cause: BaseException) -> str:
    folder = keras_home() / "models"
    return (f"ImageNet weights for the {backbone} backbone are needed (pretrained: true) but are not in the "
            f"Keras cache and could not be downloaded ({type(cause).__name__}: {cause}).\n"
            f"  file:   {file_name(backbone)} (MD5 {KERAS_MD5[backbone]}, as Keras checks it)\n"
            f"  from:   {url(backbone)}\n"
            f"  put it: {folder}/  (that is $KERAS_HOME/models; KERAS_HOME defaults to ~/.keras)\n"
            f"or set pretrained: false in the manifest (TrainConfig) to train from random initialisation.")


def imagenet_weights(backbone: str) -> ImagenetWeights:
    """The ImageNet weights of ``backbone``: from the cache, else downloaded there by Keras.

    Raises :class:`ImagenetWeightsMissing` when the file is absent and the download fails.
    """
    if backbone not in KERAS_MD5:
        raise ValueError(f"no ImageNet weights known for {backbone!r}; known: {', '.join(KERAS_MD5)}")
    cached = imagenet_weights_path(backbone)
    if cached is None:
        import keras  # only to download

        try:
            cached = keras.utils.get_file(file_name(backbone), url(backbone), cache_subdir="models",
                                          file_hash=KERAS_MD5[backbone], cache_dir=str(keras_home()))
        except Exception as exc:  # offline, refused, or a download whose MD5 is wrong
            (keras_home() / "models" / file_name(backbone)).unlink(missing_ok=True)  # never use the latter
            raise ImagenetWeightsMissing(_missing_message(backbone, exc)) from exc
    return _identify(backbone, Path(cached))


def imagenet_backbone(config) -> str | None:
    """The backbone whose ImageNet weights a :class:`~benchmark.training.config.TrainConfig` needs, if any."""
    backbone = backbone_of(config.model, config.variant)
    return backbone if config.pretrained and backbone in KERAS_MD5 else None


def check_imagenet_weights(configs) -> dict[str, dict]:
    """Pre-flight before any training: fetch or find the weights every config needs.

    Returns ``{backbone: record}`` (see :meth:`ImagenetWeights.record`), empty when none is needed.
    Raises :class:`ImagenetWeightsMissing` naming every missing file at once.
    """
    records, problems = {}, []
    for backbone in sorted({b for b in map(imagenet_backbone, configs) if b}):
        try:
            records[backbone] = imagenet_weights(backbone).record()
        except ImagenetWeightsMissing as err:
            problems.append(str(err))
    if problems:
        raise ImagenetWeightsMissing("\n\n".join(problems))
    return records


def cached_weights() -> list[ImagenetWeights]:
    """The ImageNet weights files already in the Keras cache (identified, not downloaded, no warning)."""
    return [_identify(b, Path(p), warn=False) for b in KERAS_MD5 if (p := imagenet_weights_path(b))]
