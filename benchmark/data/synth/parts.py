"""The drawn infant: body parts as filled polygons (cm, body frame), back to front.

Limbs are tapered capsules, the torso and nappy are smoothed outlines through the shoulders and
hips, the head is an ellipse with a hair (or hat) cap, face, eyes, brows, nose, lips and ears
placed at the facial keypoints. Each shaded part also carries two inner "core" polygons, shifted
towards the light, that the renderer paints lighter to give it a rounded look. Sleeves and trouser legs
that reach over an elbow or knee carry creases there. Parts come in groups
(a limb, the trunk, the head) that the renderer shades as one, so a limb has no seams at its joints.

Drawing order (depth, :func:`drawing_order`): legs (under the nappy), torso, nappy, neck, head and
face, then arms (over the body, so hands can cross the chest or face). Two arms or two legs are
ordered by how far each is raised towards the camera (the ``lift_*`` signals of
:mod:`benchmark.data.synth.motion`). On a rolled infant the lower side's limbs sink under the
trunk, and the trunk narrows a little (an elliptic cross-section :data:`TRUNK_DEPTH` as deep as wide).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from benchmark.data.synth.body import FACE, Body, across, direction, facing
from benchmark.data.synth.style import Style

# Materials: indices into a video's colour table (some filled from textures by the renderer).
(BACKGROUND, SKIN, SKIN_SHADE, HAIR, HAT, TOP, BOTTOM, DIAPER,
 EYE, IRIS, DARK, LIP, MOUTH, BROW, TOP_CREASE, BOTTOM_CREASE) = range(16)
MATERIALS = 16

CORES = (0.68, 0.32)  # relative size of the shading cores
TRUNK_DEPTH = 0.8  # the trunk's front-to-back depth over its width
DEPTH = {"leg": -2.0, "torso": -0.6, "nappy": -0.5, "head": 0.0, "arm": 1.0}  # plus lift, in [0, 1]
UNDER = 3.0  # how far a lower-side limb sinks (times sin(roll)): under the trunk beyond ~35 deg


@dataclass(frozen=True)
class Part:
    """A filled polygon ``(n, 2)`` in cm; ``cores`` are its shading layers (none: unshaded)."""

    material: int
    outline: np.ndarray
    cores: tuple[np.ndarray, ...] = ()


def unit(v: np.ndarray) -> np.ndarray:
    """``v`` scaled to length 1 (a zero vector stays tiny instead of dividing by zero)."""
    return v / max(float(np.hypot(*v)), 1e-9)


def capsule(p: np.ndarray, q: np.ndarray, r1: float, r2: float, n: int = 9) -> np.ndarray:
    """Tapered capsule from ``p`` (radius ``r1``) to ``q`` (radius ``r2``) as a polygon."""
    d = unit(q - p)
    side = np.array([-d[1], d[0]])
    t = np.linspace(-np.pi / 2, np.pi / 2, n)[:, None]
    front = q + r2 * (np.cos(t) * d + np.sin(t) * side)
    back = p - r1 * (np.cos(t) * d + np.sin(t) * side)
    return np.concatenate([front, back])


def ellipse(centre: np.ndarray, axis: float, a: float, b: float, n: int = 24) -> np.ndarray:
    """Ellipse polygon: half-axis ``a`` along ``direction(axis)``, ``b`` across it."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)[:, None]
    return centre + a * np.cos(t) * direction(axis) + b * np.sin(t) * across(axis)


def smooth(polygon: np.ndarray, iterations: int = 2) -> np.ndarray:
    """Chaikin corner cutting of a closed polygon."""
    for _ in range(iterations):
        nxt = np.roll(polygon, -1, axis=0)
        polygon = np.stack([0.75 * polygon + 0.25 * nxt, 0.25 * polygon + 0.75 * nxt], 1).reshape(-1, 2)
    return polygon


def clip(polygon: np.ndarray, convex: np.ndarray) -> np.ndarray:
    """Intersection of the convex hulls of two polygons (empty ``(0, 2)`` if they do not overlap).
    Hulls first: a tapered capsule is slightly concave where its arcs meet its sides, which
    ``cv2.intersectConvexConvex`` does not handle."""
    hulls = [cv2.convexHull(p.astype(np.float32)) for p in (polygon, convex)]
    area, inter = cv2.intersectConvexConvex(*hulls)
    return inter.reshape(-1, 2).astype(float) if area > 0 else np.zeros((0, 2))


def shaded_capsule(material: int, p, q, r1: float, r2: float, light: np.ndarray) -> Part:
    """A capsule with cores shifted towards ``light`` (unit vector, body frame)."""
    shift = light * (r1 + r2) / 2
    cores = tuple(capsule(p + shift * (1 - k) * 0.5, q + shift * (1 - k) * 0.5, r1 * k, r2 * k)
                  for k in CORES)
    return Part(material, capsule(p, q, r1, r2), cores)


