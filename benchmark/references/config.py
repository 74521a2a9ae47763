"""The settings of a reference experiment, validated like a training configuration."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import ConfigDict

from benchmark.common.strict import Strict

REFERENCES = ("mean_pose",)


class ReferenceConfig(Strict):
    """One chance-level reference and how it is evaluated (``eval_subset`` as for a trained
    experiment; ``seed`` only names the run: nothing here is random)."""

    model_config = ConfigDict(frozen=True)
    INHERITED: ClassVar[tuple[str, ...]] = ("eval_subset",)  # from the manifest's defaults and profile

    reference: Literal[REFERENCES] = "mean_pose"
    eval_subset: Literal["all", "non_facial"] = "non_facial"
    seed: int = 0
