"""Model registry: build any pose model by name (like timm), without an import line per model.

A model is one module in ``benchmark/models/`` with a builder function decorated with
``@register_model("name")``. The registry finds the models by reading those decorators in the
sources (:func:`list_models` and :func:`model_source` import nothing, so validating a manifest or
hashing a model's code stays fast); a model's module is imported when the model is first built.
A builder has the signature ``builder(input_size, num_keypoints, variant, pretrained, **overrides)``
with ``input_size`` an ``(H, W)`` tuple, and returns a ``keras.Model`` named with
:func:`model_name`, so that :func:`model_info` can read back what was built even after the model
was saved and loaded.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from benchmark.common.registry import decorated_names, lookup, register
from benchmark.study.keypoints import NUM_KEYPOINTS

if TYPE_CHECKING:
    import keras

VARIANTS = ("tiny", "paper")
INPUT_MULTIPLE = 32  # every backbone downsamples to stride 32
MODELS_DIR = Path(__file__).resolve().parent
NOT_MODELS = ("__init__", "registry", "blocks", "imagenet")  # shared modules of this folder

_REGISTRY: dict[str, Callable[..., keras.Model]] = {}  # the builders of the models imported so far


def register_model(name: str):
    """Decorator registering a model builder under ``name``."""
    if "-" in name:
        raise ValueError(f"model name {name!r} must not contain '-' (used in model_name)")
    return lambda builder: register(_REGISTRY, "model", builder, name)


@lru_cache(maxsize=1)
def _index() -> dict[str, Path]:
    """Model name -> source file, from the ``@register_model("name")`` decorators of this folder."""
    index: dict[str, Path] = {}
    for path in sorted(MODELS_DIR.glob("*.py")):
        if path.stem in NOT_MODELS:
            continue
        for name in decorated_names(path, "register_model"):
            if name in index:
                raise ValueError(f"model {name!r} is registered in both {index[name].name} and {path.name}")
            index[name] = path
    return index


def _sources() -> dict[str, Path]:
    """Model name -> source file of the available models (this folder's and any registered at run
    time), sorted by name."""
    imported = {name: Path(inspect.getsourcefile(builder)) for name, builder in _REGISTRY.items()}
    return dict(sorted((imported | _index()).items()))


def list_models() -> list[str]:
    """Names of the available models, sorted."""
    return list(_sources())


def model_source(name: str) -> Path:
    """The source file that defines model ``name``."""
    return lookup(_sources(), "model", name, choices="registered")


def backbone_of(name: str, variant: str) -> str | None:
    """The ``backbone`` of a model's ``variant``, read from the ``CONFIGS = {variant: {...}}`` literal
    of its module without building or importing it (so the runner knows before any training which
    ImageNet files the experiments need); None when the module declares none."""
    for node in ast.parse(model_source(name).read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "CONFIGS" for t in node.targets):
            try:
                return ast.literal_eval(node.value).get(variant, {}).get("backbone")
            except ValueError:  # not a literal: unknown until built
                return None
    return None


def import_all() -> None:
    """Import every model module, so that their custom layers are known to ``keras.saving``."""
    for path in _index().values():
        importlib.import_module(f"benchmark.models.{path.stem}")


def _builder(name: str) -> Callable[..., keras.Model]:
    if name not in _REGISTRY:
        importlib.import_module(f"benchmark.models.{model_source(name).stem}")
    return _REGISTRY[name]


def build_model(name: str, input_size: int | tuple[int, int] = 128,
                num_keypoints: int = NUM_KEYPOINTS, variant: str = "tiny",
                pretrained: bool = True, **kwargs) -> keras.Model:
    """Build a registered model.

    ``input_size`` is ``S`` (square) or ``(H, W)``, each a multiple of 32. The model takes float32
    NHWC images in [0, 1] and returns heatmap logits of shape ``(B, H/4, W/4, num_keypoints)`` (a
    list of them, one per stack, for the hourglass). ``variant`` is ``"tiny"`` (CPU-sized) or
    ``"paper"`` (the study's scale). ``pretrained`` loads ImageNet weights for backbones that have
    them. ``kwargs`` override entries of the variant's configuration.
    """
    builder = _builder(name)
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; allowed: {', '.join(VARIANTS)}")
    height, width = tuple(input_size) if isinstance(input_size, (tuple, list)) else (input_size,) * 2
    if height % INPUT_MULTIPLE or width % INPUT_MULTIPLE or min(height, width) <= 0:
        raise ValueError(
            f"input size {(height, width)}: height and width must each be a positive multiple of "
            f"{INPUT_MULTIPLE}")
    model = builder((height, width), num_keypoints, variant, pretrained, **kwargs)
    if model.name.split("-")[0] != name:
        raise ValueError(f"builder of {name!r} must name its model with model_name({name!r}, ...)")
    return model


def resolve_config(configs: dict[str, dict], variant: str, overrides: dict) -> dict:
    """A model's configuration for ``variant`` with ``overrides`` applied (unknown keys rejected)."""
    config = dict(configs[variant])
    unknown = set(overrides) - set(config)
    if unknown:
        raise ValueError(f"unknown option(s) {sorted(unknown)}; allowed: {sorted(config)}")
    config.update(overrides)
    return config


def model_name(name: str, variant: str, backbone: str, imagenet_weights: bool) -> str:
    """The Keras model name recording what was built, e.g. ``resunet-paper-resnet101-imagenet``."""
    return "-".join([name, variant, backbone, "imagenet" if imagenet_weights else "random"])


def model_info(model: keras.Model) -> dict:
    """What a built (or loaded) model is: registry name, variant, parameters, stride, stacks, backbone."""
    parts = model.name.split("-")
    if len(parts) != 4:
        raise ValueError(f"model {model.name!r} was not built by benchmark.models.build_model")
    name, variant, backbone, weights = parts
    outputs = model.outputs
    return {
        "name": name,
        "variant": variant,
        "params": model.count_params(),
        "stride": model.inputs[0].shape[1] // outputs[-1].shape[1],
        "stacks": len(outputs),
        "backbone": backbone,
        "imagenet_weights": weights == "imagenet",
    }
