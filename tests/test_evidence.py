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
from benchmark.study.convergence import Convergence
from benchmark.study.keypoints import INDEX, LABELS, REGION_OF
from benchmark.study.metrics import evaluate as evaluate_metrics
from benchmark.study.metrics import frame_sums
from benchmark.training.budget import next_budget
from benchmark.training.config import TrainConfig

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


def claims(*comparisons, **settings) -> ClaimsFile:
    """A claims file with one claim per comparison (``settings``: the engine's constants of each)."""
    return ClaimsFile.model_validate({"reference": {"group": "reference"}, "claims": [
        {"id": f"c{i}", "statement": "s", "published": {"text": "t"}, "comparisons": [c], "settings": settings}
        for i, c in enumerate(comparisons)]})


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


def cycles(ends: list[float], videos: int = 12, epochs_per_cycle: int = 3, seed: int = 0,
           argmax: float = 0.0) -> pd.DataFrame:
    """A ``valid_cycles.csv``: at each cycle's end, every video's correct and scored keypoints for the
    given pooled PCK@0.1 (video-to-video variation around it, the same videos each time), decoded by
    WA, and by argmax ``argmax`` lower."""
    rng = np.random.default_rng(seed)
    offsets = rng.normal(0, 0.05, videos)
    rows = [{"cycle": c + 1, "epoch": (c + 1) * epochs_per_cycle, "decoder": decoder, "video": f"v{v:02d}",
             "correct": 170 * float(np.clip(value - lower + offsets[v], 0, 1)), "scored": 170}
            for c, value in enumerate(ends) for decoder, lower in (("wa", 0.0), ("argmax", argmax))
            for v in range(videos)]
    return pd.DataFrame(rows)


def test_convergence_compares_the_end_of_training_with_the_end_of_its_first_half():
    """Each cycle anneals the learning rate to 0, so every cycle's end is flat; what the second half of
    training added is the test: still rising is not converged, a plateau is, one cycle cannot tell."""
    rising = check(cycles([0.30, 0.40]))
    assert rising.converged() is False and rising.gain == pytest.approx(0.10, abs=0.01) and rising.low > 0
    assert rising.reason().startswith("not converged after 6 epochs: training as long again (epochs 4-6, the same schedule) "
                                      "added +0.10")
    # more, shorter cycles do not weaken it: the comparison point stays at half of the epochs
    assert check(cycles([0.30, 0.36, 0.38, 0.40])).epochs == (6, 12)
    # the decoder that suits the arm: argmax scores 0.2 lower here and rises by the same
    assert check(cycles([0.30, 0.40], argmax=0.2)).gain == pytest.approx(rising.gain)
    plateau = check(cycles([0.50, 0.503]))
    assert plateau.converged() is True and plateau.reason().startswith("converged")
    assert check(cycles([0.50, 0.52])).converged(tolerance=0.05) is True  # a gain the tolerance allows
    assert check(cycles([0.50, 0.52])).converged(tolerance=0.01) is False
    assert check(cycles([0.60, 0.40])).converged() is True  # getting worse is not "still improving"
    assert check(cycles([0.5])).converged() is None and "one learning-rate cycle" in check(cycles([0.5])).reason()
    assert check(None).converged() is None and check(cycles([0.3, 0.4, 0.41])).epochs == (3, 9)


def test_training_doubles_its_epochs_until_a_flattening_curve_passes_the_test():
    """A planted learning curve that flattens (Valid PCK@0.1 = 0.6 - 0.4 exp(-epoch / 4) at every
    cycle end): each budget doubles while its second half still adds clearly, and training stops at
    the first doubling whose second half adds less than the tolerance, or at max_epochs."""
    epochs = np.arange(2, 65, 2)
    curve = cycles(list(0.6 - 0.4 * np.exp(-epochs / 4)), epochs_per_cycle=2)
    config = TrainConfig(epochs=4, cycles=2, max_epochs=64)
    asked, budget = [], config.epochs
    while budget:
        asked.append(budget)
        budget = next_budget(curve[curve["epoch"] <= budget], budget, config)
    assert asked == [4, 8, 16, 32]  # 16 -> 32 added 0.007: converged after 32 epochs
    assert check(curve[curve["epoch"] <= 32]).reason().startswith("converged after 32 epochs")
    capped = TrainConfig(epochs=4, cycles=2, max_epochs=16)
    assert next_budget(curve[curve["epoch"] <= 8], 8, capped) == 16
    assert next_budget(curve[curve["epoch"] <= 16], 16, capped) is None  # still rising, but at its cap
    assert "not converged after 16 epochs (its cap, max_epochs)" in check(curve[curve["epoch"] <= 16], cap=16).reason()
    assert next_budget(curve[curve["epoch"] <= 4], 4, TrainConfig(epochs=4, cycles=2)) is None  # no max_epochs


