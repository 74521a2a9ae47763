"""OKS AP and AR (benchmark.study.oks) against pycocotools itself, their video bootstrap, the dataset's
sigmas, and the report's optional OKS columns."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark.common.metrics_file import read_metrics, write_metrics
from benchmark.data.oks_sigmas import SigmasError, oks_record, read_sigmas
from benchmark.evidence import Cell, PredictionsSource, difference, interval
from benchmark.evidence.oks_cell import oks_cell, oks_frames
from benchmark.evidence.sources import parse_metric
from benchmark.study.keypoints import INDEX, LABELS, NON_FACIAL_IDX, OKS_SIGMAS
from benchmark.study.oks import (STATISTICS, THRESHOLDS, box_area, coco_ap, coco_evaluation, frame_oks, frame_scores,
                                 statistic)
from benchmark.study.predictions import prediction_rows

VIDEOS = 5


def _frames(seed: int, n: int = 40):
    """Random frames: labels with gaps (a frame without any, one with only facial labels), predictions
    from exact to far off (OKS spread over every threshold), a few missing predictions, confidences."""
    rng = np.random.default_rng(seed)
    labels = rng.uniform(0, 300, (n, 22, 2))
    labels[rng.random((n, 22)) < 0.15] = np.nan
    labels[1] = np.nan
    labels[2, NON_FACIAL_IDX] = np.nan
    pred = labels + rng.normal(0, 1, labels.shape) * rng.uniform(0, 30, (n, 1, 1))
    pred[rng.random((n, 22)) < 0.03] = np.nan
    videos = np.repeat([f"{v:03d}" for v in range(VIDEOS)], n // VIDEOS)
    return pred, labels, rng.random((n, 22)), videos


def _ours(pred, labels, scores, weights=None, sigmas=None) -> dict:
    oks = frame_oks(pred, labels, sigmas)
    return {name: float(statistic(name, oks, scores, weights)[0]) for name in STATISTICS}


# --- the formulas against pycocotools ----------------------------------------------------------

def test_perfect_predictions_score_one():
    _, labels, confidence, _ = _frames(0)
    scores = frame_scores(confidence)
    assert coco_ap(labels, labels, scores) == dict.fromkeys(STATISTICS, 1.0)
    assert _ours(labels, labels, scores) == dict.fromkeys(STATISTICS, 1.0)


@pytest.mark.parametrize("seed", range(4))
def test_our_ap_and_oks_equal_cocoevals(seed):
    pred, labels, confidence, _ = _frames(seed)
    scores = frame_scores(confidence)
    if seed % 2:
        scores = np.round(scores, 1)  # ties: both rank them in frame order
    expected = coco_ap(pred, labels, scores)
    assert 0.05 < expected["ap"] < 0.95 and expected["ap50"] > expected["ap75"]  # every threshold matters
    assert _ours(pred, labels, scores) == pytest.approx(expected, abs=1e-9, rel=0)
    oks = frame_oks(pred, labels)
    evaluation = coco_evaluation(pred, labels, scores)
    scored = np.flatnonzero(~np.isnan(oks))
    assert list(np.flatnonzero(np.isnan(oks))) == [1, 2]  # no label, only facial labels: no ground truth
    np.testing.assert_allclose(oks[scored], [evaluation.ious[(i + 1, 1)][0, 0] for i in scored], rtol=0, atol=1e-12)
    assert np.array_equal(evaluation.params.iouThrs, THRESHOLDS)


def test_a_weight_counts_a_frame_as_that_many_copies():
    pred, labels, confidence, videos = _frames(5)
    scores = frame_scores(confidence)
    weights = np.ones(len(videos), dtype=int)
    weights[videos == "001"], weights[videos == "003"] = 2, 0  # one video drawn twice, one never
    copies = np.repeat(np.arange(len(videos)), weights)
    expected = coco_ap(pred[copies], labels[copies], scores[copies])
    assert expected != coco_ap(pred, labels, scores)
    assert _ours(pred, labels, scores, weights[None]) == pytest.approx(expected, abs=1e-9, rel=0)


def test_a_planted_shift_gives_what_pycocotools_gives():
    """Every keypoint moved by 10 % of its frame's box side: each keypoint's similarity is
    exp(-0.1^2 / (8 sigma^2)), the same in every frame, so AP is the share of thresholds below it."""
    _, labels, confidence, _ = _frames(6)
    filled = np.random.default_rng(6).uniform(0, 300, labels.shape)
    labels[:, NON_FACIAL_IDX] = np.where(np.isnan(labels), filled, labels)[:, NON_FACIAL_IDX]  # every one scored
    side = np.sqrt(box_area(labels))
    pred = labels + (0.1 * side / np.sqrt(2))[:, None, None]
    planted = np.exp(-0.1 ** 2 / (8 * np.array([OKS_SIGMAS[LABELS[i]] for i in NON_FACIAL_IDX]) ** 2)).mean()
    np.testing.assert_allclose(frame_oks(pred, labels), planted, rtol=1e-12)
    assert np.abs(THRESHOLDS - planted).min() > 1e-3
    expected = coco_ap(pred, labels, frame_scores(confidence))
    share = float(np.mean(THRESHOLDS <= planted))
    assert expected == pytest.approx({"ap": share, "ap50": 1.0, "ap75": float(planted >= 0.75), "ar": share,
                                      "ar50": 1.0, "ar75": float(planted >= 0.75)}, abs=1e-12)
    assert _ours(pred, labels, frame_scores(confidence)) == pytest.approx(expected, abs=1e-9, rel=0)


def test_sigmas_and_scores():
    assert set(OKS_SIGMAS) == set(LABELS) and OKS_SIGMAS["Nose"] == 0.026 and OKS_SIGMAS["Hip_L"] == 0.107
    assert OKS_SIGMAS["MTP_joint_R"] == OKS_SIGMAS["Ankle_R"] and OKS_SIGMAS["MP_joint_L"] == OKS_SIGMAS["Wrist_L"]
    confidence = np.full((2, 22), 0.5)
    confidence[0, INDEX["Nose"]] = 1.0  # not evaluated (non_facial): no effect on the score
    confidence[1] = np.nan
    assert list(frame_scores(confidence)) == [0.5, 0.0]


# --- the dataset's sigmas ----------------------------------------------------------------------

def test_the_dataset_overrides_sigmas_and_a_bad_file_is_named(tmp_path):
    assert read_sigmas(tmp_path) == OKS_SIGMAS
    (tmp_path / "oks_sigmas.json").write_text(json.dumps({"Head": 0.05, "MP_joint_L": 0.07}))
    assert read_sigmas(tmp_path) == OKS_SIGMAS | {"Head": 0.05, "MP_joint_L": 0.07}
    assert oks_record(tmp_path)["coco"] is False
    (tmp_path / "coco_source.json").write_text("{}")
    assert oks_record(tmp_path) == {"oks_sigmas": OKS_SIGMAS | {"Head": 0.05, "MP_joint_L": 0.07}, "coco": True}
    for text, message in [('{"Neck": 0.05}', "Neck: unknown keypoint"), ('{"Head": 0}', "Head: the sigma must be"),
                          ('{"Head": -0.1}', "Head: the sigma must be"), ('{"Head": "big"}', "Head: the sigma must be"),
                          ('{"Head": true}', "Head: the sigma must be"), ("[0.05]", "expected an object"),
                          ("{", "cannot be read as JSON")]:
        (tmp_path / "oks_sigmas.json").write_text(text)
        with pytest.raises(SigmasError, match=f"oks_sigmas.json: {message}"):
            read_sigmas(tmp_path)


def test_metrics_files_with_and_without_the_oks_record_validate(tmp_path):
    summary = {"kind": "reference", "config": {}, "wall_time_s": 1.0, "metrics": {}, "environment": {},
               "reference": {}, "dataset": {"root": "d", "fingerprint": "f", "synthetic": True, "frames": {}}}
    write_metrics(tmp_path, summary)  # older results: no oks_sigmas, no coco
    assert "oks_sigmas" not in read_metrics(tmp_path)["dataset"]
    summary["dataset"] |= {"oks_sigmas": dict(OKS_SIGMAS), "coco": True}
    write_metrics(tmp_path, summary)
    assert read_metrics(tmp_path)["dataset"]["coco"] is True


# --- the video bootstrap -----------------------------------------------------------------------

def _rows(seed: int, split: str = "Test") -> tuple[pd.DataFrame, tuple]:
    pred, labels, confidence, videos = _frames(seed)
    frames = np.tile(np.arange(len(videos) // VIDEOS), VIDEOS)
    rows = prediction_rows(split, videos, frames, "wa", pred, confidence, labels, np.full_like(labels, np.nan))
    return rows, (pred, labels, frame_scores(confidence), videos)


def test_the_ap_interval_contains_its_estimate_and_is_paired():
    rows, (pred, labels, scores, videos) = _rows(7)
    cell = oks_cell(oks_frames(rows), "ap", experiment="a")
    found = interval(cell)
    assert found.estimate == pytest.approx(coco_ap(pred, labels, scores)["ap"], abs=1e-9)
    assert found.low < found.estimate < found.high and found.n_videos == VIDEOS
    same = difference(cell, cell)
    assert (same.estimate, same.low, same.high) == (0.0, 0.0, 0.0)  # the same counts for both sides
    other = oks_cell(oks_frames(_rows(8)[0]), "ap")
    paired = difference(cell, other)
    assert paired.estimate == pytest.approx(cell.value - other.value) and paired.low < paired.high

    counts = np.array([[1, 2, 0, 1, 1]])  # the cell's videos, in order: video 001 twice, 002 never
    copies = np.repeat(np.arange(len(videos)), counts[0][np.searchsorted(cell.videos, videos)])
    assert cell.resampled(counts)[0, 0] == pytest.approx(coco_ap(pred[copies], labels[copies], scores[copies])["ap"],
                                                         abs=1e-9)


def test_seeds_of_an_oks_cell_are_stacked_and_kinds_never_mix():
    first, second = (oks_cell(oks_frames(_rows(seed)[0]), "ar", seed=seed) for seed in (9, 10))
    stacked = Cell.stack([first, second])
    assert stacked.seeds == (9, 10) and stacked.value == pytest.approx((first.value + second.value) / 2)
    assert interval(stacked).seed_values == pytest.approx((first.value, second.value))
    with pytest.raises(ValueError, match="only cells of OKS ar"):
        Cell.stack([first, oks_cell(oks_frames(_rows(9)[0]), "ap")])


def test_claims_read_oks_ap_with_each_experiments_recorded_sigmas():
    assert parse_metric("oks_ap") == ("oks", "ap") and parse_metric("oks_ap50") == ("oks", "ap50")
    with pytest.raises(ValueError, match="oks_ap, oks_ap50"):
        parse_metric("oks_ap60")
    rows, (pred, labels, scores, _) = _rows(11)
    wide = OKS_SIGMAS | {k: 2 * v for k, v in OKS_SIGMAS.items()}
    config = {"group": "loss", "model": "m", "decoder": "wa", "eval_subset": "non_facial", "seed": 0}
    source = PredictionsSource([(config | {"id": "narrow"}, rows), (config | {"id": "wide", "model": "w"}, rows)],
                               {"wide": wide})
    narrow, widened = source.cell({"model": "m"}, "Test", "oks_ap"), source.cell({"model": "w"}, "Test", "oks_ap")
    assert narrow.value == pytest.approx(coco_ap(pred, labels, scores)["ap"], abs=1e-9)
    assert widened.value == pytest.approx(coco_ap(pred, labels, scores, wide)["ap"], abs=1e-9)
    assert widened.value > narrow.value
    assert source.cell({"model": "m"}, "Test", "oks_ar").value == pytest.approx(coco_ap(pred, labels, scores)["ar"])


# --- the report --------------------------------------------------------------------------------

def _report(results_dir: Path, out: Path, manifest: Path, *options: str) -> int:
    from benchmark.commands import report as cli

    parser = argparse.ArgumentParser()
    cli.configure(parser)
    return cli.main(parser.parse_args(["--results", str(results_dir.parent / "by_dataset"), "--out", str(out),
                                       "--manifest", str(manifest), "--profile", "quick", *options]))


def test_the_report_shows_oks_columns_when_asked_or_on_coco_data(tmp_path, capsys):
    from test_report import MINIMAL_MANIFEST, make_results, read

    from benchmark.report import formatting as F
    from benchmark.report import tables as T

    results_dir = make_results(tmp_path, groups=("loss", "reference"))
    (tmp_path / "by_dataset").mkdir()
    (tmp_path / "by_dataset" / "d").symlink_to(results_dir, target_is_directory=True)
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(MINIMAL_MANIFEST + "tables: [loss]\nfigures: []\n")
    folder = tmp_path / "out" / "d" / "quick"
    assert _report(results_dir, tmp_path / "out", manifest) == 0
    assert "OKS" not in (folder / "tables" / "loss.csv").read_text()
    assert _report(results_dir, tmp_path / "out", manifest, "--oks") == 0  # asked: rendered again, with OKS
    assert "report written" in capsys.readouterr().out
    csv = pd.read_csv(folder / "tables" / "loss.csv", index_col=[0, 1, 2])
    ours = csv.xs("ours", level="source")
    assert {"OKS AP test", "OKS AP test_lo", "OKS AP test_hi", "OKS AP50 valid", "OKS AR test"} <= set(csv.columns)
    assert (ours["OKS AP test_lo"] <= ours["OKS AP test"]).all()
    assert (ours["OKS AP test"] <= ours["OKS AP test_hi"]).all()
    assert csv.xs("published", level="source")["OKS AP test"].isna().all()
    assert "OKS AP" in (folder / "index.html").read_text()

    results = read(results_dir)
    assert not results.shows_oks and ("OKS AP", "test") not in T.loss_table(results).data.columns
    path = results_dir / "quick" / "loss-hourglass-mse"
    summary = read_metrics(path)
    summary["dataset"]["coco"] = True  # evaluated on a dataset converted from COCO
    write_metrics(path, summary)
    results = read(results_dir)
    table = T.loss_table(results)
    assert results.shows_oks and "OKS AP, AP50, AR: COCO's keypoint" in table.caption
    shown = F.display(table)
    cell = shown.loc[("hourglass", "mse", "ours"), "OKS AP"]
    assert cell.interval and cell.detail.startswith("valid ")  # the test split, valid on hover
    assert str(shown.loc[("hourglass", "mse", "published"), "OKS AP"]) == "–"
    experiment = results.matching({"model": "hourglass"})[0]
    _, arrays = experiment.arrays("Test")
    confidence = experiment.rows("Test").pivot(index=["video", "frame"], columns="keypoint", values="confidence")
    expected = coco_ap(arrays["prediction"], arrays["annotation"],
                       frame_scores(confidence.reindex(columns=list(LABELS)).to_numpy(float)))["ap"]
    assert table.data.loc[("hourglass", "mse", "ours"), ("OKS AP", "test")] == pytest.approx(expected, abs=1e-9)
