"""The static scene of a video: mat and props, colour table, textures, light.

The mat is a textured fabric (its edge and the floor around it in view at times), with optional
props that real recordings show: a folded towel under the head, a name card, cables, toys beside
the infant (distractors). Everything is drawn once per video at the renderer's supersampled
resolution, except the occluder of the ``occluder`` shift (a blanket over the feet, a toy over a
limb or an adult hand reaching in), a static layer drawn over the infant at picture resolution.
"""

from __future__ import annotations

import cv2
import numpy as np

from benchmark.data.synth import textures
from benchmark.data.synth.body import Body, across, direction
from benchmark.data.synth.camera import Camera, distortion_maps
from benchmark.data.synth.parts import (
    BACKGROUND,
    BOTTOM,
    BOTTOM_CREASE,
    BROW,
    DARK,
    DIAPER,
    EYE,
    HAIR,
    HAT,
    IRIS,
    LIP,
    MATERIALS,
    MOUTH,
    SKIN,
    SKIN_SHADE,
    TOP,
    TOP_CREASE,
    capsule,
    ellipse,
    smooth,
    unit,
)
from benchmark.data.synth.render import SHIFT, Scene
from benchmark.data.synth.style import RGB, SKIN_TONES, Style, draw, hsv, jitter

CARD_TEXTS = ("B-{n}", "NBR {n}", "ID {n}", "{n}")


def _mix(a: RGB, b: RGB, t: float) -> np.ndarray:
    return (1 - t) * np.asarray(a, float) + t * np.asarray(b, float)


def colour_table(style: Style) -> np.ndarray:
    """Flat colour of every material ``(MATERIALS, 3)`` uint8."""
    skin = np.asarray(style.skin, float)
    hair = _mix(style.hair, style.skin, 0.55) if style.cover == "sparse" else style.hair
    brow = _mix(style.hair, style.skin, 0.45 if style.cover == "hair" else 0.7)
    table = np.zeros((MATERIALS, 3))
    table[SKIN], table[SKIN_SHADE] = skin, skin * (0.86, 0.8, 0.8)
    table[HAIR], table[HAT], table[BROW] = hair, style.top_second, brow
    table[TOP], table[BOTTOM], table[DIAPER] = style.top, style.bottom, style.diaper
    table[TOP_CREASE], table[BOTTOM_CREASE] = np.multiply(style.top, 0.62), np.multiply(style.bottom, 0.62)
    table[EYE], table[IRIS], table[DARK] = (232, 232, 226), style.iris, skin * 0.25
    table[LIP], table[MOUTH] = _mix(style.skin, (205, 96, 100), 0.45), skin * (0.45, 0.25, 0.25)
    return np.clip(table, 0, 255).astype(np.uint8)


def _fill(image: np.ndarray, camera: Camera, scale: float, polygon: np.ndarray, value) -> None:
    pixels = np.round((camera.project(polygon) * scale - 0.5) * (1 << SHIFT)).astype(np.int32)
    cv2.fillPoly(image, [pixels], value, cv2.LINE_AA, SHIFT)


def _composite(base: np.ndarray, layer: np.ndarray, mask: np.ndarray, shadow_px: float) -> np.ndarray:
    """``layer`` over ``base`` through ``mask`` (float in [0, 1]), with a soft contact shadow."""
    if shadow_px > 0:
        base = base * (1 - 0.3 * cv2.GaussianBlur(mask, (0, 0), shadow_px))[..., None]
    return base * (1 - mask[..., None]) + layer * mask[..., None]


def _mat_with_edges(rng, style: Style, shape, px_cm: float, body_box: np.ndarray) -> np.ndarray:
    """The mat, and where its edges are in view, the floor around it."""
    h, w = shape
    mat = textures.fabric(rng, shape, style.mat, style.mat_second, style.mat_pattern,
                          period=rng.uniform(2.0, 8.0) * px_cm, folds=0.08).astype(np.float32)
    if not any(style.mat_edges):
        return mat
    sides = np.array([-1.0, -1.0, w + 1.0, h + 1.0])  # left, top, right, bottom of the mat
    room = np.array([body_box[0], body_box[1], w - body_box[2], h - body_box[3]])
    inward = np.array([1, 1, -1, -1])
    for edge, shown in enumerate(style.mat_edges):
        if shown and room[edge] > 2 * px_cm:
            sides[edge] += inward[edge] * rng.uniform(0.2, 0.8) * (room[edge] - px_cm)
    left, top, right, bottom = sides
    corners = np.array([[left, top], [right, top], [right, bottom], [left, bottom]])
    corners += rng.normal(0, px_cm, corners.shape)  # slightly slanted edges
    mask = np.zeros(shape, np.float32)
    cv2.fillPoly(mask, [np.round(corners * (1 << SHIFT)).astype(np.int32)], 1.0, cv2.LINE_AA, SHIFT)
    floor = textures.fabric(rng, shape, style.surround, style.surround, "grain", 6 * px_cm, folds=0.12)
    return _composite(floor.astype(np.float32), mat, mask, px_cm)


