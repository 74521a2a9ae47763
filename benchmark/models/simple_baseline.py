"""Simple Baseline (Xiao et al. 2018): ResNet encoder, three deconvolutions, 1x1 heatmap head."""

from __future__ import annotations

import keras
from keras import layers

from benchmark.models.blocks import encoder
from benchmark.models.registry import model_name, register_model, resolve_config

CONFIGS = {
    "tiny": {"backbone": "tiny_resnet", "deconv_filters": 64},
    "paper": {"backbone": "resnet50", "deconv_filters": 256},
}


@register_model("simple_baseline")
def simple_baseline(input_size, num_keypoints, variant, pretrained, **overrides):
    """Stride-32 ResNet features upsampled by three 4x4 stride-2 deconvs (BN + ReLU) to stride 4."""
    config = resolve_config(CONFIGS, variant, overrides)
    images = keras.Input((*input_size, 3), name="images")
    features, weights = encoder(images, config["backbone"], pretrained)
    x = features[-1]
    for i in range(3):
        x = layers.Conv2DTranspose(config["deconv_filters"], 4, strides=2, padding="same",
                                   use_bias=False, name=f"deconv{i + 1}_conv")(x)
        x = layers.BatchNormalization(name=f"deconv{i + 1}_bn")(x)
        x = layers.ReLU(name=f"deconv{i + 1}_relu")(x)
    heatmaps = layers.Conv2D(num_keypoints, 1, name="heatmaps")(x)
    return keras.Model(images, heatmaps,
                       name=model_name("simple_baseline", variant, config["backbone"], weights is not None))
