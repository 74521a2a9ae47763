"""Heatmap codec: keypoints to Gaussian target heatmaps (encode) and heatmaps back to keypoints (decode).

:class:`HeatmapCodec` holds everything the two directions share for one experiment (stride, sigma,
the loss that decides the activation and the target peak, the decoder): it is built once from the
training configuration, recorded with the results, and read back to decode a trained model.

Coordinates follow docs/CONVENTIONS.md: heatmap cell ``u`` (stride ``s``) has its centre at the
network-input coordinate ``(u + 0.5) * s``, so a keypoint at input ``x`` sits at the continuous
heatmap position ``x / s - 0.5`` (in cells, measured between cell centres).

Encoding is NumPy (it runs in the data pipeline); ``normalise``, ``probabilities`` and ``decode`` use
``keras.ops`` (imported on first use) so they run on any Keras backend and accept NumPy arrays too.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


from benchmark.study.heatmaps import MISSING, ops
from benchmark.study.losses import loss_of

DECODERS = ("argmax", "wa", "dark")
STRIDE = 4  # every registered model outputs heatmaps at stride 4


def encode(keypoints, input_size: tuple[int, int], stride: int = 4, sigma: float = 2.0) -> np.ndarray:
    """Gaussian target heatmaps of keypoints given in network-input pixels.

    Args:
        keypoints: ``(K, 2)`` or ``(N, K, 2)`` ``(x, y)`` in network-input pixels, NaN = missing.
        input_size: network input ``(height, width)`` in pixels, both multiples of ``stride``.
        stride: input pixels per heatmap cell.
        sigma: Gaussian standard deviation in heatmap cells (not input pixels).

    Returns:
        float32 ``(H/s, W/s, K)`` or ``(N, H/s, W/s, K)``: ``exp(-d^2 / (2 sigma^2))`` with ``d`` the
        distance in cells from each cell centre to the keypoint's exact (sub-pixel) heatmap
        position, so the continuous peak is 1 at the keypoint. The channel of a keypoint that is
        NaN or outside the input ``[0, W) x [0, H)`` is filled with :data:`MISSING`.
    """
    keypoints = np.asarray(keypoints, dtype=np.float64)
    height, width = input_size
    if height % stride or width % stride:
        raise ValueError(f"input size {input_size} is not a multiple of the stride {stride}")
    centre = keypoints / stride - 0.5  # (..., K, 2) heatmap position in cells
    gauss_x = np.exp(-(np.arange(width // stride) - centre[..., 0:1]) ** 2 / (2 * sigma**2))
    gauss_y = np.exp(-(np.arange(height // stride) - centre[..., 1:2]) ** 2 / (2 * sigma**2))
    maps = gauss_y[..., :, None] * gauss_x[..., None, :]  # (..., K, h, w)
    inside = np.all((keypoints >= 0) & (keypoints < (width, height)), axis=-1)  # False for NaN
    maps = np.where(inside[..., None, None], maps, MISSING)
    return np.moveaxis(maps, -3, -1).astype(np.float32)


def visibility(targets) -> np.ndarray:
    """``(..., K)`` bool: which channels of target heatmaps ``(..., h, w, K)`` hold a keypoint."""
    return np.any(np.asarray(targets) != MISSING, axis=(-3, -2))


def probabilities(logits, loss: str):
    """Heatmaps the decoder reads, from raw logits, by the activation of the registered ``loss``
    (:mod:`benchmark.study.losses`: spatial softmax for KCE, sigmoid for BCE, clipped at 0 for MSE)."""
    return loss_of(loss).activation(logits)


def decode(probs, method: str = "wa", stride: int = 4, sigma: float = 2.0):
    """Keypoints from heatmaps ``(B, h, w, K)`` (non-negative, e.g. from :func:`probabilities`).

    Methods:
        ``"argmax"``: centre of the maximum cell (error up to half a cell per axis).
        ``"wa"``: weighted average of all cell centres with the heatmap as weights,
            ``sum(p * pos) / sum(p)`` over the whole map, as in the reference study. Unbiased only
            where the map's mass lies inside it: keypoints within about 3 sigma of the border are
            pulled towards the centre. A map with no mass (all zero) gives NaN coordinates.
        ``"dark"``: DARK (Zhang et al., CVPR 2020): the argmax refined by one Newton step
            ``-H^-1 g`` on the log of the map smoothed with a Gaussian of std ``sigma`` cells
            (separable kernel, radius ``ceil(3 sigma)``, zero padding; match the training target
            sigma). Derivatives are DARK's finite differences (first: step 1, second: step 2).
            As in DARK, maxima within 2 cells of the border are not refined; the step is also
            skipped where the Hessian is not negative definite (not a maximum of the smoothed map).
            Within about 3 sigma of the border the zero-padded smoothing pulls estimates inwards.

    Returns:
        ``(coords, confidence)``: ``(B, K, 2)`` ``(x, y)`` in network-input pixels, and
        ``(B, K)`` the maximum value of each map. Backend tensors (``keras.ops.convert_to_numpy``).
    """
    probs = ops.convert_to_tensor(probs, dtype="float32")
    confidence = ops.max(probs, axis=(1, 2))
    if method == "argmax":
        cells = _argmax_cells(probs)
    elif method == "wa":
        cells = _weighted_average_cells(probs)
    elif method == "dark":
        cells = _dark_cells(probs, sigma)
    else:
        raise ValueError(f"unknown decoder {method!r}; allowed: {', '.join(DECODERS)}")
    return (cells + 0.5) * stride, confidence


def _argmax_cells(probs):
    """``(B, K, 2)`` integer cell ``(u, v)`` of each channel's maximum, as float."""
    width = probs.shape[2]
    flat = ops.reshape(probs, (-1, probs.shape[1] * width, probs.shape[3]))
    index = ops.argmax(flat, axis=1)  # (B, K)
    return ops.cast(ops.stack([index % width, index // width], axis=-1), "float32")


def _weighted_average_cells(probs):
    """``(B, K, 2)`` heatmap-weighted mean cell position."""
    total = ops.sum(probs, axis=(1, 2))
    along_x = ops.sum(probs, axis=1)  # (B, w, K) marginal over rows
    along_y = ops.sum(probs, axis=2)  # (B, h, K) marginal over columns
    u = ops.arange(probs.shape[2], dtype="float32")[:, None]
    v = ops.arange(probs.shape[1], dtype="float32")[:, None]
    mean = ops.stack([ops.sum(along_x * u, axis=1), ops.sum(along_y * v, axis=1)], axis=-1)
    return mean / total[..., None]


def _gaussian_blur(probs, sigma: float):
    """Separable Gaussian smoothing of each channel (zero padding, same size)."""
    radius = int(np.ceil(3 * sigma))
    kernel = np.exp(-np.arange(-radius, radius + 1) ** 2 / (2 * sigma**2))
    kernel = np.tile((kernel / kernel.sum())[:, None, None], (1, probs.shape[3], 1)).astype("float32")
    probs = ops.depthwise_conv(probs, kernel[:, None], padding="same")  # along y
    return ops.depthwise_conv(probs, kernel[None], padding="same")  # along x


def _dark_cells(probs, sigma: float):
    """``(B, K, 2)`` argmax cell refined by DARK's Taylor expansion (see :func:`decode`)."""
    height, width, channels = probs.shape[1:]
    cells = _argmax_cells(probs)
    log = ops.log(ops.maximum(_gaussian_blur(probs, sigma), 1e-10))
    log = ops.pad(log, ((0, 0), (2, 2), (2, 2), (0, 0)))

    def at(dy, dx):  # log map shifted so that index (v, u) reads log[v + dy, u + dx]
        return log[:, 2 + dy:2 + dy + height, 2 + dx:2 + dx + width, :]

    derivatives = ops.stack([
        0.5 * (at(0, 1) - at(0, -1)),  # d/du
        0.5 * (at(1, 0) - at(-1, 0)),  # d/dv
        0.25 * (at(0, 2) - 2 * at(0, 0) + at(0, -2)),  # d2/du2
        0.25 * (at(2, 0) - 2 * at(0, 0) + at(-2, 0)),  # d2/dv2
        0.25 * (at(1, 1) - at(-1, 1) - at(1, -1) + at(-1, -1)),  # d2/dudv
    ], axis=-1)  # (B, h, w, K, 5)
    flat = ops.reshape(derivatives, (-1, height * width, channels, 5))
    index = ops.cast(cells[..., 1] * width + cells[..., 0], "int32")  # (B, K)
    gx, gy, hxx, hyy, hxy = ops.unstack(
        ops.take_along_axis(flat, index[:, None, :, None], axis=1)[:, 0], 5, axis=-1)

    det = hxx * hyy - hxy**2
    u, v = cells[..., 0], cells[..., 1]
    refine = (det > 0) & (hxx < 0) & (u >= 2) & (u <= width - 3) & (v >= 2) & (v <= height - 3)
    det = ops.where(refine, det, 1.0)
    offset = ops.stack([hyy * gx - hxy * gy, hxx * gy - hxy * gx], axis=-1) / -det[..., None]
    return cells + ops.where(refine[..., None], offset, 0.0)


@dataclass(frozen=True)
class HeatmapCodec:
    """The heatmap encoding and decoding of one experiment.

    ``loss`` decides the activation that turns logits into the heatmaps the decoder reads
    (:func:`probabilities`) and the peak of a perfect target after it (:attr:`target_peak`);
    ``decoder`` is the default of :meth:`decode`; ``sigma`` is in heatmap cells.
    """

    loss: str = "kce"
    decoder: str = "wa"
    sigma: float = 2.0
    stride: int = STRIDE

    def __post_init__(self):
        loss_of(self.loss)  # a ValueError naming the registered losses
        if self.decoder not in DECODERS:
            raise ValueError(f"unknown decoder {self.decoder!r}; allowed: {', '.join(DECODERS)}")

    @classmethod
    def from_config(cls, config) -> HeatmapCodec:
        """The codec of a training configuration (anything with ``loss``, ``decoder``, ``sigma``)."""
        return cls(config.loss, config.decoder, float(config.sigma))

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def target_peak(self) -> float:
        """Peak of a perfect target heatmap after the loss's activation (:meth:`Loss.target_peak`)."""
        return loss_of(self.loss).target_peak(self.sigma)

    def encode(self, keypoints, input_size: tuple[int, int]) -> np.ndarray:
        """Target heatmaps of keypoints in network-input pixels (:func:`encode`)."""
        return encode(keypoints, input_size, self.stride, self.sigma)

    def decode(self, logits, method: str | None = None):
        """``(coords, confidence)`` from raw logits: the loss's activation, then :func:`decode`
        with ``method`` (default: the codec's decoder)."""
        return decode(probabilities(logits, self.loss), method or self.decoder, self.stride, self.sigma)
