import warnings

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from benchmark.study.keypoints import FACIAL_IDX, INDEX, LABELS, NON_FACIAL_IDX, NUM_KEYPOINTS, REGIONS
from benchmark.study.metrics import (
    BETAS,
    DEFAULT_LAMBDA,
    correct_per_keypoint,
    distances,
    evaluate,
    mks,
    pck,
    per_keypoint,
    per_region,
    reference_scale,
)


def pose(n=1):
    """Poses with S = sqrt(20 * 80) = 40 exactly: shoulders 20 apart, head 80 above the mid-hip.

    Integer coordinates, so shifted predictions have exact distances.
    """
    grid = np.arange(NUM_KEYPOINTS, dtype=np.float64)
    labels = np.tile(np.column_stack([4 * grid + 5, 2 * grid + 3]), (n, 1, 1))
    labels[:, INDEX["Head"]] = (50, 0)
    labels[:, INDEX["Shoulder_R"]], labels[:, INDEX["Shoulder_L"]] = (40, 20), (60, 20)
    labels[:, INDEX["Hip_R"]], labels[:, INDEX["Hip_L"]] = (35, 80), (65, 80)
    return labels


def moved(labels, shifts):
    """Predictions = labels shifted along x by ``shifts`` {keypoint: pixels}."""
    pred = labels.copy()
    for name, dx in shifts.items():
        pred[:, INDEX[name], 0] += dx
    return pred


def random_poses(rng, n):
    labels = rng.uniform(0, 200, size=(n, NUM_KEYPOINTS, 2))
    labels[rng.uniform(size=(n, NUM_KEYPOINTS)) < 0.2] = np.nan
    for name in ("Head", "Shoulder_R", "Shoulder_L", "Hip_R", "Hip_L"):
        labels[:, INDEX[name]] = rng.uniform(0, 200, size=(n, 2))
    return labels, labels + rng.normal(scale=8.0, size=labels.shape)


def test_reference_scale_and_distances():
    labels = pose(3)
    labels[1, INDEX["Hip_L"]] = np.nan
    labels[2, INDEX["Knee_R"]] = np.nan
    np.testing.assert_array_equal(reference_scale(labels), [40.0, np.nan, 40.0])
    pred = moved(labels, {"Wrist_L": 3.0})
    pred[:, INDEX["Wrist_L"], 1] += 4.0
    pred[0, INDEX["Ankle_R"]] = np.nan
    d = distances(pred, labels)
    assert d.shape == (3, NUM_KEYPOINTS)
    np.testing.assert_allclose(d[:, INDEX["Wrist_L"]], 5.0)
    assert d[0, INDEX["Ankle_R"]] == np.inf  # unpredicted but labelled: wrong everywhere
    assert np.isnan(d[1, INDEX["Hip_L"]]) and np.isnan(d[2, INDEX["Knee_R"]])  # unlabelled
    assert d[0, INDEX["Head"]] == 0


def test_hand_computed_frame():
    labels = pose()  # S = 40: beta * S = 4, 3.2, 2.4, 1.6, 0.8
    pred = moved(labels, {"Elbow_R": 1.0, "Wrist_R": 3.0, "Knee_L": 4.0, "Ankle_L": 100.0})
    pred[0, INDEX["MTP_joint_R"]] = np.nan
    result = evaluate(pred, labels)  # 17 non-facial keypoints
    n = 17
    assert result["n_frames"] == 1 and result["n_keypoints"] == n and result["excluded_frames"] == 0
    assert result["pck@0.1"] == pytest.approx((n - 3) / n)  # 4.0 is not < 4; 100 and NaN wrong
    assert result["pck@0.08"] == pytest.approx((n - 3) / n)
    assert result["pck@0.06"] == pytest.approx((n - 4) / n)
    assert result["pck@0.04"] == pytest.approx((n - 4) / n)
    assert result["pck@0.02"] == pytest.approx((n - 5) / n)
    similarity = lambda d: np.exp(-d**2 / (2 * 40**2 * DEFAULT_LAMBDA))
    expected = (n - 5 + similarity(1) + similarity(3) + similarity(4) + similarity(100)) / n
    assert result["mks"] == pytest.approx(expected)
    assert similarity(4) == pytest.approx(0.5)  # the default lambda: 0.1 * S scores one half
    assert pck(pred, labels, 0.1) == result["pck@0.1"] and mks(pred, labels) == result["mks"]
    assert set(result) == {f"pck@{b:g}" for b in BETAS} | {"mks", "n_frames", "n_keypoints", "excluded_frames"}