def shaded_blob(material: int, polygon: np.ndarray, light: np.ndarray, size: float) -> Part:
    """A rounded polygon with cores scaled about its centroid and shifted towards ``light``."""
    centre = polygon.mean(axis=0)
    cores = tuple(centre + light * size * (1 - k) * 0.5 + k * (polygon - centre) for k in CORES)
    return Part(material, polygon, cores)


def _profile(p: dict, body: Body, stations: list[tuple[float, float]]) -> np.ndarray:
    """Closed outline through half-widths at stations ``(t, half_width)`` along the trunk, where
    ``t`` runs from the shoulder line (0) to the hip line (1) and beyond; left side down, right
    side up. Each station uses a blend of the shoulder and hip lines' directions."""
    neck, pelvis = p["Neck"], p["Pelvis"]
    side_s = unit(p["Shoulder_L"] - p["Shoulder_R"])
    side_h = unit(p["Hip_L"] - p["Hip_R"])
    down_h = np.array([-side_h[1], side_h[0]])  # towards the feet
    left, right = [], []
    for t, half in stations:
        mid = neck + t * (pelvis - neck) if t <= 1 else pelvis + (t - 1) * body.trunk * down_h
        side = unit((1 - np.clip(t, 0, 1)) * side_s + np.clip(t, 0, 1) * side_h)
        left.append(mid + half * side)
        right.append(mid - half * side)
    return np.array(left + right[::-1])


def torso_outline(p: dict, body: Body, width: float = 1.0) -> np.ndarray:
    """Barrel-shaped infant trunk: narrow shoulders, round belly, wide nappy hips; ``width``
    scales it across (a rolled trunk)."""
    s, h, r = (width * v for v in (body.shoulder_width / 2, body.hip_width / 2, body.thigh_radius))
    stations = [(-0.12, 0.5 * s), (-0.06, s), (0.02, s + 0.5 * body.arm_radius), (0.3, 1.12 * s),
                (0.6, 1.18 * s), (0.85, h + 0.75 * r), (1.05, h + 0.6 * r), (1.18, 0.5 * h)]
    return smooth(_profile(p, body, stations))


def nappy_outline(p: dict, body: Body, width: float = 1.0) -> np.ndarray:
    """Bulky nappy (or the clothes over it) around the hips and the tops of the thighs; ``width``
    scales it across."""
    s, h, r = (width * v for v in (body.shoulder_width / 2, body.hip_width / 2, body.thigh_radius))
    stations = [(0.62, 1.22 * s), (0.9, h + 1.1 * r), (1.08, h + 0.95 * r), (1.2, 0.85 * h),
                (1.3, 0.35 * h)]
    return smooth(_profile(p, body, stations))


def _cover(limb_start, limb_mid, limb_end, reach: float):
    """Segments of a two-segment limb covered by a sleeve reaching ``reach`` segments."""
    if reach <= 0:
        return []
    if reach <= 1:
        return [(limb_start, limb_start + reach * (limb_mid - limb_start), 0)]
    return [(limb_start, limb_mid, 0), (limb_mid, limb_mid + (reach - 1) * (limb_end - limb_mid), 1)]


def creases(material: int, joint, before, after, radius: float) -> list[Part]:
    """Fabric creases where a sleeve or trouser leg bends: two short lines across the limb at
    the joint, pushed towards the inside of the bend."""
    axis = unit(after - before)
    normal = np.array([-axis[1], axis[0]])
    inside = unit(before - joint) + unit(after - joint)  # zero for a straight limb
    centre = joint + 0.3 * radius * inside
    return [Part(material, capsule(c - 0.75 * radius * normal, c + 0.75 * radius * normal, 0.12 * radius,
                                   0.12 * radius, 5))
            for c in (centre - 0.35 * radius * axis, centre + 0.35 * radius * axis)]


