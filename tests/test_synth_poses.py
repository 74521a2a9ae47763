"""The synthetic infants' ages and proportions, side-lying rolls and limbs crossing the midline."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmark.data.synth import generate_dataset
from benchmark.data.synth.body import (
    AGE_RANGE,
    CHUBBINESS_RANGE,
    LENGTH_RANGE,
    REFERENCE,
    sample_body,
    segment_size,
    skeleton,
)
from benchmark.data.synth.motion import (
    CROSSING_FRACTION,
    CROSSING_LIMBS,
    ROLL_MAX,
    SIDE_LYING,
    Posture,
    joint_angles,
)
from benchmark.data.synth.parts import drawing_order

ENDS = {"arm": "Wrist", "leg": "Ankle"}
TIMES = np.arange(0, 20, 0.2)


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> list[dict]:
    """Per-video settings of a dataset of many one-frame videos, DomainShift included."""
    root = tmp_path_factory.mktemp("poses") / "data"
    generate_dataset(root, videos=54, frames_per_video=1, size=64, seed=2, domain_shift_videos=12,
                     workers=1, progress=False)
    return json.loads((root / "synth.json").read_text())["video_settings"]


def crossed(points: dict, limb: str) -> np.ndarray:
    """Per frame: is the limb's wrist or ankle on the other side of the neck-pelvis midline?"""
    kind, side = limb.split("_")
    towards_feet = points["Pelvis"] - points["Neck"]
    left = np.stack([towards_feet[:, 1], -towards_feet[:, 0]], axis=-1)  # towards the infant's left
    offset = np.sum((points[f"{ENDS[kind]}_{side}"] - points["Neck"]) * left, axis=-1)
    return offset * (1 if side == "L" else -1) < 0


def posed(seed: int, posture: Posture) -> tuple[dict, dict]:
    rng = np.random.default_rng([seed, 7])
    body = sample_body(rng)
    angles = joint_angles(rng, TIMES, posture=posture)
    return skeleton(body, angles), angles


def test_ages_rolls_and_crossings_cover_the_documented_ranges(videos):
    ages = [v["age_months"] for v in videos]
    assert AGE_RANGE[0] <= min(ages) < 0.5 and 5.5 < max(ages) <= AGE_RANGE[1]
    assert all(LENGTH_RANGE[0] <= v["body_length_cm"] <= LENGTH_RANGE[1] for v in videos)
    assert all(CHUBBINESS_RANGE[0] <= v["chubbiness"] <= CHUBBINESS_RANGE[1] for v in videos)
    assert np.corrcoef(ages, [v["body_length_cm"] for v in videos])[0, 1] > 0.8  # older: longer

    rolls = np.array([v["roll_range_deg"] for v in videos])
    assert np.abs(rolls).max() <= np.degrees(ROLL_MAX) + 0.1 and np.abs(rolls).max() > 55
    side = np.array([abs(v["roll_deg"]) > 30 for v in videos])
    assert abs(side.mean() - SIDE_LYING) < 0.12 and np.abs(rolls[~side]).max() < 20
    assert {np.sign(v["roll_deg"]) for v, s in zip(videos, side) if s} == {-1.0, 1.0}  # either side

    crossing = [v["crossing"] for v in videos]
    assert abs(np.mean([c != "none" for c in crossing]) - CROSSING_FRACTION) < 0.12
    assert set(crossing) == {"none", *CROSSING_LIMBS}
    for split in ("Train", "DomainShift"):  # every split alike
        assert any(abs(v["roll_deg"]) > 30 for v in videos if v["split"] == split), split


def test_proportions_change_with_age():
    def relative(name, age):
        return segment_size(name, age, 60.0) / 60.0

    assert relative("head_length", 0) > 1.05 * relative("head_length", 6)  # newborn: larger head
    assert relative("thigh", 6) > 1.05 * relative("thigh", 0)  # longer limbs later
    assert relative("arm_radius", 6) > 1.05 * relative("arm_radius", 0)  # and fuller ones
    assert segment_size("trunk", 3, 60.0) == pytest.approx(REFERENCE["trunk"] * 60 / 55)
    chubby = segment_size("knee_radius", 3, 60.0, 1.1) / segment_size("knee_radius", 3, 60.0)
    assert chubby == pytest.approx(1.1) and segment_size("shank", 3, 60.0, 1.1) == segment_size("shank", 3, 60.0)


@pytest.mark.parametrize("roll", [0.0, 0.5, 1.0, -1.1])
def test_roll_foreshortens_shoulders_and_hips_and_turns_the_face(roll):
    yaws = []
    for seed in range(12):
        points, angles = posed(seed, Posture(roll))
        body = sample_body(np.random.default_rng([seed, 7]))
        narrow = np.cos(angles["roll"])
        for a, b, width in (("Shoulder_L", "Shoulder_R", body.shoulder_width), ("Hip_L", "Hip_R", body.hip_width)):
            np.testing.assert_allclose(np.linalg.norm(points[a] - points[b], axis=-1), width * narrow, rtol=1e-9)
        assert np.abs(angles["roll"] - roll).max() < 0.35 and np.abs(angles["roll"]).max() <= ROLL_MAX
        yaws.append(angles["yaw"].mean())
    assert np.mean(yaws) == pytest.approx(roll, abs=0.4)  # the face turns with the trunk (squashed)


def test_lower_side_limbs_are_drawn_under_the_trunk():
    signals = {f"lift_{limb}": 0.5 for limb in CROSSING_LIMBS}
    supine = drawing_order({**signals, "roll": 0.0})
    assert supine.index("leg_L") < supine.index("torso") < supine.index("head") < supine.index("arm_L")
    for roll, lower, upper in ((1.0, "L", "R"), (-1.0, "R", "L")):
        order = drawing_order({**signals, "roll": roll})
        assert order.index(f"arm_{lower}") < order.index("torso") and order.index(f"leg_{lower}") < order.index("torso")
        assert order[-1] == f"arm_{upper}"  # the uppermost limb is drawn last


@pytest.mark.parametrize("limb", CROSSING_LIMBS)
def test_a_crossing_limb_crosses_the_midline(limb):
    kind = limb.split("_")[0]
    for seed in range(10):
        points, angles = posed(seed, Posture(0.0, limb))
        assert crossed(points, limb).mean() > 0.3, seed
        assert angles[f"lift_{limb}"].mean() > 0.6  # over its partner limb
    if kind == "arm":  # arms otherwise rest at the sides
        assert np.mean([crossed(posed(seed, Posture())[0], limb).mean() for seed in range(10)]) < 0.1
