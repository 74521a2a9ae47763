"""Input pipeline: labelled frames -> batches of (images, heatmap targets).

Frames are decoded once, face-mosaicked when the experiment occludes faces, and letterboxed to the
network input size, or cropped to a box around the body (``benchmark.data.framing``) (``prepare``);
the result is kept in a disk cache shared by experiments (``frame_cache``). Batches are then built on the fly with optional augmentation (rotation, scale,
translation, mirror with left/right swap; colour, blur, noise and cut-out, which leave the labels
as they are) by a ``keras.utils.PyDataset``, so the same
pipeline feeds the TensorFlow, JAX and PyTorch backends.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import keras
import numpy as np
from tqdm.auto import tqdm

from benchmark.data import framing, transforms
from benchmark.data.labelme import Frame, load_image
from benchmark.data.mosaic import mosaic_face
from benchmark.study.codec import HeatmapCodec
from benchmark.study.keypoints import FACIAL_IDX
from benchmark.training import frame_cache


@dataclass
class Prepared:
    """Letterboxed or framed pictures ready for the network, with the matrices that undo that."""

    frames: list[Frame]
    images: np.ndarray     # (N, size, size, 3) uint8
    matrices: np.ndarray   # (N, 2, 3) original image -> network input
    keypoints: np.ndarray  # (N, 22, 2) labels in network-input pixels, NaN where missing

    @property
    def size(self) -> int:
        return self.images.shape[1]

    @property
    def labels(self) -> np.ndarray:
        """Labels in original image coordinates."""
        return np.stack([f.keypoints for f in self.frames]) if self.frames else np.zeros((0, 22, 2))


def _prepare_one(frame: Frame, size: int, occlude: bool,
                 box: framing.Box | None = None) -> tuple[np.ndarray, np.ndarray]:
    image = load_image(frame)
    if occlude:
        image = mosaic_face(image, frame.keypoints, seed=frame.id)
    return framing.frame_image(image, box, size)


def prepare(frames: list[Frame], size: int, occlude: bool = False, progress: bool = True,
            desc: str = "decoding", cache: bool = True, boxes: list[framing.Box] | None = None) -> Prepared:
    """Decode, optionally mosaic the face, and letterbox every frame, or crop it to its box of
    ``boxes`` (one per frame; ``benchmark.data.framing``) (threads; OpenCV drops the GIL).

    With ``cache`` the pixels come from, or go to, the shared frame cache (``frame_cache``)."""
    def decode() -> dict[str, np.ndarray]:
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            results = list(tqdm(pool.map(lambda f, b: _prepare_one(f, size, occlude, b), frames,
                                         boxes or [None] * len(frames)),
                                total=len(frames), desc=desc, disable=not progress, leave=False))
        return {"images": np.stack([r[0] for r in results]), "matrices": np.stack([r[1] for r in results])}

    if not frames:
        return Prepared([], np.zeros((0, size, size, 3), np.uint8), np.zeros((0, 2, 3)), np.zeros((0, 22, 2)))
    arrays = frame_cache.load_or_compute(frame_cache.frames_key(frames, size, occlude, boxes), decode) \
        if cache else decode()
    keypoints = np.stack([transforms.apply(m, f.keypoints) for m, f in zip(arrays["matrices"], frames)])
    return Prepared(list(frames), arrays["images"], arrays["matrices"], keypoints)


def concatenate(*parts: Prepared) -> Prepared:
    """The frames of every part, in order (one frame may come twice, framed differently)."""
    return Prepared([f for part in parts for f in part.frames], np.concatenate([p.images for p in parts]),
                    np.concatenate([p.matrices for p in parts]), np.concatenate([p.keypoints for p in parts]))


class HeatmapBatches(keras.utils.PyDataset):
    """Batches of ``(images, targets)`` for ``model.fit``.

    ``outputs`` > 1 repeats the targets for models with intermediate supervision (hourglass).
    ``omit_facial`` drops the 5 facial keypoints from the targets (the study's "omitted" labels).
    ``rotation`` (+- degrees), ``scale`` (1 +- scale), ``translate`` (+- fraction of the input) and
    ``perspective`` (``transforms.random_tilt``) are the ranges of the geometric augmentation
    (``transforms.random_augmentation``), and half the time a lens distortion of strength up to
    ``distortion`` bends the input (``transforms.random_lens``); ``brightness``,
    ``contrast``, ``saturation``, ``gain``, ``hue``, ``blur``, ``noise`` and ``motion_blur`` those of the photometric one
    (``transforms.photometric``); ``cutout`` rectangles of up to ``cutout_size`` of the input are
    erased (``transforms.cutout``). ``TrainConfig.augmentation`` gives all of them.
    ``drop_remainder`` skips the last partial batch, so training sees one batch shape and its
    compiled step is traced once (a partial batch costs a retrace, seconds for deep models).

    ``repeat`` makes one endless stream of epochs: batch ``i`` is batch ``i % len(self)`` of epoch
    ``epoch + i // len(self)`` (``epoch``: where the stream starts, 0 unless training goes on from a
    later epoch); train with ``fit(steps_per_epoch=len(batches))``. Keras then keeps one
    data iterator for the whole run. A finite dataset makes Keras's TensorFlow backend build a new
    ``tf.data`` iterator at every epoch and throw away the one that was already prefetching,
    which stalls the first step of an epoch by 0.3-5 s.

    Shuffling and augmentation draw from generators keyed by (seed, epoch[, frame]), so batches do
    not depend on the order in which workers fetch them, nor on when Keras calls ``on_epoch_end``.
    """

    def __init__(self, data: Prepared, batch_size: int = 16, codec: HeatmapCodec = HeatmapCodec(),
                 augment: bool = False, shuffle: bool = False, outputs: int = 1,
                 omit_facial: bool = False, drop_remainder: bool = False, repeat: bool = False,
                 seed: int = 0, rotation: float = 30.0, scale: float = 0.25, translate: float = 0.1,
                 perspective: float = 0.0, distortion: float = 0.0,
                 brightness: float = 0.25, contrast: float = 0.3, saturation: float = 0.3,
                 gain: float = 0.0, hue: float = 0.0, blur: float = 0.0, noise: float = 0.0,
                 motion_blur: float = 0.0, cutout: int = 0,
                 cutout_size: float = 0.25, **kwargs):
        super().__init__(**kwargs)
        self.data, self.batch_size, self.codec = data, batch_size, codec
        self.ranges = {"rotation": rotation, "scale": (1.0 - scale, 1.0 + scale), "translate": translate}
        self.perspective, self.distortion = perspective, distortion
        self.colour = {"brightness": brightness, "contrast": contrast, "saturation": saturation,
                       "gain": gain, "hue": hue, "blur": blur, "noise": noise, "motion_blur": motion_blur}
        self.erase = {"count": cutout, "size": cutout_size}
        self.augment, self.shuffle, self.outputs, self.seed = augment, shuffle, outputs, seed
        self.drop_remainder, self.repeat = drop_remainder, repeat
        self.keypoints = data.keypoints.copy()
        if omit_facial:
            self.keypoints[:, FACIAL_IDX] = np.nan
        self.epoch = 0  # a finite dataset's, advanced by Keras through ``on_epoch_end``; a stream's first

    def order(self, epoch: int) -> np.ndarray:
        """The frame order of an epoch."""
        n = len(self.data.images)
        return np.random.default_rng([self.seed, epoch]).permutation(n) if self.shuffle else np.arange(n)

    def __len__(self) -> int:
        batches = len(self.data.images) / self.batch_size
        return math.floor(batches) if self.drop_remainder and batches >= 1 else math.ceil(batches)

    @property
    def num_batches(self) -> int | None:
        return None if self.repeat else len(self)

    def sample(self, index: int, epoch: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """One (image float32 in [0, 1], keypoints in input pixels) pair, augmented if enabled."""
        image, keypoints = self.data.images[index], self.keypoints[index]
        if not self.augment:
            return image.astype(np.float32) / 255.0, keypoints
        rng = np.random.default_rng([self.seed, epoch, int(index)])
        size = self.data.size
        matrix, mirrored = transforms.random_augmentation(rng, size, **self.ranges)
        if self.perspective:
            matrix = transforms.random_tilt(rng, size, self.perspective) @ transforms.to3x3(matrix)
        lens = transforms.random_lens(rng, size, self.distortion) if self.distortion and rng.random() < 0.5 else None
        image = transforms.warp(image, matrix, size, lens).astype(np.float32) / 255.0
        keypoints = transforms.apply(matrix, keypoints)
        if lens is not None:
            keypoints = transforms.radial_distortion(keypoints, *lens)
        if mirrored:
            keypoints = transforms.mirror_labels(keypoints)
        image = transforms.photometric(image, rng, **self.colour)
        return transforms.cutout(image, rng, **self.erase), keypoints

    def __getitem__(self, batch: int):
        epoch, batch = divmod(batch, len(self)) if self.repeat else (0, batch)
        epoch += self.epoch
        indices = self.order(epoch)[batch * self.batch_size:(batch + 1) * self.batch_size]
        images, keypoints = zip(*(self.sample(i, epoch) for i in indices))
        size = self.data.size
        targets = self.codec.encode(np.stack(keypoints), (size, size))
        images = np.stack(images)
        if self.outputs > 1:
            return images, tuple(targets for _ in range(self.outputs))
        return images, targets

    def on_epoch_end(self) -> None:
        if not self.repeat:
            self.epoch += 1
