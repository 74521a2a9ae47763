"""The manifest: the study's grid resolves right, and mistakes get a file:line error with choices."""

from pathlib import Path

import pytest

from benchmark.common.seeds import with_seed, without_seed
from benchmark.report import figure_names, table_names
from benchmark.report.figures import FIGURES as FIGURE_FUNCTIONS
from benchmark.report.render import TABLES as TABLE_FUNCTIONS
from benchmark.runner.manifest import LoadedManifest, ManifestError
from benchmark.runner.provenance import experiment_hash

MANIFEST = Path(__file__).resolve().parents[1] / "experiments" / "manifest.yaml"


def test_the_study_grid():
    manifest = LoadedManifest(MANIFEST)
    experiments = manifest.experiments("quick")
    ids = [e.id for e in experiments]
    # quick: the study's three models with every loss, the five occlusion settings, the zero-shot
    # baseline and the chance level, one seed each
    assert len(ids) == len(set(ids)) == 3 * 3 + 5 + 1 + 1
    assert [(e.id, e.kind) for e in experiments if e.group == "baseline"] == [("baseline-mediapipe_pose", "baseline")]
    assert [(e.id, e.kind) for e in experiments if e.group == "reference"] == [("reference-mean_pose", "reference")]
    loss = [e for e in experiments if e.group == "loss"]
    assert {(e.config.model, e.config.loss) for e in loss} == {
        (m, l) for m in ("simple_baseline", "hourglass", "resunet") for l in ("mse", "bce", "kce")}
    assert all(e.config.decoder == "wa" and e.config.cycles >= 2 for e in experiments if e.kind == "train")
    # trained until converged, the longer profile with four times the quick one's cap
    assert {(e.config.epochs, e.config.epoch_cap) for e in experiments if e.kind == "train"} == {(16, 32)}
    assert {e.config.epoch_cap for e in manifest.experiments("full") if e.kind == "train"} == {128}
    assert all(e.config.eval_subset == "non_facial" for e in experiments)
    occlusion = {e.id: e.config for e in experiments if e.group == "occlusion"}
    assert occlusion["occlusion-occluded-occluded-omitted"].train_face == "occluded"
    assert occlusion["occlusion-visible-visible-preserved"].facial_keypoints == "preserved"
    # the longer CPU profile: the reference architectures too, and seeds where settings are compared
    full = [e.id for e in manifest.experiments("full")]
    assert {"loss-hrnet-mse", "loss-vitpose-kce", "loss-simple_baseline-kce-s2", "occlusion-visible-visible-omitted-s1"} \
        <= set(full) and "loss-hourglass-kce-s1" not in full
    assert manifest.data.showcase == {"group": "loss", "model": "simple_baseline", "loss": "kce"}
    # the quick profile defers the hourglass arms (over its budget), with why; the full one runs them
    assert {e.id for e in experiments if e.deferred} == {f"loss-hourglass-{l}" for l in ("mse", "bce", "kce")}
    assert all("not converged" in e.deferred for e in experiments if e.deferred)
    assert not any(e.deferred for e in manifest.experiments("full"))


def test_profiles_change_the_training_settings():
    manifest = LoadedManifest(MANIFEST)
    smoke, paper = manifest.experiments("smoke")[0].config, manifest.experiments("paper")[0].config
    assert smoke.epochs < paper.epochs and smoke.variant == "tiny" and paper.variant == "paper"


def test_table_and_figure_names_match_the_report_registries():
    # the names read from the sources are the registries' (one source of allowed values)
    assert table_names() == list(TABLE_FUNCTIONS) and figure_names() == list(FIGURE_FUNCTIONS)


def test_a_profile_defers_experiments_with_a_reason(tmp_path):
    text = GOOD.replace("    train: {epochs: 1, input_size: 64}\n",
                        "    train: {epochs: 1, input_size: 64}\n    defer: {'*-kce': too slow here}\n")
    experiments = LoadedManifest(_write(tmp_path, text)).experiments("smoke")
    assert {e.id: e.deferred for e in experiments} == {"loss-simple_baseline-mse": None,
                                                       "loss-simple_baseline-kce": "too slow here"}
    typo = LoadedManifest(_write(tmp_path, text.replace("'*-kce'", "'*-kcee'")))
    with pytest.raises(ManifestError, match=r"manifest.yaml:8: profiles.smoke.defer.\*-kcee: matches no experiment"):
        typo.experiments("smoke")


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


def test_settings_that_depend_on_each_other_are_checked_together(tmp_path):
    """epochs, cycles and max_epochs are valid or not together (each alone meets the defaults')."""
    good = LoadedManifest(_write(tmp_path, GOOD.replace("epochs: 1,", "epochs: 32, cycles: 8, max_epochs: 128,")))
    assert {(e.config.epochs, e.config.cycles, e.config.epoch_cap) for e in good.experiments("smoke")} == {(32, 8, 128)}
    for settings, message in (("epochs: 30, cycles: 8,", r"epochs \(30\) must be a multiple of cycles \(8\)"),
                              ("epochs: 16, cycles: 2, max_epochs: 48,", r"max_epochs \(48\) must be epochs \(16\) "
                                                                         "times a power of two")):
        with pytest.raises(ManifestError, match=rf"manifest.yaml:7: profiles.smoke.train.epochs: invalid value \d+: {message}"):
            LoadedManifest(_write(tmp_path, GOOD.replace("epochs: 1,", settings)))


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
    before = _hashes(_write(tmp_path, text))
    changed = text.replace("base: {model: simple_baseline, loss: kce}", "base: {model: simple_baseline, loss: bce}")
    after = _hashes(_write(tmp_path, changed))
    assert before["loss-simple_baseline-mse"] == after["loss-simple_baseline-mse"]
    assert before["loss-simple_baseline-kce"] == after["loss-simple_baseline-kce"]
    assert before["occlusion-occluded"] != after["occlusion-occluded"]
    first = LoadedManifest(_write(tmp_path, text)).experiments("smoke")[0]
    assert experiment_hash(first.config.model_dump(), "other data", "code") != before["loss-simple_baseline-mse"]


