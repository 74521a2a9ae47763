"""Rasterise one frame: body parts over the video's static scene, then light, blur and noise.

Parts are filled, back to front, into a material map at ``supersample`` times the picture
resolution (each pixel then takes its material's texture there, and the result is averaged down:
anti-aliased edges) and, at picture resolution, into a shading map: each shaded part's outline
dark, its cores lighter, blurred into a smooth rounded look, over a soft drop shadow. The result
is covered by the occluder layer if any, multiplied by the illumination and colour balance,
bent by the lens distortion, blurred (optics, then motion in a random direction per frame) and
given Gaussian sensor noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from benchmark.data.synth.camera import Camera, remap
from benchmark.data.synth.parts import Part
from benchmark.data.transforms import line_kernel

SHADES = (0.72, 0.9, 1.05)  # shading of a part's outline and its two cores
SHIFT = 4  # fractional bits of polygon vertices given to cv2


@dataclass(frozen=True)
class Scene:
    """What every frame of a video shares; built by :func:`benchmark.data.synth.scene.build_scene`."""

    camera: Camera
    size: tuple[int, int]  # picture (width, height)
    supersample: int
    materials: np.ndarray  # (materials, H * supersample, W * supersample, 3) uint8 appearance
    light: np.ndarray  # (H, W) float32 illumination, exposure included
    tint: np.ndarray  # (3,) float32 colour balance
    shadow_offset: np.ndarray  # (2,) pixels
    shadow_strength: float
    shadow_blur: float  # pixels
    shade_blur: float  # pixels
    overlay: np.ndarray | None  # (H, W, 4) float32 occluder colour and coverage, over the infant
    lens: tuple[np.ndarray, np.ndarray] | None  # distortion maps (camera.distortion_maps)
    blur: float  # optical blur sigma, pixels
    motion_blur: float  # motion blur length, pixels
    noise: float  # sensor noise sigma, grey levels


def _vertices(camera: Camera, polygons: list[np.ndarray], scale: float) -> list[np.ndarray]:
    """Project polygons (cm) to fixed-point cv2 vertices at ``scale`` times picture resolution
    (cv2 puts pixel centres on integers; ours are at ``i + 0.5``)."""
    if not polygons:
        return []
    pixels = camera.project(np.concatenate(polygons)) * scale - 0.5
    fixed = np.round(pixels * (1 << SHIFT)).astype(np.int32)
    return np.split(fixed, np.cumsum([len(p) for p in polygons])[:-1])


def _blur(image: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(image, (0, 0), sigma) if sigma > 0.05 else image


def _shading(scene: Scene, groups: list[list[Part]]) -> np.ndarray:
    """Shading ``(H, W)``: a soft drop shadow of every shaded part, then, group by group, all
    outlines of the group dark, all its first cores lighter, all its second cores lightest
    (so joints within a group leave no seams); blurred into smooth gradients."""
    width, height = scene.size
    layers = [(k, _vertices(scene.camera, [[part.outline, *part.cores][k] for part in group
                                           if part.cores], 1))
              for group in groups for k in range(len(SHADES))]
    shadow = np.zeros((height, width), np.float32)
    offset = np.round(scene.shadow_offset * (1 << SHIFT)).astype(np.int32)
    for poly in (poly for k, layer in layers if k == 0 for poly in layer):  # outlines
        cv2.fillPoly(shadow, [poly + offset], 1.0, cv2.LINE_8, SHIFT)
    shade = 1 - scene.shadow_strength * _blur(shadow, scene.shadow_blur)
    for k, layer in layers:
        for poly in layer:
            cv2.fillPoly(shade, [poly], SHADES[k], cv2.LINE_8, SHIFT)
    return _blur(shade, scene.shade_blur)


def _albedo(scene: Scene, parts: list[Part]) -> np.ndarray:
    """Colours ``(H, W, 3)`` uint8: parts filled back to front into a supersampled material map,
    each pixel taking its material's texture, averaged down (anti-aliased edges)."""
    width, height = scene.size
    ss = scene.supersample
    labels = np.zeros((height * ss, width * ss), np.uint8)
    for part, outline in zip(parts, _vertices(scene.camera, [part.outline for part in parts], ss)):
        cv2.fillPoly(labels, [outline], part.material, cv2.LINE_8, SHIFT)
    index = labels.ravel().astype(np.int32) * labels.size + np.arange(labels.size, dtype=np.int32)
    image = np.take(scene.materials.reshape(-1, 3), index, axis=0).reshape(*labels.shape, 3)
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def render(scene: Scene, groups: list[list[Part]], rng: np.random.Generator) -> np.ndarray:
    """The picture ``(H, W, 3)`` uint8 RGB of groups of parts (back to front) in ``scene``."""
    groups = [[part for part in group if len(part.outline) >= 3] for group in groups]
    image = _albedo(scene, [part for group in groups for part in group]).astype(np.float32)
    image *= _shading(scene, groups)[..., None]
    if scene.overlay is not None:
        cover = scene.overlay[..., 3:]
        image = image * (1 - cover) + scene.overlay[..., :3] * cover
    image *= scene.light[..., None] * scene.tint
    if scene.lens is not None:
        image = remap(image, scene.lens)
    image = _blur(image, scene.blur)
    if scene.motion_blur >= 1.5:
        image = cv2.filter2D(image, -1, line_kernel(scene.motion_blur, rng.uniform(0, np.pi)))
    image += scene.noise * rng.standard_normal(image.shape, dtype=np.float32)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)
