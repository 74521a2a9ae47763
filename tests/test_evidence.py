"""The statistics core of benchmark.evidence: intervals, pairing, seeds, convergence and claims."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmark.evidence import (
    Cell,
    ClaimsError,
    PredictionsSource,
    check,
    difference,
    evaluate,
    format_interval,
    interval,
    load_claims,
    mean_cell,
    metric_cell,
    pooled_cell,
    ratio,
    video_sums,
)
from benchmark.evidence.claims import CLAIMS, ClaimsFile, combine, verdict
from benchmark.study.keypoints import INDEX, LABELS, REGION_OF
from benchmark.study.metrics import evaluate as evaluate_metrics
from benchmark.study.metrics import frame_sums

# A pose with a well-defined reference scale: S = sqrt(60 * 130) ~ 88 px.
FIXED = {"Head": (100, 20), "Shoulder_R": (70, 60), "Shoulder_L": (130, 60), "Hip_R": (80, 150), "Hip_L": (120, 150)}


def base_pose(rng) -> np.ndarray:
    pose = rng.uniform(20, 180, size=(22, 2))
    for name, xy in FIXED.items():
        pose[INDEX[name]] = xy
    return pose


def dataset(rng, videos=30, frames=10):
    """Smooth true motion per video, annotations with noise (three times larger at the hips)."""
    t = np.arange(frames)[:, None, None]
    truth = np.concatenate([base_pose(rng) + 6 * np.sin(0.3 * t + rng.uniform(0, 6, (22, 2))) for _ in range(videos)])
    noise = np.full(22, 0.01)
    noise[[INDEX["Hip_R"], INDEX["Hip_L"]]] = 0.03
    labels = truth + rng.normal(size=truth.shape) * noise[None, :, None] * 88
    video = np.repeat([f"v{i:02d}" for i in range(videos)], frames)
    return video, np.tile(np.arange(frames) * 5, videos), truth, labels


def predictions(rng, data, error: float, effect=None) -> np.ndarray:
    """Labels plus Gaussian error of ``error * S`` per coordinate, scaled per video by ``effect``."""
    video, _, _, labels = data
    scale = np.ones(len(video)) if effect is None else effect[pd.factorize(video)[0]]
    return labels + rng.normal(size=labels.shape) * error * 88 * scale[:, None, None]


def table(data, pred: dict[str, np.ndarray], split="Test") -> pd.DataFrame:
    """``predictions.csv`` rows for one split, one array per decoder."""
    video, frame, truth, labels = data
    n = len(video)
    common = {"split": split, "video": np.repeat(video, 22), "frame": np.repeat(frame, 22),
              "keypoint": np.tile(LABELS, n), "confidence": 1.0,
              "label_x": labels[..., 0].ravel(), "label_y": labels[..., 1].ravel(),
              "truth_x": truth[..., 0].ravel(), "truth_y": truth[..., 1].ravel()}
    return pd.concat([pd.DataFrame({**common, "decoder": decoder, "x": p[..., 0].ravel(), "y": p[..., 1].ravel()})
                      for decoder, p in pred.items()], ignore_index=True)


def claims(*comparisons) -> list:
    return ClaimsFile.model_validate({"claims": [
        {"id": f"c{i}", "statement": "s", "published": {"text": "t"}, "comparisons": [c]}
        for i, c in enumerate(comparisons)]}).claims


# --- metrics and formatting --------------------------------------------------------------------

def test_frame_sums_pool_to_evaluate():
    rng = np.random.default_rng(0)
    data = dataset(rng, videos=4)
    pred = predictions(rng, data, 0.05)
    pred[3, 2] = np.nan
    sums = {k: v.sum() for k, v in frame_sums(pred, data[3]).items()}
    expected = evaluate_metrics(pred, data[3])
    for metric in ("pck@0.1", "pck@0.02", "mks"):
        assert sums[metric] / sums["n"] == pytest.approx(expected[metric])
    per_video = video_sums(pred, data[3], data[0])
    assert list(per_video.index) == [f"v{i:02d}" for i in range(4)]
    assert per_video["n"].sum() == expected["n_keypoints"]


def test_format():
    assert format_interval(0.2744, 0.2312, 0.3204) == "0.274 [0.231, 0.320]"
    assert format_interval(0.012, -0.004, 0.02, signed=True) == "+0.012 [-0.004, +0.020]"
    assert format_interval(np.nan, np.nan, np.nan) == "n/a"


# --- the bootstrap -----------------------------------------------------------------------------

def test_interval_covers_the_true_mean_at_its_nominal_rate():
    """300 datasets of 30 videos, each video with its own success rate (Beta(8, 2), mean 0.8) and
    its own number of keypoints: the 95 % interval of the pooled rate covers 0.8 in 90-99 %."""
    rng = np.random.default_rng(1)
    covered = 0
    for run in range(300):
        n = rng.integers(100, 400, size=30)
        correct = rng.binomial(n, rng.beta(8, 2, size=30))
        result = interval(Cell(np.arange(30), correct, n), seed=run)
        covered += result.low <= 0.8 <= result.high
    assert 0.90 <= covered / 300 <= 0.99


def test_video_is_the_resampling_unit():
    """Two copies of every frame add no evidence: the interval is unchanged, not narrower."""
    rng = np.random.default_rng(2)
    data = dataset(rng, videos=12)
    pred = predictions(rng, data, 0.05, effect=rng.lognormal(0, 0.4, 12))
    once = interval(metric_cell(video_sums(pred, data[3], data[0]), "pck@0.1"))
    twice = interval(metric_cell(video_sums(np.repeat(pred, 2, axis=0), np.repeat(data[3], 2, axis=0),
                                            np.repeat(data[0], 2)), "pck@0.1"))
    assert twice.estimate == pytest.approx(once.estimate)
    assert twice.high - twice.low == pytest.approx(once.high - once.low)
    assert once.high - once.low > 0.02  # the video effect makes a real interval


def test_paired_difference_is_narrower_when_settings_share_the_videos():
    rng = np.random.default_rng(3)
    n = rng.integers(100, 300, size=40)
    easy = rng.beta(4, 2, size=40)  # how easy each video is, shared by both settings
    a = Cell(np.arange(40), rng.binomial(n, easy), n)
    b = Cell(np.arange(40), rng.binomial(n, np.clip(easy - 0.03, 0, 1)), n)
    paired, unpaired = difference(a, b, paired=True), difference(a, b, paired=False)
    assert paired.estimate == unpaired.estimate == pytest.approx(a.value - b.value)
    assert paired.high - paired.low < 0.5 * (unpaired.high - unpaired.low)
    assert paired.low > 0 > unpaired.low


def test_seeds_are_pooled_and_their_spread_reported():
    rng = np.random.default_rng(4)
    n = np.full(20, 200)
    seeds = [Cell(np.arange(20), rng.binomial(n, p), n, seeds=(s,)) for s, p in enumerate((0.7, 0.75, 0.8))]
    pooled = Cell.stack(seeds)
    result = interval(pooled)
    assert result.estimate == pytest.approx(np.mean([c.value for c in seeds]))
    low, high, sd = result.seed_spread
    assert (low, high) == (pytest.approx(min(c.value for c in seeds)), pytest.approx(max(c.value for c in seeds)))
    assert sd > 0 and result.low < result.estimate < result.high
    # the mean over videos of a per-video value (NaN: no value for that video)
    values = rng.normal(1, 0.2, size=20)
    values[0] = np.nan
    assert interval(mean_cell(values)).estimate == pytest.approx(np.nanmean(values))


# --- convergence -------------------------------------------------------------------------------

def test_pooled_cell_and_paired_ratio():
    rng = np.random.default_rng(3)
    videos = np.repeat(np.arange(12), 5)
    values = rng.uniform(0, 2, (60, 4))
    values[::7, 1] = np.nan  # not scored: left out of the pooled mean
    cell = pooled_cell(values, videos)
    assert cell.value == pytest.approx(np.nanmean(values))
    a, b = mean_cell(rng.uniform(1, 2, 12)), mean_cell(rng.uniform(2, 3, 12))
    r = ratio(a, b, n_boot=1000)
    assert r.estimate == pytest.approx(a.value / b.value) and r.low < r.estimate < r.high < 1
    # pairing: a side that moves with the other gives a tight ratio
    shared = rng.uniform(1, 3, 12)
    assert ratio(mean_cell(shared), mean_cell(2 * shared), n_boot=1000).high == pytest.approx(0.5)
    # unpaired (a shift's videos over the test videos): the sides vary on their own, so the interval is wide
    unpaired = ratio(mean_cell(shared), mean_cell(2 * shared, np.arange(100, 112)), paired=False, n_boot=1000)
    assert unpaired.estimate == pytest.approx(0.5) and unpaired.low < 0.45 and unpaired.high > 0.55
    # a side of zero (a model that scores nothing on the test split) is not an error
    assert np.isinf(ratio(mean_cell(shared), mean_cell(0 * shared, np.arange(100, 112)), paired=False).estimate)


def test_convergence_slope_test():
    """A rising curve is not converged; a noisy plateau is converged, save the test's 5 % false alarms."""
    rng = np.random.default_rng(5)
    epochs = np.arange(1, 31)

    def history(values):
        return pd.DataFrame({"epoch": epochs, "val_pck@0.1": values})

    rising = [check(history(0.5 + 0.005 * epochs + rng.normal(0, 0.01, 30))) for _ in range(100)]
    plateau = [check(history(0.8 + rng.normal(0, 0.01, 30))) for _ in range(100)]
    assert sum(r.converged is False for r in rising) >= 90
    assert sum(r.converged is True for r in plateau) >= 90
    result = rising[0]
    assert result.window == 9 and result.projected_gain == pytest.approx(9 * result.slope)
    assert ("not converged" in result.reason) == (result.converged is False)
    slow = check(history(0.8 + 0.0001 * epochs))  # rising for sure, but by less than 0.01 over 9 epochs
    assert slow.converged is True and slow.lower > 0 and "would add only" in slow.reason
    assert check(history(0.8 + 0.0001 * epochs).head(2)).converged is None


