"""The labelling loop measured on synthetic data (benchmark/labelling/simulate.py): its settings in the
manifest, the simulation end to end on the smoke dataset, and the report's curves and claim."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark.common.metrics_file import read_metrics
from benchmark.data.labelme import Dataset, Frame
from benchmark.evidence.claims import VERDICTS
from benchmark.labelling.config import LabellingConfig
from benchmark.labelling.select import STRATEGIES
from benchmark.labelling.simulate import LabellingError, converges, relabel, retrain_config, start_videos
from benchmark.report.evidence_table import NOT_RUN
from benchmark.report.figure_data import labelling_points
from benchmark.report.figures import FIGURES
from benchmark.report.results import Result, Results, load_results
from benchmark.runner.manifest import LoadedManifest, ManifestError
from benchmark.study.keypoints import NUM_KEYPOINTS
from tests.conftest import run_manifest

REPO = Path(__file__).resolve().parents[1]
MANIFEST = REPO / "experiments" / "manifest.yaml"


def test_the_labelling_profile_runs_each_strategy_and_the_chance_level_only():
    manifest = LoadedManifest(MANIFEST)
    experiments = manifest.experiments("labelling")
    assert [(e.id, e.kind) for e in experiments] == [("reference-mean_pose", "reference")] + [
        (f"labelling-{s}", "labelling") for s in STRATEGIES]
    first = experiments[1].config
    assert type(first) is LabellingConfig and (first.rounds, first.frames_per_round, first.start_videos) == (3, 20, 4)
    assert first.input_size == manifest.profile("labelling").train["input_size"]  # the profile's recipe
    assert first.framing == "body" and first.epoch_cap > first.epochs  # as the quick profile: until converged
    assert {e.config.framing for e in manifest.experiments("smoke") if e.kind == "labelling"} == {"body"}
    assert manifest.profile("labelling").dataset == manifest.profile("quick").dataset  # shared, generated once
    assert not [e for e in manifest.experiments("quick") if e.kind == "labelling"]  # the quick run is untouched


GOOD = """\
datasets:
  tiny:
    synthetic: {videos: 3, frames_per_video: 2, size: 64}
profiles:
  smoke:
    dataset: tiny
    train: {epochs: 2, input_size: 64}
experiments:
  - group: labelling
    kind: labelling
    base: {rounds: 2, epochs: 4}
    grid:
      strategy: [uncertain, random]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "manifest.yaml"
    path.write_text(text)
    return path


def test_a_labelling_group_inherits_the_profile_recipe_and_overrides_it(tmp_path):
    experiments = LoadedManifest(_write(tmp_path, GOOD)).experiments("smoke")
    assert [e.id for e in experiments] == ["labelling-uncertain", "labelling-random"]
    assert all(e.config.input_size == 64 and e.config.epochs == 4 and e.config.rounds == 2 for e in experiments)


@pytest.mark.parametrize("old,new,expected", [
    ("[uncertain, random]", "[uncertain, clever]", ["manifest.yaml:13", "strategy", "'uncertain', 'jump', 'diverse'"]),
    ("rounds: 2,", "rounds: 0,", ["manifest.yaml:11", "rounds", "greater than or equal to 1"]),
    ("rounds: 2,", "round: 2,", ["manifest.yaml:11", "unknown setting 'round'", "frames_per_round"]),
])
def test_a_bad_labelling_setting_names_the_field(tmp_path, old, new, expected):
    with pytest.raises(ManifestError) as err:
        LoadedManifest(_write(tmp_path, GOOD.replace(old, new)))
    for fragment in expected:
        assert fragment in str(err.value)


def _frames(videos: int, frames: int) -> list[Frame]:
    pose = np.tile([[40.0, 30.0]], (NUM_KEYPOINTS, 1)) + np.arange(NUM_KEYPOINTS)[:, None]
    return [Frame("Train", f"{v:03d}", 5 * f, Path(f"{v}_{f}.jpg"), Path(f"{v}_{f}.json"), pose, 64, 64, pose)
            for v in range(videos) for f in range(frames)]


def test_the_loop_settings_that_the_dataset_cannot_hold_are_named(tmp_path):
    dataset = Dataset(tmp_path, {"Train": _frames(3, 7)})
    assert len(start_videos(dataset, LabellingConfig(start_videos=1, rounds=2, frames_per_round=3, batch_size=4))) == 1
    for settings, field in (({"start_videos": 3}, "start_videos 3"), ({"rounds": 3, "frames_per_round": 5}, "rounds 3"),
                            ({"batch_size": 8}, "batch_size 8")):
        with pytest.raises(LabellingError, match=field):
            start_videos(dataset, LabellingConfig(**{"start_videos": 1, "rounds": 2, "frames_per_round": 3,
                                                     "batch_size": 4} | settings))


