"""Pose models of the study behind a registry: ``build_model("resunet", size="tiny")``.

Importing this package registers every model module below.
"""

from benchmark.models import hourglass, hrnet, resunet, simple_baseline, vitpose  # noqa: F401  (registers models)
from benchmark.models.registry import build_model, list_models, model_info, register_model

__all__ = ["build_model", "list_models", "model_info", "register_model"]