# --- claims ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def planted():
    """Planted settings on the same 40 test videos. A model's error is mostly a per-video, per-keypoint
    offset (smooth over time) of ``error * S`` scaled by the video's difficulty, plus a little frame
    noise (0.005 S, below the annotation's): ``good`` (0.04), ``twin`` (0.04, other draws: a null),
    ``bad`` (0.07, still training); ``argmax`` decodes the same offsets 1.5 times larger."""
    rng = np.random.default_rng(6)
    data = dataset(rng, videos=40)
    video = pd.factorize(data[0])[0]
    difficulty = rng.lognormal(0, 0.3, 40)[video, None, None]
    rising = pd.DataFrame({"epoch": range(1, 11), "val_pck@0.1": np.linspace(0.3, 0.8, 10)})
    items = []
    for name, error in (("good", 0.04), ("twin", 0.04), ("bad", 0.07)):
        offset = rng.normal(size=(40, 22, 2))[video] * difficulty * 88
        pred = {decoder: data[2] + factor * error * offset + rng.normal(size=offset.shape) * 0.005 * 88
                for decoder, factor in (("wa", 1.0), ("argmax", 1.5))}
        config = {"id": f"t-{name}", "group": "t", "model": name, "decoder": "wa", "eval_subset": "non_facial",
                  "seed": 0}
        items.append((config, table(data, pred), rising if name == "bad" else None))
    return items