def arm(p: dict, a: dict, body: Body, style: Style, side: str, light) -> list[Part]:
    """Upper arm, forearm, sleeve and hand (palm, fingers opening with ``hand_*``, thumb)."""
    s = 1.0 if side == "L" else -1.0
    sh, el, wr, mp = (p[f"{k}_{side}"] for k in ("Shoulder", "Elbow", "Wrist", "MP_joint"))
    radii = (body.arm_radius, body.elbow_radius, body.wrist_radius)
    parts = [shaded_capsule(SKIN, sh, el, radii[0], radii[1], light),
             shaded_capsule(SKIN, el, wr, 0.95 * radii[1], radii[2], light)]
    for start, end, segment in _cover(sh, el, wr, style.sleeves):
        parts.append(shaded_capsule(TOP, start, end, radii[segment] + 0.3, radii[segment + 1] + 0.35,
                                    light))
    if style.sleeves > 1:
        parts += creases(TOP_CREASE, el, sh, wr, radii[1] + 0.3)

    d = unit(mp - wr)
    out = s * np.array([d[1], -d[0]])  # thumb side
    hand = float(np.hypot(*(mp - wr)))
    fingers = mp + d * hand * (0.35 + 0.5 * a[f"hand_{side}"])
    thumb = wr + d * 0.45 * hand + out * 0.8 * radii[2]
    thumb_tip = thumb + (0.7 * d + 0.5 * out) * 0.55 * hand
    parts += [shaded_capsule(SKIN, thumb, thumb_tip, 0.3 * hand, 0.22 * hand, light),
              shaded_capsule(SKIN, wr, mp, 0.95 * radii[2], 0.5 * hand, light),
              shaded_capsule(SKIN, mp, fingers, 0.42 * hand, 0.36 * hand, light)]
    return parts


def leg(p: dict, a: dict, body: Body, style: Style, side: str, light) -> list[Part]:
    """Shank, foot and thigh (the thigh over the rest, as a flexed hip lifts it), trousers."""
    hip, knee, ankle, mtp = (p[f"{k}_{side}"] for k in ("Hip", "Knee", "Ankle", "MTP_joint"))
    radii = (body.thigh_radius, body.knee_radius, body.ankle_radius)
    material = BOTTOM if style.clothing == "two_piece" else TOP
    covered = _cover(hip, knee, ankle, style.legs)
    d = unit(mtp - ankle)
    foot = float(np.hypot(*(mtp - ankle)))
    parts = [shaded_capsule(SKIN, knee, ankle, 0.95 * radii[1], radii[2], light)]
    parts += [shaded_capsule(material, s, e, radii[1] + 0.3, radii[2] + 0.3, light)
              for s, e, seg in covered if seg == 1]
    parts += [shaded_capsule(SKIN, ankle - 0.2 * foot * d, mtp + 0.3 * foot * d,
                             0.9 * radii[2], 1.2 * radii[2], light),
              shaded_capsule(SKIN, hip, knee, radii[0], radii[1], light)]
    parts += [shaded_capsule(material, s, e, radii[0] + 0.3, radii[1] + 0.3, light)
              for s, e, seg in covered if seg == 0]
    if style.legs > 1:
        parts += creases(BOTTOM_CREASE if material == BOTTOM else TOP_CREASE, knee, hip, ankle, radii[1] + 0.3)
    return parts


def _face(centre, axis, ha: float, hb: float, yaw: float, pitch: float, style: Style,
          outline: np.ndarray) -> list[Part]:
    """Skin of the face over the head's hair or hat, with wisps of hair over the hairline."""
    down, side = direction(axis), across(axis)
    top = ha * np.sin(style.hairline + pitch)
    half_a, half_b = (1.05 * ha - top) / 2, (1.15 if style.cover == "hat" else 0.9) * hb
    middle = centre + (top + 1.05 * ha) / 2 * down + 0.85 * hb * np.sin(yaw) * side
    parts = [Part(SKIN, clip(ellipse(middle, axis, half_a, half_b, 32), outline))]
    if style.cover != "hat":
        for k, t in enumerate(np.linspace(-0.9, 0.9, 7)):
            root = middle - half_a * np.cos(t) * down + half_b * np.sin(t) * side
            wisp = 0.35 + 0.25 * abs(np.sin(3.7 * k))  # irregular lengths, cm
            tip = root + wisp * (np.cos(t) * down - 0.4 * np.sin(t) * side)
            parts.append(Part(HAIR, clip(capsule(root, tip, 0.3, 0.08, 5), outline)))
    return parts


