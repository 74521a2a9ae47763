"""Export a trained model to ONNX or TFLite (LiteRT), with a sidecar JSON that makes the file a
drop-in model for ``predict``, ``gallery`` and ``deidentify``.

The exported network is the model's forward pass at inference: a batch of ``batch_size`` float32
NHWC RGB images in [0, 1] in (16, ``predict``'s default; the runners split or pad other batches:
:mod:`benchmark.apply.runtimes`), the final heatmap logits out (the last stack of a stacked hourglass), which
is what ``benchmark.training.inference.predict_heatmaps`` reads of the Keras model. Framing, the
flip test and decoding stay in Python (:mod:`benchmark.apply.pose_model`), driven by the sidecar.

Conversion: the forward pass is traced as a TensorFlow function and frozen (its weights become
constants), then converted by tf2onnx (ONNX; the exact GELU's ``Erfc``, which ONNX lacks, becomes
``1 - Erf``) or by TensorFlow's TFLite converter (builtin operators only, so LiteRT runs the file
without TensorFlow). Keras's own ``model.export`` is not used: for ONNX (Keras 3.15, tf2onnx
1.17) it leaves captured constants, such as the input normalisation's mean, as extra graph inputs
that ONNX Runtime then demands; for LiteRT it exports every stack of the hourglass.

Quantisation (``quantize``): ``float16`` (TFLite only: float16 weights, float32 arithmetic) and
``int8`` (TFLite: integer kernels where they exist, float32 input and output; ONNX: ONNX Runtime's
static QDQ quantisation, per channel), calibrated on the network inputs the model's own pipeline
makes of some frames (letterboxed, cropped to the body, mirrored): frames of the experiment's
dataset's Train split, or of ``calibration`` (a folder of images or a video). The same inputs check
the export: the sidecar records the largest difference between its heatmap logits and the Keras
model's.

The sidecar ``<file>.json`` (:func:`benchmark.apply.runtimes.sidecar_path`) records the input and
output, the batch and input sizes, the framing (fill, passes), the codec (as ``metrics.json``'s), the keypoint
names, the facial-keypoint setting, the source (experiment id, model file, its SHA-256), the
format, quantisation, calibration, that check, and the converter with its version.
"""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import numpy as np

from benchmark.apply.pose_model import PoseModel, load_pose_model, predict
from benchmark.apply.runtimes import load_runner, require, sidecar_path
from benchmark.common.atomic import OutputError, staged_file
from benchmark.common.digest import file_sha256
from benchmark.common.errors import InputError
from benchmark.common.metrics_file import read_metrics
from benchmark.common.result_files import METRICS
from benchmark.data.layout import IMAGES
from benchmark.data.video import Frames, VideoError
from benchmark.study.keypoints import LABELS
from benchmark.training.inference import predict_heatmaps

FORMATS = {"onnx": ".onnx", "tflite": ".tflite"}  # format -> file suffix
QUANTIZATIONS = {"onnx": ("int8",), "tflite": ("float16", "int8")}
REQUIRED = {  # format -> (module, what needs it) of the export extra; TFLite's converter is TensorFlow's
    "onnx": [("tf2onnx", "ONNX export"), ("onnx", "ONNX export"), ("onnxruntime", "checking the ONNX export")],
    "tflite": [],
}
BATCH_SIZE = 16  # images per call of the exported network: predict's default --batch-size
CALIBRATION_FRAMES = 24  # frames whose network inputs calibrate int8 (x2 mirrored, x(1 + passes) framings)
CHECK_FRAMES = 4  # frames whose network inputs check a float export
CHECK_INPUTS = 16  # network inputs (spread over the framings) the check compares on


class ExportError(InputError):
    """An export that cannot be done as asked (format, quantisation, calibration frames, output)."""


def default_out(model_path: Path, fmt: str, quantize: str | None) -> Path:
    """Beside the source: ``model.keras`` -> ``model.onnx``, ``model-int8.tflite``..."""
    return model_path.with_name(f"{model_path.stem}{'-' + quantize if quantize else ''}{FORMATS[fmt]}")


