"""HRNet (Sun et al., "Deep High-Resolution Representation Learning for Human Pose Estimation", CVPR 2019).

A stem to stride 4, then parallel branches at strides 4, 8, 16 and 32, one more added at the start
of each stage, exchanging information in every module by multi-scale fusion; the heatmaps are a 1x1
conv of the stride-4 branch. ``paper`` is HRNet-W32 as published (28.5 M parameters for 17
keypoints): stem of two stride-2 3x3 convs of 64 channels, stage 1 of 4 bottlenecks (256
channels), stages 2-4 of 1, 4 and 3 modules with 4 basic blocks per branch, branch widths
32/64/128/256; as in the official code, the last module fuses into the stride-4 branch only.
Nothing is simplified. ``tiny`` keeps the four branches with small widths, one module per stage
and one block per branch.
"""

from __future__ import annotations

import keras
from keras import layers

from benchmark.models.blocks import basic_block, conv_bn_relu, imagenet_normalization
from benchmark.models.registry import model_name, register_model, resolve_config

# stem: channels of the two stem convs and inner width of the stage-1 bottlenecks (output 4x);
# modules: of stages 2-4; blocks: basic blocks per branch in each module. tiny has no stage-1
# bottleneck: its stem feeds the stride-4 branch directly (25 % faster training on 2 CPU cores).
CONFIGS = {
    "tiny": {"stem": 16, "stage1_blocks": 0, "widths": (16, 32, 64, 128), "modules": (1, 1, 1), "blocks": 1},
    "paper": {"stem": 64, "stage1_blocks": 4, "widths": (32, 64, 128, 256), "modules": (1, 4, 3), "blocks": 4},
}


def conv_bn(x, filters, kernel_size, strides=1, name=None):
    """Convolution and batch normalisation, no activation (before an addition)."""
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding="same", use_bias=False,
                      name=f"{name}_conv")(x)
    return layers.BatchNormalization(name=f"{name}_bn")(x)


def bottleneck(x, filters, name):
    """ResNet bottleneck (1x1, 3x3, 1x1 of 4x ``filters``; post-activation), as in HRNet's stage 1."""
    shortcut = x
    if x.shape[-1] != 4 * filters:
        shortcut = conv_bn(x, 4 * filters, 1, name=f"{name}_proj")
    x = conv_bn_relu(x, filters, 1, name=f"{name}_1")
    x = conv_bn_relu(x, filters, 3, name=f"{name}_2")
    x = conv_bn(x, 4 * filters, 1, name=f"{name}_3")
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.ReLU(name=f"{name}_out")(x)


def fuse(branches, widths, outputs, name):
    """Multi-scale fusion: output ``i`` sums every branch brought to its stride and width.

    A lower-resolution branch ``j > i``: 1x1 conv + BN, nearest upsampling by ``2**(j - i)``. A
    higher-resolution one ``j < i``: ``i - j`` stride-2 3x3 convs + BN (ReLU between them).
    """
    fused = []
    for i in range(outputs):
        terms = []
        for j, x in enumerate(branches):
            if j > i:
                x = conv_bn(x, widths[i], 1, name=f"{name}_{j}to{i}")
                x = layers.UpSampling2D(2 ** (j - i), name=f"{name}_{j}to{i}_upsample")(x)
            for k in range(i - j):
                step = f"{name}_{j}to{i}_down{k + 1}"
                if k < i - j - 1:
                    x = conv_bn_relu(x, widths[j], 3, strides=2, name=step)
                else:
                    x = conv_bn(x, widths[i], 3, strides=2, name=step)
            terms.append(x)
        x = layers.Add(name=f"{name}_{i}_add")(terms)
        fused.append(layers.ReLU(name=f"{name}_{i}_relu")(x))
    return fused


@register_model("hrnet")
def hrnet(input_size, num_keypoints, variant, pretrained, **overrides):
    """HRNet with heatmaps from its stride-4 branch. No ImageNet backbone, so ``pretrained`` has no effect."""
    config = resolve_config(CONFIGS, variant, overrides)
    widths = config["widths"]
    images = keras.Input((*input_size, 3), name="images")
    x = imagenet_normalization()(images)
    x = conv_bn_relu(x, config["stem"], 3, strides=2, name="stem1")
    x = conv_bn_relu(x, config["stem"], 3, strides=2, name="stem2")
    for k in range(config["stage1_blocks"]):
        x = bottleneck(x, config["stem"], name=f"stage1_block{k + 1}")
    branches = [x]
    for stage, modules in enumerate(config["modules"], start=2):
        # Transition: a new branch is a stride-2 conv of the lowest-resolution one; the others keep
        # their width (only stage 1's output is converted, by a 3x3 conv).
        new = conv_bn_relu(branches[-1], widths[stage - 1], 3, strides=2, name=f"stage{stage}_in{stage - 1}")
        branches = [b if b.shape[-1] == widths[i] else conv_bn_relu(b, widths[i], 3, name=f"stage{stage}_in{i}")
                    for i, b in enumerate(branches)] + [new]
        for module in range(1, modules + 1):
            name = f"stage{stage}_module{module}"
            for i in range(len(branches)):
                for k in range(config["blocks"]):
                    branches[i] = basic_block(branches[i], widths[i], name=f"{name}_branch{i}_block{k + 1}")
            last = stage == len(config["modules"]) + 1 and module == modules
            branches = fuse(branches, widths, 1 if last else len(branches), name=f"{name}_fuse")
    heatmaps = layers.Conv2D(num_keypoints, 1, name="heatmaps")(branches[0])  # raw logits
    return keras.Model(images, heatmaps, name=model_name("hrnet", variant, "none", False))
