"""Joint-angle trajectories: smooth, band-limited infant movement.

Every angle is ``centre + half_range * tanh((mean + writhing + fidgety - centre) / half_range)``:
a per-video resting posture (``mean``) plus two band-limited noise processes, squashed smoothly
into the joint's range. *Writhing*-like movement is large and slow (0.2-1 Hz); *fidgety*-like
movement is small and quicker (1-3 Hz); each video draws its own mix. Band-limited noise is a sum
of sinusoids with random frequencies in the band (so the spectrum lies within 0.2-3 Hz) and random
phases, a continuous function of time that can be sampled at any frame. A slower drift
(0.05-0.2 Hz) moves the whole body a little on the mat.

A per-video :class:`Posture` adds what a supine resting pose lacks: a roll of the trunk about its
long axis (a quarter of the videos lie on a side, rolled 35-63 degrees and drifting slowly, up to
70; the rest within 9 degrees of supine), the face turned with it, and in 30 % of the videos one
limb resting across the body's midline (an arm across the chest or a leg crossed over the other).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WRITHING_BAND = (0.2, 1.0)  # Hz
FIDGETY_BAND = (1.0, 3.0)  # Hz
DRIFT_BAND = (0.05, 0.2)  # Hz
COMPONENTS = 6  # sinusoids per band-limited process

# name: (low, high, resting mean range, writhing amplitude, fidgety amplitude); radians or cm.
# Signs follow benchmark.data.synth.body: positive shoulder/hip angles abduct, positive elbow angles
# swing the forearm up past the side (hand to head), negative ones across the body; negative shoulder
# and hip angles bring the limb across the midline; positive knee angles fold the shank towards it.
JOINTS: dict[str, tuple[float, float, tuple[float, float], float, float]] = {
    "root_x": (-4.0, 4.0, (0.0, 0.0), 1.2, 0.0),
    "root_y": (-4.0, 4.0, (0.0, 0.0), 1.2, 0.0),
    "root_rot": (-0.3, 0.3, (0.0, 0.0), 0.06, 0.0),
    "trunk": (-0.25, 0.25, (-0.08, 0.08), 0.06, 0.015),
    "pelvis": (-0.25, 0.25, (-0.08, 0.08), 0.06, 0.015),
    "neck": (-0.55, 0.55, (-0.25, 0.25), 0.15, 0.03),
    "yaw": (-1.45, 1.45, (-0.7, 0.7), 0.3, 0.05),
    "pitch": (-0.3, 0.3, (-0.1, 0.1), 0.08, 0.02),
    "mouth": (0.0, 1.0, (0.05, 0.4), 0.3, 0.1),
    **{f"shoulder_{s}": (-0.9, 2.7, (0.35, 1.5), 0.45, 0.10) for s in "LR"},
    **{f"elbow_{s}": (-2.6, 2.6, (-1.6, 2.0), 0.5, 0.12) for s in "LR"},
    **{f"wrist_{s}": (-0.8, 0.8, (-0.3, 0.3), 0.3, 0.10) for s in "LR"},
    **{f"hip_{s}": (-0.8, 1.2, (0.15, 0.7), 0.25, 0.06) for s in "LR"},
    **{f"knee_{s}": (-0.6, 1.9, (0.2, 1.4), 0.4, 0.08) for s in "LR"},
    **{f"ankle_{s}": (-0.8, 0.8, (-0.3, 0.3), 0.3, 0.08) for s in "LR"},
    # Drawing-only signals in [0, 1]: eyes open, hand open, and how far a limb is raised
    # towards the camera (decides which of two crossing limbs is drawn on top).
    "eyes": (0.0, 1.0, (0.2, 0.8), 0.5, 0.0),
    **{f"hand_{s}": (0.0, 1.0, (0.2, 0.6), 0.4, 0.1) for s in "LR"},
    **{f"lift_{limb}": (0.0, 1.0, (0.3, 0.7), 0.4, 0.05) for limb in ("arm_L", "arm_R", "leg_L", "leg_R")},
}
DRIFT = ("root_x", "root_y", "root_rot")

SIDE_LYING = 0.25  # fraction of videos with the infant on a side
SIDE_ROLL = (0.6, 1.1)  # rad: resting roll of a side-lying infant (35-63 deg), either side
SUPINE_ROLL = 0.15  # rad: the others' resting roll is within +-this (9 deg)
ROLL_DRIFT = 0.08  # rad RMS: slow roll about the resting one (DRIFT_BAND)
ROLL_MAX = 1.22  # rad (70 deg): the roll is clipped to +-this
CROSSING_FRACTION = 0.3  # fraction of videos with one limb resting across the midline
CROSSING_LIMBS = ("arm_L", "arm_R", "leg_L", "leg_R")
# Resting-mean ranges of a crossing limb's joints (replacing those of JOINTS): an arm adducted
# across the chest with the elbow bent, or a leg adducted over the other one.
CROSSING = {"arm": {"shoulder": (-0.75, -0.3), "elbow": (-1.8, -0.6)},
            "leg": {"hip": (-0.65, -0.35), "knee": (0.0, 0.6)}}


@dataclass(frozen=True)
class Posture:
    """A video's resting posture: ``roll`` (rad) of the trunk about its long axis (> 0: its front
    turned towards the infant's left, lying on its left side) and the limb resting across the
    midline (``crossing``: one of :data:`CROSSING_LIMBS` or ``"none"``)."""

    roll: float = 0.0
    crossing: str = "none"

    def means(self) -> dict[str, tuple[float, float]]:
        """Resting-mean ranges that replace those of :data:`JOINTS`: the face turned with the trunk,
        the crossing limb's joints, and that limb lifted (drawn over its partner)."""
        low, high = JOINTS["yaw"][2]
        means = {"yaw": (low + self.roll, high + self.roll)}
        if self.crossing != "none":
            limb, side = self.crossing.split("_")
            means.update({f"{joint}_{side}": band for joint, band in CROSSING[limb].items()})
            means[f"lift_{self.crossing}"] = (0.8, 1.0)
        return means


