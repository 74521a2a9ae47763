"""The 22 infant keypoints of the study: one canonical schema used everywhere.

Order is the LabelMe label order of the reference dataset. Arrays of keypoints
throughout the suite have shape ``(..., 22, 2)`` in this order, ``(x, y)`` in
pixels, with a separate boolean visibility mask (missing keypoints are never
encoded as ``(0, 0)``).
"""

from __future__ import annotations

import numpy as np

LABELS: tuple[str, ...] = (
    "Head", "Eye_L", "Eye_R", "Nose", "Upper_Lip", "Lower_Lip",
    "Shoulder_R", "Shoulder_L", "Elbow_R", "Elbow_L", "Wrist_R", "Wrist_L",
    "MP_joint_R", "MP_joint_L", "Hip_R", "Hip_L", "Knee_R", "Knee_L",
    "Ankle_R", "Ankle_L", "MTP_joint_R", "MTP_joint_L",
)
NUM_KEYPOINTS = len(LABELS)
INDEX: dict[str, int] = {name: i for i, name in enumerate(LABELS)}

# Names used in the study's tables and figures.
DISPLAY_NAMES: dict[str, str] = {
    "Head": "vertex", "Eye_L": "left eye", "Eye_R": "right eye", "Nose": "nose",
    "Upper_Lip": "upper lip", "Lower_Lip": "lower lip",
    "Shoulder_R": "right shoulder", "Shoulder_L": "left shoulder",
    "Elbow_R": "right elbow", "Elbow_L": "left elbow",
    "Wrist_R": "right wrist", "Wrist_L": "left wrist",
    "MP_joint_R": "right palm", "MP_joint_L": "left palm",
    "Hip_R": "right hip", "Hip_L": "left hip", "Knee_R": "right knee", "Knee_L": "left knee",
    "Ankle_R": "right ankle", "Ankle_L": "left ankle",
    "MTP_joint_R": "right sole", "MTP_joint_L": "left sole",
}

FACIAL: tuple[str, ...] = ("Eye_L", "Eye_R", "Nose", "Upper_Lip", "Lower_Lip")
NON_FACIAL: tuple[str, ...] = tuple(k for k in LABELS if k not in FACIAL)
FACIAL_IDX = np.array([INDEX[k] for k in FACIAL])
NON_FACIAL_IDX = np.array([INDEX[k] for k in NON_FACIAL])

# Body regions the study reports (left and right averaged), in table order.
REGIONS: dict[str, tuple[str, ...]] = {
    "Vertex": ("Head",),
    "Shoulder": ("Shoulder_R", "Shoulder_L"),
    "Elbow": ("Elbow_R", "Elbow_L"),
    "Wrist": ("Wrist_R", "Wrist_L"),
    "Palm": ("MP_joint_R", "MP_joint_L"),
    "Hip": ("Hip_R", "Hip_L"),
    "Knee": ("Knee_R", "Knee_L"),
    "Ankle": ("Ankle_R", "Ankle_L"),
    "Sole": ("MTP_joint_R", "MTP_joint_L"),
}
REGION_OF: dict[str, str] = {k: r for r, ks in REGIONS.items() for k in ks}

# Per-keypoint sigmas of COCO's object keypoint similarity (benchmark.study.oks): COCO's adult values
# where COCO has the keypoint, the nearest COCO keypoint's elsewhere (docs/CONVENTIONS.md, OKS).
COCO_SIGMAS = {"nose": 0.026, "eye": 0.025, "ear": 0.035, "shoulder": 0.079, "elbow": 0.072, "wrist": 0.062,
               "hip": 0.107, "knee": 0.087, "ankle": 0.089}  # pycocotools' kpt_oks_sigmas, by keypoint
OKS_SIGMAS: dict[str, float] = {
    "Head": COCO_SIGMAS["shoulder"],  # not in COCO: a contour point like the shoulder
    "Eye_L": COCO_SIGMAS["eye"], "Eye_R": COCO_SIGMAS["eye"], "Nose": COCO_SIGMAS["nose"],
    "Upper_Lip": COCO_SIGMAS["nose"], "Lower_Lip": COCO_SIGMAS["nose"],  # not in COCO: the nose's
    "Shoulder_R": COCO_SIGMAS["shoulder"], "Shoulder_L": COCO_SIGMAS["shoulder"],
    "Elbow_R": COCO_SIGMAS["elbow"], "Elbow_L": COCO_SIGMAS["elbow"],
    "Wrist_R": COCO_SIGMAS["wrist"], "Wrist_L": COCO_SIGMAS["wrist"],
    "MP_joint_R": COCO_SIGMAS["wrist"], "MP_joint_L": COCO_SIGMAS["wrist"],  # not in COCO: the wrist's
    "Hip_R": COCO_SIGMAS["hip"], "Hip_L": COCO_SIGMAS["hip"],
    "Knee_R": COCO_SIGMAS["knee"], "Knee_L": COCO_SIGMAS["knee"],
    "Ankle_R": COCO_SIGMAS["ankle"], "Ankle_L": COCO_SIGMAS["ankle"],
    "MTP_joint_R": COCO_SIGMAS["ankle"], "MTP_joint_L": COCO_SIGMAS["ankle"],  # not in COCO: the ankle's
}

# Left/right pairs swapped by a horizontal flip.
FLIP_PAIRS: tuple[tuple[str, str], ...] = tuple(
    (k, k[:-1] + "R") for k in LABELS if k.endswith("_L")
)


def _flip_permutation() -> np.ndarray:
    perm = np.arange(NUM_KEYPOINTS)
    for left, right in FLIP_PAIRS:
        perm[INDEX[left]], perm[INDEX[right]] = INDEX[right], INDEX[left]
    return perm


# keypoints[..., FLIP_PERMUTATION, :] relabels a mirrored pose.
FLIP_PERMUTATION = _flip_permutation()

# Skeleton edges for drawing (pairs of label names).
SKELETON: tuple[tuple[str, str], ...] = (
    ("Head", "Nose"), ("Eye_L", "Eye_R"), ("Nose", "Upper_Lip"), ("Upper_Lip", "Lower_Lip"),
    ("Shoulder_R", "Shoulder_L"),
    ("Shoulder_R", "Elbow_R"), ("Elbow_R", "Wrist_R"), ("Wrist_R", "MP_joint_R"),
    ("Shoulder_L", "Elbow_L"), ("Elbow_L", "Wrist_L"), ("Wrist_L", "MP_joint_L"),
    ("Shoulder_R", "Hip_R"), ("Shoulder_L", "Hip_L"), ("Hip_R", "Hip_L"),
    ("Hip_R", "Knee_R"), ("Knee_R", "Ankle_R"), ("Ankle_R", "MTP_joint_R"),
    ("Hip_L", "Knee_L"), ("Knee_L", "Ankle_L"), ("Ankle_L", "MTP_joint_L"),
)
SKELETON_IDX = np.array([(INDEX[a], INDEX[b]) for a, b in SKELETON])


def subset_indices(subset: str) -> np.ndarray:
    """Indices of a named keypoint subset: ``"all"`` (22) or ``"non_facial"`` (17)."""
    if subset == "all":
        return np.arange(NUM_KEYPOINTS)
    if subset == "non_facial":
        return NON_FACIAL_IDX
    raise ValueError(f"unknown keypoint subset {subset!r}; allowed: 'all', 'non_facial'")
