"""The settings of a labelling simulation (``kind: labelling`` in the manifest): the loop's own
settings on top of the training recipe every round retrains with.

A labelling experiment is a :class:`~benchmark.training.config.TrainConfig` (inherited from the
manifest's defaults and the profile's ``train``, overridable in the group's ``base``) plus how the
loop runs: which strategy picks the frames, how many Train videos are labelled at the start, how
many rounds of how many frames follow, and how noisy the simulated annotator is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from benchmark.data.layout import SYNTH_SETTINGS
from benchmark.labelling.select import STRATEGIES
from benchmark.training.config import TrainConfig


class LabellingConfig(TrainConfig):
    """One strategy's labelling loop (docs/LABELLING.md, "Measuring the loop (simulation)").

    Every retrain takes the optimizer steps the recipe (``epochs`` of ``batch_size``) takes on the
    whole Train split, whatever the number of labelled frames, and doubles them while Valid says it
    has not converged (``max_epochs``, as every trained arm): the curve then shows what the labels
    bought, not extra training. ``converge``: which retrains do (``every``; ``last``: only the one the
    claims judge, the others take the recipe's steps, for recipes too slow to converge every round).
    ``annotator_noise`` scales the synthetic annotator's noise
    (:mod:`benchmark.data.synth.annotator`; 1: the dataset's own annotator, 0: exact truth).
    """

    strategy: Literal[STRATEGIES] = "random"
    start_videos: int = Field(4, ge=1)      # Train videos labelled before the first round
    rounds: int = Field(3, ge=1)            # rounds of choosing, labelling and retraining
    frames_per_round: int = Field(20, ge=1)
    annotator_noise: float = Field(1.0, ge=0)
    converge: Literal["every", "last"] = "every"

    def training(self, **changes) -> TrainConfig:
        """The training recipe alone, with ``changes`` (one retrain's ``epochs``, say)."""
        return TrainConfig.model_validate(self.model_dump(include=set(TrainConfig.model_fields)) | changes)


def not_applicable(dataset_root: Path) -> str | None:
    """Why the simulation cannot run on the dataset at ``dataset_root`` (it labels frames from their
    exact truth, which only a synthetic dataset has), or None when it can."""
    if (Path(dataset_root) / SYNTH_SETTINGS).is_file():
        return None
    return (f"not applicable to this dataset: no {SYNTH_SETTINGS} in {dataset_root}; the labelling simulation "
            "labels frames from their exact truth, which only the synthetic dataset has")
