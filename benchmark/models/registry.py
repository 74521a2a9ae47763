"""Model registry: build any pose model of the study by name (like timm).

A model is one module with a builder function decorated with
``@register_model("name")``; importing the module registers it. A builder has
the signature ``builder(input_size, num_keypoints, size, pretrained, **overrides)``
with ``input_size`` an ``(H, W)`` tuple, and returns a ``keras.Model`` named with
:func:`model_name`, so that :func:`model_info` can read back what was built even
after the model was saved and loaded. A model registered with its size
configurations (``configs={"tiny": {...}, "paper": {...}}``) makes its backbone
known without building it (:func:`backbone_of`), e.g. to fetch ImageNet weights
before any training starts.
"""

from __future__ import annotations

from typing import Callable

import keras

from benchmark.keypoints import NUM_KEYPOINTS

SIZES = ("tiny", "paper")
INPUT_MULTIPLE = 32  # every backbone downsamples to stride 32

_REGISTRY: dict[str, Callable[..., keras.Model]] = {}
_CONFIGS: dict[str, dict[str, dict]] = {}


def register_model(name: str, configs: dict[str, dict] | None = None):
    """Decorator registering a model builder under ``name``, with its size ``configs`` if it has any."""
    if "-" in name:
        raise ValueError(f"model name {name!r} must not contain '-' (used in model_name)")

    def decorator(builder):
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is already registered")
        _REGISTRY[name] = builder
        _CONFIGS[name] = configs or {}
        return builder

    return decorator


def backbone_of(name: str, size: str) -> str | None:
    """The ``backbone`` entry of a registered model's configuration for ``size``, if it declares one."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; registered: {', '.join(list_models())}")
    return _CONFIGS[name].get(size, {}).get("backbone")


def list_models() -> list[str]:
    """Names of the registered models, sorted."""
    return sorted(_REGISTRY)


def build_model(name: str, input_size: int | tuple[int, int] = 128,
                num_keypoints: int = NUM_KEYPOINTS, size: str = "tiny",
                pretrained: bool = True, **kwargs) -> keras.Model:
    """Build a registered model.

    ``input_size`` is ``S`` (square) or ``(H, W)``, each a multiple of 32. The
    model takes float32 NHWC images in [0, 1] and returns heatmap logits of shape
    ``(B, H/4, W/4, num_keypoints)`` (a list of them, one per stack, for the
    hourglass). ``pretrained`` loads ImageNet weights for backbones that have
    them (``benchmark.models.imagenet``: from the Keras cache, else downloaded
    there; offline, an error that says where to put the file).
    ``kwargs`` override entries of the model's size configuration.
    """
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; registered: {', '.join(list_models())}")
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; allowed: {', '.join(SIZES)}")
    height, width = tuple(input_size) if isinstance(input_size, (tuple, list)) else (input_size,) * 2
    if height % INPUT_MULTIPLE or width % INPUT_MULTIPLE or min(height, width) <= 0:
        raise ValueError(
            f"input size {(height, width)}: height and width must each be a positive multiple of "
            f"{INPUT_MULTIPLE}")
    model = _REGISTRY[name]((height, width), num_keypoints, size, pretrained, **kwargs)
    if model.name.split("-")[0] != name:
        raise ValueError(f"builder of {name!r} must name its model with model_name({name!r}, ...)")
    return model


def resolve_config(configs: dict[str, dict], size: str, overrides: dict) -> dict:
    """A model's configuration for ``size`` with ``overrides`` applied (unknown keys rejected)."""
    config = dict(configs[size])
    unknown = set(overrides) - set(config)
    if unknown:
        raise ValueError(f"unknown option(s) {sorted(unknown)}; allowed: {sorted(config)}")
    config.update(overrides)
    return config


def model_name(name: str, size: str, backbone: str, imagenet_weights: bool) -> str:
    """The Keras model name recording what was built, e.g. ``resunet-paper-resnet101-imagenet``."""
    return "-".join([name, size, backbone, "imagenet" if imagenet_weights else "random"])


def model_info(model: keras.Model) -> dict:
    """What a built (or loaded) model is: registry name, size, parameters, stride, stacks, backbone."""
    parts = model.name.split("-")
    if len(parts) != 4:
        raise ValueError(f"model {model.name!r} was not built by benchmark.models.build_model")
    name, size, backbone, weights = parts
    outputs = model.outputs
    return {
        "name": name,
        "size": size,
        "params": model.count_params(),
        "stride": model.inputs[0].shape[1] // outputs[-1].shape[1],
        "stacks": len(outputs),
        "backbone": backbone,
        "imagenet_weights": weights == "imagenet",
    }
