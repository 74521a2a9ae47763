"""Zero-shot baselines: the landmark mapping, the manifest kind, the environment set-up, the runner's
skip, and MediaPipe itself through the runner and the report (where its environment was built)."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import run_manifest
from pydantic import ValidationError

from benchmark.baselines import environments
from benchmark.baselines.config import BaselineConfig
from benchmark.baselines.evaluate import mapped_scores
from benchmark.baselines.mediapipe_pose import LANDMARKS, MAPPING, UNMAPPED, to_keypoints
from benchmark.baselines.registry import BASELINES
from benchmark.report.results import load_results
from benchmark.report.tables import decoder_table, loss_table, per_region_table
from benchmark.runner import execute
from benchmark.runner.manifest import LoadedManifest, ManifestError
from benchmark.study.keypoints import INDEX, LABELS, NON_FACIAL
from benchmark.study.metrics import evaluate

MANIFEST = """\
datasets:
  tiny:
    synthetic: {videos: 4, frames_per_video: 3, size: 128, domain_shift_videos: 1}
profiles:
  smoke:
    dataset: tiny
    train: {variant: tiny, input_size: 64, epochs: 1, batch_size: 8, augment: false, eval_subset: all}
    seeds: [0, 1]
defaults: {decoder: wa, sigma: 2.0}
experiments:
  - group: baseline
    kind: baseline
    rows:
      - {baseline: mediapipe_pose}
