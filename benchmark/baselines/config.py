"""The settings of a baseline experiment, validated like a training configuration."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from benchmark.baselines.registry import BASELINES
from benchmark.common.strict import Strict


class BaselineConfig(Strict):
    """One zero-shot run: which baseline, its variant, and how it is evaluated.

    ``eval_face`` and ``eval_subset`` mean what they mean for a trained experiment; ``seed`` only
    names the run (a baseline has nothing random to seed)."""

    INHERITED: ClassVar[tuple[str, ...]] = ("eval_face", "eval_subset")  # from the manifest's defaults and profile

    baseline: str = "mediapipe_pose"
    variant: str = "full"
    min_detection_confidence: float = Field(0.5, gt=0, le=1)
    eval_face: Literal["visible", "occluded"] = "visible"
    eval_subset: Literal["all", "non_facial"] = "non_facial"
    seed: int = 0

    @field_validator("baseline")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in BASELINES:
            raise ValueError(f"unknown baseline {value!r} (allowed: {', '.join(BASELINES)})")
        return value

    @model_validator(mode="after")
    def _variant(self):
        variants = BASELINES[self.baseline].variants
        if self.variant not in variants:
            raise ValueError(f"unknown variant {self.variant!r} of {self.baseline} (allowed: {', '.join(variants)})")
        return self