def frozen_forward(model, batch_size: int):
    """The model's inference pass as a frozen TensorFlow concrete function: images
    ``(batch_size, S, S, 3)`` -> the final output's heatmap logits."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    spec = tf.TensorSpec((batch_size, *model.inputs[0].shape[1:]), tf.float32, name="images")

    @tf.function(input_signature=[spec])
    def forward(images):
        out = model(images, training=False)
        return {"heatmaps": out[-1] if isinstance(out, (list, tuple)) else out}

    return convert_variables_to_constants_v2(forward.get_concrete_function())


def _erfc_as_erf(ctx, node, name, args):
    """tf2onnx handler: ``erfc(x) = 1 - erf(x)`` (ONNX has Erf only)."""
    from tf2onnx import utils

    node.type = "Erf"
    dtype = utils.map_onnx_to_numpy_type(ctx.get_dtype(node.input[0]))
    one = ctx.make_const(utils.make_name(f"{name}_one"), np.array(1, dtype=dtype))
    ctx.insert_new_node_on_output("Sub", node.output[0], inputs=[one.output[0], node.output[0]])
    return node


def to_onnx(frozen, out: Path, quantize: str | None, calibration: list[np.ndarray]) -> dict:
    """Write ``frozen`` as ONNX (int8: statically quantised on the ``calibration`` batches); return
    the converter's record."""
    import tf2onnx

    proto, _ = tf2onnx.convert.from_graph_def(
        frozen.graph.as_graph_def(), input_names=[t.name for t in frozen.inputs],
        output_names=[t.name for t in frozen.outputs], custom_op_handlers={"Erfc": (_erfc_as_erf, [])},
        tensors_to_rename={frozen.inputs[0].name: "images", frozen.outputs[0].name: "heatmaps"})
    record = {"name": "tf2onnx", "version": tf2onnx.__version__,
              "opset": max(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx"))}
    if quantize is None:
        out.write_bytes(proto.SerializeToString())
        return record
    from onnxruntime import quantization

    class Reader(quantization.CalibrationDataReader):
        def __init__(self):
            self.inputs = iter(calibration)

        def get_next(self):
            batch = next(self.inputs, None)
            return None if batch is None else {"images": batch}

    quantization.quantize_static(proto, out, Reader(), quant_format=quantization.QuantFormat.QDQ,
                                 per_channel=True, activation_type=quantization.QuantType.QInt8,
                                 weight_type=quantization.QuantType.QInt8)
    return {**record, "quantizer": "onnxruntime.quantization", "quantizer_version": metadata.version("onnxruntime")}


def to_tflite(frozen, out: Path, quantize: str | None, calibration: list[np.ndarray]) -> dict:
    """Write ``frozen`` as TFLite (float16 weights, or int8 with float input and output, calibrated
    on the ``calibration`` batches)."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if quantize == "int8":
        converter.representative_dataset = lambda: ([batch] for batch in calibration)
    out.write_bytes(converter.convert())
    return {"name": "tensorflow.lite.TFLiteConverter", "version": tf.__version__}


class _Recorder:
    """A Keras model that keeps the batches it is given: the network inputs of the pipeline."""

    def __init__(self, model):
        self.model, self.batches = model, []
        self.input_size = int(model.inputs[0].shape[1])

    def predict_on_batch(self, batch):
        self.batches.append(batch)
        return self.model.predict_on_batch(batch)


def network_inputs(pose_model: PoseModel, images: list[np.ndarray]) -> list[np.ndarray]:
    """The float32 inputs ``(S, S, 3)`` in [0, 1] that :func:`predict` gives the network for
    ``images`` (every framing pass, and the mirrored pictures)."""
    recorder = _Recorder(pose_model.model)
    predict(PoseModel(recorder, pose_model.codec, pose_model.facial, pose_model.framing), images,
            batch_size=len(images))
    return [image for batch in recorder.batches for image in batch]


def batches_of(inputs: list[np.ndarray], batch_size: int) -> list[np.ndarray]:
    """``inputs`` as whole batches of ``batch_size``, the last filled up from the first inputs."""
    order = np.arange(-(-len(inputs) // batch_size) * batch_size) % len(inputs)
    return [np.stack([inputs[i] for i in order[start:start + batch_size]])
            for start in range(0, len(order), batch_size)]


def calibration_frames(source: Path, count: int) -> list[np.ndarray]:
    """``count`` frames spread evenly over a folder of images or a video (its first ``count`` when
    it announces no length)."""
    try:
        frames = Frames(source)
    except VideoError as err:  # no images, or an unreadable video
        raise ExportError(f"calibration frames: {err}") from None
    total = count if frames.count is None else frames.count
    indices = np.unique(np.linspace(0, total - 1, min(count, total)).round().astype(int))
    return [image for _, _, image in frames.select(indices)]


def frame_source(model_path: Path, calibration: Path | None) -> Path | None:
    """Where calibration frames come from: ``calibration``, else the Train images of the dataset
    the experiment's ``metrics.json`` records (None when neither exists)."""
    if calibration is not None:
        if not Path(calibration).exists():
            raise ExportError(f"--calibration {calibration}: no such folder or video")
        return Path(calibration)
    if not (model_path.parent / METRICS).is_file():
        return None
    train = Path(read_metrics(model_path.parent)["dataset"]["root"]) / "Train" / IMAGES
    return train if train.is_dir() else None


def check_output_file(out: Path, fmt: str, overwrite: bool) -> None:
    """Refuse an ``out`` of the wrong suffix, or one that exists (with its sidecar) unless ``overwrite``."""
    if out.suffix != FORMATS[fmt]:
        raise ExportError(f"--out {out}: a {fmt} model's file name ends in {FORMATS[fmt]}")
    existing = [p for p in (out, sidecar_path(out)) if p.exists()]
    if existing and not overwrite:
        raise OutputError(f"--out {existing[0]} exists; choose another file or pass --overwrite")


def export_model(model_path: Path, fmt: str, quantize: str | None = None, out: Path | None = None,
                 calibration: Path | None = None, frames: int = CALIBRATION_FRAMES,
                 batch_size: int = BATCH_SIZE, overwrite: bool = False) -> Path:
    """Export the Keras model at ``model_path`` (see the module docstring); return the file written."""
    import keras

    model_path = Path(model_path)
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; allowed: {', '.join(FORMATS)}")
    if quantize is not None and quantize not in QUANTIZATIONS[fmt]:
        raise ExportError(f"--quantize {quantize} is not offered for {fmt} "
                          f"(offered: {', '.join(QUANTIZATIONS[fmt])})")
    if batch_size < 1:
        raise ExportError(f"--batch-size {batch_size}: give a positive number of images")
    if frames < 1:
        raise ExportError(f"--calibration-frames {frames}: give a positive number of frames")
    if model_path.suffix != ".keras":
        raise ExportError(f"--model {model_path}: export reads a Keras model (model.keras), not a {model_path.suffix} file")
    if keras.backend.backend() != "tensorflow":
        raise ExportError(f"export traces the model with TensorFlow; set KERAS_BACKEND=tensorflow "
                          f"(now {keras.backend.backend()})")
    for module, purpose in REQUIRED[fmt]:
        require(module, module, purpose)
    out = Path(out) if out else default_out(model_path, fmt, quantize)
    check_output_file(out, fmt, overwrite)
    source = frame_source(model_path, calibration)
    if quantize == "int8" and source is None:
        raise ExportError(f"int8 needs calibration frames: {model_path.parent / METRICS} records no dataset "
                          "whose Train images exist here; pass --calibration DIR (images or a video)")
    pictures = calibration_frames(source, frames if quantize == "int8" else CHECK_FRAMES) if source else []
    if source and not pictures:
        raise ExportError(f"{source}: no frame could be read to calibrate or check the export")
    pose_model = load_pose_model(model_path)
    inputs = network_inputs(pose_model, pictures) if pictures else []
    frozen = frozen_forward(pose_model.model, batch_size)
    write = {"onnx": to_onnx, "tflite": to_tflite}[fmt]
    with staged_file(sidecar_path(out)) as tmp_sidecar, staged_file(out) as tmp_model:
        converter = write(frozen, tmp_model, quantize, batches_of(inputs, batch_size) if quantize == "int8" else [])
        check = parity(pose_model.model, tmp_model, inputs) if inputs else None
        tmp_sidecar.write_text(json.dumps(sidecar(pose_model, model_path, fmt, quantize, batch_size, converter,
                                                  source, len(pictures), check), indent=2))
    return out


def parity(model, exported: Path, inputs: list[np.ndarray]) -> dict:
    """The largest absolute difference between the exported model's heatmap logits and the Keras
    model's on ``inputs``, with the logits' range for scale."""
    images = np.stack(inputs[::max(1, len(inputs) // CHECK_INPUTS)][:CHECK_INPUTS]) * 255.0  # as predict reads them
    expected = predict_heatmaps(model, images, CHECK_INPUTS)
    got = predict_heatmaps(load_runner(exported), images, CHECK_INPUTS)
    return {"inputs": len(images), "max_abs_logit_difference": float(np.max(np.abs(got - expected))),
            "logit_range": [float(expected.min()), float(expected.max())]}


def sidecar(pose_model: PoseModel, model_path: Path, fmt: str, quantize: str | None, batch_size: int,
            converter: dict, source: Path | None, frames: int, check: dict | None) -> dict:
    """The sidecar's fields (module docstring)."""
    size = pose_model.input_size
    cells = size // pose_model.codec.stride
    experiment = model_path.parent.name if (model_path.parent / METRICS).is_file() else None
    return {
        "format": fmt, "quantization": quantize,
        "input": {"name": "images", "shape": [batch_size, size, size, 3], "dtype": "float32",
                  "values": "RGB in [0, 1]"},
        "output": {"shape": [batch_size, cells, cells, len(LABELS)], "dtype": "float32",
                   "values": "heatmap logits of the final output"},
        "batch_size": batch_size, "input_size": size,
        "framing": {"fill": pose_model.framing[0], "passes": pose_model.framing[1]} if pose_model.framing else None,
        "codec": pose_model.codec.to_dict(),
        "keypoints": list(LABELS),
        "facial": pose_model.facial,
        "source": {"experiment": experiment, "model": str(model_path), "sha256": file_sha256(model_path)},
        "calibration": {"source": str(source), "frames": frames} if source else None,
        "check": check,
        "converter": converter,
    }
