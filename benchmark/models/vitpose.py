"""ViTPose (Xu et al., "ViTPose: Simple Vision Transformer Baselines for Human Pose Estimation", NeurIPS 2022).

A plain ViT encoder (Dosovitskiy et al. 2021): non-overlapping patches embedded by a conv with
kernel = stride = ``patch``, learned position embeddings, ``depth`` pre-norm transformer blocks
(multi-head self-attention and a GELU MLP of 4x ``dim``) and a final LayerNorm; then ViTPose's
decoder back to stride 4. ``decoder="classic"`` (ViTPose's default): 4x4 stride-2 deconvolutions
of ``decoder_filters`` channels with BN + ReLU and a 1x1 conv; ``"simple"`` (the paper's simple
decoder): bilinear upsampling to stride 4, ReLU, a 3x3 conv.

``paper`` is ViTPose-B: ViT-B/16 (dim 768, 12 blocks, 12 heads), classic decoder of 256 channels;
``dim=384, heads=6`` gives ViTPose-S. Left out: the class token (ViTPose drops it), stochastic depth
and layer-wise learning-rate decay (training recipe). ``tiny`` keeps 16-pixel patches (8 x 8 tokens
at 128 px): 8-pixel patches would give ViTPose's token grid at 256 x 192 but train about 4x slower
on 2 CPU cores, and from scratch they did not fit a tiny batch at the quick profile's learning
rate (3e-3). It uses the simple decoder: on the tests' tiny batch, 30 steps bring its keypoint
error to 1 px, the classic decoder's to 17 px.

ViTPose starts from MAE ImageNet pre-training; here the encoder starts from random init unless
``weights="/path/to/encoder.weights.h5"`` names an encoder weights file: written by
:func:`save_encoder_weights`, or converted from another checkpoint in the same layout (HDF5, one
dataset per variable at its Keras path, e.g. ``encoder_block1_attention/query/kernel``). It is
loaded by layer name after building; it must fit ``dim``, ``depth``, ``heads``, ``patch`` and the
token grid (input size / patch). ``model_info`` then reports ``imagenet_weights: True``.
"""

from __future__ import annotations

import math

import h5py
import keras
from keras import layers

from benchmark.models.blocks import imagenet_normalization
from benchmark.models.registry import model_name, register_model, resolve_config

CONFIGS = {
    "tiny": {"patch": 16, "dim": 96, "depth": 4, "heads": 3, "decoder": "simple",
             "decoder_filters": 64,  # with decoder="classic"
             "weights": None},
    "paper": {"patch": 16, "dim": 768, "depth": 12, "heads": 12, "decoder": "classic", "decoder_filters": 256,
              "weights": None},
}
ENCODER_PREFIX = "encoder_"  # the layers an encoder weights file holds


@keras.saving.register_keras_serializable(package="benchmark")
class PositionEmbedding(layers.Layer):
    """Adds a learned embedding to each position of a ``(B, tokens, dim)`` sequence (as in ViT)."""

    def build(self, input_shape):
        self.embedding = self.add_weight(shape=tuple(input_shape[1:]), name="embedding",
                                         initializer=keras.initializers.TruncatedNormal(stddev=0.02))

    def call(self, tokens):
        return tokens + self.embedding


