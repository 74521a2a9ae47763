"""ImageNet initialisation of the paper-size ResNets: cache, download, offline message, opt-out.

Never touches the network: ``KERAS_HOME`` is a temporary folder, and ``keras.utils.get_file`` (the
download) is replaced by a stand-in that either fails like an offline machine or "downloads" a
weights file the test wrote itself (a random-weight ResNet50 in the legacy H5 layout of Keras's files).
"""

from __future__ import annotations

import hashlib
import shutil
import warnings

import h5py
import keras
import numpy as np
import pytest

from benchmark.models import build_model, imagenet, model_info
from benchmark.models.imagenet import (
    ImagenetWeightsMissing,
    check_imagenet_weights,
    file_name,
    imagenet_backbone,
    imagenet_weights,
    url,
)
from benchmark.training.config import TrainConfig

INPUT = 32  # the smallest input the models take: building a ResNet50 is what costs


def offline(*args, **kwargs):
    raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- [Errno -3] "
                    "Temporary failure in name resolution")  # what keras.utils.get_file raises offline


@pytest.fixture(autouse=True)
def keras_home(tmp_path, monkeypatch):
    """An empty Keras cache, and no network."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(keras.utils, "get_file", offline)
    return tmp_path / "keras"


def write_weights_file(path):
    """A ResNet50 (no top) with random weights, saved weights-only in the legacy H5 layout; returned."""
    from keras.src.legacy.saving import legacy_h5_format

    resnet = keras.applications.ResNet50(include_top=False, weights=None, input_shape=(INPUT, INPUT, 3))
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as file:
        legacy_h5_format.save_weights_to_hdf5_group(file, resnet)
    return resnet


def test_constants_are_keras_own():
    from keras.src.applications import resnet

    assert imagenet.BASE_URL == resnet.BASE_WEIGHTS_PATH
    assert imagenet.KERAS_MD5 == {b: resnet.WEIGHTS_HASHES[b][1] for b in imagenet.KERAS_MD5}


def test_which_configs_need_imagenet_weights():
    assert imagenet_backbone(TrainConfig(model="simple_baseline", variant="paper")) == "resnet50"
    assert imagenet_backbone(TrainConfig(model="resunet", variant="paper")) == "resnet101"
    assert imagenet_backbone(TrainConfig(model="resunet", variant="paper", pretrained=False)) is None
    assert imagenet_backbone(TrainConfig(model="hourglass", variant="paper")) is None
    assert imagenet_backbone(TrainConfig(model="simple_baseline", variant="tiny")) is None
    assert check_imagenet_weights([TrainConfig(variant="tiny"), TrainConfig(model="hourglass", variant="paper")]) == {}


def test_downloaded_once_then_used_from_the_cache(tmp_path, keras_home, monkeypatch):
    source = tmp_path / "source.h5"
    reference = write_weights_file(source)
    calls = []

    def download(fname, origin, cache_subdir, file_hash, cache_dir):
        calls.append((fname, origin, file_hash))
        target = keras_home / cache_subdir / fname
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)
        return str(target)

    monkeypatch.setattr(keras.utils, "get_file", download)
    with pytest.warns(UserWarning, match="not Keras's"):  # a stand-in, so not Keras's MD5
        model = build_model("simple_baseline", INPUT, variant="paper")
    assert calls == [(file_name("resnet50"), url("resnet50"), imagenet.KERAS_MD5["resnet50"])]
    assert model.name == "simple_baseline-paper-resnet50-imagenet" and model_info(model)["imagenet_weights"]
    for layer in ("conv1_conv", "conv3_block2_2_conv", "conv5_block3_3_bn"):
        for got, expected in zip(model.get_layer(layer).get_weights(), reference.get_layer(layer).get_weights(),
                                 strict=True):
            np.testing.assert_array_equal(got, expected)

    # In the cache now: used without network, identified by name and SHA-256, flagged as unverified.
    monkeypatch.setattr(keras.utils, "get_file", offline)
    sha256 = hashlib.sha256((keras_home / "models" / file_name("resnet50")).read_bytes()).hexdigest()
    with pytest.warns(UserWarning, match=sha256):
        records = check_imagenet_weights([TrainConfig(variant="paper"), TrainConfig(variant="paper", loss="mse")])
    assert records == {"resnet50": {"backbone": "resnet50", "file": file_name("resnet50"), "sha256": sha256,
                                    "verified": False}}
    # A file whose MD5 is Keras's is verified, silently.
    md5 = hashlib.md5(source.read_bytes()).hexdigest()
    monkeypatch.setitem(imagenet.KERAS_MD5, "resnet50", md5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert imagenet_weights("resnet50").verified


def test_offline_without_the_file_stops_before_training(keras_home):
    configs = [TrainConfig(model="simple_baseline", variant="paper"), TrainConfig(model="resunet", variant="paper")]
    with pytest.raises(ImagenetWeightsMissing) as raised:
        check_imagenet_weights(configs)
    message = str(raised.value)
    for backbone in ("resnet50", "resnet101"):  # every missing file at once
        for part in (file_name(backbone), imagenet.KERAS_MD5[backbone], url(backbone)):
            assert part in message
    assert f"{keras_home / 'models'}/" in message and "pretrained: false" in message
    assert isinstance(raised.value, FileNotFoundError)  # the CLI prints it as "error: ..." (exit 2)
    with pytest.raises(ImagenetWeightsMissing, match=file_name("resnet50")):
        build_model("simple_baseline", INPUT, variant="paper")
    assert not (keras_home / "models" / file_name("resnet50")).exists()


def test_pretrained_false_works_offline_and_says_random(keras_home):
    model = build_model("simple_baseline", INPUT, variant="paper", pretrained=False)
    assert model.name == "simple_baseline-paper-resnet50-random"
    assert model_info(model)["imagenet_weights"] is False
    assert check_imagenet_weights([TrainConfig(variant="paper", pretrained=False)]) == {}