@pytest.fixture(scope="module")
def source(planted):
    return PredictionsSource(planted)


def test_planted_effects_get_the_right_verdicts(source):
    good, twin, bad = ({"group": "t", "model": s} for s in ("good", "twin", "bad"))
    planted = claims(
        {"a": good, "b": bad, "metric": "pck@0.1", "direction": "greater"},                    # 0: real effect
        {"a": bad, "b": good, "metric": "pck@0.1", "direction": "greater"},                    # 1: reversed
        {"a": good, "b": twin, "metric": "pck@0.04", "direction": "greater"},                  # 2: null
        {"a": good, "b": twin, "metric": "pck@0.1", "direction": "equivalent", "margin": 0.05},  # 3: equivalent
        {"a": good, "b": bad, "metric": "pck@0.1", "direction": "equivalent", "margin": 0.05},  # 4: not equivalent
        {"a": twin, "b": good, "metric": "mks", "direction": "noninferior", "margin": 0.05},   # 5
        {"a": good, "decoder": "wa", "b_decoder": "argmax", "metric": "pck@0.02", "direction": "greater"},  # 6
        {"a": {"group": "t", "model": "missing"}, "b": good, "metric": "mks", "direction": "greater"},  # 7
    )
    result = evaluate(planted, source)
    assert list(result.claims["verdict"]) == ["holds", "contradicted", "inconclusive", "holds", "contradicted",
                                              "holds", "holds", "inconclusive"]
    rows = result.comparisons.set_index("claim")
    assert rows.loc["c0", "not_converged"] and "t-bad" in rows.loc["c0", "convergence"]
    assert not rows.loc["c3", "not_converged"]
    assert rows.loc["c7", "note"].startswith("not run")
    assert rows.loc["c0", "low"] > 0 and rows.loc["c0", "n_videos"] == 40
    assert rows.loc["c0", "display"].startswith("+")
    too_few = evaluate(planted[:1], source, min_videos=41).comparisons.iloc[0]
    assert too_few["verdict"] == "inconclusive" and too_few["note"].startswith("only 40 videos")


