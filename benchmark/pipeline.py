"""Input pipeline: labelled frames -> batches of (images, heatmap targets).

Frames are decoded once, face-mosaicked when the experiment occludes faces, and letterboxed to the
network input size (``prepare``). Batches are then built on the fly with optional augmentation
(rotation, scale, translation, mirror with left/right swap, colour) by a ``keras.utils.PyDataset``,
so the same pipeline feeds the TensorFlow, JAX and PyTorch backends.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import keras
import numpy as np
from tqdm.auto import tqdm

from . import transforms
from .heatmaps import encode
from .keypoints import FACIAL_IDX
from .labelme import Frame, load_image
from .mosaic import mosaic_face


@dataclass
class Prepared:
    """Letterboxed frames ready for the network, with the matrices that undo the letterbox."""

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


def _prepare_one(frame: Frame, size: int, occlude: bool) -> tuple[np.ndarray, np.ndarray]:
    image = load_image(frame)
    if occlude:
        image = mosaic_face(image, frame.keypoints, seed=frame.id)
    return transforms.letterbox_image(image, size)


def prepare(frames: list[Frame], size: int, occlude: bool = False, progress: bool = True,
            desc: str = "decoding") -> Prepared:
    """Decode, optionally mosaic the face, and letterbox every frame (threads; OpenCV drops the GIL)."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        results = list(tqdm(pool.map(lambda f: _prepare_one(f, size, occlude), frames),
                            total=len(frames), desc=desc, disable=not progress, leave=False))
    images = np.stack([r[0] for r in results]) if results else np.zeros((0, size, size, 3), np.uint8)
    matrices = np.stack([r[1] for r in results]) if results else np.zeros((0, 2, 3))
    keypoints = np.stack([transforms.apply(m, f.keypoints) for m, f in zip(matrices, frames)]) \
        if frames else np.zeros((0, 22, 2))
    return Prepared(list(frames), images, matrices, keypoints)


def jitter_colour(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random brightness, contrast and saturation on a float image in [0, 1]."""
    grey = image.mean(axis=-1, keepdims=True)
    image = grey + (image - grey) * rng.uniform(0.7, 1.3)          # saturation
    image = image.mean() + (image - image.mean()) * rng.uniform(0.7, 1.3)  # contrast
    return np.clip(image * rng.uniform(0.75, 1.25), 0.0, 1.0)       # brightness


class HeatmapBatches(keras.utils.PyDataset):
    """Batches of ``(images, targets)`` for ``model.fit``.

    ``outputs`` > 1 repeats the targets for models with intermediate supervision (hourglass).
    ``omit_facial`` drops the 5 facial keypoints from the targets (the study's "omitted" labels).
    ``drop_remainder`` skips the last partial batch, so training sees one batch shape and its
    compiled step is traced once (a partial batch costs a retrace, seconds for deep models).
    Augmentation draws from a generator keyed by (seed, epoch, frame), so batches do not depend on
    the order in which workers fetch them.
    """

    def __init__(self, data: Prepared, batch_size: int = 16, stride: int = 4, sigma: float = 2.0,
                 augment: bool = False, shuffle: bool = False, outputs: int = 1,
                 omit_facial: bool = False, drop_remainder: bool = False, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.drop_remainder = drop_remainder
        self.data, self.batch_size, self.stride, self.sigma = data, batch_size, stride, sigma
        self.augment, self.shuffle, self.outputs, self.seed = augment, shuffle, outputs, seed
        self.keypoints = data.keypoints.copy()
        if omit_facial:
            self.keypoints[:, FACIAL_IDX] = np.nan
        self.epoch = 0
        self.order = self._order()

    def _order(self) -> np.ndarray:
        n = len(self.data.images)
        return np.random.default_rng([self.seed, self.epoch]).permutation(n) if self.shuffle else np.arange(n)

    def __len__(self) -> int:
        batches = len(self.data.images) / self.batch_size
        return math.floor(batches) if self.drop_remainder and batches >= 1 else math.ceil(batches)

    def sample(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """One (image float32 in [0, 1], keypoints in input pixels) pair, augmented if enabled."""
        image, keypoints = self.data.images[index], self.keypoints[index]
        if not self.augment:
            return image.astype(np.float32) / 255.0, keypoints
        rng = np.random.default_rng([self.seed, self.epoch, int(index)])
        size = self.data.size
        matrix, mirrored = transforms.random_augmentation(rng, size)
        image = transforms.warp(image, matrix, size).astype(np.float32) / 255.0
        keypoints = transforms.apply(matrix, keypoints)
        if mirrored:
            keypoints = transforms.mirror_labels(keypoints)
        return jitter_colour(image, rng).astype(np.float32), keypoints

    def __getitem__(self, batch: int):
        indices = self.order[batch * self.batch_size:(batch + 1) * self.batch_size]
        images, keypoints = zip(*(self.sample(i) for i in indices))
        size = self.data.size
        targets = encode(np.stack(keypoints), (size, size), stride=self.stride, sigma=self.sigma)
        images = np.stack(images)
        if self.outputs > 1:
            return images, tuple(targets for _ in range(self.outputs))
        return images, targets

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self.order = self._order()
