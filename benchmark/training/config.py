"""The settings of one training run (validated; shared by the manifest, the runner and training).

Names are checked against the registries that own them (models, losses, decoders), so a new model,
loss or decoder is allowed here as soon as it exists there.
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from benchmark.common.strict import Strict
from benchmark.models.registry import VARIANTS, list_models
from benchmark.study.codec import DECODERS
from benchmark.study.losses import LOSSES


def _one_of(value: str, allowed, what: str) -> str:
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r} (allowed: {', '.join(allowed)})")
    return value


class TrainConfig(Strict):
    """Everything that changes the result of one training run."""

    model_config = ConfigDict(frozen=True)
    # Settings that change how a trained model is evaluated, not the model: experiments that differ
    # only in these train once (benchmark.runner.execute; training monitors Valid as it trains).
    EVALUATION: ClassVar[tuple[str, ...]] = ("eval_face",)

    model: str = "simple_baseline"
    variant: str = "tiny"  # the model's preset: CPU-sized or the study's scale
    loss: str = "kce"
    decoder: str = "wa"
    train_face: Literal["visible", "occluded"] = "visible"
    eval_face: Literal["visible", "occluded"] = "visible"
    facial_keypoints: Literal["preserved", "omitted"] = "preserved"
    eval_subset: Literal["all", "non_facial"] = "non_facial"
    input_size: int = Field(128, ge=32, multiple_of=32)
    # What the network sees: the whole ``picture`` letterboxed, or the ``body``: a square crop around
    # the infant, its keypoints spanning ``framing_fill`` of it (benchmark/data/framing.py). Training
    # crops by the labels of each video, and sees every whole picture too (an epoch is then every
    # frame twice); evaluation and ``predict`` crop by the model's own predictions, a first pass on
    # the picture and then ``framing_passes`` passes, each on the crop the previous one found.
    framing: Literal["picture", "body"] = "picture"
    framing_fill: float = Field(0.8, gt=0.2, le=1)
    framing_passes: int = Field(2, ge=1, le=5)
    sigma: float = Field(2.0, gt=0)
    epochs: int = Field(10, ge=1)
    batch_size: int = Field(16, ge=1)
    learning_rate: float = Field(1e-3, gt=0)
    # The schedule (benchmark/training/schedule.py): ``cycles`` identical cycles over the epochs, each
    # a linear warm-up from 0 to ``learning_rate`` over ``warmup_epochs`` (fractions allowed; 0: none)
    # and a cosine decay to 0. With two or more, the convergence test compares the end of training
    # with the end of its first half (benchmark/study/convergence.py); ``epochs`` must be a multiple.
    cycles: int = Field(1, ge=1)
    warmup_epochs: float = Field(0.0, ge=0)
    # Train until converged: with ``max_epochs`` above ``epochs``, training goes on in more of the same
    # cycles, doubling its epochs (epochs, 2 epochs, 4 epochs ...) until the convergence test passes or
    # ``max_epochs`` (``epochs`` times a power of two) is reached (benchmark/training/budget.py).
    max_epochs: int | None = Field(None, ge=1)
    augment: bool = True
    # Ranges of the geometric augmentation (with ``augment``): rotation within +-augment_rotation
    # degrees, scale within 1 +- augment_scale, shift within +-augment_translate of the input size,
    # and a perspective tilt in a random direction that makes one side of the input up to
    # (1 + p/2) / (1 - p/2) times as large as the other, p = augment_perspective (an oblique camera;
    # transforms.random_tilt); half the time a radial lens distortion of strength within
    # +-augment_distortion (barrel or pincushion about a random centre, transforms.random_lens);
    # mirroring half the time. The defaults are the study's +-30 deg, 0.75-1.25 and +-10 %, no tilt
    # and no lens.
    augment_rotation: float = Field(30.0, ge=0, le=180)
    augment_scale: float = Field(0.25, ge=0, lt=1)
    augment_translate: float = Field(0.1, ge=0, le=0.5)
    augment_perspective: float = Field(0.0, ge=0, lt=1)
    augment_distortion: float = Field(0.0, ge=0, le=0.3)  # |strength| < 1/3: radial_distortion_maps
    # Photometric augmentation (with ``augment``; labels unchanged): brightness, contrast and
    # saturation times 1 +- their value (the study's 0.25, 0.3, 0.3), per-channel gains 1 +- gain
    # (colour casts), hues turned by up to +-augment_hue degrees, half the time a Gaussian blur of sigma up to augment_blur input pixels,
    # half the time a motion blur up to augment_motion_blur input pixels long,
    # Gaussian noise of sigma up to augment_noise (pixel values in [0, 1]), and up to
    # augment_cutout erased rectangles with sides up to augment_cutout_size of the input. The defaults
    # are the study's colour jitter only; profiles switch the others on (docs/SYNTHETIC.md).
    augment_brightness: float = Field(0.25, ge=0, lt=1)
    augment_contrast: float = Field(0.3, ge=0, lt=1)
    augment_saturation: float = Field(0.3, ge=0, le=1)
    augment_gain: float = Field(0.0, ge=0, lt=1)
    augment_hue: float = Field(0.0, ge=0, le=180)
    augment_blur: float = Field(0.0, ge=0, le=5)
    augment_motion_blur: float = Field(0.0, ge=0, le=15)
    augment_noise: float = Field(0.0, ge=0, le=0.2)
    augment_cutout: int = Field(0, ge=0, le=8)
    augment_cutout_size: float = Field(0.25, gt=0, le=0.5)
    pretrained: bool = True
    seed: int = 0
    max_train_frames: int | None = Field(None, ge=1)
    time_budget_s: float | None = Field(None, gt=0)
    # How the numbers are computed. ``auto`` precision is mixed_bfloat16 on a GPU and float32
    # elsewhere; ``auto`` jit_compile is Keras's choice (XLA on JAX; none on TensorFlow, whose op
    # determinism excludes it, and on PyTorch). Losses and decoders always see float32 logits.
    precision: Literal["auto", "float32", "mixed_float16", "mixed_bfloat16"] = "auto"
    jit_compile: Literal["auto", "on", "off"] = "auto"

    @model_validator(mode="after")
    def _whole_cycles(self):
        if self.epochs % self.cycles:
            raise ValueError(f"epochs ({self.epochs}) must be a multiple of cycles ({self.cycles}): each "
                             "cycle ends with an epoch")
        doublings = (self.max_epochs or self.epochs) / self.epochs
        if doublings < 1 or doublings != 2 ** round(math.log2(doublings)):
            raise ValueError(f"max_epochs ({self.max_epochs}) must be epochs ({self.epochs}) times a power of two: "
                             "training doubles its epochs until it has converged")
        return self

    @property
    def cycle_epochs(self) -> int:
        """The epochs of one learning-rate cycle."""
        return self.epochs // self.cycles

    @property
    def epoch_cap(self) -> int:
        """The most epochs this run may train (``max_epochs``, else ``epochs``)."""
        return self.max_epochs or self.epochs

    def training_settings(self) -> dict:
        """The settings the trained model depends on (all but :attr:`EVALUATION`)."""
        return self.model_dump(exclude=set(self.EVALUATION))

    def augmentation(self) -> dict:
        """The augmentation ranges as ``pipeline.HeatmapBatches`` keywords."""
        prefix = "augment_"
        return {name.removeprefix(prefix): getattr(self, name) for name in type(self).model_fields
                if name.startswith(prefix)}

    @field_validator("model")
    @classmethod
    def _model(cls, value: str) -> str:
        return _one_of(value, list_models(), "model")

    @field_validator("variant")
    @classmethod
    def _variant(cls, value: str) -> str:
        return _one_of(value, VARIANTS, "variant")

    @field_validator("loss")
    @classmethod
    def _loss(cls, value: str) -> str:
        return _one_of(value, LOSSES, "loss")

    @field_validator("decoder")
    @classmethod
    def _decoder(cls, value: str) -> str:
        return _one_of(value, DECODERS, "decoder")
