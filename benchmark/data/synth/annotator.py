"""Simulated human annotator: what the LabelMe files of a synthetic frame contain.

Each label is the exact keypoint plus isotropic Gaussian noise whose sigma (per coordinate) is a
fixed fraction of the infant's *trunk length* (distance between the shoulders' midpoint and the
hips' midpoint, in pixels; stored per video as ``noise_unit_px`` in ``synth.json``):

==========================  =====
keypoints                   sigma
==========================  =====
eyes, nose, lips            0.015
wrists, ankles              0.025
elbows, knees, palms, soles 0.030
shoulders                   0.035
vertex (Head)               0.040
hips (under the nappy)      0.070
==========================  =====

Keypoints hidden behind another body part (a hand over the face, a leg under the other) are
labelled like visible ones, as the reference annotators did. A keypoint whose exact position lies
outside the picture (the camera's view, without the black
pillars of letter-boxed frames) is not annotated: it is omitted from the LabelMe file, while the
truth file keeps its exact, out-of-picture coordinates. Noisy labels are clipped to the picture.
"""

from __future__ import annotations

import numpy as np

from benchmark.study.keypoints import LABELS

NOISE_SIGMA: dict[str, float] = {
    "Head": 0.040,
    **dict.fromkeys(("Eye_L", "Eye_R", "Nose", "Upper_Lip", "Lower_Lip"), 0.015),
    **dict.fromkeys(("Shoulder_R", "Shoulder_L"), 0.035),
    **dict.fromkeys(("Elbow_R", "Elbow_L", "Knee_R", "Knee_L"), 0.030),
    **dict.fromkeys(("Wrist_R", "Wrist_L", "Ankle_R", "Ankle_L"), 0.025),
    **dict.fromkeys(("MP_joint_R", "MP_joint_L", "MTP_joint_R", "MTP_joint_L"), 0.030),
    **dict.fromkeys(("Hip_R", "Hip_L"), 0.070),
}
SIGMA = np.array([NOISE_SIGMA[label] for label in LABELS])
NOISE_UNIT = "trunk length: pixels between the shoulders' midpoint and the hips' midpoint"


def annotate(truth: np.ndarray, unit_px: float, box: tuple[float, float, float, float],
             rng: np.random.Generator) -> np.ndarray:
    """Labels ``(22, 2)`` for exact keypoints ``truth`` (pixels): Gaussian noise of
    ``SIGMA * unit_px``, clipped to the picture ``box = (x0, y0, x1, y1)``; NaN where the exact
    keypoint is outside the box."""
    x0, y0, x1, y1 = box
    noisy = truth + rng.standard_normal(truth.shape) * (SIGMA * unit_px)[:, None]
    labels = np.clip(noisy, (x0, y0), (x1, y1))
    outside = (truth[:, 0] < x0) | (truth[:, 0] >= x1) | (truth[:, 1] < y0) | (truth[:, 1] >= y1)
    labels[outside] = np.nan
    return labels
