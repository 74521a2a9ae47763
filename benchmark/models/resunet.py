"""ResUNet: a U-Net with a ResNet encoder and residual up-blocks, heatmaps at stride 4."""

from __future__ import annotations

import keras
from keras import layers

from benchmark.models.blocks import basic_block, encoder
from benchmark.models.registry import model_name, register_model, resolve_config

CONFIGS = {
    "tiny": {"backbone": "tiny_resnet", "decoder_filters": (64, 32, 32)},
    "paper": {"backbone": "resnet101", "decoder_filters": (256, 128, 64)},
}


@register_model("resunet")
def resunet(input_size, num_keypoints, variant, pretrained, **overrides):
    """From stride 32 to 4: each up-block upsamples x2, concatenates the skip, applies a basic block."""
    config = resolve_config(CONFIGS, variant, overrides)
    images = keras.Input((*input_size, 3), name="images")
    features, weights = encoder(images, config["backbone"], pretrained)
    x = features[-1]
    skips = features[-2::-1]  # strides 16, 8, 4
    for i, (skip, filters) in enumerate(zip(skips, config["decoder_filters"], strict=True)):
        x = layers.UpSampling2D(2, interpolation="bilinear", name=f"up{i + 1}_upsample")(x)
        x = layers.Concatenate(name=f"up{i + 1}_concat")([x, skip])
        x = basic_block(x, filters, name=f"up{i + 1}")
    heatmaps = layers.Conv2D(num_keypoints, 1, name="heatmaps")(x)
    return keras.Model(images, heatmaps, name=model_name("resunet", variant, config["backbone"], weights is not None))
