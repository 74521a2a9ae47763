"""Infant body model: proportions of a 0-6 month infant and its 2-D skeleton seen from above.

Coordinates are centimetres in the *body frame* of a supine infant filmed from above, face up:
origin at the pelvis centre, +x towards the infant's left (the viewer's right), +y towards the
feet. A direction is an angle measured from "towards the feet" (+y) turning towards the infant's
left (+x): ``direction(a) = (sin a, cos a)``. Mirroring the formulas of the left side
(``x -> -x``, angles negated) gives the right side.

Segment lengths are fixed for a video; the skeleton is a planar kinematic chain (no
foreshortening), so every limb keeps its length in every frame. The only foreshortening is the
trunk's roll about its long axis (a side-lying infant): it narrows the shoulder and hip lines by
``cos(roll)``. The reference proportions (crown-heel 55 cm, about one month) follow infant growth
data: head about a quarter of body length, narrow shoulders, short chubby limbs.
:func:`sample_body` draws an age of 0-6 months, a length around the median for that age, and
proportions that change with age (:data:`AGE_TREND`: relatively smaller head, longer and fuller
limbs) and per infant (chubbiness, a few per cent per segment).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

REFERENCE_LENGTH = 55.0  # crown-heel length (cm) of the proportions below
REFERENCE_AGE = 1.0  # months
AGE_RANGE = (0.0, 6.0)  # months, drawn uniformly
# Median crown-heel length (cm) at 0, 1, ..., 6 months (WHO growth standards, girls and boys averaged).
MEDIAN_LENGTH = (49.5, 54.1, 57.6, 60.5, 62.9, 64.9, 66.6)
LENGTH_SPREAD = 0.035  # an infant's length: the median times 1 + N(0, spread), cut at 2 SD
LENGTH_RANGE = (MEDIAN_LENGTH[0] * (1 - 2 * LENGTH_SPREAD), MEDIAN_LENGTH[-1] * (1 + 2 * LENGTH_SPREAD))
CHUBBINESS_RANGE = (0.88, 1.12)  # an infant's limb radii factor, drawn uniformly

# Reference segment sizes (cm): lengths between joint centres and drawing radii. Joint centres of
# the shoulders are about half a trunk length apart, the head is as wide as the shoulders.
REFERENCE = dict(
    head_length=13.5, head_width=11.0, neck=1.8, trunk=18.5, shoulder_width=10.5, hip_width=7.0,
    upper_arm=7.8, forearm=6.8, hand=3.0, thigh=9.8, shank=9.0, foot=3.2,
    arm_radius=2.2, elbow_radius=1.9, wrist_radius=1.45,
    thigh_radius=3.6, knee_radius=2.8, ankle_radius=1.7,
)
RADII = ("arm_radius", "elbow_radius", "wrist_radius", "thigh_radius", "knee_radius", "ankle_radius")
# Change per month of age of a segment's size relative to body length (a fraction of the reference
# proportion): the head grows slower than the body, the limbs faster, and the limbs fill out.
# Newborn to six months: head 1.01 -> 0.94, limbs 0.99 -> 1.06, radii 0.99 -> 1.08 of the reference.
AGE_TREND = {
    **dict.fromkeys(("head_length", "head_width"), -0.012),
    **dict.fromkeys(("upper_arm", "forearm", "hand", "thigh", "shank", "foot"), 0.012),
    **dict.fromkeys(RADII, 0.015),
}

# Facial points on the head, as (lateral angle, vertical angle, radius factor) on an ellipsoid
# facing the camera: see head_point. Eyes sit a fifth of the half-length below the head centre.
FACE = {
    "Eye_L": (0.40, 0.22, 1.0), "Eye_R": (-0.40, 0.22, 1.0),
    "Brow_L": (0.42, 0.05, 1.0), "Brow_R": (-0.42, 0.05, 1.0),
    "Nose": (0.0, 0.45, 1.12),
    "Upper_Lip": (0.0, 0.72, 1.02),
    "Ear_L": (np.pi / 2, 0.22, 1.02), "Ear_R": (-np.pi / 2, 0.22, 1.02),
}


@dataclass(frozen=True)
class Body:
    """Segment sizes (cm) of one infant aged ``age`` months; ``length`` is the crown-heel length."""

    age: float
    length: float
    chubbiness: float
    head_length: float
    head_width: float
    neck: float
    trunk: float
    shoulder_width: float
    hip_width: float
    upper_arm: float
    forearm: float
    hand: float
    thigh: float
    shank: float
    foot: float
    arm_radius: float
    elbow_radius: float
    wrist_radius: float
    thigh_radius: float
    knee_radius: float
    ankle_radius: float


def median_length(age: float) -> float:
    """Median crown-heel length (cm) at ``age`` months (:data:`MEDIAN_LENGTH`, interpolated)."""
    return float(np.interp(age, np.arange(len(MEDIAN_LENGTH)), MEDIAN_LENGTH))


def segment_size(name: str, age: float, length: float, chubbiness: float = 1.0) -> float:
    """A segment's size (cm) for an infant of ``age`` months and ``length`` cm: the reference
    scaled by length, times its :data:`AGE_TREND`, radii times ``chubbiness``."""
    trend = 1 + AGE_TREND.get(name, 0.0) * (age - REFERENCE_AGE)
    return REFERENCE[name] * length / REFERENCE_LENGTH * trend * (chubbiness if name in RADII else 1.0)


def sample_body(rng: np.random.Generator, variation: float = 0.04) -> Body:
    """A random infant: age uniform in :data:`AGE_RANGE`, length around the median for that age
    (:data:`LENGTH_SPREAD`), chubbiness uniform in :data:`CHUBBINESS_RANGE`, each segment's size
    (:func:`segment_size`) times ``1 + N(0, variation)``."""
    age = rng.uniform(*AGE_RANGE)
    length = median_length(age) * (1 + LENGTH_SPREAD * np.clip(rng.standard_normal(), -2, 2))
    chubbiness = rng.uniform(*CHUBBINESS_RANGE)
    sizes = {name: segment_size(name, age, length, chubbiness) * (1 + variation * rng.standard_normal())
             for name in REFERENCE}
    return Body(age=float(age), length=float(length), chubbiness=float(chubbiness), **sizes)


def direction(angle: np.ndarray) -> np.ndarray:
    """Unit vectors ``(..., 2)`` at ``angle`` from +y (feet) towards +x (infant's left)."""
    angle = np.asarray(angle, dtype=float)
    return np.stack([np.sin(angle), np.cos(angle)], axis=-1)


def across(angle: np.ndarray) -> np.ndarray:
    """Unit vectors pointing to the infant's left of a segment whose "down" is ``angle``."""
    return direction(np.asarray(angle) + np.pi / 2)


def head_point(centre, axis, body: Body, yaw, pitch, lateral, vertical, radius=1.0) -> np.ndarray:
    """Image of a point on the head ellipsoid (half-axes: length/2 along the head, width/2 across).

    ``lateral``/``vertical`` are the point's angles from the face centre on a head that looks
    straight at the camera; ``yaw`` turns the face towards the infant's left, ``pitch`` nods the
    chin down. Orthographic projection: u = b cos(v') sin(l'), v = a sin(v').
    """
    a, b = body.head_length / 2, body.head_width / 2
    lat, ver = lateral + np.asarray(yaw), vertical + np.asarray(pitch)
    u = radius * b * np.cos(ver) * np.sin(lat)
    v = radius * a * np.sin(ver)
    return centre + u[..., None] * across(axis) + v[..., None] * direction(axis)


def facing(yaw, lateral) -> np.ndarray:
    """Cosine between a head point's normal and the camera axis (> 0: the point is visible)."""
    return np.cos(lateral + np.asarray(yaw))


def skeleton(body: Body, angles: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Named points ``(T, 2)`` in the body frame (cm) for joint-angle trajectories ``(T,)``.

    Returns the 22 keypoints of :mod:`benchmark.study.keypoints` plus drawing helpers: ``Neck``
    (shoulders' midpoint), ``Pelvis``, ``Chin``, ``Head_Centre``, brows and ears. Angle names are
    those of :data:`benchmark.data.synth.motion.JOINTS` and ``roll``, the trunk's roll about its
    long axis, which narrows the shoulder and hip lines by ``cos(roll)``.
    """
    pelvis = np.stack([angles["root_x"], angles["root_y"]], axis=-1)
    trunk_dir = angles["root_rot"] + angles["trunk"]
    pelvis_dir = angles["root_rot"] + angles["pelvis"]
    neck = pelvis - body.trunk * direction(trunk_dir)
    narrow = np.cos(angles["roll"])[..., None]
    p = {"Pelvis": pelvis, "Neck": neck}

    for side, s in (("L", 1.0), ("R", -1.0)):
        shoulder = neck + s * body.shoulder_width / 2 * narrow * across(trunk_dir)
        upper = trunk_dir + s * angles[f"shoulder_{side}"]
        elbow = shoulder + body.upper_arm * direction(upper)
        fore = upper + s * angles[f"elbow_{side}"]
        wrist = elbow + body.forearm * direction(fore)
        palm = wrist + body.hand * direction(fore + s * angles[f"wrist_{side}"])

        hip = pelvis + s * body.hip_width / 2 * narrow * across(pelvis_dir)
        thigh = pelvis_dir + s * angles[f"hip_{side}"]
        knee = hip + body.thigh * direction(thigh)
        shank = thigh - s * angles[f"knee_{side}"]
        ankle = knee + body.shank * direction(shank)
        sole = ankle + body.foot * direction(shank + s * angles[f"ankle_{side}"])
        p.update({f"Shoulder_{side}": shoulder, f"Elbow_{side}": elbow, f"Wrist_{side}": wrist,
                  f"MP_joint_{side}": palm, f"Hip_{side}": hip, f"Knee_{side}": knee,
                  f"Ankle_{side}": ankle, f"MTP_joint_{side}": sole})

    axis = trunk_dir + angles["neck"]
    a = body.head_length / 2
    p["Chin"] = neck - body.neck * direction(axis)
    p["Head_Centre"] = p["Chin"] - a * direction(axis)
    p["Head"] = p["Head_Centre"] - a * direction(axis)
    yaw, pitch = angles["yaw"], angles["pitch"]
    for name, (lateral, vertical, radius) in FACE.items():
        p[name] = head_point(p["Head_Centre"], axis, body, yaw, pitch, lateral, vertical, radius)
    lower = FACE["Upper_Lip"][1] + 0.10 + 0.12 * angles["mouth"]
    p["Lower_Lip"] = head_point(p["Head_Centre"], axis, body, yaw, pitch, 0.0, lower, 1.0)
    return p
