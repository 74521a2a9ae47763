"""The manifest: the study's grid resolves right, and mistakes get a file:line error with choices."""

from pathlib import Path

import pytest

from benchmark.report import figure_names, table_names
from benchmark.report.figures import FIGURES as FIGURE_FUNCTIONS
from benchmark.report.tables import TABLES as TABLE_FUNCTIONS
from benchmark.runner.manifest import LoadedManifest, ManifestError
from benchmark.runner.provenance import experiment_hash

MANIFEST = Path(__file__).resolve().parents[1] / "experiments" / "manifest.yaml"


def test_the_study_grid():
    experiments = LoadedManifest(MANIFEST).experiments("quick")
    ids = [e.id for e in experiments]
    assert len(ids) == len(set(ids)) == 9 + 5
    loss = [e for e in experiments if e.group == "loss"]
    assert {(e.config.model, e.config.loss) for e in loss} == {
        (m, l) for m in ("simple_baseline", "hourglass", "resunet") for l in ("mse", "bce", "kce")}
    assert all(e.config.decoder == "wa" and e.config.eval_subset == "non_facial" for e in experiments)
    occlusion = {e.id: e.config for e in experiments if e.group == "occlusion"}
    assert occlusion["occlusion-occluded-occluded-omitted"].train_face == "occluded"
    assert occlusion["occlusion-visible-visible-preserved"].facial_keypoints == "preserved"
    assert "loss-resunet-kce" in ids


def test_profiles_change_the_training_settings():
    manifest = LoadedManifest(MANIFEST)
    smoke, paper = manifest.experiments("smoke")[0].config, manifest.experiments("paper")[0].config
    assert smoke.epochs < paper.epochs and smoke.variant == "tiny" and paper.variant == "paper"


def test_table_and_figure_names_match_the_report_registries():
    # the names read from the sources are the registries' (one source of allowed values)
    assert table_names() == list(TABLE_FUNCTIONS) and figure_names() == list(FIGURE_FUNCTIONS)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "manifest.yaml"
    path.write_text(text)
    return path


GOOD = """\
datasets:
  tiny:
    synthetic: {videos: 3, frames_per_video: 2, size: 64}
profiles:
  smoke:
    dataset: tiny
    train: {epochs: 1, input_size: 64}
experiments:
  - group: loss
    grid:
      model: [simple_baseline]
      loss: [mse, kce]
"""


@pytest.mark.parametrize("old,new,expected", [
    ("loss: [mse, kce]", "loss: [mse, kcee]", ["manifest.yaml:12", "loss", "kcee", "unknown loss 'kcee' (allowed: mse, bce, kce)"]),
    ("model: [simple_baseline]", "model: [simple_baselin]", ["manifest.yaml:11", "unknown model", "hourglass"]),
    ("epochs: 1,", "epocs: 1,", ["manifest.yaml:7", "unknown setting 'epocs'", "epochs"]),
    ("epochs: 1,", "epochs: 0,", ["manifest.yaml:7", "epochs", "greater than or equal to 1"]),
    ("dataset: tiny", "dataset: huge", ["manifest.yaml:6", "unknown dataset 'huge'", "tiny"]),
    ("synthetic: {videos: 3", "synthetic: {videoz: 3", ["manifest.yaml:3", "videoz"]),
    ("  - group: loss\n", "  - group: Loss\n", ["manifest.yaml:9", "group"]),
])
def test_bad_manifest_names_file_line_field_and_choices(tmp_path, old, new, expected):
    assert old in GOOD
    with pytest.raises(ManifestError) as err:
        LoadedManifest(_write(tmp_path, GOOD.replace(old, new)))
    for fragment in expected:
        assert fragment in str(err.value)


def test_unknown_profile_and_table_and_broken_yaml(tmp_path):
    with pytest.raises(ManifestError, match="unknown profile 'fast'.*smoke"):
        LoadedManifest(_write(tmp_path, GOOD)).experiments("fast")
    with pytest.raises(ManifestError, match=r"manifest.yaml:\d+: tables.0: unknown table 'losses'.*loss"):
        LoadedManifest(_write(tmp_path, GOOD + "tables: [losses]\n")).check_report(table_names(), figure_names())
    with pytest.raises(ManifestError, match="not valid YAML"):
        LoadedManifest(_write(tmp_path, GOOD + "  - group: [\n"))
    with pytest.raises(ManifestError, match="not found"):
        LoadedManifest(tmp_path / "missing.yaml")


def test_changing_one_group_changes_only_its_hashes(tmp_path):
    text = GOOD + "  - group: occlusion\n    base: {model: simple_baseline, loss: kce}\n" \
                  "    rows:\n      - {train_face: occluded}\n"
    before = {e.id: experiment_hash(e, "data", "code") for e in LoadedManifest(_write(tmp_path, text)).experiments("smoke")}
    changed = text.replace("base: {model: simple_baseline, loss: kce}", "base: {model: simple_baseline, loss: bce}")
    after = {e.id: experiment_hash(e, "data", "code") for e in LoadedManifest(_write(tmp_path, changed)).experiments("smoke")}
    assert before["loss-simple_baseline-mse"] == after["loss-simple_baseline-mse"]
    assert before["loss-simple_baseline-kce"] == after["loss-simple_baseline-kce"]
    assert before["occlusion-occluded"] != after["occlusion-occluded"]
    assert experiment_hash(LoadedManifest(_write(tmp_path, text)).experiments("smoke")[0], "other data", "code") \
        != before["loss-simple_baseline-mse"]
