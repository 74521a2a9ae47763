"""A trained pose model ready for unlabelled pictures: loading it, and
predicting keypoints with a confidence that can be trusted.

``load_pose_model`` takes a ``model.keras`` path (the commands also take an experiment id, which
their run plan resolves: ``benchmark.commands.plan_options.model_file``).
The heatmap codec (loss, sigma, decoder, stride) and the facial-keypoint setting come from the
``metrics.json`` that training writes beside the model (its ``codec``; older results: its
``config``); the input size is the model's. An exported ``.onnx`` or ``.tflite`` model
(:mod:`benchmark.apply.export`) is run by :mod:`benchmark.apply.runtimes` and described by its
sidecar JSON (the same codec, facial setting and framing), so it predicts through the same code.

:func:`predict` sees each picture and, by default, its mirror image (test-time flip). A keypoint's
confidence is its heatmap peak relative to the peak of a perfect training target (1 for MSE and
BCE, ``1 / (2 pi sigma^2)`` for KCE's normalised Gaussian); with the flip, the lower of the two
peaks, or 0 where the two predictions lie further apart than ``agreement`` times the predicted
Head-to-shoulders length: a model outside its training domain is often confident, but rarely
consistently so. Positions are then the mean of the two. A model trained with its facial
keypoints omitted gets confidence 0 on them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from benchmark.apply.runtimes import RUNNERS, Runner, load_runner, sidecar_path
from benchmark.common.errors import InputError
from benchmark.common.result_files import METRICS, MODEL
from benchmark.data.framing import FILL, frame_image
from benchmark.data.transforms import mirror_labels
from benchmark.models import import_all
from benchmark.study.codec import HeatmapCodec
from benchmark.study.keypoints import FACIAL_IDX, FLIP_PERMUTATION, INDEX
from benchmark.training.config import TrainConfig
from benchmark.training.inference import decode_to_image, framed_predictions

AGREEMENT = 0.15  # largest distance between the predictions on a picture and on its mirror image,
                  # relative to the predicted Head-to-shoulders length


@dataclass(frozen=True)
class PoseModel:
    """A trained model and what decoding its heatmaps needs. ``model`` is a ``keras.Model`` or a
    runner of an exported model (:mod:`benchmark.apply.runtimes`: ``predict_on_batch`` and
    ``input_size``)."""

    model: keras.Model | Runner
    codec: HeatmapCodec
    facial: bool  # trained with the facial keypoints
    framing: tuple[float, int] | None = None  # (fill, passes) of a model trained on the body

    @property
    def input_size(self) -> int:
        size = getattr(self.model, "input_size", None)  # a runner's; a Keras model has its inputs
        return int(size if size is not None else self.model.inputs[0].shape[1])

    @classmethod
    def trained_with(cls, model: keras.Model | Runner, codec: HeatmapCodec, config: dict) -> PoseModel:
        """The pose model of ``model`` trained with the training settings ``config`` (a
        ``TrainConfig``'s fields, as metrics.json records them; missing ones take their defaults)."""
        settings = {name: config.get(name, TrainConfig.model_fields[name].default)
                    for name in ("facial_keypoints", "framing", "framing_fill", "framing_passes")}
        framing = ((float(settings["framing_fill"]), int(settings["framing_passes"]))
                   if settings["framing"] == "body" else None)
        return cls(model, codec, settings["facial_keypoints"] == "preserved", framing)


def load_pose_model(path: str | Path, threads: int | None = None) -> PoseModel:
    """Load a ``model.keras`` (or the folder holding one) and the training configuration in the
    ``metrics.json`` beside it, or an exported ``.onnx`` / ``.tflite`` model and its sidecar
    (``threads``: the runtime's threads; a Keras model uses TensorFlow's setting)."""
    path = Path(path)
    path = path / MODEL if path.is_dir() else path
    if not path.is_file():
        raise FileNotFoundError(f"model file {path} does not exist")
    if path.suffix in RUNNERS:
        return _load_exported(path, threads)
    metrics = path.with_name(METRICS)
    summary = json.loads(metrics.read_text()) if metrics.is_file() else {}
    config = summary.get("config", {})
    import_all()  # the custom layers of every model, for deserialisation
    try:
        model = keras.saving.load_model(path, compile=False)
    except ValueError as err:  # not a Keras model file (Keras names the file)
        raise InputError(str(err)) from None
    height, width = model.inputs[0].shape[1:3]
    if height != width:
        raise InputError(f"{path}: expected a square input, got {height}x{width}")
    codec = HeatmapCodec(**summary["codec"]) if "codec" in summary else HeatmapCodec(
        config.get("loss", "kce"), config.get("decoder", "wa"), float(config.get("sigma", 2.0)))
    return PoseModel.trained_with(model, codec, config)


def _load_exported(path: Path, threads: int | None) -> PoseModel:
    """An exported model and the codec, facial setting and framing its sidecar records."""
    sidecar = sidecar_path(path)
    try:
        about = json.loads(sidecar.read_text())
        codec, facial, framing = HeatmapCodec(**about["codec"]), bool(about["facial"]), about["framing"]
        framing = (float(framing["fill"]), int(framing["passes"])) if framing else None
    except OSError:
        raise InputError(f"{sidecar}: missing; an exported model is used with the sidecar JSON that "
                         "`python -m benchmark export` writes beside it") from None
    except (ValueError, KeyError, TypeError) as err:
        raise InputError(f"{sidecar}: not a sidecar of `python -m benchmark export` ({err!r})") from None
    return PoseModel(load_runner(path, threads), codec, facial, framing)


def _predict_once(pose_model: PoseModel, images: list[np.ndarray], batch_size: int,
                  video: bool) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints ``(N, 22, 2)`` in image pixels and heatmap peaks relative to the target peak."""
    def inputs(boxes):
        framed = [frame_image(image, box, pose_model.input_size)
                  for image, box in zip(images, boxes or [None] * len(images))]
        return np.stack([f[0] for f in framed]), np.stack([f[1] for f in framed])

    fill, passes = pose_model.framing or (FILL, 0)  # no refining pass: the whole picture only
    groups = [0] * len(images) if video else list(range(len(images)))
    logits, matrices = framed_predictions(pose_model.model, pose_model.codec, inputs, groups, passes, fill, batch_size)
    coords, peaks = decode_to_image(logits, matrices, pose_model.codec)
    return coords, peaks / pose_model.codec.target_peak


def predict(pose_model: PoseModel, images: list[np.ndarray], agreement: float = AGREEMENT,
            flip: bool = True, batch_size: int = 16, video: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints ``(N, 22, 2)`` in image pixels and their confidence ``(N, 22)`` for RGB uint8
    images of any sizes (see the module docstring). ``batch_size`` is the model's batch: keep it
    fixed across calls, so the compiled predict step is traced once. ``video``: the images are
    frames of one video, framed by one box (models trained on the body)."""
    coords, peaks = _predict_once(pose_model, images, batch_size, video)
    confidence = peaks
    if flip:
        mirrored, mirrored_peaks = _predict_once(
            pose_model, [np.ascontiguousarray(i[:, ::-1]) for i in images], batch_size, video)
        mirrored, mirrored_peaks = mirror_labels(mirrored), mirrored_peaks[:, FLIP_PERMUTATION]
        widths = np.array([image.shape[1] for image in images], dtype=float)
        mirrored[..., 0] = widths[:, None] - mirrored[..., 0]  # x -> W - x undoes the mirror
        mean = (coords + mirrored) / 2
        neck = mean[:, [INDEX["Shoulder_R"], INDEX["Shoulder_L"]]].mean(axis=1)
        length = np.linalg.norm(mean[:, INDEX["Head"]] - neck, axis=-1)
        apart = np.linalg.norm(coords - mirrored, axis=-1)
        confidence = np.where(apart <= agreement * length[:, None], np.minimum(peaks, mirrored_peaks), 0.0)
        coords = mean
    if not pose_model.facial:
        confidence[:, FACIAL_IDX] = 0.0
    return coords, confidence
