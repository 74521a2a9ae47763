"""Appearance and capture settings of one video: infant, clothing, mat, lighting, camera.

:func:`sample_style` draws everything that is fixed within a video. ``domain_shift=True`` draws
from deliberately different distributions (the *DomainShift* split): dark or saturated mats with
bold patterns, strong or saturated clothing, coloured and uneven light, more noise and JPEG loss,
and an oblique, arbitrarily rotated camera with a smaller infant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RGB = tuple[int, int, int]

SKIN: list[RGB] = [(250, 222, 200), (241, 202, 178), (230, 186, 156), (214, 166, 132),
                   (190, 140, 106), (160, 112, 82), (126, 86, 62), (96, 66, 48)]
HAIR: list[RGB] = [(28, 22, 20), (48, 34, 26), (78, 54, 36), (112, 80, 54), (158, 122, 84),
                   (204, 172, 124)]
IRIS: list[RGB] = [(40, 28, 20), (68, 44, 30), (28, 28, 34), (80, 96, 112)]
CLOTHES: list[RGB] = [(246, 246, 242), (248, 206, 216), (196, 222, 246), (250, 238, 182),
                      (202, 236, 212), (222, 206, 240), (206, 206, 212), (250, 216, 192),
                      (214, 84, 84), (72, 88, 142), (236, 170, 90)]
DIAPERS: list[RGB] = [(246, 246, 246), (238, 244, 250), (250, 250, 238)]
MATS: list[RGB] = [(236, 236, 232), (206, 228, 246), (240, 212, 222), (246, 240, 226),
                   (216, 218, 224), (212, 236, 216), (232, 222, 202), (192, 206, 232)]
SURROUNDS: list[RGB] = [(62, 56, 50), (122, 110, 98), (200, 200, 206), (82, 100, 92),
                        (150, 150, 162), (170, 140, 110)]
MAT_PATTERNS = ("plain", "plain", "grain", "stripes", "checks", "dots", "quilt")
CLOTH_PATTERNS = ("plain", "plain", "stripes", "dots", "print")

SHIFT_MATS: list[RGB] = [(30, 40, 86), (28, 28, 32), (40, 96, 56), (176, 40, 46), (236, 136, 40),
                         (96, 56, 126), (20, 112, 122), (130, 90, 60)]
SHIFT_CLOTHES: list[RGB] = [(26, 26, 30), (122, 230, 62), (255, 122, 22), (132, 22, 42),
                            (22, 132, 132), (92, 92, 22), (255, 62, 162), (42, 42, 162)]
SHIFT_MAT_PATTERNS = ("checks", "spots", "stripes", "camo", "plain")
SHIFT_CLOTH_PATTERNS = ("stripes", "spots", "camo", "plain")
SHIFT_TINTS = [(1.12, 1.0, 0.78), (0.84, 0.96, 1.14), (0.92, 1.1, 0.88), (1.1, 0.9, 1.05)]

CLOTHING = ("diaper", "bodysuit", "sleeper", "two_piece")
COVERS = ("hair", "hair", "sparse", "bald", "hat")


@dataclass(frozen=True)
class Style:
    """Everything drawn or simulated the same way in every frame of a video."""

    domain_shift: bool
    letterbox: bool
    # infant
    skin: RGB
    hair: RGB
    iris: RGB
    cover: str  # head cover: "hair", "sparse" (thin hair), "bald" or "hat"
    hairline: float  # vertical head angle (rad) of the top of the face; negative = above the eyes
    # clothing: sleeve/leg coverage in limb segments (0 bare, 0.5 half the upper limb, 2 to the wrist)
    clothing: str
    top: RGB
    top_second: RGB
    top_pattern: str
    bottom: RGB
    bottom_second: RGB
    bottom_pattern: str
    diaper: RGB
    sleeves: float
    legs: float
    # scene
    mat: RGB
    mat_second: RGB
    mat_pattern: str
    surround: RGB
    mat_edges: tuple[bool, bool, bool, bool]  # left, top, right, bottom edge of the mat in view
    towel: RGB | None
    card: bool
    cables: int
    # movement
    writhing: float
    fidgety: float
    # camera and light
    rotation: float
    tilt: float
    fill: float
    light_angle: float
    gradient: float
    vignette: float
    exposure: float
    tint: tuple[float, float, float]
    blur: float  # optical blur sigma, pixels at 256-pixel picture height
    noise: float  # sensor noise sigma, grey levels
    jpeg: int  # JPEG quality


def _pick(rng: np.random.Generator, items):
    return items[rng.integers(len(items))]


def _jitter(rng: np.random.Generator, colour: RGB, amount: float = 8.0) -> RGB:
    return tuple(int(v) for v in np.clip(np.asarray(colour) + rng.normal(0, amount, 3), 0, 255))


def _coverage(rng: np.random.Generator, clothing: str) -> tuple[float, float]:
    """How far sleeves and trouser legs reach (in limb segments) for a kind of clothing."""
    if clothing == "diaper":
        return 0.0, 0.0
    if clothing == "bodysuit":
        return rng.uniform(0.3, 0.8), 0.0
    return rng.uniform(1.6, 2.0), rng.uniform(1.7, 2.0)


def sample_style(rng: np.random.Generator, domain_shift: bool = False) -> Style:
    """A random :class:`Style`; see the module docstring for what ``domain_shift`` changes."""
    clothes = SHIFT_CLOTHES if domain_shift else CLOTHES
    cloth_patterns = SHIFT_CLOTH_PATTERNS if domain_shift else CLOTH_PATTERNS
    clothing = _pick(rng, CLOTHING)
    sleeves, legs = _coverage(rng, clothing)
    cover = _pick(rng, COVERS)
    top, bottom = _pick(rng, clothes), _pick(rng, clothes)
    mat_edges = tuple(bool(e) for e in rng.uniform(size=4) < 0.3)

    if domain_shift:
        mat, mat_second = _pick(rng, SHIFT_MATS), _pick(rng, SHIFT_MATS + [(240, 240, 240)])
        mat_pattern = _pick(rng, SHIFT_MAT_PATTERNS)
        rotation, tilt, fill = rng.uniform(-np.pi, np.pi), rng.uniform(0.002, 0.006), rng.uniform(0.55, 0.9)
        gradient, vignette = rng.uniform(0.3, 0.7), rng.uniform(0.2, 0.5)
        exposure = rng.uniform(0.55, 1.15)
        tint = tuple(float(t) for t in np.asarray(_pick(rng, SHIFT_TINTS)) * rng.uniform(0.95, 1.05, 3))
        blur, noise, jpeg = rng.uniform(0.5, 1.5), rng.uniform(3.0, 9.0), int(rng.integers(45, 86))
    else:
        mat, mat_second = _pick(rng, MATS), _pick(rng, MATS + CLOTHES)
        mat_pattern = _pick(rng, MAT_PATTERNS)
        rotation, tilt = rng.normal(0, 0.12), 0.0
        fill = rng.uniform(1.0, 1.12) if rng.uniform() < 0.12 else rng.uniform(0.72, 0.95)
        gradient, vignette = rng.uniform(0.05, 0.3), rng.uniform(0.0, 0.25)
        exposure = rng.uniform(0.92, 1.05)
        tint = tuple(float(t) for t in 1 + rng.normal(0, 0.025, 3))
        blur, noise, jpeg = rng.uniform(0.3, 0.8), rng.uniform(1.5, 4.0), int(rng.integers(75, 96))

    return Style(
        domain_shift=domain_shift,
        letterbox=bool(rng.uniform() < 0.4),
        skin=_jitter(rng, _pick(rng, SKIN), 6),
        hair=_jitter(rng, _pick(rng, HAIR), 6),
        iris=_pick(rng, IRIS),
        cover=cover,
        hairline=rng.uniform(-0.1, 0.0) if cover == "hat" else rng.uniform(-0.55, -0.3),
        clothing=clothing,
        top=_jitter(rng, top), top_second=_jitter(rng, _pick(rng, clothes)),
        top_pattern=_pick(rng, cloth_patterns),
        bottom=_jitter(rng, bottom), bottom_second=_jitter(rng, _pick(rng, clothes)),
        bottom_pattern=_pick(rng, cloth_patterns),
        diaper=_jitter(rng, _pick(rng, DIAPERS), 4),
        sleeves=sleeves, legs=legs,
        mat=_jitter(rng, mat), mat_second=_jitter(rng, mat_second), mat_pattern=mat_pattern,
        surround=_jitter(rng, _pick(rng, SURROUNDS)),
        mat_edges=mat_edges,
        towel=_jitter(rng, _pick(rng, clothes)) if rng.uniform() < 0.3 else None,
        card=bool(rng.uniform() < 0.2),
        cables=int(rng.integers(0, 3)) if rng.uniform() < 0.25 else 0,
        writhing=rng.uniform(0.5, 1.2), fidgety=rng.uniform(0.0, 1.0),
        rotation=float(rotation), tilt=float(tilt), fill=float(fill),
        light_angle=rng.uniform(-np.pi, np.pi), gradient=gradient, vignette=vignette,
        exposure=exposure, tint=tint, blur=blur, noise=noise, jpeg=jpeg,
    )
