"""Where pre-trained backbone weights live: Keras's cache (``$KERAS_HOME/models``), without Keras."""

from __future__ import annotations

import os
from pathlib import Path

IMAGENET_BACKBONES = ("resnet50", "resnet101", "resnet152")


def keras_cache() -> Path:
    """The folder where Keras keeps downloaded model files."""
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "models"


def imagenet_weights_path(backbone: str) -> str | None:
    """The cached ImageNet weights file (no top) of a keras.applications ResNet, or None if absent."""
    path = keras_cache() / f"{backbone}_weights_tf_dim_ordering_tf_kernels_notop.h5"
    return str(path) if path.is_file() else None
