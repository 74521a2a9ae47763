"""The synthetic DomainShift split's named shifts and the randomised training distribution."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from benchmark.data.synth import generate_dataset
from benchmark.data.synth.body import sample_body, skeleton
from benchmark.data.synth.camera import distort, distortion_maps, frame_camera, remap
from benchmark.data.synth.motion import joint_angles
from benchmark.data.synth.scene import occluder_layer
from benchmark.data.synth.style import HELD_OUT, SHIFTS, TRAINING, Band, factors, sample_style
from benchmark.study.keypoints import LABELS

TINY = dict(videos=3, frames_per_video=2, size=64, seed=5, frame_step=5, domain_shift_videos=2 * len(SHIFTS),
            progress=False)


def inside(value, spec) -> bool:
    return spec.low <= value <= spec.high if isinstance(spec, Band) else value in spec


def check_family(recorded: dict, shift: str | None) -> None:
    """Factors of the shift's family held out (outside training), every other one in training."""
    family = SHIFTS[shift] if shift else ()
    for name, spec in TRAINING.items():
        if name in family:
            assert not inside(recorded[name], spec), (shift, name, recorded[name])
            assert inside(recorded[name], HELD_OUT[name]), (shift, name, recorded[name])
        else:
            assert inside(recorded[name], spec), (shift, name, recorded[name])


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("shifts") / "data"
    generate_dataset(root, workers=1, **TINY)
    return root


def test_held_out_values_are_disjoint_from_training_and_families_do_not_overlap():
    owned = [name for family in SHIFTS.values() for name in family]
    assert len(owned) == len(set(owned)) and set(owned) == set(HELD_OUT)
    for name, held in HELD_OUT.items():
        spec = TRAINING[name]
        if isinstance(spec, Band):
            assert held.high < spec.low or held.low > spec.high, name
        else:
            assert not set(held) & set(spec), name


@pytest.mark.parametrize("shift", [None, *SHIFTS])
def test_sampled_styles_change_only_the_shifts_family(shift):
    for seed in range(150):
        style = sample_style(np.random.default_rng([seed, 9]), shift)
        assert style.shift == shift
        check_family(factors(style), shift)


def test_training_styles_cover_the_documented_ranges():
    values = {name: [] for name in TRAINING}
    for seed in range(600):
        for name, value in factors(sample_style(np.random.default_rng([seed, 1]))).items():
            values[name].append(value)
    for name, spec in TRAINING.items():
        if isinstance(spec, Band):
            margin = 0.03 * (spec.high - spec.low)
            assert min(values[name]) < spec.low + margin and max(values[name]) > spec.high - margin, name
        else:
            assert set(values[name]) == set(spec), name


def test_unknown_shift_is_refused():
    with pytest.raises(ValueError, match="unknown shift"):
        sample_style(np.random.default_rng(0), "fog")


def test_synth_json_records_shift_and_factors_per_video(dataset):
    doc = json.loads((dataset / "synth.json").read_text())
    assert set(doc["shifts"]) == set(SHIFTS)
    for name, family in SHIFTS.items():
        assert all(field in doc["shifts"][name] for field in family)
    videos = {v["id"]: v for v in doc["video_settings"]}
    shifted = [videos[v]["shift"] for v in doc["splits"]["DomainShift"]]
    assert shifted == 2 * list(SHIFTS)  # round-robin: every shift twice
    for split in ("Train", "Valid", "Test"):
        assert all(videos[v]["shift"] is None for v in doc["splits"][split])
    for video in videos.values():
        assert set(video["style"]) == set(TRAINING)
        check_family(video["style"], video["shift"])


def test_generation_is_deterministic(dataset, tmp_path):
    again = tmp_path / "again"
    generate_dataset(again, workers=2, **TINY)
    files = sorted(p.relative_to(dataset) for p in dataset.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert all((dataset / f).read_bytes() == (again / f).read_bytes() for f in files)


def test_lens_distortion_moves_pixels_and_keypoints_alike():
    picture = (120, 90)
    for strength in (-0.3, 0.04):
        maps = distortion_maps(picture, strength)
        for point in ([20.5, 15.5], [100.5, 70.5], [60.5, 45.5]):
            image = np.zeros(picture[::-1], np.float32)
            cv2.circle(image, (int(point[0]), int(point[1])), 2, 1.0, -1)
            moved = remap(image, maps)
            ys, xs = np.nonzero(moved > 0.5)
            centroid = np.array([xs.mean(), ys.mean()]) + 0.5
            np.testing.assert_allclose(centroid, distort(np.array(point), picture, strength), atol=0.8)


def test_occluders_hide_some_keypoints_but_not_most():
    hidden = []
    for seed in range(24):
        rng = np.random.default_rng([seed, 3])
        style = sample_style(rng, "occluder")
        body = sample_body(rng)
        points = skeleton(body, joint_angles(rng, np.arange(0, 4, 0.2)))
        keypoints = np.stack([points[label] for label in LABELS], axis=1)
        camera = frame_camera(rng, keypoints.reshape(-1, 2), (128, 128), style.rotation, style.fill)
        layer = occluder_layer(rng, style, body, camera, (128, 128), points)
        pixels = np.clip(camera.project(keypoints).astype(int), 0, 127)
        hidden.append(np.mean(layer[pixels[..., 1], pixels[..., 0], 3] > 0.5))
    assert 0.02 < np.mean(hidden) < 0.3 and max(hidden) < 0.6
