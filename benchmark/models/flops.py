"""How many floating-point operations a model's forward pass takes, layer by layer.

Counted from each call's shapes (a multiply and an add are two operations): convolutions (plain,
transposed, depthwise, separable), dense layers and multi-head attention, which together are nearly
all of a pose model's work; normalisation, activations, pooling and resizing are counted as 0. A
training step takes about three times the forward pass (the backward pass computes two products
per forward one), the usual estimate that ``python -m benchmark perf`` compares with the measured
rate of this machine.
"""

from __future__ import annotations

import math

import keras
import pandas as pd

TRAINING_FACTOR = 3  # forward + backward (gradients of inputs and of weights)


def _conv(layer, inputs, outputs) -> float:
    kernel = math.prod(layer.kernel_size)
    if isinstance(layer, keras.layers.Conv2DTranspose):  # every input pixel scatters a kernel
        return 2.0 * math.prod(inputs[0][1:]) * kernel * layer.filters
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        return 2.0 * math.prod(outputs[0][1:]) * kernel
    if isinstance(layer, keras.layers.SeparableConv2D):
        depthwise = 2.0 * math.prod(inputs[0][1:-1]) * inputs[0][-1] * layer.depth_multiplier * kernel
        return depthwise + 2.0 * math.prod(outputs[0][1:]) * inputs[0][-1] * layer.depth_multiplier
    return 2.0 * math.prod(outputs[0][1:]) * kernel * inputs[0][-1] / layer.groups


def _attention(layer, inputs, outputs) -> float:
    query, key = inputs[0], inputs[1] if len(inputs) > 1 else inputs[0]
    n, m, width = math.prod(query[1:-1]), math.prod(key[1:-1]), layer.num_heads * layer.key_dim
    projections = 2.0 * (n * query[-1] + 2 * m * key[-1]) * width + 2.0 * n * width * outputs[0][-1]
    return projections + 4.0 * n * m * width  # scores and the weighted sum


def _dense(layer, inputs, outputs) -> float:
    return 2.0 * math.prod(inputs[0][1:]) * layer.units


COUNTERS = ((keras.layers.MultiHeadAttention, _attention), (keras.layers.Dense, _dense),
            ((keras.layers.Conv2D, keras.layers.Conv2DTranspose, keras.layers.DepthwiseConv2D,
              keras.layers.SeparableConv2D), _conv))


def model_layers(model: keras.Model):
    """The layers of ``model`` and of the models nested in it, in order."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from model_layers(layer)
        else:
            yield layer


def layer_flops(model: keras.Model) -> pd.DataFrame:
    """Forward FLOPs of one image through every layer that computes (``layer``, ``kind``, ``flops``),
    in the model's order; a layer called twice counts twice."""
    rows = []
    for layer in model_layers(model):
        count = next((counter for kinds, counter in COUNTERS if isinstance(layer, kinds)), None)
        for node in layer._inbound_nodes if count else []:
            inputs = [tuple(t.shape) for t in node.input_tensors]
            outputs = [tuple(t.shape) for t in node.output_tensors]
            rows.append({"layer": layer.name, "kind": type(layer).__name__, "flops": count(layer, inputs, outputs)})
    return pd.DataFrame(rows, columns=["layer", "kind", "flops"])


def training_flops(model: keras.Model) -> float:
    """About the FLOPs of one training image: :data:`TRAINING_FACTOR` forward passes."""
    return TRAINING_FACTOR * float(layer_flops(model)["flops"].sum())
