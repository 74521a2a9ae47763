import numpy as np

from benchmark.study import keypoints as kp


def test_schema_sizes_and_partition():
    assert kp.NUM_KEYPOINTS == 22 and len(set(kp.LABELS)) == 22
    assert len(kp.FACIAL) == 5 and len(kp.NON_FACIAL) == 17
    assert set(kp.FACIAL) | set(kp.NON_FACIAL) == set(kp.LABELS)
    assert set(kp.DISPLAY_NAMES) == set(kp.LABELS)


def test_regions_cover_the_non_facial_keypoints_once():
    members = [k for ks in kp.REGIONS.values() for k in ks]
    assert sorted(members) == sorted(kp.NON_FACIAL)
    assert list(kp.REGIONS) == ["Vertex", "Shoulder", "Elbow", "Wrist", "Palm", "Hip", "Knee", "Ankle", "Sole"]


def test_flip_permutation_swaps_sides_and_is_an_involution():
    perm = kp.FLIP_PERMUTATION
    assert np.array_equal(perm[perm], np.arange(22))
    assert kp.LABELS[perm[kp.INDEX["Wrist_L"]]] == "Wrist_R"
    assert kp.LABELS[perm[kp.INDEX["Head"]]] == "Head"
    assert kp.LABELS[perm[kp.INDEX["Nose"]]] == "Nose"
    assert len(kp.FLIP_PAIRS) == 9  # eyes, shoulders, elbows, wrists, palms, hips, knees, ankles, soles


def test_skeleton_connects_every_keypoint():
    assert set(kp.SKELETON_IDX.ravel()) == set(range(22))


def test_subset_indices():
    assert len(kp.subset_indices("all")) == 22
    assert [kp.LABELS[i] for i in kp.subset_indices("non_facial")] == list(kp.NON_FACIAL)