# --- claims ------------------------------------------------------------------------------------

CONVERGED = Convergence(0.002, -0.01, 0.014, (3, 6))  # what the second half of training added, with its interval
STILL_RISING = Convergence(0.08, 0.05, 0.11, (3, 6))


@pytest.fixture(scope="module")
def planted():
    """Planted settings on the same 40 videos of Valid and Test. A model's error is mostly a per-video,
    per-keypoint offset (smooth over time) of ``error * S`` scaled by the video's difficulty, plus a
    little frame noise (0.005 S, below the annotation's): ``good`` (0.04), ``twin`` (0.04, other
    draws: a null), ``bad`` (0.07), ``rising`` (0.05, but still improving when training stopped);
    ``argmax`` decodes the same offsets 1.5 times larger. ``constant`` puts every keypoint of every
    frame on one point (no jitter at all), ``copy`` is the mean pose like the reference: neither
    learned anything."""
    rng = np.random.default_rng(6)
    items = []
    splits = {split: dataset(rng, videos=40) for split in ("Valid", "Test")}
    difficulty = rng.lognormal(0, 0.3, 40)
    for name, error in (("good", 0.04), ("twin", 0.04), ("bad", 0.07), ("rising", 0.05), ("constant", None),
                        ("copy", None), ("mean_pose", None)):
        rows = []
        for split, data in splits.items():
            video = pd.factorize(data[0])[0]
            if name == "constant":
                pred = {"wa": np.full_like(data[3], 100.0)}
            elif error is None:  # the mean pose of the split's labels in every frame
                pred = {"wa": np.broadcast_to(np.nanmean(data[3], axis=0), data[3].shape)}
            else:
                offset = rng.normal(size=(40, 22, 2))[video] * difficulty[video, None, None] * 88
                pred = {decoder: data[2] + factor * error * offset + rng.normal(size=offset.shape) * 0.005 * 88
                        for decoder, factor in (("wa", 1.0), ("argmax", 1.5))}
            rows.append(table(data, pred, split))
        group = "reference" if name == "mean_pose" else "t"
        config = {"id": f"{group}-{name}", "group": group, "model": name, "decoder": "wa", "eval_subset": "non_facial",
                  "seed": 0}
        items.append((config, pd.concat(rows, ignore_index=True), STILL_RISING if name == "rising" else CONVERGED))
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
                                              "holds", "holds", "not run"]
    rows = result.comparisons.set_index("claim")
    assert not rows["not_converged"].any() and "t-bad: converged" in rows.loc["c0", "convergence"]
    assert rows.loc["c7", "verdict"] == "not run" and rows.loc["c7", "reason"].startswith("not run: ")
    # counted apart from inconclusive and untested
    assert result.claims.loc[7, ["not run", "inconclusive", "untested"]].tolist() == [1, 0, 0]
    assert rows.loc["c0", "low"] > 0 and rows.loc["c0", "n_videos"] == 40
    assert rows.loc["c0", "display"].startswith("+")
    too_few = evaluate(claims(planted.claims[0].comparisons[0].model_dump(), min_videos=41), source).comparisons.iloc[0]
    assert too_few["verdict"] == "inconclusive" and too_few["reason"].startswith("only 40 videos (< 41)")


