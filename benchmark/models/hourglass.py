"""Stacked hourglass (Newell et al. 2016) with intermediate supervision: one heatmap output per stack."""

from __future__ import annotations

import keras
from keras import layers

from benchmark.models.blocks import bottleneck_block, conv_bn_relu, imagenet_normalization
from benchmark.models.registry import model_name, register_model, resolve_config

# The study does not give the number of stacks; 2 stacks of 256 channels is our documented choice.
# depth is the number of halvings inside each hourglass: 4 (as in the paper) needs an input size
# that is a multiple of 4 * 2**4 = 64. The tiny variant (0.15 M parameters) has 48 channels and
# depth 2, sized for the quick profile on 2 CPU cores: at the profile's 128 px input, 64 channels
# and depth 3 took 172-181 s per experiment, 48 channels and depth 3 145-158 s (docs/PERFORMANCE.md),
# and depth 2 cut the epoch by a further fifth at the same test PCK@0.1 (0.216 against 0.217, KCE).
CONFIGS = {
    "tiny": {"stacks": 2, "channels": 48, "depth": 2},
    "paper": {"stacks": 2, "channels": 256, "depth": 4},
}


def hourglass_module(x, depth, channels, name):
    """One hourglass: residual skip at this scale plus a recursive hourglass at half scale."""
    skip = bottleneck_block(x, channels, name=f"{name}_skip")
    low = layers.MaxPooling2D(2, name=f"{name}_pool")(x)
    low = bottleneck_block(low, channels, name=f"{name}_low1")
    if depth > 1:
        low = hourglass_module(low, depth - 1, channels, name=f"{name}_inner")
    else:
        low = bottleneck_block(low, channels, name=f"{name}_bottom")
    low = bottleneck_block(low, channels, name=f"{name}_low2")
    low = layers.UpSampling2D(2, name=f"{name}_upsample")(low)
    return layers.Add(name=f"{name}_add")([skip, low])


@register_model("hourglass")
def hourglass(input_size, num_keypoints, variant, pretrained, **overrides):
    """Stem to stride 4, then ``stacks`` hourglasses; outputs ``stack_1`` .. ``stack_n`` (last = prediction).

    No ImageNet backbone, so ``pretrained`` has no effect.
    """
    config = resolve_config(CONFIGS, variant, overrides)
    channels, depth = config["channels"], config["depth"]
    multiple = 4 * 2**depth
    if input_size[0] % multiple or input_size[1] % multiple:
        raise ValueError(f"hourglass of depth {depth} needs an input size that is a multiple of "
                         f"{multiple}, got {input_size}; pass a smaller depth")
    images = keras.Input((*input_size, 3), name="images")
    x = imagenet_normalization()(images)
    x = conv_bn_relu(x, channels // 4, 7, strides=2, name="stem")
    x = bottleneck_block(x, channels // 2, name="stem_res1")
    x = layers.MaxPooling2D(2, name="stem_pool")(x)
    x = bottleneck_block(x, channels // 2, name="stem_res2")
    x = bottleneck_block(x, channels, name="stem_res3")
    outputs = []
    for stack in range(1, config["stacks"] + 1):
        y = hourglass_module(x, depth, channels, name=f"hg{stack}")
        y = bottleneck_block(y, channels, name=f"hg{stack}_res")
        y = conv_bn_relu(y, channels, 1, name=f"hg{stack}_features")
        heatmaps = layers.Conv2D(num_keypoints, 1, name=f"stack_{stack}")(y)
        outputs.append(heatmaps)
        if stack < config["stacks"]:
            x = layers.Add(name=f"hg{stack}_merge")([
                x,
                layers.Conv2D(channels, 1, name=f"hg{stack}_merge_features")(y),
                layers.Conv2D(channels, 1, name=f"hg{stack}_merge_heatmaps")(heatmaps),
            ])
    return keras.Model(images, outputs, name=model_name("hourglass", variant, "none", False))