def _hashes(path: Path, seeds=None) -> dict[str, str]:
    return {e.id: experiment_hash(e.config.model_dump(), "data", "code") for e in LoadedManifest(path).experiments("smoke", seeds)}


def test_each_seed_is_its_own_experiment_and_seed_0_keeps_the_plain_id(tmp_path):
    plain = _hashes(_write(tmp_path, GOOD))
    seeded = GOOD.replace("    train: {epochs: 1, input_size: 64}\n",
                          "    train: {epochs: 1, input_size: 64}\n    seeds: {'loss-*-kce': [0, 2]}\n")
    with_seeds = _hashes(_write(tmp_path, seeded))
    # adding seed 2 adds exactly one experiment; every earlier one keeps its id and cache key
    assert with_seeds == plain | {"loss-simple_baseline-kce-s2": with_seeds["loss-simple_baseline-kce-s2"]}
    assert with_seeds["loss-simple_baseline-kce-s2"] not in plain.values()
    experiments = {e.id: e.config.seed for e in LoadedManifest(_write(tmp_path, seeded)).experiments("smoke")}
    assert experiments["loss-simple_baseline-kce-s2"] == 2
    # a group's seeds apply in every profile; the profile's pattern wins; --seeds overrides both
    grouped = seeded.replace("      loss: [mse, kce]\n", "      loss: [mse, kce]\n    seeds: [0, 1]\n")
    assert sorted(_hashes(_write(tmp_path, grouped))) == sorted([
        "loss-simple_baseline-mse", "loss-simple_baseline-mse-s1", "loss-simple_baseline-kce",
        "loss-simple_baseline-kce-s2"])
    cli = _hashes(_write(tmp_path, grouped), seeds=[0, 1, 2])
    assert len(cli) == 6 and cli["loss-simple_baseline-mse"] == plain["loss-simple_baseline-mse"]
    listed = GOOD.replace("    train: {epochs: 1, input_size: 64}\n", "    train: {epochs: 1, input_size: 64}\n    seeds: [1]\n")
    assert sorted(_hashes(_write(tmp_path, listed))) == ["loss-simple_baseline-kce-s1", "loss-simple_baseline-mse-s1"]


def test_bad_seeds_are_rejected(tmp_path):
    for bad in ("[0, 0]", "[]", "[-1]", "{'loss-*': [1, 1]}"):
        text = GOOD.replace("    train: {epochs: 1, input_size: 64}\n", f"    train: {{epochs: 1, input_size: 64}}\n    seeds: {bad}\n")
        with pytest.raises(ManifestError, match="seeds"):
            LoadedManifest(_write(tmp_path, text))
    with pytest.raises(ManifestError, match="seeds"):
        LoadedManifest(_write(tmp_path, GOOD)).experiments("smoke", [1, 1])


def test_seed_suffix_round_trip():
    assert with_seed("loss-simple_baseline-kce", 0) == "loss-simple_baseline-kce"
    assert with_seed("loss-simple_baseline-kce", None) == "loss-simple_baseline-kce"
    assert with_seed("loss-simple_baseline-kce", 12) == "loss-simple_baseline-kce-s12"
    for seed in (0, 3, 12):
        assert without_seed(with_seed("occlusion-visible-visible-omitted", seed)) == "occlusion-visible-visible-omitted"
    assert without_seed("loss-hrnet-kce-s1x") == "loss-hrnet-kce-s1x"  # not a seed suffix


def test_a_profile_runs_only_its_groups(tmp_path):
    grouped = GOOD + "  - group: reference\n    kind: reference\n    rows:\n      - {reference: mean_pose}\n"
    both = [e.group for e in LoadedManifest(_write(tmp_path, grouped)).experiments("smoke")]
    assert both == ["loss", "loss", "reference"]  # without `groups`: every group, as before
    only = grouped.replace("    dataset: tiny\n", "    dataset: tiny\n    groups: [reference]\n")
    assert [e.id for e in LoadedManifest(_write(tmp_path, only)).experiments("smoke")] == ["reference-mean_pose"]
    with pytest.raises(ManifestError, match=r"manifest.yaml:7: profiles.smoke.groups.0: unknown group 'losses' "
                                            r"\(defined: loss, reference\)"):
        LoadedManifest(_write(tmp_path, grouped.replace("dataset: tiny\n", "dataset: tiny\n    groups: [losses]\n")))
    with pytest.raises(ManifestError, match="groups"):
        LoadedManifest(_write(tmp_path, grouped.replace("    dataset: tiny\n", "    dataset: tiny\n    groups: []\n")))
