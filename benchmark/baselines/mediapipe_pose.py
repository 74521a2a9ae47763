"""MediaPipe Pose (BlazePose full, mediapipe 0.10.21) as a zero-shot baseline.

BlazePose is an adult model with 33 landmarks. Each of the study's keypoints is the landmark, or
the mean of the landmarks, listed in :data:`MAPPING`; confidence is the mean of their visibility
scores. What it cannot produce stays missing and counts as wrong, like a frame where it finds no
person (:mod:`benchmark.study.metrics` scores a missing prediction for a labelled keypoint as
infinitely far):

- ``Head`` (the vertex): BlazePose has no landmark on top of the head (its eyes and ears lie well
  below it). So on the 17 non-facial keypoints its PCK is at most 16/17 of what it scores on the
  16 it maps; ``metrics.json`` also gives the scores on the mapped keypoints only.
- The lips are both the midpoint of the mouth corners (BlazePose has no upper or lower lip).
- A palm (MP joint) is the midpoint of the index and little finger knuckles; a sole (MTP joint)
  is the foot-index landmark (the toes, just beyond the joints).

mediapipe 0.10.21 ships only the ``full`` landmark model in its wheel (later releases download
models at run time), which is why it is pinned and why ``full`` is the only variant offered.
"""

from __future__ import annotations

import numpy as np

from benchmark.study.keypoints import INDEX, LABELS

LANDMARKS: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel", "right_heel",
    "left_foot_index", "right_foot_index",
)
_SIDES = {"R": "right", "L": "left"}

# Our keypoint -> the BlazePose landmarks whose mean it is (left/right: the infant's own sides in both).
MAPPING: dict[str, tuple[str, ...]] = {
    "Eye_L": ("left_eye",), "Eye_R": ("right_eye",), "Nose": ("nose",),
    "Upper_Lip": ("mouth_left", "mouth_right"), "Lower_Lip": ("mouth_left", "mouth_right"),
    **{f"{joint}_{s}": (f"{side}_{joint.lower()}",)
       for joint in ("Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle") for s, side in _SIDES.items()},
    **{f"MP_joint_{s}": (f"{side}_index", f"{side}_pinky") for s, side in _SIDES.items()},
    **{f"MTP_joint_{s}": (f"{side}_foot_index",) for s, side in _SIDES.items()},
}
UNMAPPED: dict[str, str] = {"Head": "no landmark on top of the head: missing, counted wrong"}
VARIANTS = {"full": 1}  # variant -> MediaPipe's model_complexity


def to_keypoints(landmarks: np.ndarray | None, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Our ``(22, 2)`` keypoints in image pixels and ``(22,)`` confidences from BlazePose's
    ``(33, 3)`` landmarks ``(x, y, visibility)`` in [0, 1] image units; all NaN / 0 for None (no
    person found), NaN / 0 for :data:`UNMAPPED` keypoints."""
    coords, confidence = np.full((len(LABELS), 2), np.nan), np.zeros(len(LABELS))
    if landmarks is None:
        return coords, confidence
    landmarks = np.asarray(landmarks, dtype=np.float64)
    for keypoint, names in MAPPING.items():
        chosen = landmarks[[LANDMARKS.index(n) for n in names]]
        coords[INDEX[keypoint]] = chosen[:, :2].mean(axis=0) * (width, height)
        confidence[INDEX[keypoint]] = chosen[:, 2].mean()
    return coords, confidence


class Estimator:
    """BlazePose in static-image mode: ``estimator(rgb_image)`` -> ``(33, 3)`` landmarks or None."""

    def __init__(self, variant: str = "full", min_detection_confidence: float = 0.5):
        import mediapipe as mp

        self.pose = mp.solutions.pose.Pose(static_image_mode=True, model_complexity=VARIANTS[variant],
                                           min_detection_confidence=min_detection_confidence)

    def __call__(self, image: np.ndarray) -> np.ndarray | None:
        found = self.pose.process(np.ascontiguousarray(image)).pose_landmarks
        if found is None:
            return None
        return np.array([(p.x, p.y, p.visibility) for p in found.landmark])

    def close(self) -> None:
        self.pose.close()


def versions() -> dict[str, str]:
    """The packages that decide its predictions."""
    from importlib import metadata

    return {name: metadata.version(name) for name in ("mediapipe", "numpy", "opencv-contrib-python")}