def test_threshold_is_strict():
    labels = pose()
    at = moved(labels, {"Knee_R": 4.0})  # exactly 0.1 * S
    below = moved(labels, {"Knee_R": 4.0 - 1e-9})
    assert pck(at, labels, 0.1, subset="all") == pytest.approx(21 / 22)
    assert pck(below, labels, 0.1, subset="all") == 1.0


def test_missing_labels_are_not_scored():
    labels = pose(2)
    labels[0, INDEX["Wrist_R"]] = np.nan
    labels[1, INDEX["Knee_L"]] = np.nan
    pred = moved(labels, {"Elbow_L": 50.0})
    pred[0, INDEX["Wrist_R"]] = pred[1, INDEX["Knee_L"]] = (500.0, 500.0)  # predicted, not labelled
    result = evaluate(pred, labels)
    assert result["n_keypoints"] == 2 * 17 - 2
    assert result["pck@0.1"] == pytest.approx(30 / 32)


def test_frames_without_reference_scale_are_excluded_and_reported():
    labels = pose(3)
    labels[1, INDEX["Shoulder_R"]] = np.nan
    labels[2] = np.nan  # an unlabelled frame
    pred = labels + 100.0  # all wrong, would drag every metric down if frames 1, 2 counted
    pred[0] = labels[0]
    with pytest.warns(UserWarning, match="2 of 3 frames excluded"):
        result = evaluate(pred, labels)
    assert result["excluded_frames"] == 2 and result["n_frames"] == 1 and result["n_keypoints"] == 17
    assert result["pck@0.02"] == 1.0 and result["mks"] == 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing excluded: no warning
        assert evaluate(pred[:1], labels[:1])["excluded_frames"] == 0


def test_nothing_scorable_gives_nan():
    labels = np.full((2, NUM_KEYPOINTS, 2), np.nan)
    with pytest.warns(UserWarning):
        result = evaluate(labels, labels)
    assert np.isnan(result["pck@0.1"]) and np.isnan(result["mks"]) and result["n_keypoints"] == 0


def test_subset_choice():
    labels = pose()
    pred = moved(labels, {"Nose": 30.0, "Eye_L": 30.0})  # only facial keypoints wrong
    assert pck(pred, labels, subset="non_facial") == 1.0
    assert pck(pred, labels, subset="all") == pytest.approx(20 / 22)
    assert evaluate(pred, labels, subset="all")["n_keypoints"] == 22
    with pytest.raises(ValueError):
        pck(pred, labels, subset="face")
    with pytest.raises(ValueError, match="shape"):
        pck(pred[:, :17], labels)


def test_per_region_pools_left_and_right():
    labels = pose(3)
    labels[1:, INDEX["Knee_L"]] = np.nan  # Knee_R labelled 3 times, Knee_L once
    pred = moved(labels, {"Knee_L": 10.0, "Elbow_R": 10.0})  # Knee_L, Elbow_R wrong
    table = per_region(pred, labels)
    assert list(table.index) == list(REGIONS) and list(table.columns) == ["pck", "n"]
    assert table.loc["Knee", "n"] == 4 and table.loc["Knee", "pck"] == pytest.approx(3 / 4)  # not 0.5
    # equal counts: pooled == mean of the sides
    assert table.loc["Elbow", "n"] == 6 and table.loc["Elbow", "pck"] == pytest.approx((0 + 1) / 2)
    assert table.loc["Vertex", "pck"] == 1.0 and table.loc["Vertex", "n"] == 3