@pytest.mark.parametrize("arm", ["constant", "copy"])
def test_an_arm_that_learned_nothing_makes_every_comparison_untested(source, arm):
    """A constant point, or the mean pose itself, against a good model: "good beats it" would hold, and
    a constant is perfectly smooth, so every smoothness comparison would hold too; all are untested."""
    nothing, good = {"group": "t", "model": arm}, {"group": "t", "model": "good"}
    result = evaluate(claims(
        {"a": good, "b": nothing, "metric": "pck@0.04", "direction": "greater"},
        {"a": nothing, "b": 1.0, "metric": "jitter:Hip", "direction": "less"},
        {"a": nothing, "metric": "jitter:Hip", "b_metric": "jitter:Knee", "direction": "less"},
        {"a": good, "b": 1.0, "metric": "jitter:Hip", "direction": "less"},
    ), source)
    assert list(result.claims["verdict"]) == ["untested", "untested", "untested", "holds"]
    reason = result.comparisons["reason"].iloc[0]
    assert f"model={arm} arm did not learn: Valid pck@0.1 " in reason and ", chance level 0." in reason
    assert "(group=reference; difference " in reason and "good" not in reason  # the other arm learned
    # the claim summary counts them apart, and a claim mixing untested and held comparisons is inconclusive
    assert result.claims.loc[0, "untested"] == 1 and combine(["holds", "untested"]) == "inconclusive"


def test_a_comparison_whose_arm_was_not_run_says_why(planted):
    """A planned experiment that was not run (a profile's ``defer``) gives its reason to the verdict."""
    source = PredictionsSource(planted, not_run=[({"group": "t", "id": "t-slow", "model": "slow"}, "too slow here")])
    good = {"group": "t", "model": "good"}
    result = evaluate(claims({"a": {"group": "t", "model": "slow"}, "b": good, "metric": "mks", "direction": "greater"},
                             {"a": {"group": "t", "model": "gone"}, "b": good, "metric": "mks", "direction": "greater"}),
                      source)
    rows = result.comparisons.set_index("claim")
    assert list(rows["verdict"]) == ["not run", "not run"]
    assert rows.loc["c0", "reason"] == "not run: t-slow was not run (too slow here)"
    assert rows.loc["c1", "reason"].startswith("not run: no finished experiment matches")


def test_an_arm_still_improving_makes_its_comparisons_untested(source):
    rising, bad = {"group": "t", "model": "rising"}, {"group": "t", "model": "bad"}
    row = evaluate(claims({"a": rising, "b": bad, "metric": "pck@0.1", "direction": "greater"}), source).comparisons.iloc[0]
    assert row["verdict"] == "untested" and row["not_converged"]
    assert "t-rising not converged after 6 epochs: training as long again (epochs 4-6, the same schedule) added +0.080" in row["reason"]
    # a claim may allow more: its tolerance is one of its settings
    lenient = claims({"a": rising, "b": bad, "metric": "pck@0.1", "direction": "greater"}, convergence_tolerance=0.2)
    assert evaluate(lenient, source).comparisons.iloc[0]["verdict"] == "holds"


def test_without_the_reference_nothing_can_be_shown_to_have_learned(planted):
    source = PredictionsSource([item for item in planted if item[0]["group"] != "reference"])
    good, bad = {"group": "t", "model": "good"}, {"group": "t", "model": "bad"}
    row = evaluate(claims({"a": good, "b": bad, "metric": "pck@0.1", "direction": "greater"}), source).comparisons.iloc[0]
    assert row["verdict"] == "untested" and "no chance-level reference (group=reference)" in row["reason"]


def test_the_decoder_that_suits_an_arm_is_chosen_on_valid(source):
    good, bad = {"group": "t", "model": "good"}, {"group": "t", "model": "bad"}
    assert source.best_decoder(good, "pck@0.02") == "wa"  # argmax decodes the same offsets 1.5 times larger
    row = evaluate(claims({"a": good, "b": bad, "metric": "pck@0.04", "decoder": "best", "direction": "greater"}),
                   source).comparisons.iloc[0]
    assert row["a"] == "model=good (wa, best on Valid)" and row["verdict"] == "holds"


