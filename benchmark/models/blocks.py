"""Shared building blocks: input normalisation, residual blocks and ResNet encoders.

Blocks are plain functions on Keras tensors (functional API), so models built
from them serialise without custom code. Every encoder returns its feature maps
at strides 4, 8, 16 and 32 of the input.
"""

from __future__ import annotations

import re

import keras
from keras import layers, ops

from benchmark.models.imagenet import imagenet_weights

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)  # what keras.applications ResNets subtract
TINY_RESNET_WIDTHS = (32, 64, 128, 256)  # 16-128 trained to test PCK@0.1 0.211, these to 0.259 (docs/SYNTHETIC.md)
KERAS_RESNETS = {
    "resnet50": keras.applications.ResNet50,
    "resnet101": keras.applications.ResNet101,
    "resnet152": keras.applications.ResNet152,
}


@keras.saving.register_keras_serializable(package="benchmark")
class CaffePreprocessing(layers.Layer):
    """Map RGB in [0, 1] to the input of keras.applications ResNets: BGR, 0-255, mean-subtracted."""

    def call(self, images):
        return ops.flip(images * 255.0, axis=-1) - ops.array(CAFFE_MEAN_BGR, dtype=images.dtype)


def imagenet_normalization(name="normalize"):
    """Standardise RGB in [0, 1] with the ImageNet mean and std (for models trained from scratch)."""
    return layers.Normalization(mean=IMAGENET_MEAN, variance=[s * s for s in IMAGENET_STD], name=name)


def conv_bn_relu(x, filters, kernel_size, strides=1, name=None):
    """Convolution, batch normalisation and ReLU (post-activation)."""
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding="same", use_bias=False,
                      name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def basic_block(x, filters, strides=1, name=None):
    """ResNet basic block (He et al. 2016): two 3x3 convs, projection shortcut when the shape changes."""
    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=strides, use_bias=False,
                                 name=f"{name}_proj_conv")(x)
        shortcut = layers.BatchNormalization(name=f"{name}_proj_bn")(shortcut)
    x = conv_bn_relu(x, filters, 3, strides, name=f"{name}_1")
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_2_bn")(x)
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.ReLU(name=f"{name}_out")(x)


def bottleneck_block(x, filters, name=None):
    """Pre-activation bottleneck residual module of the stacked hourglass (Newell et al. 2016)."""
    shortcut = x
    if x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, name=f"{name}_proj")(x)
    for i, (width, kernel_size) in enumerate([(filters // 2, 1), (filters // 2, 3), (filters, 1)]):
        x = layers.BatchNormalization(name=f"{name}_{i + 1}_bn")(x)
        x = layers.ReLU(name=f"{name}_{i + 1}_relu")(x)
        x = layers.Conv2D(width, kernel_size, padding="same", name=f"{name}_{i + 1}_conv")(x)
    return layers.Add(name=f"{name}_add")([shortcut, x])


def tiny_resnet(images, widths=TINY_RESNET_WIDTHS, name="encoder"):
    """A small ResNet for CPU training: 3x3 stem to stride 4, then one basic block per stage."""
    x = imagenet_normalization(name=f"{name}_normalize")(images)
    x = conv_bn_relu(x, widths[0], 3, strides=2, name=f"{name}_stem")
    x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"{name}_stem_pool")(x)
    features = []
    for stage, filters in enumerate(widths):
        x = basic_block(x, filters, strides=1 if stage == 0 else 2, name=f"{name}_stage{stage + 1}")
        features.append(x)
    return features


def keras_resnet(images, backbone: str, pretrained: bool):
    """A keras.applications ResNet encoder on RGB images in [0, 1].

    Returns ``(features, weights)``: the outputs of stages conv2..conv5 (strides 4..32) and the
    :class:`~benchmark.models.imagenet.ImagenetWeights` loaded, or None (random initialisation,
    when not ``pretrained``). ImageNet weights come from the Keras cache or are downloaded there;
    when neither works, :class:`~benchmark.models.imagenet.ImagenetWeightsMissing` says what to do.
    """
    weights = imagenet_weights(backbone) if pretrained else None
    resnet = KERAS_RESNETS[backbone](include_top=False, weights=str(weights.path) if weights else None,
                                     input_tensor=CaffePreprocessing(name="caffe_preprocessing")(images))
    stage_output = {}  # the last block's output of each stage, e.g. "conv4" -> conv4_block23_out
    for layer in resnet.layers:
        match = re.fullmatch(r"(conv\d)_block\d+_out", layer.name)
        if match:
            stage_output[match[1]] = layer.output
    return [stage_output[f"conv{stage}"] for stage in (2, 3, 4, 5)], weights


def encoder(images, backbone: str, pretrained: bool):
    """Features at strides 4, 8, 16, 32 and the ImageNet weights loaded (or None).

    ``backbone`` is ``"tiny_resnet"`` or a key of :data:`KERAS_RESNETS`.
    """
    if backbone == "tiny_resnet":
        return tiny_resnet(images), None
    if backbone not in KERAS_RESNETS:
        raise ValueError(f"unknown backbone {backbone!r}; allowed: tiny_resnet, {', '.join(KERAS_RESNETS)}")
    return keras_resnet(images, backbone, pretrained)