def _features(p: dict, axis: float, hb: float, yaw: float, eyes_open: bool) -> list[Part]:
    """Brows, eyes (open or closed), nose and lips at the facial keypoints; features narrow as
    the face turns away (``facing``), an eye turned away from the camera is not drawn."""
    down, side = direction(axis), across(axis)
    parts = []
    for name in ("L", "R"):
        eye, f = p[f"Eye_{name}"], float(facing(yaw, FACE[f"Eye_{name}"][0]))
        if f <= 0:
            continue
        f = max(f, 0.15)
        parts.append(Part(BROW, ellipse(p[f"Brow_{name}"], axis, 0.12 + 0.02 * hb, 0.75 * f)))
        if eyes_open:
            white = ellipse(eye, axis, 0.32, 0.75 * f)
            iris = clip(ellipse(eye + 0.2 * np.sin(yaw) * side, axis, 0.3, 0.32 * f), white)
            parts += [Part(DARK, ellipse(eye, axis, 0.4, 0.85 * f)), Part(EYE, white), Part(IRIS, iris)]
        else:
            parts.append(Part(DARK, ellipse(eye + 0.06 * down, axis, 0.09, 0.72 * f, 12)))

    nose, upper, lower = p["Nose"], p["Upper_Lip"], p["Lower_Lip"]
    f = max(float(np.cos(yaw)), 0.3)
    parts.append(Part(SKIN_SHADE, ellipse(nose + 0.25 * down, axis, 0.4, 0.75 * f)))
    parts += [Part(DARK, ellipse(nose + 0.35 * down + k * 0.3 * f * side, axis, 0.12, 0.16, 10))
              for k in (-1, 1)]
    gap = float(np.hypot(*(lower - upper)))
    return parts + [Part(MOUTH, ellipse((upper + lower) / 2, axis, gap / 2 + 0.12, 0.6 * f)),
                    Part(LIP, ellipse(upper, axis, 0.2, 0.85 * f)),
                    Part(LIP, ellipse(lower, axis, 0.25, 0.7 * f))]


def head(p: dict, a: dict, body: Body, style: Style, light) -> list[Part]:
    """Ears, head with hair or hat, face and its features, at the keypoints of :mod:`.body`.
    An ear turned towards the camera is drawn over the head, the other one behind it."""
    centre = p["Head_Centre"]
    axis = float(np.arctan2(*(p["Chin"] - p["Head"])))  # direction() convention: atan2(x, y)
    ha, hb = body.head_length / 2, body.head_width / 2
    outline = ellipse(centre, axis, ha, hb, 32)

    behind, front = [], []
    for ear in ("Ear_L", "Ear_R"):
        f = facing(a["yaw"], FACE[ear][0])
        shape = ellipse(p[ear], axis, 0.16 * ha + 0.8, 0.06 * hb + 0.35 + 0.5 * max(f, 0))
        (front if f > 0.3 else behind).append(shaded_blob(SKIN, shape, light, 0.6))

    cover = {"hair": HAIR, "sparse": HAIR, "hat": HAT}.get(style.cover, SKIN)
    parts = behind + [shaded_blob(cover, outline, light, hb)]
    if cover != SKIN:
        parts += _face(centre, axis, ha, hb, a["yaw"], a["pitch"], style, outline)
    return parts + _features(p, axis, hb, a["yaw"], a["eyes"] > 0.45) + front


def drawing_order(a: dict[str, float]) -> list[str]:
    """Names of the part groups of a frame with angles and drawing signals ``a``, back to front:
    each at its :data:`DEPTH`, a limb raised by its ``lift``, a lower-side limb of a rolled trunk
    sunk by ``UNDER * sin(roll)``."""
    depth = {name: DEPTH[name] for name in ("torso", "nappy", "head")}
    for side, s in (("L", 1.0), ("R", -1.0)):
        lower = max(0.0, s * float(np.sin(a["roll"])))  # roll > 0: the left side is lower
        for limb in ("leg", "arm"):
            depth[f"{limb}_{side}"] = DEPTH[limb] + a[f"lift_{limb}_{side}"] - UNDER * lower
    return sorted(depth, key=depth.get)


def figure(p: dict[str, np.ndarray], a: dict[str, float], body: Body, style: Style,
           light: np.ndarray) -> list[list[Part]]:
    """Groups of parts of one frame, back to front (:func:`drawing_order`). ``p``: named points of
    :func:`.body.skeleton` for the frame, ``a``: its angles and drawing signals, ``light``: unit
    vector towards the light (body frame)."""
    trunk = SKIN if style.clothing == "diaper" else TOP
    nappy = {"diaper": DIAPER, "two_piece": BOTTOM}.get(style.clothing, TOP)
    width = float(np.hypot(np.cos(a["roll"]), TRUNK_DEPTH * np.sin(a["roll"])))
    neck = shaded_capsule(SKIN, p["Neck"], p["Chin"], 0.25 * body.head_width, 0.25 * body.head_width,
                          light)
    torso = shaded_blob(trunk, torso_outline(p, body, width), light, width * body.shoulder_width / 2)
    groups = {"torso": [neck, torso],
              "nappy": [shaded_blob(nappy, nappy_outline(p, body, width), light, width * body.hip_width / 2)],
              "head": head(p, a, body, style, light)}
    for side in ("L", "R"):
        groups[f"leg_{side}"] = leg(p, a, body, style, side, light)
        groups[f"arm_{side}"] = arm(p, a, body, style, side, light)
    return [groups[name] for name in drawing_order(a)]