def test_every_retrain_takes_the_steps_of_the_recipe_on_the_whole_train_split():
    config = LabellingConfig(epochs=4, cycles=2, batch_size=16, warmup_epochs=0.5)
    for labelled in (56, 76, 96, 116):
        recipe = retrain_config(config, labelled, 672)
        assert recipe.epochs % 2 == 0 and type(recipe).__name__ == "TrainConfig"
        assert abs(recipe.epochs * (labelled // 16) - 4 * 42) <= 2 * (labelled // 16)  # within a cycle's epoch
        assert recipe.warmup_epochs * (labelled // 16) == pytest.approx(0.5 * 42)    # the same warm-up steps
        assert recipe.max_epochs is None
        # trained until converged (converge: every, the default): each retrain doubles up to the profile's
        # multiple of the recipe's steps; converge: last: the retrains before the last take the recipe's steps
        capped = config.model_copy(update={"max_epochs": 16})
        for converge, earlier_cap in (("every", 4 * recipe.epochs), ("last", recipe.epochs)):
            settings = capped.model_copy(update={"converge": converge})
            last = retrain_config(settings, labelled, 672, converges(settings, 3))
            assert last.epochs == recipe.epochs and last.epoch_cap == 4 * recipe.epochs
            assert retrain_config(settings, labelled, 672, converges(settings, 1)).epoch_cap == earlier_cap


def test_the_simulated_annotator_labels_a_frame_alike_whoever_asks(tmp_path):
    frames = _frames(2, 3)
    settings = [{"id": f"{v:03d}", "noise_unit_px": 20.0, "picture": [0, 0, 64, 64]} for v in range(2)]
    (tmp_path / "synth.json").write_text(json.dumps({"video_settings": settings}))
    exact = relabel(frames, tmp_path, 0.0, seed=0)
    assert all(np.allclose(f.keypoints, f.truth) for f in exact)
    noisy = relabel(frames, tmp_path, 1.0, seed=0)
    assert not np.allclose(noisy[0].keypoints, frames[0].truth)
    # the same frame gets the same label in any order or company (every strategy labels it alike)
    assert np.array_equal(relabel(frames[::-1], tmp_path, 1.0, seed=0)[-1].keypoints, noisy[0].keypoints)
    assert not np.array_equal(relabel(frames, tmp_path, 1.0, seed=1)[0].keypoints, noisy[0].keypoints)


def _fabricated(tmp_path: Path) -> Results:
    """Two strategies' labelling.csv (3 rounds, 10 Test videos) and a chance-level reference."""
    experiments = []
    for strategy, gain in (("uncertain", 4), ("random", 2)):
        folder = tmp_path / f"labelling-{strategy}"
        folder.mkdir()
        rows = [{"round": r, "labelled_frames": 56 + 20 * r, "strategy": strategy, "video": f"{v:03d}",
                 "correct": 10 + gain * r + v % 3, "mks": 30.0, "scored": 100} for r in range(3) for v in range(10)]
        pd.DataFrame(rows).to_csv(folder / "labelling.csv", index=False)
        said = {0: True, 1: None, 2: False}  # converged; not tested (converge: last); not converged at the cap
        rounds = [{"round": r, "converged": said[r]} for r in range(3) if strategy == "uncertain"]
        experiments.append(Result(folder.name, "labelling", folder, {}, {
            "kind": "labelling", "config": {"strategy": strategy, "seed": 0, "decoder": "wa"},
            "labelling": {"rounds": rounds}}))
    reference = {"kind": "reference", "config": {"model": "mean_pose", "loss": "chance level", "decoder": "reference"},
                 "metrics": {"reference": {"Test": {"annotation": {"pck@0.1": 0.04}}}}}
    experiments.append(Result("reference-mean_pose", "reference", tmp_path, {}, reference))
    return Results("labelling", tmp_path, experiments)


def test_the_labelling_curves_render_from_labelling_csv(tmp_path):
    results = _fabricated(tmp_path)
    points = labelling_points(results).set_index(["strategy", "round"])
    assert points.loc[("uncertain", 2), "pck"] == pytest.approx((10 + 8 + np.mean([v % 3 for v in range(10)])) / 100)
    assert points.loc[("random", 0), "labelled_frames"] == 56 and points.loc[("uncertain", 2), "labelled_frames"] == 96
    assert (points["low"] <= points["pck"]).all() and (points["pck"] <= points["high"]).all()
    # each round's convergence as metrics.json records it; not recorded (older results): None
    assert points.loc[("uncertain", 0), "converged"] is True and points.loc[("uncertain", 2), "converged"] is False
    assert points.loc[("random", 1), "converged"] is None and points.loc[("uncertain", 1), "converged"] is None
    (tmp_path / "figures").mkdir()
    figure = FIGURES["labelling_curves"](results, tmp_path / "figures")
    assert figure.path == "figures/labelling_curves.png" and (tmp_path / figure.path).stat().st_size > 0
    # a profile without the labelling group: the usual note, no picture
    others = Results("quick", tmp_path, [e for e in results.experiments if e.group != "labelling"])
    assert FIGURES["labelling_curves"](others, tmp_path / "figures").note == NOT_RUN


@pytest.mark.slow
def test_the_smoke_simulation_end_to_end(tmp_path):
    """Every strategy's loop on the smoke dataset through papermill, cached on a rerun, then its
    curves and the claim (a minute or two on 2 cores)."""
    manifest = LoadedManifest(MANIFEST)
    planned = [e for e in manifest.experiments("smoke") if e.kind == "labelling"]
    settings = dict(results_dir=tmp_path / "results", data_dir=tmp_path / "data")
    outcomes = run_manifest(MANIFEST, "smoke", only="labelling-*", **settings)
    assert {o.id: o.status for o in outcomes} == {e.id: "ran" for e in planned}, [o.detail for o in outcomes]
    assert all(o.status == "cached" for o in run_manifest(MANIFEST, "smoke", only="labelling-*", **settings))
    run_manifest(MANIFEST, "smoke", only="reference-*", **settings)
    root = tmp_path / "results" / "synthetic-smoke" / "smoke"
    for e in planned:
        folder, config = root / e.id, e.config
        table = pd.read_csv(folder / "labelling.csv", dtype={"video": str})
        test_videos = table["video"].nunique()
        assert len(table) == (config.rounds + 1) * test_videos
        assert (table["strategy"] == config.strategy).all() and (table["scored"] > 0).all()
        per_round = table.groupby("round")["labelled_frames"].first()
        assert list(per_round.index) == list(range(config.rounds + 1))
        assert (np.diff(per_round.to_numpy()) == config.frames_per_round).all()  # monotone, a round's frames each
        labelled = pd.read_csv(folder / "labelled.csv", dtype={"video": str})
        assert len(labelled) == per_round.iloc[-1] and not labelled.duplicated(["video", "frame"]).any()
        summary = read_metrics(folder)
        assert summary["kind"] == "labelling" and summary["dataset"]["train_frames_used"] == per_round.iloc[-1]
        assert set(pd.read_csv(folder / "predictions.csv")["split"]) >= {"Valid", "Test"}
        assert (folder / "valid_cycles.csv").is_file()  # the last retrain's convergence record
        rounds = summary["labelling"]["rounds"]  # every retrain tested on Valid, its steps counted by fit
        assert [r["round"] for r in rounds] == list(range(config.rounds + 1))
        assert all(r["convergence"].startswith(("converged", "not converged")) for r in rounds)
        assert all(r["converged"] is (not r["convergence"].startswith("not")) for r in rounds)
        per_epoch = [2 * r["labelled_frames"] // config.batch_size for r in rounds]  # body: crops and whole
        assert [r["steps"] for r in rounds] == [r["epochs"] * n for r, n in zip(rounds, per_epoch)]
    results = load_results(root, profile="smoke")
    (tmp_path / "figures").mkdir()
    assert FIGURES["labelling_curves"](results, tmp_path / "figures").path
    claim = results.verdicts.comparisons.query("claim == 'uncertain_beats_random_labelling'")
    assert len(claim) == 2 and set(claim["verdict"]) <= set(VERDICTS)
    assert not claim["reason"].str.contains("not run").any()  # both arms and the chance level were found


LABELLING_ONLY = """\
datasets:
  tiny:
    synthetic: {videos: 4, frames_per_video: 3, size: 96, domain_shift_videos: 1}
profiles:
  sample:
    dataset: tiny
    train: {variant: tiny, input_size: 64, epochs: 1, batch_size: 4, augment: false}
experiments:
  - group: labelling
    kind: labelling
    base: {start_videos: 1, rounds: 1, frames_per_round: 1}
    grid: {strategy: [uncertain, random]}
tables: [claims]
figures: [labelling_curves]
"""


def test_on_a_dataset_without_exact_truth_the_simulation_is_not_run_with_the_reason(tmp_path, sample_root, capsys):
    """The real sample frames have no synth.json: each labelling experiment is recorded as not run
    (SKIPPED.json, the reason), nothing is executed, the run exits 0, and a second run checks again
    rather than counting the record as a result."""
    from benchmark.commands import main

    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(LABELLING_ONLY)
    argv = ["run", "--manifest", str(manifest), "--profile", "sample", "--data", str(sample_root),
            "--results", str(tmp_path / "results"), "--no-progress"]
    for _ in range(2):
        assert main(argv) == 0
        out = capsys.readouterr().out
        for strategy in ("uncertain", "random"):
            assert f"skipped labelling-{strategy}: not applicable to this dataset: no synth.json" in out
        assert "failed" not in out
    for strategy in ("uncertain", "random"):
        folder = next((tmp_path / "results").glob(f"*/sample/labelling-{strategy}"))
        record = json.loads((folder / "SKIPPED.json").read_text())
        assert record["reason"].startswith("not applicable to this dataset: no synth.json in ")
        assert sorted(p.name for p in folder.iterdir()) == ["SKIPPED.json"]  # no notebook ran
