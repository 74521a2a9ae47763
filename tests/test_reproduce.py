"""Did a run reproduce the reference result? ``reproduce --write``, ``reproduce`` and the report's section,
on fabricated results (tests/test_report.py's) with planted drift."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest
from test_report import MINIMAL_MANIFEST, make_results

from benchmark.commands import main as benchmark_main
from benchmark.report.reproduce import FIGURES, ReferenceFileError, read_reference

EXPERIMENTS = ["loss-hourglass-mse", "loss-simple_baseline-kce", "reference-mean_pose"]
PACKAGES = {"keras": "3.15.1", "numpy": "2.4.6"}


@pytest.fixture(scope="module")
def fabricated(tmp_path_factory) -> Path:
    """A finished run of the minimal manifest (two loss settings and the chance level), its
    environment recording package versions and a lock, as ``<root>/results/quick``."""
    root = tmp_path_factory.mktemp("run")
    make_results(root, groups=("loss", "reference"))
    for metrics in (root / "results" / "quick").glob("*/metrics.json"):
        summary = json.loads(metrics.read_text())
        summary["environment"] |= {"packages": PACKAGES, "cpu_features": ["avx2", "fma"],
                                   "lock": {"mode": "locked", "lock": "locks/cpu.txt", "sha256": "86de04edb945f9e7",
                                            "matches": True}}
        metrics.write_text(json.dumps(summary))
    return root


@pytest.fixture
def workspace(fabricated, tmp_path) -> Path:
    """A copy of the run where the minimal manifest (``tmp_path/manifest.yaml``, dataset ``d``) finds it:
    ``tmp_path/results/d/quick``; the reference result goes to ``tmp_path/reference_results/d/quick.json``."""
    shutil.copytree(fabricated / "results", tmp_path / "results" / "d",
                    ignore=shutil.ignore_patterns("loss-my_new_model-kce"))  # not in the minimal manifest
    shutil.copytree(fabricated / "data", tmp_path / "data")
    (tmp_path / "manifest.yaml").write_text(MINIMAL_MANIFEST + "tables: [loss]\nfigures: []\n")
    return tmp_path


def reproduce(workspace: Path, *options: str) -> int:
    from benchmark.commands import reproduce as cli

    parser = argparse.ArgumentParser()
    cli.configure(parser)
    return cli.main(parser.parse_args(["--manifest", str(workspace / "manifest.yaml"), "--results",
                                       str(workspace / "results"), *options]))


def reference_file(workspace: Path) -> Path:
    return workspace / "reference_results" / "d" / "quick.json"


def plant(workspace: Path, change) -> None:
    """Edit the written reference result with ``change(document)``."""
    path = reference_file(workspace)
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def test_without_a_reference_one_line_and_nothing_else(workspace, capsys):
    assert reproduce(workspace) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "no reference result for d/quick" in out and "reproduce --write" in out
    assert not (workspace / "reference_results").exists()


def test_the_written_reference_holds_every_figure_and_a_run_reproduces_itself(workspace, capsys):
    assert reproduce(workspace, "--write") == 0
    assert f"reference result written to {reference_file(workspace)}: 3 experiments" in capsys.readouterr().out
    document = read_reference(reference_file(workspace))
    assert sorted(document["experiments"]) == EXPERIMENTS and document["profile"] == "quick"
    kce = document["experiments"]["loss-simple_baseline-kce"]
    for split, metric in FIGURES:
        figure = kce["figures"][split][metric]
        assert 0 < figure["low"] <= figure["estimate"] <= figure["high"] <= 1, (split, metric)
    assert kce["figures"]["Test"]["pck@0.1"]["low"] < kce["figures"]["Test"]["pck@0.1"]["high"]
    assert kce["epochs_run"] == 4 and kce["converged"] is True and len(kce["settings_hash"]) == 16
    assert document["experiments"]["reference-mean_pose"]["epochs_run"] is None
    assert document["experiments"]["reference-mean_pose"]["converged"] is None  # nothing trained: untested
    environment = document["environments"][kce["environment"]]
    assert environment["packages"] == PACKAGES and environment["lock"]["sha256"] == "86de04edb945f9e7"
    assert environment["cpu_features"] == "avx2 fma" and kce["commit"] == "abc1234"
    assert document["verdicts"] and set(document["verdicts"].values()) <= {"holds", "contradicted", "inconclusive",
                                                                          "untested", "not run"}

    assert reproduce(workspace) == 0
    captured = capsys.readouterr()
    verdicts = len(document["verdicts"])
    assert captured.out.splitlines()[-1] == (f"reproduced: 3 of 3 experiments within their intervals, "
                                             f"{verdicts} of {verdicts} verdicts unchanged")
    assert captured.err == ""


def test_planted_drift_is_named_experiment_figure_verdict_and_version(workspace, capsys):
    assert reproduce(workspace, "--write") == 0
    flipped = {}

    def drift(document):
        figure = document["experiments"]["loss-hourglass-mse"]["figures"]["Test"]["pck@0.1"]
        for bound in ("estimate", "low", "high"):
            figure[bound] = round(figure[bound] - 0.3, 4)  # far outside the run's interval, and it outside this one
        claim, verdict = next(iter(document["verdicts"].items()))
        flipped.update(claim=claim, was=verdict)
        document["verdicts"][claim] = "contradicted" if verdict == "holds" else "holds"
        for environment in document["environments"].values():
            environment["packages"]["keras"] = "3.14.0"

    plant(workspace, drift)
    capsys.readouterr()
    assert reproduce(workspace) == 1
    captured = capsys.readouterr()
    differs = next(line for line in captured.out.splitlines() if "loss-hourglass-mse" in line)
    assert differs.startswith("  DIFFERS loss-hourglass-mse: Test pck@0.1 ")
    assert "this run outside the reference's interval; the reference outside this run's" in differs
    assert "mks" not in differs and "Valid" not in differs  # only the shifted figure
    assert "packages.keras 3.14.0 in the reference, 3.15.1 here (3 experiment(s))" in captured.out
    was = "contradicted" if flipped["was"] == "holds" else "holds"
    assert f"VERDICT CHANGED {flipped['claim']}: {was} in the reference, {flipped['was']} here" in captured.err
    assert "VERDICT CHANGED" not in captured.out  # on stderr, not lost among the lines
    summary = captured.out.splitlines()[-1]
    assert summary.startswith("NOT REPRODUCED: 2 of 3 experiments within their intervals, ")
    assert "(1 differs, 1 environment difference(s))" in summary


def test_changed_settings_are_not_comparable_and_not_compared(workspace, capsys):
    assert reproduce(workspace, "--write") == 0

    def older(document):
        experiment = document["experiments"]["loss-simple_baseline-kce"]
        experiment |= {"settings_hash": "0123456789abcdef", "commit": "0ld0ld0"}
        experiment["figures"]["Test"]["pck@0.1"] = {"estimate": 0.01, "low": 0.0, "high": 0.02}  # not looked at
        document["experiments"]["loss-gone-bce"] = experiment  # finished in the reference only

    plant(workspace, older)
    capsys.readouterr()
    assert reproduce(workspace) == 1
    out = capsys.readouterr().out
    assert ("  NOT COMPARABLE loss-simple_baseline-kce: its settings changed since the reference (commit 0ld0ld0; "
            "settings hash 0123456789abcdef there, ") in out
    assert "not compared" in out and "pck@0.1 0.010" not in out
    assert "  MISSING loss-gone-bce: not finished in this run" in out
    assert out.splitlines()[-1].startswith("NOT REPRODUCED: 2 of 4 experiments within their intervals")
    assert "(1 not comparable, 1 missing)" in out.splitlines()[-1]


def test_a_broken_reference_is_named_with_its_field_exit_2(workspace, capsys):
    assert reproduce(workspace, "--write") == 0
    plant(workspace, lambda document: document["experiments"]["reference-mean_pose"].pop("figures"))
    with pytest.raises(ReferenceFileError, match=r"quick.json: experiments.reference-mean_pose.figures: Field required"):
        reproduce(workspace)
    capsys.readouterr()
    status = benchmark_main(["reproduce", "--manifest", str(workspace / "manifest.yaml"),
                             "--results", str(workspace / "results")])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "Traceback" not in err


def test_write_refuses_a_run_with_an_unfinished_experiment(workspace):
    (workspace / "results" / "d" / "quick" / "loss-hourglass-mse" / "COMPLETE.json").unlink()
    with pytest.raises(Exception, match=r"not finished: loss-hourglass-mse; a reference result holds every experiment"):
        reproduce(workspace, "--write")
    assert not reference_file(workspace).exists()


def test_write_leaves_out_what_the_profile_defers(workspace):
    manifest = workspace / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("train: {epochs: 4, cycles: 2}",
                                                     "train: {epochs: 4, cycles: 2}, defer: {'*-mse': too slow}"))
    shutil.rmtree(workspace / "results" / "d" / "quick" / "loss-hourglass-mse")
    assert reproduce(workspace, "--write") == 0
    assert set(json.loads(reference_file(workspace).read_text())["experiments"]) == {
        "loss-simple_baseline-kce", "reference-mean_pose"}


def test_the_report_has_the_section_and_is_rendered_again_when_the_reference_changes(workspace, capsys):
    from benchmark.commands import report as cli

    def report() -> str:
        parser = argparse.ArgumentParser()
        cli.configure(parser)
        assert cli.main(parser.parse_args(["--manifest", str(workspace / "manifest.yaml"), "--results",
                                           str(workspace / "results"), "--out", str(workspace / "out")])) == 0
        return capsys.readouterr().out

    index = workspace / "out" / "d" / "quick" / "index.html"
    assert "no reference result for d/quick" in report()
    assert "Did it reproduce?" in index.read_text() and "no reference result" in index.read_text()
    assert reproduce(workspace, "--write") == 0
    out = report()  # the reference is an input of the report: rendered again, and compared
    assert "report written" in out and out.splitlines()[-1].startswith("reproduced: 3 of 3 experiments")
    assert "reproduced: 3 of 3 experiments" in index.read_text()
    assert "reproduced: 3 of 3 experiments" in (index.parent / "README.md").read_text()
    out = report()  # up to date: not rendered, the comparison still said
    assert "report up to date" in out and out.splitlines()[-1].startswith("reproduced: 3 of 3 experiments")
