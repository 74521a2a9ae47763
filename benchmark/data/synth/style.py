"""Appearance and capture settings of one video: infant, clothing, mat, lighting, camera.

:func:`sample_style` draws everything that is fixed within a video. The *factors* of variation
are drawn from documented ranges: :data:`TRAINING` for the Train, Valid and Test splits (domain
randomisation: wide), :data:`HELD_OUT` for the fields of one named shift of the *DomainShift*
split. Each named shift of :data:`SHIFTS` replaces ONE family of factors by held-out values that
the training splits never contain (a band beyond the training band, or a held-out set of
categories) and keeps every other factor on its training distribution:

============  ==========================================  ==========================================
shift         training (``TRAINING``)                     held out (``HELD_OUT``)
============  ==========================================  ==========================================
mat           hue 0-270 deg, saturation 0-0.5, patterns   hue 285-345 deg (purple-magenta),
              plain/grain/stripes/checks/dots/quilt/print saturation 0.55-0.75, spots/camo/zigzag
light         exposure 0.7-1.3, 3800-8000 K,              exposure 0.5-0.62, 2600-3300 K,
              light gradient 0-0.5                        gradient 0.55-0.7
camera        tilt 0-0.004 /cm, radial distortion         tilt 0.0055-0.008 /cm, distortion
              -0.08-0.04, fill 0.68-1.1                   -0.32 to -0.2 (barrel), fill 0.5-0.6
appearance    8 skin tones (even indices of SKIN_TONES),  7 in-between skin tones (odd indices),
              cloth saturation 0-0.7, patterns            cloth saturation 0.82-1 (vivid),
              plain/stripes/dots/print/checks             camo/spots
occluder      none (distractor toys beside the infant)    blanket over the feet, toy over a limb,
                                                          adult hand reaching in (partial)
blur_noise    blur sigma 0.3-1.3 px, motion blur 0-2.5    blur 1.8-2.6 px, motion 4-7 px,
              px, noise 1-6 grey levels                   noise 9-14 grey levels
============  ==========================================  ==========================================

Factors owned by no shift (cloth hue and value, mat value, light angle, tint, shadow, vignette,
rotation +-0.35 rad, 0-2 distractors, JPEG quality 50-96; pixel sizes at 256-pixel picture
height) are drawn from :data:`TRAINING` in every split (``docs/SYNTHETIC.md``).
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

RGB = tuple[int, int, int]


class Band(NamedTuple):
    """A closed interval ``[low, high]`` a numeric factor is drawn from uniformly."""

    low: float
    high: float


Spec = Band | tuple  # a band, or a tuple of categories drawn with equal probability

_SKIN_ANCHORS = [(250, 222, 200), (241, 202, 178), (230, 186, 156), (214, 166, 132),
                 (190, 140, 106), (160, 112, 82), (126, 86, 62), (96, 66, 48)]
# 15 skin tones from light to dark: the 8 anchors (even indices) and the tones half-way between
# them (odd indices, held out for the ``appearance`` shift).
SKIN_TONES: list[RGB] = [
    tuple(int(round(np.interp(t, np.arange(8), [c[i] for c in _SKIN_ANCHORS]))) for i in range(3))
    for t in np.linspace(0, 7, 15)]
HAIR: list[RGB] = [(28, 22, 20), (48, 34, 26), (78, 54, 36), (112, 80, 54), (158, 122, 84),
                   (204, 172, 124)]
IRIS: list[RGB] = [(40, 28, 20), (68, 44, 30), (28, 28, 34), (80, 96, 112)]
DIAPERS: list[RGB] = [(246, 246, 246), (238, 244, 250), (250, 250, 238)]
SURROUNDS: list[RGB] = [(62, 56, 50), (122, 110, 98), (200, 200, 206), (82, 100, 92),
                        (150, 150, 162), (170, 140, 110)]
CLOTHING = ("diaper", "bodysuit", "sleeper", "two_piece")
COVERS = ("hair", "hair", "sparse", "bald", "hat")
OCCLUDERS = ("blanket", "toy", "hand")

TRAINING: dict[str, Spec] = {
    "skin_tone": tuple(range(0, 15, 2)),
    "cloth_hue": Band(0.0, 360.0),
    "cloth_saturation": Band(0.0, 0.7),
    "cloth_value": Band(0.3, 1.0),
    "cloth_pattern": ("plain", "plain", "plain", "stripes", "dots", "print", "checks"),  # plain 3/7
    "mat_hue": Band(0.0, 270.0),
    "mat_saturation": Band(0.0, 0.5),
    "mat_value": Band(0.35, 1.0),
    "mat_pattern": ("plain", "grain", "stripes", "checks", "dots", "quilt", "print"),
    "exposure": Band(0.7, 1.3),
    "temperature": Band(3800.0, 8000.0),  # kelvin
    "gradient": Band(0.0, 0.5),
    "tint": Band(-0.05, 0.05),  # green (+) / magenta (-) balance
    "light_angle": Band(-np.pi, np.pi),
    "shadow": Band(0.2, 0.5),
    "vignette": Band(0.0, 0.35),
    "rotation": Band(-0.35, 0.35),  # radians
    "tilt": Band(0.0, 0.004),  # perspective, 1/cm
    "distortion": Band(-0.08, 0.04),  # radial, relative at the picture's corner
    "fill": Band(0.68, 1.1),  # > 1: hands or feet may leave the picture
    "occluder": ("none",),
    "distractors": (0, 1, 2),
    "blur": Band(0.3, 1.3),  # optical, sigma in pixels
    "motion_blur": Band(0.0, 2.5),  # length in pixels
    "noise": Band(1.0, 6.0),  # grey levels
    "jpeg": Band(50, 96),  # quality
}
HELD_OUT: dict[str, Spec] = {
    "skin_tone": tuple(range(1, 15, 2)),
    "cloth_saturation": Band(0.82, 1.0),
    "cloth_pattern": ("camo", "spots"),
    "mat_hue": Band(285.0, 345.0),
    "mat_saturation": Band(0.55, 0.75),
    "mat_pattern": ("spots", "camo", "zigzag"),
    "exposure": Band(0.5, 0.62),
    "temperature": Band(2600.0, 3300.0),
    "gradient": Band(0.55, 0.7),
    "tilt": Band(0.0055, 0.008),
    "distortion": Band(-0.32, -0.2),
    "fill": Band(0.5, 0.6),
    "occluder": OCCLUDERS,
    "blur": Band(1.8, 2.6),
    "motion_blur": Band(4.0, 7.0),
    "noise": Band(9.0, 14.0),
}
SHIFTS: dict[str, tuple[str, ...]] = {
    "mat": ("mat_hue", "mat_saturation", "mat_pattern"),
    "light": ("exposure", "temperature", "gradient"),
    "camera": ("tilt", "distortion", "fill"),
    "appearance": ("skin_tone", "cloth_saturation", "cloth_pattern"),
    "occluder": ("occluder",),
    "blur_noise": ("blur", "motion_blur", "noise"),
}
"""The named shifts of the DomainShift split, each with the family of factors (fields of
:class:`Style`, keys of :data:`HELD_OUT`) it draws from :data:`HELD_OUT`; see the module table."""


@dataclass(frozen=True)
class Style:
    """Everything drawn or simulated the same way in every frame of a video. The fields named in
    :data:`TRAINING` are the recorded factors (:func:`factors`)."""

    shift: str | None  # the named shift (DomainShift videos) or None
    letterbox: bool
    # infant
    skin_tone: int
    skin: RGB
    hair: RGB
    iris: RGB
    cover: str  # head cover: "hair", "sparse" (thin hair), "bald" or "hat"
    hairline: float  # vertical head angle (rad) of the top of the face; negative = above the eyes
    # clothing: sleeve/leg coverage in limb segments (0 bare, 0.5 half the upper limb, 2 to the wrist)
    clothing: str
    cloth_hue: float
    cloth_saturation: float
    cloth_value: float
    cloth_pattern: str
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
    mat_hue: float
    mat_saturation: float
    mat_value: float
    mat: RGB
    mat_second: RGB
    mat_pattern: str
    surround: RGB
    mat_edges: tuple[bool, bool, bool, bool]  # left, top, right, bottom edge of the mat in view
    towel: RGB | None
    card: bool
    cables: int
    distractors: int  # toys lying beside the infant
    occluder: str  # "none" or one of OCCLUDERS, drawn over the infant
    # movement
    writhing: float
    fidgety: float
    # camera and light
    rotation: float
    tilt: float
    distortion: float
    fill: float
    light_angle: float
    gradient: float
    vignette: float
    exposure: float
    temperature: float
    tint: float
    shadow: float
    blur: float  # optical blur sigma, pixels at 256-pixel picture height
    motion_blur: float  # motion blur length, pixels at 256-pixel picture height
    noise: float  # sensor noise sigma, grey levels
    jpeg: int  # JPEG quality

    @property
    def colour_balance(self) -> tuple[float, float, float]:
        """RGB gains (mean 1) of the light's colour temperature and green/magenta tint: a linear
        approximation in mireds about 6500 K."""
        mired = 1e6 / self.temperature - 1e6 / 6500
        gains = np.array([1 + 0.0019 * mired, (1 + 0.0003 * mired) * (1 + self.tint), 1 - 0.0021 * mired])
        return tuple(float(g) for g in gains / gains.mean())


def jitter(rng: np.random.Generator, colour: RGB, amount: float = 8.0) -> RGB:
    """``colour`` plus Gaussian noise of ``amount`` grey levels per channel."""
    return tuple(int(v) for v in np.clip(np.asarray(colour) + rng.normal(0, amount, 3), 0, 255))


def hsv(hue: float, saturation: float, value: float) -> RGB:
    """RGB of a hue (degrees), saturation and value in [0, 1]."""
    return tuple(int(round(255 * c)) for c in colorsys.hsv_to_rgb((hue % 360) / 360, saturation, value))


def draw(rng: np.random.Generator, spec: Spec):
    """A value of a factor: uniform in a :class:`Band`, or one of a sequence of categories."""
    if isinstance(spec, Band):
        return float(rng.uniform(spec.low, spec.high))
    return spec[rng.integers(len(spec))]


def _coverage(rng: np.random.Generator, clothing: str) -> tuple[float, float]:
    """How far sleeves and trouser legs reach (in limb segments) for a kind of clothing."""
    if clothing == "diaper":
        return 0.0, 0.0
    if clothing == "bodysuit":
        return rng.uniform(0.3, 0.8), 0.0
    return rng.uniform(1.6, 2.0), rng.uniform(1.7, 2.0)


def sample_factors(rng: np.random.Generator, shift: str | None = None) -> dict:
    """The factors of one video: the fields of ``SHIFTS[shift]`` from :data:`HELD_OUT`, every
    other factor from :data:`TRAINING`."""
    if shift is not None and shift not in SHIFTS:
        raise ValueError(f"unknown shift {shift!r} (known: {', '.join(SHIFTS)})")
    family = SHIFTS[shift] if shift else ()
    values = {name: draw(rng, HELD_OUT[name] if name in family else spec) for name, spec in TRAINING.items()}
    return {**values, "jpeg": int(round(values["jpeg"])), "skin_tone": int(values["skin_tone"]),
            "distractors": int(values["distractors"])}


def factors(style: Style) -> dict:
    """The recorded factors of a style (the keys of :data:`TRAINING`), JSON-ready."""
    values = {name: getattr(style, name) for name in TRAINING}
    return {name: round(v, 6) if isinstance(v, float) else v for name, v in values.items()}


def sample_style(rng: np.random.Generator, shift: str | None = None) -> Style:
    """A random :class:`Style`: training distribution, or the named ``shift`` (see the module)."""
    f = sample_factors(rng, shift)
    clothing = draw(rng, CLOTHING)
    sleeves, legs = _coverage(rng, clothing)
    cover = draw(rng, COVERS)
    sat, value = f["cloth_saturation"], f["cloth_value"]

    def cloth(hue_offset: float) -> RGB:  # clothing colours share the video's saturation
        return hsv(f["cloth_hue"] + hue_offset, sat, float(np.clip(value + rng.uniform(-0.15, 0.15), 0.3, 1)))

    mat = hsv(f["mat_hue"], f["mat_saturation"], f["mat_value"])
    second_value = (f["mat_value"] * rng.uniform(0.6, 0.85) if f["mat_value"] > 0.6  # darker, or lighter
                    else min(1.0, f["mat_value"] * 1.5))
    return Style(
        shift=shift,
        letterbox=bool(rng.uniform() < 0.4),
        skin_tone=f["skin_tone"],
        skin=jitter(rng, SKIN_TONES[f["skin_tone"]], 3),
        hair=jitter(rng, draw(rng, HAIR), 6),
        iris=draw(rng, IRIS),
        cover=cover,
        hairline=rng.uniform(-0.1, 0.0) if cover == "hat" else rng.uniform(-0.55, -0.3),
        clothing=clothing,
        cloth_hue=f["cloth_hue"], cloth_saturation=sat, cloth_value=value, cloth_pattern=f["cloth_pattern"],
        top=cloth(0.0), top_second=cloth(rng.uniform(-45, 45)), top_pattern=f["cloth_pattern"],
        bottom=cloth(rng.uniform(-40, 40)), bottom_second=cloth(rng.uniform(-45, 45)),
        bottom_pattern=draw(rng, ("plain", f["cloth_pattern"])),
        diaper=jitter(rng, draw(rng, DIAPERS), 4),
        sleeves=sleeves, legs=legs,
        mat_hue=f["mat_hue"], mat_saturation=f["mat_saturation"], mat_value=f["mat_value"],
        mat=mat, mat_second=hsv(f["mat_hue"], f["mat_saturation"], second_value),
        mat_pattern=f["mat_pattern"],
        surround=jitter(rng, draw(rng, SURROUNDS)),
        mat_edges=tuple(bool(e) for e in rng.uniform(size=4) < 0.3),
        towel=hsv(rng.uniform(0, 360), rng.uniform(0, 0.5), rng.uniform(0.6, 1)) if rng.uniform() < 0.3 else None,
        card=bool(rng.uniform() < 0.2),
        cables=int(rng.integers(0, 3)) if rng.uniform() < 0.25 else 0,
        distractors=f["distractors"], occluder=f["occluder"],
        writhing=rng.uniform(0.5, 1.2), fidgety=rng.uniform(0.0, 1.0),
        rotation=f["rotation"], tilt=f["tilt"], distortion=f["distortion"], fill=f["fill"],
        light_angle=f["light_angle"], gradient=f["gradient"], vignette=f["vignette"],
        exposure=f["exposure"], temperature=f["temperature"], tint=f["tint"], shadow=f["shadow"],
        blur=f["blur"], motion_blur=f["motion_blur"], noise=f["noise"], jpeg=f["jpeg"],
    )


def describe_shift(name: str) -> str:
    """A shift in words: each of its factors' held-out values against the training ones."""
    def show(spec: Spec) -> str:
        return f"{spec.low:g} to {spec.high:g}" if isinstance(spec, Band) else "/".join(dict.fromkeys(map(str, spec)))

    return "; ".join(f"{field} {show(HELD_OUT[field])} (training {show(TRAINING[field])})"
                     for field in SHIFTS[name])