def _towel(rng, style: Style, image, camera, scale, body: Body, head: np.ndarray, axis: float, px_cm):
    """A folded towel under the head."""
    along, side = direction(axis), across(axis)
    centre = head - 0.15 * body.head_length * along
    half_along, half_across, cut = 0.85 * body.head_length, 1.3 * body.head_width, 0.8
    corners = [centre + i * half_along * along + j * half_across * side  # bevelled rectangle
               for i, j in ((-cut, -1), (-1, -cut), (-1, cut), (-cut, 1),
                            (cut, 1), (1, cut), (1, -cut), (cut, -1))]
    outline = smooth(np.array(corners), 3)  # rounded rectangle
    mask = np.zeros(image.shape[:2], np.float32)
    _fill(mask, camera, scale, outline, 1.0)
    towel = textures.fabric(rng, image.shape[:2], style.towel, _mix(style.towel, (255, 255, 255), 0.3),
                            "stripes", 0.6 * px_cm, folds=0.1)
    return _composite(image, towel.astype(np.float32), mask, 0.8 * px_cm)


def _card(rng, image, body_box: np.ndarray, px_cm: float) -> None:
    """A white name card in a free corner of the picture, if there is one."""
    h, w = image.shape[:2]
    cw, ch = int(7 * px_cm), int(4.5 * px_cm)
    x0, y0, x1, y1 = body_box
    free = [(x, y) for x, y in ((0.02 * w, 0.02 * h), (0.98 * w - cw, 0.02 * h),
                                 (0.02 * w, 0.98 * h - ch), (0.98 * w - cw, 0.98 * h - ch))
            if x + cw < x0 or x > x1 or y + ch < y0 or y > y1]
    if not free or cw < 8:
        return
    x, y = (int(v) for v in free[rng.integers(len(free))])
    drop = ch // 10  # shadow offset
    cv2.rectangle(image, (x + drop, y + drop), (x + cw + drop, y + ch + drop), (60, 60, 60), -1)
    cv2.rectangle(image, (x, y), (x + cw, y + ch), (238, 238, 232), -1)
    text = CARD_TEXTS[rng.integers(len(CARD_TEXTS))].format(n=f"{rng.integers(1, 99)}")
    font = cv2.FONT_HERSHEY_SIMPLEX
    unit_width, unit_height = cv2.getTextSize(text, font, 1.0, 2)[0]
    scale = min(0.5 * ch / unit_height, 0.85 * cw / unit_width)
    size = cv2.getTextSize(text, font, scale, 2)[0]
    cv2.putText(image, text, (x + (cw - size[0]) // 2, y + (ch + size[1]) // 2), font, scale,
                (40, 40, 40), max(1, int(scale * 2)), cv2.LINE_AA)


def _cables(rng, image, count: int, target: np.ndarray, px_cm: float) -> None:
    """Thin cables from the picture's edge towards the infant (quadratic Bezier curves)."""
    h, w = image.shape[:2]
    for _ in range(count):
        t = rng.uniform()
        start = np.array([(t * w, 0), (w, t * h), (t * w, h), (0, t * h)][rng.integers(4)], float)
        end = target + rng.normal(0, 4 * px_cm, 2)
        ctrl = (start + end) / 2 + rng.normal(0, 6 * px_cm, 2)
        t = np.linspace(0, 1, 40)[:, None]
        curve = (1 - t) ** 2 * start + 2 * t * (1 - t) * ctrl + t ** 2 * end
        colour = [(225, 225, 228), (60, 62, 70), (236, 200, 70)][rng.integers(3)]
        width = max(1, int(0.35 * px_cm))
        for offset, col in ((0.25 * px_cm, (70, 70, 70)), (0.0, colour)):
            pts = np.round((curve + offset) * (1 << SHIFT)).astype(np.int32)
            cv2.polylines(image, [pts], False, col, width, cv2.LINE_AA, SHIFT)


def _toy_colour(rng) -> RGB:
    return hsv(rng.uniform(0, 360), rng.uniform(0.3, 0.9), rng.uniform(0.45, 0.95))


def _distractors(rng, image, count: int, body_box: np.ndarray, px_cm: float) -> None:
    """Toys lying on the mat, away from the infant where there is room: rings, blocks, rattles."""
    h, w = image.shape[:2]
    for _ in range(count):
        size = rng.uniform(2.5, 5.0) * px_cm
        for _ in range(10):  # a place beside the infant, else anywhere (hidden under it)
            x, y = rng.uniform(0, w), rng.uniform(0, h)
            if not (body_box[0] < x < body_box[2] and body_box[1] < y < body_box[3]):
                break
        colour, angle = _toy_colour(rng), rng.uniform(0, 180)
        kind = rng.integers(3)
        for offset, col in ((0.3 * size, (50, 50, 50)), (0.0, colour)):  # shadow, then the toy
            centre = (int(x + offset), int(y + offset))
            if kind == 0:
                cv2.circle(image, centre, int(size), col, max(2, int(size / 3)), cv2.LINE_AA)
            elif kind == 1:
                box = cv2.boxPoints(((centre[0], centre[1]), (2 * size, 1.4 * size), angle))
                cv2.fillPoly(image, [np.round(box).astype(np.int32)], col, cv2.LINE_AA)
            else:
                end = np.array(centre) + 2.5 * size * np.array([np.cos(angle), np.sin(angle)])
                cv2.line(image, centre, tuple(int(v) for v in end), col, max(2, int(size / 2.5)), cv2.LINE_AA)
                cv2.circle(image, centre, int(size), col, -1, cv2.LINE_AA)


def occluder_layer(rng, style: Style, body: Body, camera: Camera, picture: tuple[int, int],
                   points: dict[str, np.ndarray]) -> np.ndarray | None:
    """Colour and coverage ``(H, W, 4)`` float32 of the video's occluder (None without one), placed
    where the infant is on average, so that it hides some keypoints some of the time: a blanket
    over the feet, a plush toy over a hand or knee, or an adult hand reaching for a shoulder."""
    if style.occluder == "none":
        return None
    width, height = picture
    mean = {name: p.mean(axis=0) for name, p in points.items()}
    if style.occluder == "blanket":
        top = max(mean["Ankle_L"][1], mean["Ankle_R"][1]) + rng.uniform(0.0, 0.3) * body.shank
        left, right = [(-30.0, 30.0), (-30.0, 2.0), (-2.0, 30.0)][rng.integers(3)]
        edge = np.stack([np.linspace(left, right, 9), top + rng.normal(0, 1.0, 9)], axis=1)
        polygons = [np.concatenate([edge, [[right, top + 40], [left, top + 40]]])]
        colour = hsv(rng.uniform(0, 360), rng.uniform(0.1, 0.6), rng.uniform(0.6, 0.95))
    elif style.occluder == "toy":
        centre = mean[draw(rng, ("Wrist_L", "Wrist_R", "Knee_L", "Knee_R", "Elbow_L", "Elbow_R"))]
        centre = centre + rng.normal(0, 1.5, 2)
        radius = rng.uniform(0.18, 0.26) * body.trunk
        ears = [centre + radius * np.array([np.sin(a), -np.cos(a)]) for a in (-0.8, 0.8)]
        polygons = [ellipse(centre, 0.0, radius, radius * 0.9)] + [ellipse(e, 0.0, 0.4 * radius, 0.4 * radius)
                                                                   for e in ears]
        colour = _toy_colour(rng)
    else:  # an adult hand and forearm from outside the picture towards a shoulder
        side = draw(rng, ("L", "R"))
        target = (mean[f"Shoulder_{side}"] + mean[f"Elbow_{side}"]) / 2
        out = unit(target - mean["Pelvis"] + rng.normal(0, 3.0, 2))
        wrist = target + 8.0 * out
        axis = float(np.arctan2(-out[0], -out[1]))  # "down" of the palm: towards the infant
        palm = target + 3.0 * out
        fingers = [capsule(palm + 2.5 * across(axis) * k - 1.0 * out, target - 4.5 * out + 2.0 * across(axis) * k,
                           0.9, 0.75) for k in (-1.5, -0.5, 0.5, 1.5)]
        polygons = [capsule(wrist + 40 * out, wrist, 3.6, 3.0), ellipse(palm, axis, 4.5, 4.2), *fingers]
        colour = jitter(rng, draw(rng, SKIN_TONES), 4)
    alpha = np.zeros((height, width), np.float32)
    for polygon in polygons:
        _fill(alpha, camera, 1, polygon, 1.0)
    edge_px = 0.6 * camera.px_per_cm
    shade = 0.75 + 0.25 * np.clip(cv2.GaussianBlur(alpha, (0, 0), max(edge_px, 0.5)) * 1.6, 0, 1)  # rounded look
    layer = np.empty((height, width, 4), np.float32)
    layer[..., :3] = np.float32(colour) * shade[..., None]
    layer[..., 3] = alpha
    return layer



def build_scene(rng: np.random.Generator, style: Style, body: Body, camera: Camera,
                picture: tuple[int, int], points: dict[str, np.ndarray], supersample: int) -> Scene:
    """Scene for a video whose named points ``(T, 2)`` (cm) are ``points``."""
    width, height = picture
    shape = (height * supersample, width * supersample)
    px_cm = camera.px_per_cm * supersample

    keypoints = np.concatenate([points[k] for k in ("Head", "MP_joint_L", "MP_joint_R",
                                                    "MTP_joint_L", "MTP_joint_R", "Elbow_L",
                                                    "Elbow_R", "Knee_L", "Knee_R")])
    seen = camera.project(keypoints) * supersample
    body_box = np.concatenate([seen.min(axis=0), seen.max(axis=0)]) + np.array([-1, -1, 1, 1]) * 4 * px_cm

    image = _mat_with_edges(rng, style, shape, px_cm, body_box)
    head = points["Head_Centre"].mean(axis=0)
    axis = float(np.arctan2(*(points["Chin"] - points["Head"]).mean(axis=0)))
    if style.towel is not None:
        image = _towel(rng, style, image, camera, supersample, body, head, axis, px_cm)
    image = np.clip(image, 0, 255).astype(np.uint8)
    if style.card:
        _card(rng, image, body_box, px_cm)
    _cables(rng, image, style.cables, camera.project(points["Pelvis"].mean(axis=0)) * supersample, px_cm)
    _distractors(rng, image, style.distractors, body_box, px_cm)

    image_axis = camera.project(head + np.array([np.sin(axis), np.cos(axis)])) - camera.project(head)
    strand_angle = float(np.arctan2(image_axis[1], image_axis[0]))
    materials = np.broadcast_to(colour_table(style)[:, None, None], (MATERIALS, *shape, 3)).copy()
    for material, texture in {
        BACKGROUND: image,
        SKIN: textures.fabric(rng, shape, style.skin, style.skin, "plain", 1.5 * px_cm, folds=0.05, grain=0.02),
        TOP: textures.fabric(rng, shape, style.top, style.top_second, style.top_pattern,
                             rng.uniform(1.2, 3.0) * px_cm),
        BOTTOM: textures.fabric(rng, shape, style.bottom, style.bottom_second, style.bottom_pattern,
                                rng.uniform(1.2, 3.0) * px_cm),
        DIAPER: textures.fabric(rng, shape, style.diaper, style.diaper, "plain", 2 * px_cm, folds=0.1),
        HAT: textures.fabric(rng, shape, style.top_second, _mix(style.top_second, (0, 0, 0), 0.15),
                             "stripes", 0.5 * px_cm),
        HAIR: textures.hair(rng, shape, tuple(colour_table(style)[HAIR]), strand_angle, 1.5 * px_cm),
    }.items():
        materials[material] = texture

    light_dir = np.array([np.cos(style.light_angle), np.sin(style.light_angle)])
    light = textures.light_map((height, width), style.light_angle, style.gradient, style.vignette)
    return Scene(
        camera=camera, size=picture, supersample=supersample, materials=materials,
        light=light * style.exposure, tint=np.float32(style.colour_balance),
        shadow_offset=-light_dir * 1.2 * camera.px_per_cm, shadow_strength=style.shadow,
        shadow_blur=1.0 * camera.px_per_cm, shade_blur=0.4 * camera.px_per_cm,
        overlay=occluder_layer(rng, style, body, camera, picture, points),
        lens=distortion_maps(picture, style.distortion) if style.distortion else None,
        blur=style.blur * height / 256, motion_blur=style.motion_blur * height / 256, noise=style.noise,
    )


def light_direction(style: Style, camera: Camera) -> np.ndarray:
    """Unit vector towards the light in the body frame (for the parts' highlights)."""
    towards = np.array([np.cos(style.light_angle), np.sin(style.light_angle)])
    return unit(np.linalg.solve(camera.matrix[:2, :2], towards))
