"""``python -m benchmark export``: ONNX and TFLite models that predict what the Keras model predicts
through the whole pipeline (framing passes, flip test, decoding), their sidecar, quantised exports,
and the refusals (missing packages, formats, calibration, output files).

Models are untrained tiny ones at 64 px with fixed random weights: parity is a property of the
conversion, not of training. Float32 tolerances: heatmap logits within 1e-4 of Keras on the
network inputs of the pipeline, keypoints within 0.1 px after ``predict``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from benchmark.apply.export import ExportError, export_model, network_inputs
from benchmark.apply.pose_model import load_pose_model, predict
from benchmark.apply.runtimes import INSTALL, LiteRTRunner, MissingPackage, OnnxRunner, load_runner, sidecar_path
from benchmark.commands import main
from benchmark.common.atomic import OutputError
from benchmark.common.errors import InputError
from benchmark.training.inference import predict_heatmaps

ARCHITECTURES = ("simple_baseline", "hourglass", "resunet", "hrnet", "vitpose")  # what the manifest trains
SIZE = 64
LOGITS, PIXELS = 1e-4, 0.1  # float32 tolerances


def trained_folder(root: Path, name: str) -> Path:
    """An experiment folder as training leaves it: an untrained tiny ``name`` (fixed random weights)
    and a ``metrics.json`` whose config frames the body with one refining pass."""
    import keras

    from benchmark.models import build_model

    folder = root / f"loss-{name}-kce"
    folder.mkdir(parents=True)
    keras.utils.set_random_seed(0)
    build_model(name, input_size=SIZE, variant="tiny", pretrained=False).save(folder / "model.keras")
    config = {"loss": "kce", "facial_keypoints": "preserved", "framing": "body", "framing_fill": 0.8,
              "framing_passes": 1}
    codec = {"loss": "kce", "decoder": "wa", "sigma": 1.5, "stride": 4}
    (folder / "metrics.json").write_text(json.dumps({"config": config, "codec": codec}))
    return folder


def frames(count: int = 3) -> list[np.ndarray]:
    """Synthetic pictures of several sizes and shapes (letterboxed, then cropped to the body)."""
    rng = np.random.default_rng(1)
    sizes = [(48, 80), (96, 64), (70, 70), (120, 90)]
    return [rng.integers(0, 256, (*sizes[i % len(sizes)], 3), dtype=np.uint8) for i in range(count)]


@pytest.fixture(scope="module")
def calibration(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("calibration")
    for i, image in enumerate(frames(4)):
        Image.fromarray(image).save(folder / f"frame_{i}.png")
    return folder


def parity(keras_model_path: Path, exported: Path) -> tuple[float, float, float]:
    """The largest heatmap-logit difference on the pipeline's network inputs, and the largest
    keypoint distance and confidence difference after ``predict`` (flip, body framing), between the
    exported model and Keras."""
    reference, candidate = load_pose_model(keras_model_path), load_pose_model(exported)
    assert candidate.framing == reference.framing == (0.8, 1)
    assert candidate.codec == reference.codec and candidate.input_size == reference.input_size == SIZE
    images = frames()
    inputs = np.stack(network_inputs(reference, images)) * 255.0
    logits = np.abs(predict_heatmaps(candidate.model, inputs, 16) - predict_heatmaps(reference.model, inputs, 16))
    (expected, expected_conf), (got, got_conf) = (predict(model, images, flip=True, batch_size=4)
                                                  for model in (reference, candidate))  # padded to 16
    assert got.shape == expected.shape == (len(images), 22, 2) and np.isfinite(got).all()
    return (float(logits.max()), float(np.linalg.norm(got - expected, axis=-1).max()),
            float(np.abs(got_conf - expected_conf).max()))


def test_onnx_export_predicts_as_keras(tmp_path, calibration, capsys):
    """The quick tier's parity test: the command writes model.onnx and its sidecar beside the
    model; through predict, the exported model gives the Keras model's keypoints."""
    folder = trained_folder(tmp_path, "simple_baseline")
    assert main(["export", "--model", str(folder), "--format", "onnx", "--calibration", str(calibration)]) == 0
    exported = folder / "model.onnx"
    about = json.loads(sidecar_path(exported).read_text())
    assert "largest heatmap-logit difference" in capsys.readouterr().out
    assert about["format"] == "onnx" and about["quantization"] is None and about["input_size"] == SIZE
    assert about["batch_size"] == 16 and about["input"]["shape"] == [16, SIZE, SIZE, 3]
    assert about["framing"] == {"fill": 0.8, "passes": 1}
    assert about["codec"] == {"loss": "kce", "decoder": "wa", "sigma": 1.5, "stride": 4}
    assert about["facial"] is True and len(about["keypoints"]) == 22 and about["keypoints"][0] == "Head"
    assert about["source"]["experiment"] == folder.name
    assert about["source"]["sha256"] == hashlib.sha256((folder / "model.keras").read_bytes()).hexdigest()
    assert about["calibration"] == {"source": str(calibration), "frames": 4}  # the frames read
    assert about["converter"]["name"] == "tf2onnx" and about["converter"]["version"]
    assert about["check"]["max_abs_logit_difference"] < LOGITS
    assert isinstance(load_pose_model(exported).model, OnnxRunner)
    logits, pixels, confidence = parity(folder / "model.keras", exported)
    assert logits < LOGITS and pixels < PIXELS and confidence < 1e-3


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["onnx", "tflite"])
@pytest.mark.parametrize("name", ARCHITECTURES)
def test_float32_exports_predict_as_keras(tmp_path, calibration, name, fmt):
    folder = trained_folder(tmp_path, name)
    exported = export_model(folder / "model.keras", fmt, calibration=calibration)
    assert exported == folder / f"model.{fmt}"
    assert isinstance(load_runner(exported), {"onnx": OnnxRunner, "tflite": LiteRTRunner}[fmt])
    logits, pixels, confidence = parity(folder / "model.keras", exported)
    print(f"{name} {fmt} float32: logits {logits:.2g}, keypoints {pixels:.2g} px, confidence {confidence:.2g}")
    assert logits < LOGITS and pixels < PIXELS and confidence < 1e-3


