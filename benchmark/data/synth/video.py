"""One synthetic video: sample an infant, its movement and scene, render and label its frames.

Everything random comes from ``numpy.random.default_rng([seed, video])`` (per-frame noise from
``[seed, video, frame]``), so a video is the same whichever process makes it and in whichever
order. Letter-boxed videos mimic the reference Train frames: a portrait 9:16 picture centred
between black pillars in a 4:3 frame (270x480 inside 640x480 at size 480); the others are square.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from benchmark.data.labelme import write_annotation, write_truth
from benchmark.data.layout import ANNOTATION_SUFFIX, ANNOTATIONS, IMAGE_SUFFIXES, IMAGES, TRUTH, stem
from benchmark.data.synth.annotator import annotate
from benchmark.data.synth.body import sample_body, skeleton
from benchmark.data.synth.camera import distort, frame_camera
from benchmark.data.synth.motion import joint_angles, sample_posture
from benchmark.data.synth.parts import figure
from benchmark.data.synth.render import render
from benchmark.data.synth.scene import build_scene, light_direction
from benchmark.data.synth.style import factors, sample_style
from benchmark.study.keypoints import LABELS

SUPERSAMPLE = 2  # material map resolution relative to the picture (anti-aliasing)
MAX_START_S = 2.0  # first labelled frame: a random frame in the first two seconds


@dataclass(frozen=True)
class VideoJob:
    """What to generate: video ``video`` of ``split``, ``frames`` labelled frames taken every
    ``frame_step`` frames of a ``fps`` video, ``size`` pixels high."""

    video: int
    split: str
    shift: str | None  # the named shift of a DomainShift video (style.SHIFTS)
    seed: int
    frames: int
    size: int
    fps: float
    frame_step: int


def layout(size: int, letterbox: bool) -> tuple[tuple[int, int], tuple[int, int], int]:
    """Frame ``(width, height)``, picture ``(width, height)`` and the picture's left offset."""
    if not letterbox:
        return (size, size), (size, size), 0
    frame_width, picture_width = round(size * 4 / 3), round(size * 9 / 16)
    return (frame_width, size), (picture_width, size), (frame_width - picture_width) // 2


def make_video(job: VideoJob, root: Path) -> dict:
    """Write the video's frames under ``root/<split>/{img,ann,truth}``; returns its metadata."""
    rng = np.random.default_rng([job.seed, job.video])
    style = sample_style(rng, job.shift)
    body = sample_body(rng)
    posture = sample_posture(rng)
    start = int(rng.integers(0, max(1, int(MAX_START_S * job.fps))))
    frames = start + job.frame_step * np.arange(job.frames)
    angles = joint_angles(rng, frames / job.fps, style.writhing, style.fidgety, posture)
    points = skeleton(body, angles)

    (frame_w, frame_h), picture, x0 = layout(job.size, style.letterbox)
    keypoints = np.stack([points[label] for label in LABELS], axis=1)  # (T, 22, 2) cm
    camera = frame_camera(rng, keypoints.reshape(-1, 2), picture, style.rotation, style.fill, style.tilt)
    scene = build_scene(rng, style, body, camera, picture, points, SUPERSAMPLE)
    light = light_direction(style, camera)
    unit_px = body.trunk * camera.px_per_cm
    box = (x0, 0, x0 + picture[0], picture[1])

    split_dir = Path(root) / job.split
    for k, frame in enumerate(frames):
        frame_rng = np.random.default_rng([job.seed, job.video, int(frame)])
        parts = figure({name: v[k] for name, v in points.items()},
                       {name: float(v[k]) for name, v in angles.items()}, body, style, light)
        image = np.zeros((frame_h, frame_w, 3), np.uint8)
        image[:, x0:x0 + picture[0]] = render(scene, parts, frame_rng)
        truth = distort(camera.project(keypoints[k]), picture, style.distortion) + (x0, 0)
        labels = annotate(truth, unit_px, box, frame_rng)

        name = stem(f"{job.video:03d}", int(frame))
        ok, jpeg = cv2.imencode(".jpg", image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, style.jpeg])
        if not ok:
            raise RuntimeError(f"JPEG encoding failed for {name}")
        image_name = f"{name}{IMAGE_SUFFIXES[0]}"
        (split_dir / IMAGES / image_name).write_bytes(jpeg.tobytes())
        write_annotation(split_dir / ANNOTATIONS / f"{name}{ANNOTATION_SUFFIX}", labels, image_name, frame_w, frame_h)
        write_truth(split_dir / TRUTH / f"{name}{ANNOTATION_SUFFIX}", truth)

    return {
        "id": f"{job.video:03d}", "split": job.split, "domain_shift": job.shift is not None,
        "shift": job.shift, "style": factors(style),
        "frames": [int(f) for f in frames], "width": frame_w, "height": frame_h,
        "picture": [int(v) for v in box], "letterbox": style.letterbox,
        "noise_unit_px": round(float(unit_px), 4), "px_per_cm": round(float(camera.px_per_cm), 4),
        "body_length_cm": round(float(body.length), 2), "age_months": round(body.age, 2),
        "chubbiness": round(body.chubbiness, 3), "roll_deg": round(float(np.degrees(posture.roll)), 1),
        "roll_range_deg": [round(float(np.degrees(f(angles["roll"]))), 1) for f in (np.min, np.max)],
        "crossing": posture.crossing, "clothing": style.clothing,
        "head_cover": style.cover, "mat_pattern": style.mat_pattern, "jpeg_quality": style.jpeg,
    }