tables: [loss, per_region, decoder]
figures: [pck_curves]
"""


def _landmarks() -> np.ndarray:
    """33 distinct landmarks in [0, 1] image units, visibility 0.5 ... 1."""
    rng = np.random.default_rng(0)
    return np.column_stack([rng.uniform(0, 1, (33, 2)), np.linspace(0.5, 1, 33)])


def test_the_mapping_takes_each_keypoint_from_its_landmarks_on_the_same_side():
    landmarks = _landmarks()
    coords, confidence = to_keypoints(landmarks, width=200, height=100)
    at = {name: landmarks[LANDMARKS.index(name)] for name in LANDMARKS}
    np.testing.assert_allclose(coords[INDEX["Shoulder_L"]], at["left_shoulder"][:2] * (200, 100))
    np.testing.assert_allclose(coords[INDEX["Knee_R"]], at["right_knee"][:2] * (200, 100))
    palm = (at["right_index"][:2] + at["right_pinky"][:2]) / 2 * (200, 100)
    np.testing.assert_allclose(coords[INDEX["MP_joint_R"]], palm)
    lips = (at["mouth_left"][:2] + at["mouth_right"][:2]) / 2 * (200, 100)
    np.testing.assert_allclose(coords[INDEX["Upper_Lip"]], lips)
    np.testing.assert_allclose(coords[INDEX["Lower_Lip"]], lips)
    assert confidence[INDEX["MP_joint_R"]] == pytest.approx((at["right_index"][2] + at["right_pinky"][2]) / 2)
    # Every keypoint is mapped or listed as unmapped, never silently dropped.
    assert set(MAPPING) | set(UNMAPPED) == set(LABELS) and not set(MAPPING) & set(UNMAPPED)
    assert np.isnan(coords[INDEX["Head"]]).all() and confidence[INDEX["Head"]] == 0
    assert not np.isnan(np.delete(coords, INDEX["Head"], axis=0)).any()


def test_no_person_found_is_missing_and_scored_wrong():
    coords, confidence = to_keypoints(None, 64, 64)
    assert np.isnan(coords).all() and (confidence == 0).all()
    labels = np.random.default_rng(1).uniform(10, 50, (1, 22, 2))
    assert evaluate(coords[None], labels)["pck@0.1"] == 0.0


def test_mapped_scores_leave_out_only_the_keypoints_the_baseline_cannot_produce():
    labels = np.random.default_rng(2).uniform(10, 90, (3, 22, 2))
    pred = labels.copy()
    pred[:, INDEX["Head"]] = np.nan  # what the baseline cannot produce
    pred[:, INDEX["Knee_L"]] += 500  # one mapped keypoint wrong
    scores = mapped_scores(pred, labels, "non_facial", MAPPING)
    assert scores["keypoints"] == len(NON_FACIAL) - 1
    assert scores["pck@0.1"] == pytest.approx(1 - 1 / (len(NON_FACIAL) - 1))
    assert evaluate(pred, labels)["pck@0.1"] == pytest.approx(1 - 2 / len(NON_FACIAL))


def test_baseline_config_names_the_allowed_values():
    with pytest.raises(ValidationError, match="unknown baseline 'openpose'.*mediapipe_pose"):
        BaselineConfig(baseline="openpose")
    with pytest.raises(ValidationError, match="unknown variant 'heavy'.*full"):
        BaselineConfig(variant="heavy")


def test_a_baseline_group_resolves_to_one_baseline_experiment(tmp_path):
    (tmp_path / "m.yaml").write_text(MANIFEST)
    experiments = LoadedManifest(tmp_path / "m.yaml").experiments("smoke")
    assert [e.id for e in experiments] == ["baseline-mediapipe_pose"]  # no seeds: nothing to seed
    (e,) = experiments
    assert e.kind == "baseline" and isinstance(e.config, BaselineConfig)
    assert e.config.eval_subset == "all"  # the profile's settings it has, not those it has not


def test_a_training_setting_in_a_baseline_group_is_an_error_with_its_line(tmp_path):
    (tmp_path / "m.yaml").write_text(MANIFEST.replace("{baseline: mediapipe_pose}", "{baseline: mediapipe_pose, loss: kce}"))
    with pytest.raises(ManifestError, match=r"m.yaml:\d+: .*unknown setting 'loss' \(allowed: baseline, variant"):
        LoadedManifest(tmp_path / "m.yaml")


def test_an_unsupported_python_is_recorded_as_the_reason_and_builds_nothing(tmp_path):
    spec = BASELINES["mediapipe_pose"]
    reason = environments.build(spec, root=tmp_path, prefix=tmp_path, version=(3, 13))
    assert "Python 3.9-3.12 only" in reason and "3.13" in reason
    assert spec.failure(tmp_path) == reason
    assert not (tmp_path / ".venv-mediapipe_pose").exists()


def test_a_failed_install_is_recorded_and_a_later_success_clears_it(tmp_path, monkeypatch):
    spec = BASELINES["mediapipe_pose"]

    def fail(command, what):
        raise RuntimeError(f"{what} failed (exit 1): no matching distribution")

    monkeypatch.setattr(environments, "_run", fail)
    reason = environments.build(spec, root=tmp_path, prefix=tmp_path, version=(3, 11))
    assert "creating" in reason and "no matching distribution" in reason
    assert execute.missing_kernel("mediapipe_pose", prefix=tmp_path) in (None, reason)

    def install(command, what):
        if "venv" in map(str, command):
            (tmp_path / ".venv-mediapipe_pose").mkdir()
        if "ipykernel" in map(str, command):
            kernel = environments.kernel_file(spec, tmp_path)
            kernel.parent.mkdir(parents=True)
            kernel.write_text("{}")

    monkeypatch.setattr(environments, "_run", install)
    assert environments.build(spec, root=tmp_path, prefix=tmp_path, version=(3, 11)) is None
    assert spec.failure(tmp_path) is None
    calls = []
    monkeypatch.setattr(environments, "_run", lambda command, what: calls.append(what))
    assert environments.build(spec, root=tmp_path, prefix=tmp_path, version=(3, 11)) is None
    assert not calls  # up to date: nothing rebuilt


def test_a_baseline_without_its_environment_is_skipped_with_the_reason_and_nothing_fails(tmp_path, monkeypatch):
    (tmp_path / "m.yaml").write_text(MANIFEST)
    monkeypatch.setattr(execute, "missing_kernel", lambda name: "mediapipe 0.10.21 has wheels for Python 3.9-3.12 only")
    outcomes = run_manifest(tmp_path / "m.yaml", "smoke", results_dir=tmp_path / "results", data_dir=tmp_path / "data")
    assert [(o.id, o.status) for o in outcomes] == [("baseline-mediapipe_pose", "skipped")]
    record = json.loads((outcomes[0].folder / "SKIPPED.json").read_text())
    assert "Python 3.9-3.12 only" in record["reason"]
    results = load_results(tmp_path / "results" / "tiny" / "smoke")
    assert [(p.id, p.status) for p in results.problems] == [("baseline-mediapipe_pose", "skipped")]
    assert "baseline-mediapipe_pose: skipped, mediapipe 0.10.21 has wheels" in loss_table(results).caption


needs_mediapipe = pytest.mark.skipif(execute.missing_kernel("mediapipe_pose") is not None,
                                     reason=f"MediaPipe baseline environment not built: "
                                            f"{execute.missing_kernel('mediapipe_pose')}")


@pytest.fixture(scope="module")
def mediapipe_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("baseline")
    (root / "m.yaml").write_text(MANIFEST)
    outcomes = run_manifest(root / "m.yaml", "smoke", results_dir=root / "results", data_dir=root / "data")
    return root, outcomes


@needs_mediapipe
def test_mediapipe_runs_in_its_own_kernel_and_is_scored_like_a_trained_model(mediapipe_run):
    root, outcomes = mediapipe_run
    assert [(o.id, o.status) for o in outcomes] == [("baseline-mediapipe_pose", "ran")], outcomes[0].detail
    folder = outcomes[0].folder
    summary = json.loads((folder / "metrics.json").read_text())
    assert summary["kind"] == "baseline" and summary["environment"]["packages"]["mediapipe"] == "0.10.21"
    assert summary["mapping"]["unmapped"] == UNMAPPED
    predictions = pd.read_csv(folder / "predictions.csv")
    assert set(predictions["decoder"]) == {"landmarks"}
    assert set(predictions["split"]) == {"Valid", "Test", "DomainShift"}
    assert predictions.loc[predictions["keypoint"] == "Head", "x"].isna().all()
    for split, counts in summary["detection"].items():
        frames = predictions[(predictions["split"] == split) & (predictions["keypoint"] == "Hip_L")]
        assert counts["frames"] == len(frames) and counts["found"] == frames["x"].notna().sum()
    # The same metrics as a trained experiment, from the same rows.
    test = predictions[predictions["split"] == "Test"]
    pred = test[["x", "y"]].to_numpy().reshape(-1, 22, 2)
    labels = test[["label_x", "label_y"]].to_numpy().reshape(-1, 22, 2)
    assert summary["metrics"]["landmarks"]["Test"]["annotation"]["pck@0.1"] == pytest.approx(
        evaluate(pred, labels, "all")["pck@0.1"])


@needs_mediapipe
def test_the_report_shows_the_baseline_as_its_own_row(mediapipe_run, tmp_path):
    root, _ = mediapipe_run
    results = load_results(root / "results" / "tiny" / "smoke")
    loss = loss_table(results)
    assert ("mediapipe_pose", "zero-shot", "ours") in loss.data.index
    assert np.isnan(loss.data.loc[("mediapipe_pose", "zero-shot", "published")]).all()
    assert "zero-shot adult model" in loss.caption and "Head (no landmark" in loss.caption
    assert decoder_table(results).data is None  # nothing to decode
    region = per_region_table(results)
    assert region.data is None  # the per-region table is of the occlusion settings: none ran here