def test_seeds_of_one_setting_are_pooled(planted):
    """``good`` and ``twin`` as two seeds of one setting: one cell, two rows, the mean of both."""
    seeds = [({**config, "model": "m", "seed": s, "id": f"m-{s}"}, rows)
             for s, (config, rows, _) in enumerate(planted[:2])]
    source = PredictionsSource(seeds + [planted[2]])
    cell = source.cell({"model": "m"}, "Test", "pck@0.1")
    assert cell.seeds == (0, 1) and cell.experiments == ("m-0", "m-1")
    single = [source.cell({"id": f"m-{s}"}, "Test", "pck@0.1").value for s in (0, 1)]
    assert cell.value == pytest.approx(np.mean(single))
    row = evaluate(claims({"a": {"model": "m"}, "b": {"model": "bad"}, "metric": "pck@0.1", "direction": "greater"}),
                   source).comparisons.iloc[0]
    assert row["verdict"] == "holds" and row["seeds"].startswith("2 per-seed differences")
    other = ({**planted[2][0], "model": "m", "sigma": 3.0, "id": "m-other"}, planted[2][1])
    with pytest.raises(ValueError, match="differ in sigma"):
        PredictionsSource([*seeds, other]).cell({"model": "m"}, "Test", "pck@0.1")


def test_smoothness_claims(source):
    """Annotation noise is largest at the hips, so the prediction/annotation ratio is smallest there."""
    good = {"group": "t", "model": "good"}
    regions = sorted({r for r in REGION_OF.values()})
    result = evaluate(claims(
        {"a": good, "b": 1.0, "metric": "jitter:Hip", "direction": "less",
         "each": {"metric": [f"jitter:{r}" for r in regions]}},
        {"a": good, "metric": "jitter:Hip", "b_metric": "jitter:Knee", "direction": "less"},
        {"a": good, "metric": "jitter:Knee", "b_metric": "jitter:Hip", "direction": "less"},
    ), source)
    assert list(result.claims["verdict"]) == ["holds", "holds", "contradicted"]
    assert (result.comparisons["value_a"].iloc[:len(regions)] < 1).all()


def test_verdict_rules():
    assert verdict("greater", 0.01, 0.03) == "holds"
    assert verdict("less", 0.01, 0.03) == "contradicted"
    assert verdict("equivalent", -0.004, 0.006, 0.01) == "holds"
    assert verdict("equivalent", 0.012, 0.03, 0.01) == "contradicted"
    assert verdict("equivalent", 0.002, 0.03, 0.01) == "inconclusive"
    assert verdict("noninferior", -0.02, -0.015, 0.01) == "contradicted"
    assert verdict("greater", np.nan, np.nan) == "inconclusive"
    assert combine(["holds", "inconclusive"]) == "inconclusive"
    assert combine(["holds", "contradicted", "inconclusive"]) == "contradicted"


def test_claims_file_loads_and_expands():
    loaded = load_claims()
    ids = [c.id for c in loaded]
    assert {"kce_beats_bce_mse", "kce_model_ranking", "wa_beats_argmax", "face_occlusion_equivalent",
            "omitting_facial_keypoints_harmless", "smoother_than_annotation", "smoothest_at_hips"} <= set(ids)
    expanded = {c.id: [r for x in c.comparisons for r in x.expand()] for c in loaded}
    assert len(expanded["kce_beats_bce_mse"]) == 12
    ranking = expanded["kce_model_ranking"]
    assert [r.a["model"] for r in ranking] == ["simple_baseline", "resunet"]
    assert all(r.b["model"] == "hourglass" for r in ranking)
    assert {(r.decoder, r.b_decoder) for r in expanded["wa_beats_argmax"]} == {("wa", "argmax")}


@pytest.mark.parametrize("typo, field", [("  direction: greater", "  direction: greatr"),
                                         ("  metric: pck@0.04", "  metirc: pck@0.04")])
def test_claims_file_typo_names_file_claim_and_field(tmp_path, typo, field):
    path = tmp_path / "claims.yaml"
    path.write_text(CLAIMS.read_text().replace(typo, field, 1))
    with pytest.raises(ClaimsError) as error:
        load_claims(path)
    message = str(error.value)
    assert str(path) in message and "kce_beats_bce_mse" in message and field.split(":")[0].strip() in message
