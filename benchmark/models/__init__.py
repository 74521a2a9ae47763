"""Pose models behind a registry: ``build_model("resunet", variant="tiny")``.

Every module of this folder that registers a model is found by :mod:`.registry` without an import
line here; see docs/ADDING_A_MODEL.md.
"""

from benchmark.models.registry import build_model, import_all, list_models, model_info, model_source, register_model

__all__ = ["build_model", "import_all", "list_models", "model_info", "model_source", "register_model"]