@pytest.mark.parametrize("subset", ["all", "non_facial"])
def test_per_keypoint_aggregates_to_the_overall_metrics(subset):
    labels, pred = random_poses(np.random.default_rng(0), 40)
    table = per_keypoint(pred, labels, subset=subset)
    overall = evaluate(pred, labels, subset=subset)
    expected_index = [LABELS[i] for i in (range(NUM_KEYPOINTS) if subset == "all" else NON_FACIAL_IDX)]
    assert list(table.index) == expected_index
    assert table["n"].sum() == overall["n_keypoints"]
    for column in [f"pck@{b:g}" for b in BETAS] + ["mks"]:
        pooled = (table[column] * table["n"]).sum() / table["n"].sum()
        assert pooled == pytest.approx(overall[column], rel=1e-12), column
    assert table.loc["Wrist_L", "name"] == "left wrist" and table.loc["Wrist_L", "region"] == "Wrist"
    if subset == "all":
        assert table.iloc[FACIAL_IDX]["region"].isna().all()


def test_correct_per_keypoint_counts_what_pck_pools():
    labels = pose(3)
    pred = moved(labels, {"Wrist_L": 3.9, "Knee_R": 4.0})  # S = 40: 0.0975 S is within 0.1 S, 0.1 S is not
    labels[1, INDEX["Ankle_L"]] = np.nan
    labels[2, INDEX["Hip_R"]] = np.nan  # no reference scale: the frame is not scored
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        correct = correct_per_keypoint(pred, labels, 0.1)
        expected = pck(pred, labels, 0.1, subset="all")
    assert correct[0, INDEX["Wrist_L"]] == 1 and correct[0, INDEX["Knee_R"]] == 0
    assert np.isnan(correct[1, INDEX["Ankle_L"]]) and np.isnan(correct[2]).all()
    assert np.nanmean(correct) == pytest.approx(expected)


def coco_oks(pred, labels, scale, lam):
    """Per-image OKS from pycocotools, one ground truth and one detection per image."""
    visible = ~np.isnan(labels[..., 0])
    images, annotations, detections = [], [], []
    for i, (p, g, v, s) in enumerate(zip(pred, labels, visible, scale), start=1):
        gt = np.column_stack([np.nan_to_num(g), 2 * v]).ravel().tolist()
        box = [*np.nanmin(g, axis=0), *(np.nanmax(g, axis=0) - np.nanmin(g, axis=0))]
        images.append({"id": i, "width": 300, "height": 300})
        annotations.append({"id": i, "image_id": i, "category_id": 1, "keypoints": gt, "area": s**2,
                            "num_keypoints": int(v.sum()), "bbox": box, "iscrowd": 0})
        detections.append({"image_id": i, "category_id": 1, "score": 1.0,
                           "keypoints": np.column_stack([p, np.ones(len(p))]).ravel().tolist()})
    coco = COCO()
    coco.dataset = {"images": images, "annotations": annotations,
                    "categories": [{"id": 1, "name": "infant", "keypoints": list(LABELS), "skeleton": []}]}
    coco.createIndex()
    evaluator = COCOeval(coco, coco.loadRes(detections), "keypoints")
    evaluator.params.kpt_oks_sigmas = np.full(NUM_KEYPOINTS, np.sqrt(lam) / 2)
    evaluator._prepare()
    return np.array([evaluator.computeOks(i, 1)[0, 0] for i in range(1, len(images) + 1)])


@pytest.mark.parametrize("lam", [DEFAULT_LAMBDA, 0.05])
def test_mks_equals_coco_oks_with_area_s2(lam):
    labels, pred = random_poses(np.random.default_rng(1), 12)
    oks = coco_oks(pred, labels, reference_scale(labels), lam)
    per_frame = [mks(pred[i:i + 1], labels[i:i + 1], lam=lam, subset="all") for i in range(len(labels))]
    np.testing.assert_allclose(per_frame, oks, rtol=1e-9)
    assert 0.05 < oks.min() and oks.max() < 0.95  # a discriminating range, not all 0 or 1
    counts = (~np.isnan(labels[..., 0])).sum(axis=1)  # mKS pools keypoints: OKS weighted by count
    pooled = np.average(oks, weights=counts)
    assert mks(pred, labels, lam=lam, subset="all") == pytest.approx(pooled, rel=1e-9)