def test_seeds_of_one_setting_are_pooled(planted):
    """``good`` and ``twin`` as two seeds of one setting: one cell, two rows, the mean of both."""
    seeds = [({**config, "model": "m", "seed": s, "id": f"m-{s}"}, rows, convergence)
             for s, (config, rows, convergence) in enumerate(planted[:2])]
    reference = [item for item in planted if item[0]["group"] == "reference"]
    source = PredictionsSource(seeds + [planted[2]] + reference)
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
    # met by a claims file, the ambiguous selector is a claims error naming the claim, not a traceback
    with pytest.raises(ClaimsError, match="claim 'c0', comparison 'pck@0.1': selector .* differ in sigma"):
        evaluate(claims({"a": {"model": "m"}, "b": {"model": "bad"}, "metric": "pck@0.1", "direction": "greater"}),
                 PredictionsSource([*seeds, other, planted[2], *reference]))


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
    # nothing judged is "not run"; a claim judged in part is never said to hold
    assert combine(["not run", "not run"]) == "not run" and combine([]) == "not run"
    assert combine(["holds", "not run"]) == "inconclusive" and combine(["untested", "not run"]) == "untested"
    assert combine(["contradicted", "not run"]) == "contradicted"
    assert combine(["holds", "contradicted", "inconclusive"]) == "contradicted"
    assert combine(["untested", "untested"]) == "untested" and combine(["untested", "contradicted"]) == "contradicted"


def test_claims_file_loads_and_expands():
    loaded = load_claims()
    assert loaded.reference == {"group": "reference", "reference": "mean_pose"}
    assert loaded.settings(loaded.claims[0]).min_videos == 10 and loaded.settings(loaded.claims[0]).learned_split == "Valid"
    loaded = loaded.claims
    ids = [c.id for c in loaded]
    assert {"kce_beats_bce_mse", "kce_model_ranking", "wa_beats_argmax", "face_occlusion_equivalent",
            "omitting_facial_keypoints_harmless", "smoother_than_annotation", "smoothest_at_hips"} <= set(ids)
    expanded = {c.id: [r for x in c.comparisons for r in x.expand()] for c in loaded}
    assert len(expanded["kce_beats_bce_mse"]) == 12
    ranking = expanded["kce_model_ranking"]
    assert [r.a["model"] for r in ranking] == ["simple_baseline", "resunet"]
    assert all(r.b["model"] == "hourglass" for r in ranking)
    assert {(r.decoder, r.b_decoder) for r in expanded["wa_beats_argmax"]} == {("wa", "argmax")}
    assert {(r.decoder, r.b_decoder) for r in expanded["kce_beats_bce_mse"]} == {("best", "best")}


def test_a_claims_setting_out_of_range_names_the_claim(tmp_path):
    path = tmp_path / "claims.yaml"
    path.write_text(CLAIMS.read_text().replace("    paper_claim: 4\n", "    paper_claim: 4\n    settings: {n_boot: 5}\n", 1))
    with pytest.raises(ClaimsError, match="claim 'kce_model_ranking': settings.n_boot: Input should be greater"):
        load_claims(path)


@pytest.mark.parametrize("typo, field", [("  direction: greater", "  direction: greatr"),
                                         ("  metric: pck@0.04", "  metirc: pck@0.04")])
def test_claims_file_typo_names_file_claim_and_field(tmp_path, typo, field):
    path = tmp_path / "claims.yaml"
    path.write_text(CLAIMS.read_text().replace(typo, field, 1))
    with pytest.raises(ClaimsError) as error:
        load_claims(path)
    message = str(error.value)
    assert str(path) in message and "kce_beats_bce_mse" in message and field.split(":")[0].strip() in message


def test_comparisons_that_share_a_label_are_told_apart(source):
    good, bad, twin = ({"group": "t", "model": s} for s in ("good", "bad", "twin"))
    result = evaluate(ClaimsFile.model_validate({"reference": {"group": "reference"}, "claims": [
        {"id": "c", "statement": "s", "published": {"text": "t"}, "comparisons": [
            {"a": good, "b": bad, "metric": "pck@0.1", "direction": "greater"},
            {"a": good, "b": twin, "metric": "pck@0.1", "direction": "greater"}]}]}), source)
    assert list(result.comparisons["comparison"]) == ["pck@0.1 vs model=bad", "pck@0.1 vs model=twin"]