@pytest.mark.slow
@pytest.mark.parametrize("fmt, quantize", [("tflite", "float16"), ("tflite", "int8"), ("onnx", "int8")])
@pytest.mark.parametrize("name", ARCHITECTURES)
def test_quantised_exports_predict(tmp_path, calibration, name, fmt, quantize):
    """Quantised exports convert and predict; their deviation is measured, not bounded (random
    weights give no meaningful accuracy). int8 keeps float32 input and output."""
    folder = trained_folder(tmp_path, name)
    exported = export_model(folder / "model.keras", fmt, quantize, calibration=calibration, frames=4)
    assert exported.name == f"model-{quantize}.{fmt}"
    about = json.loads(sidecar_path(exported).read_text())
    assert about["quantization"] == quantize and about["calibration"]["frames"] == 4
    assert exported.stat().st_size < (folder / "model.keras").stat().st_size
    logits, pixels, confidence = parity(folder / "model.keras", exported)
    print(f"{name} {fmt} {quantize}: logits {logits:.2g}, keypoints {pixels:.2g} px, confidence {confidence:.2g}")
    assert np.isfinite([logits, pixels, confidence]).all()


@pytest.mark.slow
def test_predict_command_reads_an_exported_model(tmp_path, calibration):
    """``predict --model model.tflite`` writes the keypoints.csv of ``--model model.keras``."""
    folder = trained_folder(tmp_path, "simple_baseline")
    export_model(folder / "model.keras", "tflite", calibration=calibration)
    tables = {}
    for model in ("model.keras", "model.tflite"):
        out = tmp_path / f"out-{model}"
        assert main(["predict", "--model", str(folder / model), "--input", str(calibration), "--out", str(out),
                     "--no-overlay"]) == 0
        tables[model] = pd.read_csv(out / "keypoints.csv")
    keras_table, lite_table = tables["model.keras"], tables["model.tflite"]
    assert len(keras_table) == 4 * 22
    assert np.abs(lite_table[["x", "y"]].to_numpy() - keras_table[["x", "y"]].to_numpy()).max() <= PIXELS


def test_refusals_come_before_any_work(tmp_path):
    folder = tmp_path / "bare"
    folder.mkdir()
    model = folder / "model.keras"
    model.write_bytes(b"not read")  # every refusal below comes before the model is loaded
    with pytest.raises(ExportError, match="float16 is not offered for onnx"):
        export_model(model, "onnx", "float16")
    with pytest.raises(ExportError, match="int8 needs calibration frames"):
        export_model(model, "tflite", "int8")  # no metrics.json: no dataset to calibrate on
    with pytest.raises(ExportError, match="ends in .tflite"):
        export_model(model, "tflite", out=tmp_path / "model.onnx")
    with pytest.raises(ExportError, match="--calibration .*no such"):
        export_model(model, "tflite", calibration=tmp_path / "absent")
    with pytest.raises(ExportError, match="reads a Keras model"):
        export_model(folder / "model.onnx", "tflite")
    with pytest.raises(ExportError, match="--calibration-frames 0"):
        export_model(model, "tflite", "int8", calibration=tmp_path, frames=0)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ExportError, match="calibration frames: .*no images"):
        export_model(model, "tflite", "int8", calibration=tmp_path / "empty")
    (folder / "model.onnx").write_bytes(b"")
    with pytest.raises(OutputError, match="--overwrite"):
        export_model(model, "onnx")


def test_an_exported_model_needs_its_sidecar(tmp_path):
    assert main(["predict", "--model", str(tmp_path / "absent.onnx"), "--input", str(tmp_path),
                 "--out", str(tmp_path / "out")]) == 2  # an absent file, not an experiment id
    exported = tmp_path / "model.onnx"
    exported.write_bytes(b"")
    with pytest.raises(InputError, match="model.onnx.json: missing"):
        load_pose_model(exported)
    sidecar_path(exported).write_text("{}")
    with pytest.raises(InputError, match="not a sidecar"):
        load_pose_model(exported)


def test_missing_packages_name_the_extra(tmp_path, monkeypatch):
    """Without the export extra: one line naming the package and the install command."""
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes `import onnxruntime` fail
    with pytest.raises(MissingPackage, match=r"onnxruntime.*" + INSTALL.replace("[", r"\[").replace("]", r"\]")):
        OnnxRunner(tmp_path / "model.onnx")
    monkeypatch.setitem(sys.modules, "tf2onnx", None)
    with pytest.raises(MissingPackage, match="tf2onnx"):
        export_model(tmp_path / "model.keras", "onnx")
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    monkeypatch.setitem(sys.modules, "tensorflow.lite.python.interpreter", None)
    with pytest.raises(MissingPackage, match="ai-edge-litert"):
        LiteRTRunner(tmp_path / "model.tflite")