def sample_posture(rng: np.random.Generator) -> Posture:
    """A random :class:`Posture`: on a side with probability :data:`SIDE_LYING`, a crossing limb
    with probability :data:`CROSSING_FRACTION`."""
    if rng.uniform() < SIDE_LYING:
        roll = rng.choice((-1.0, 1.0)) * rng.uniform(*SIDE_ROLL)
    else:
        roll = rng.uniform(-SUPINE_ROLL, SUPINE_ROLL)
    crossing = str(rng.choice(CROSSING_LIMBS)) if rng.uniform() < CROSSING_FRACTION else "none"
    return Posture(float(roll), crossing)


def describe_posture() -> dict:
    """The posture distribution for ``synth.json`` (angles in degrees)."""
    def degrees(angle: float) -> float:
        return round(float(np.degrees(angle)), 1)

    return {"side_lying": SIDE_LYING, "side_roll_deg": [degrees(r) for r in SIDE_ROLL],
            "supine_roll_deg": degrees(SUPINE_ROLL), "roll_max_deg": degrees(ROLL_MAX),
            "crossing": CROSSING_FRACTION, "crossing_limbs": list(CROSSING_LIMBS),
            "recorded": "video_settings[].roll_deg (resting; > 0: lying on the left side), "
                        "roll_range_deg (over the labelled frames), crossing (limb or none)"}


def band_limited(rng: np.random.Generator, times: np.ndarray, band: tuple[float, float],
                 components: int = COMPONENTS) -> np.ndarray:
    """Unit-RMS noise with its spectrum inside ``band`` (Hz), sampled at ``times`` (s): a sum of
    sinusoids with log-uniform frequencies, random phases and 1/sqrt(f)-weighted amplitudes."""
    freqs = np.exp(rng.uniform(np.log(band[0]), np.log(band[1]), components))
    phases = rng.uniform(0, 2 * np.pi, components)
    amps = rng.rayleigh(1.0, components) / np.sqrt(freqs)
    signal = np.sin(2 * np.pi * np.outer(times, freqs) + phases) @ amps
    return signal / np.sqrt(np.sum(amps ** 2) / 2)


def squash(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """Smoothly map the real line into ``(low, high)``; near-identity around the centre."""
    centre, half = (low + high) / 2, (high - low) / 2
    return centre + half * np.tanh((x - centre) / half)


def joint_angles(rng: np.random.Generator, times: np.ndarray, writhing: float = 1.0,
                 fidgety: float = 0.5, posture: Posture = Posture()) -> dict[str, np.ndarray]:
    """Trajectories ``(T,)`` of every entry of :data:`JOINTS` and of ``roll`` at ``times`` (s);
    ``writhing`` and ``fidgety`` scale the two movement components for this video, ``posture``
    sets the roll and replaces some resting means (:meth:`Posture.means`)."""
    means = posture.means()
    angles = {}
    for name, (low, high, mean_range, writhing_amp, fidgety_amp) in JOINTS.items():
        mean = rng.uniform(*means.get(name, mean_range))
        if name in DRIFT:
            motion = writhing_amp * band_limited(rng, times, DRIFT_BAND)
        else:
            motion = (writhing * writhing_amp * band_limited(rng, times, WRITHING_BAND)
                      + fidgety * fidgety_amp * band_limited(rng, times, FIDGETY_BAND))
        angles[name] = squash(mean + motion, low, high)
    roll = posture.roll + ROLL_DRIFT * band_limited(rng, times, DRIFT_BAND)
    angles["roll"] = np.clip(roll, -ROLL_MAX, ROLL_MAX)
    return angles