def transformer_block(x, dim, heads, name):
    """Pre-norm block: x + MHSA(LN(x)), then x + MLP(LN(x))."""
    y = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_norm1")(x)
    y = layers.MultiHeadAttention(heads, dim // heads, name=f"{name}_attention")(y, y)
    x = layers.Add(name=f"{name}_add1")([x, y])
    y = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_norm2")(x)
    y = layers.Dense(4 * dim, activation="gelu", name=f"{name}_mlp1")(y)
    y = layers.Dense(dim, name=f"{name}_mlp2")(y)
    return layers.Add(name=f"{name}_add2")([x, y])


def encoder_variables(model):
    """The encoder's variables (layers named ``encoder_*``), in build order."""
    return [v for layer in model.layers if layer.name.startswith(ENCODER_PREFIX) for v in layer.weights]


def save_encoder_weights(model, path):
    """Write the encoder's weights to an HDF5 file by variable path (what ``weights=`` loads)."""
    with h5py.File(path, "w") as file:
        for variable in encoder_variables(model):
            file[variable.path] = keras.ops.convert_to_numpy(variable)


def load_encoder_weights(model, path):
    """Set the encoder's weights from ``path`` by variable path; the file must hold exactly those, in their shapes."""
    variables = encoder_variables(model)
    with h5py.File(path, "r") as file:
        stored = set()  # every dataset's path
        file.visititems(lambda name, item: stored.add(name) if isinstance(item, h5py.Dataset) else None)
        missing = [v.path for v in variables if v.path not in stored]
        unexpected = sorted(stored - {v.path for v in variables})
        if missing or unexpected:
            raise ValueError(f"encoder weights {path} do not fit the model (built with another dim, depth, heads "
                             f"or patch?): missing {_some(missing)}; not in the model: {_some(unexpected)}")
        for variable in variables:
            value = file[variable.path][()]
            if value.shape != tuple(variable.shape):
                raise ValueError(f"encoder weights {path}: {variable.path!r} has shape {value.shape}, the "
                                 f"model needs {tuple(variable.shape)}: build it with the file's dim, heads, "
                                 f"patch and input size")
            variable.assign(value)


def _some(names, shown=3):
    """A short list of names for an error message."""
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more if names else "none"


@register_model("vitpose")
def vitpose(input_size, num_keypoints, variant, pretrained, **overrides):
    """ViT encoder on ``patch`` x ``patch`` tokens, decoder to stride 4.

    No ImageNet backbone in the Keras cache, so ``pretrained`` has no effect; see ``weights``.
    """
    config = resolve_config(CONFIGS, variant, overrides)
    patch, dim = config["patch"], config["dim"]
    if patch not in (4, 8, 16, 32):
        raise ValueError(f"patch must be 4, 8, 16 or 32 (a power of two from stride 4), got {patch}")
    if config["decoder"] not in ("classic", "simple"):
        raise ValueError(f"unknown decoder {config['decoder']!r}; allowed: classic, simple")
    grid = (input_size[0] // patch, input_size[1] // patch)
    images = keras.Input((*input_size, 3), name="images")
    x = imagenet_normalization()(images)
    x = layers.Conv2D(dim, patch, strides=patch, name="encoder_patch_embedding")(x)
    x = layers.Reshape((grid[0] * grid[1], dim), name="tokens")(x)
    x = PositionEmbedding(name="encoder_position_embedding")(x)
    for i in range(config["depth"]):
        x = transformer_block(x, dim, config["heads"], name=f"encoder_block{i + 1}")
    x = layers.LayerNormalization(epsilon=1e-6, name="encoder_norm")(x)
    x = layers.Reshape((*grid, dim), name="feature_map")(x)
    if config["decoder"] == "classic":
        for i in range(int(math.log2(patch // 4))):  # stride patch -> 4
            x = layers.Conv2DTranspose(config["decoder_filters"], 4, strides=2, padding="same",
                                       use_bias=False, name=f"deconv{i + 1}_conv")(x)
            x = layers.BatchNormalization(name=f"deconv{i + 1}_bn")(x)
            x = layers.ReLU(name=f"deconv{i + 1}_relu")(x)
        heatmaps = layers.Conv2D(num_keypoints, 1, name="heatmaps")(x)  # raw logits
    else:
        x = layers.UpSampling2D(patch // 4, interpolation="bilinear", name="upsample")(x)
        x = layers.ReLU(name="upsample_relu")(x)
        heatmaps = layers.Conv2D(num_keypoints, 3, padding="same", name="heatmaps")(x)
    model = keras.Model(images, heatmaps, name=model_name("vitpose", variant, "vit", bool(config["weights"])))
    if config["weights"]:
        load_encoder_weights(model, config["weights"])
    return model
