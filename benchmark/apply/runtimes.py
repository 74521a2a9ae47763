"""Runners of exported models: ONNX Runtime for ``.onnx``, LiteRT (else TensorFlow's TFLite
interpreter) for ``.tflite``.

Each presents what the inference code asks of a Keras model and no more: ``predict_on_batch``
(float32 NHWC images in [0, 1] -> the heatmap logits of the final output) and ``input_size``, so an
exported model goes through the same framing, flip test and decoding as the model it came from
(:mod:`benchmark.apply.pose_model`). An export takes batches of one size (with a dynamic batch,
LiteRT ran ``predict`` with the quick profile's tiny Simple Baseline at half the speed: 25 against
50 frames/s on 2 CPU threads); a runner splits other batches into batches of that size, padding
the last.

The packages belong to the optional ``export`` extra; a missing one is a :class:`MissingPackage`
naming it and the install command.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np

from benchmark.common.errors import InputError

INSTALL = "pip install -e '.[export]'"


class MissingPackage(InputError):
    """An optional package of the ``export`` extra is not installed."""


def require(module: str, package: str, purpose: str):
    """Import ``module``, or raise :class:`MissingPackage` naming ``package`` and the extra."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingPackage(f"{purpose} needs the package {package}, which is not installed; "
                             f"install the export extra: {INSTALL}") from None


def sidecar_path(path: Path) -> Path:
    """The JSON beside an exported model that says how to use it (``model.onnx`` -> ``model.onnx.json``)."""
    path = Path(path)
    return path.with_name(path.name + ".json")


class Runner:
    """What the runners share: ``input_size``, the exported ``batch_size``, and ``predict_on_batch``
    on any number of images."""

    input_size: int
    batch_size: int

    def run(self, batch: np.ndarray) -> np.ndarray:
        """Heatmap logits of exactly ``batch_size`` images."""
        raise NotImplementedError

    def predict_on_batch(self, batch: np.ndarray) -> np.ndarray:
        if len(batch) == self.batch_size:
            return self.run(batch)
        chunks = []
        for start in range(0, len(batch), self.batch_size):
            part = batch[start:start + self.batch_size]
            padding = np.zeros((self.batch_size - len(part), *part.shape[1:]), part.dtype)
            chunks.append(self.run(np.concatenate([part, padding]))[:len(part)])
        return np.concatenate(chunks)


class OnnxRunner(Runner):
    """An ``.onnx`` model in ONNX Runtime (``threads``: its intra-op threads; None = its default)."""

    def __init__(self, path: Path, threads: int | None = None):
        ort = require("onnxruntime", "onnxruntime", f"running {path}")
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        self.session = ort.InferenceSession(str(path), options, providers=ort.get_available_providers())
        image = self.session.get_inputs()[0]
        self.input_name, self.batch_size, self.input_size = image.name, int(image.shape[0]), int(image.shape[1])

    def run(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: batch})[0]


class LiteRTRunner(Runner):
    """A ``.tflite`` model in the LiteRT interpreter (``ai-edge-litert``), else TensorFlow's."""

    def __init__(self, path: Path, threads: int | None = None):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:  # TensorFlow's own copy (deprecated there in favour of LiteRT)
            Interpreter = require("tensorflow.lite.python.interpreter", "ai-edge-litert",
                                  f"running {path}").Interpreter
        self.interpreter = Interpreter(model_path=str(path), num_threads=threads)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]["index"]
        self.output = self.interpreter.get_output_details()[0]["index"]
        self.batch_size, self.input_size = (int(n) for n in self.interpreter.get_input_details()[0]["shape"][:2])

    def run(self, batch: np.ndarray) -> np.ndarray:
        self.interpreter.set_tensor(self.input, batch)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.output).copy()


RUNNERS = {".onnx": OnnxRunner, ".tflite": LiteRTRunner}  # file suffix -> runner


def load_runner(path: Path, threads: int | None = None) -> Runner:
    """The runner of an exported model, chosen by its suffix."""
    path = Path(path)
    if path.suffix not in RUNNERS:
        raise InputError(f"{path}: not an exported model (expected {' or '.join(RUNNERS)})")
    return RUNNERS[path.suffix](path, threads)
