"""The report stage on small, self-consistent fake results (metrics computed from the predictions)."""

from __future__ import annotations

import argparse
import json
import shutil
import zlib
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from benchmark.common.metrics_file import write_metrics
from benchmark.common.result_files import CYCLES
from benchmark.data.labelme import load_dataset, write_annotation, write_truth
from benchmark.report import evidence_table as TB
from benchmark.report import figure_names, freshness, table_names
from benchmark.report import formatting as F
from benchmark.report import tables as T
from benchmark.report import verdicts as V
from benchmark.models import list_models
from benchmark.references.config import ReferenceConfig
from benchmark.report.render import TABLES
from benchmark.report.results import REFERENCE, Results, load_results, showcase
from benchmark.runner import snapshot
from benchmark.runner.manifest import MANIFEST, LoadedManifest
from benchmark.runner.snapshot import write_snapshot
from benchmark.study.keypoints import INDEX, LABELS, NON_FACIAL_IDX, NUM_KEYPOINTS, REGIONS
from benchmark.study.metrics import evaluate, per_region
from benchmark.training.config import TrainConfig

SIZE = 96                       # image side in pixels
SPLITS = ("Valid", "Test", "DomainShift")
VIDEOS, FRAMES = ("000", "001"), np.arange(0, 50, 5)
DECODER_NOISE = {"argmax": 3.0, "wa": 2.0, "dark": 1.5}  # prediction noise in pixels, times the quality

LOSS = [("simple_baseline", "kce", 1.0), ("hourglass", "mse", 1.6), ("my_new_model", "kce", 0.8)]
OCCLUSION = [("visible", "visible", "preserved", 1.0), ("occluded", "occluded", "omitted", 1.3)]


def _base_pose() -> np.ndarray:
    pose = np.stack([np.linspace(30, 66, NUM_KEYPOINTS), np.linspace(15, 85, NUM_KEYPOINTS)], axis=1)
    for name, xy in {"Head": (48, 12), "Eye_L": (52, 18), "Eye_R": (44, 18), "Nose": (48, 21),
                     "Upper_Lip": (48, 24), "Lower_Lip": (48, 26), "Shoulder_R": (36, 34),
                     "Shoulder_L": (60, 34), "Hip_R": (40, 62), "Hip_L": (56, 62)}.items():
        pose[INDEX[name]] = xy
    return pose


def _dataset(split: str) -> tuple[list[tuple[str, int]], np.ndarray, np.ndarray]:
    """(video, frame) keys, exact truth and noisy annotation (N, 22, 2); the same in every experiment."""
    rng = np.random.default_rng(SPLITS.index(split))
    keys = [(v, int(f)) for v in VIDEOS for f in FRAMES]
    truth = np.stack([_base_pose() + [np.sin(f / 10) * 3 + int(v), f / 10] for v, f in keys])
    labels = np.round(truth + rng.normal(0, 0.8, truth.shape), 3)
    return keys, np.round(truth, 3), labels


def write_dataset(root: Path) -> None:
    """The Test and DomainShift splits as a LabelMe dataset with images, so figures can draw them."""
    for split in ("Test", "DomainShift"):
        keys, truth, labels = _dataset(split)
        for (video, frame), t, a in zip(keys, truth, labels):
            stem = f"{video}_{frame:08d}"
            for folder in ("img", "ann", "truth"):
                (root / split / folder).mkdir(parents=True, exist_ok=True)
            pixels = np.random.default_rng(frame).integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / split / "img" / f"{stem}.jpg")
            write_annotation(root / split / "ann" / f"{stem}.json", a, f"{stem}.jpg", SIZE, SIZE)
            write_truth(root / split / "truth" / f"{stem}.json", t)
    (root / "synth.json").write_text(json.dumps({"seed": 0, "fps": 25.0, "frame_step": 5}))


def write_notebook(path: Path, text: str) -> None:
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print('trained')")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    notebook.cells = [nbformat.v4.new_markdown_cell("# Train and evaluate"), cell]
    nbformat.write(notebook, path)


def write_experiment(folder: Path, exp_id: str, group: str, config: dict, quality: float,
                     dataset_root: Path, synthetic: bool = True, status: str = "COMPLETE",
                     converged: bool = True, kind: str = "train") -> dict:
    """An experiment folder like the runner's; metrics computed honestly from its predictions. A
    trained one's configuration is a whole ``TrainConfig`` where its model is registered; its Valid
    PCK@0.1 at the end of its two learning-rate cycles levels off, or still rises clearly when not
    ``converged``. A ``reference`` is the chance level's row (decoder ``reference``)."""
    rng = np.random.default_rng(zlib.crc32(exp_id.encode()))
    folder.mkdir(parents=True)
    if kind == "reference":
        config = ReferenceConfig().model_dump() | {"model": "mean_pose", "loss": "chance level", "decoder": "reference"}
        noises = {"reference": 8.0}
    else:
        config = {"variant": "tiny", "decoder": "wa", "train_face": "visible", "eval_face": "visible",
                  "facial_keypoints": "preserved", "eval_subset": "non_facial", "input_size": 128,
                  "epochs": 4, "cycles": 2, "seed": 0, **config}
        if config["model"] in list_models():
            config = TrainConfig(**config).model_dump(mode="json")
        noises = DECODER_NOISE
    rows, metrics = [], {}
    for split in SPLITS:
        keys, truth, labels = _dataset(split)
        for decoder, noise in noises.items():
            pred = np.round(truth + rng.normal(0, noise * quality, truth.shape), 3)
            scores = {"annotation": evaluate(pred, labels, config["eval_subset"])}
            if synthetic:
                scores["truth"] = evaluate(pred, truth, config["eval_subset"])
            metrics.setdefault(decoder, {})[split] = scores
            n = len(keys)
            rows.append(pd.DataFrame({
                "split": split, "video": np.repeat([k[0] for k in keys], 22),
                "frame": np.repeat([k[1] for k in keys], 22), "keypoint": np.tile(LABELS, n),
                "decoder": decoder, "x": pred[..., 0].ravel(), "y": pred[..., 1].ravel(), "confidence": 0.5,
                "label_x": labels[..., 0].ravel(), "label_y": labels[..., 1].ravel(),
                "truth_x": truth[..., 0].ravel() if synthetic else np.nan,
                "truth_y": truth[..., 1].ravel() if synthetic else np.nan}))
    pd.concat(rows).to_csv(folder / "predictions.csv", index=False, float_format="%.3f")
    summary = {
        "kind": kind, "config": config, "wall_time_s": 5.0, "metrics": metrics,
        "dataset": {"root": str(dataset_root), "fingerprint": "f1ngerpr1nt", "synthetic": synthetic,
                    "frames": {"Train": 40, "Valid": 12, "Test": 12}},
        "environment": {"backend": "jax", "device": "TestDevice", "commit": "abc1234", "python": "3.11"},
    }
    if kind == "reference":
        summary["reference"] = {"name": "mean_pose"}
    else:
        epochs = np.arange(1, 5)
        pd.DataFrame({"epoch": epochs, "loss": 1.0 / epochs * quality, "epoch_time_s": 2.0 + quality,
                      "learning_rate": [1e-3, 0.0, 1e-3, 0.0],
                      "val_pck@0.1": np.array([0.4, 0.5, 0.55, 0.5 if converged else 0.8]) / quality,
                      }).to_csv(folder / "history.csv", index=False)
        ends = [0.5, 0.5] if converged else [0.5, 0.8]
        keys = sorted({k[0] for k in _dataset("Valid")[0]})
        pd.DataFrame([{"cycle": c + 1, "epoch": 2 * (c + 1), "decoder": "wa", "video": v, "correct": 100 * end + i,
                       "scored": 100}
                      for c, end in enumerate(ends) for i, v in enumerate(keys)]).to_csv(folder / CYCLES, index=False)
        summary |= {"model": {"name": config["model"]}, "imagenet_weights": False,
                    "codec": {"loss": config["loss"], "decoder": "wa", "sigma": 2.0, "stride": 4},
                    "compute": {"precision": "float32", "jit_compile": False}, "epochs_run": 4,
                    "epoch_time_s": 2.0 + quality, "train_images_per_s": 10.0, "timings_s": {"fit": 4.0}}
    write_metrics(folder, summary)
    write_notebook(folder / "notebook.ipynb", f"trained {exp_id}")
    record = {"id": exp_id, "group": group, "hash": "h", "profile": "quick", "wall_time_s": 5.0,
              "finished": "2024-01-01T00:00:00+00:00", "notebook": "notebook.ipynb"}
    if status == "FAILED":
        record["error"] = "RuntimeError: out of memory"
    if status:
        (folder / f"{status}.json").write_text(json.dumps(record))
    return summary


SHOWCASE = {"group": "loss", "model": "simple_baseline", "loss": "kce"}


def read(results_dir: Path, planned=None) -> Results:
    """The quick profile's results under ``results_dir``, with the manifest's showcase."""
    return load_results(Path(results_dir) / "quick", planned, "quick", SHOWCASE)


def make_results(root: Path, groups=("loss", "occlusion", "reference"), synthetic: bool = True,
                 dataset_root: Path | None = None) -> Path:
    """``root/results/quick/<id>/`` for the chosen groups; returns ``root/results``."""
    base = root / "results" / "quick"
    if dataset_root is None:
        dataset_root = root / "data"
        write_dataset(dataset_root)
    if "loss" in groups:
        for model, loss, quality in LOSS:
            write_experiment(base / f"loss-{model}-{loss}", f"loss-{model}-{loss}", "loss",
                             {"model": model, "loss": loss}, quality, dataset_root, synthetic)
    if "occlusion" in groups:
        for train_face, eval_face, facial, quality in OCCLUSION:
            exp_id = f"occlusion-{train_face}-{eval_face}-{facial}"
            write_experiment(base / exp_id, exp_id, "occlusion",
                             {"model": "simple_baseline", "loss": "kce", "train_face": train_face,
                              "eval_face": eval_face, "facial_keypoints": facial}, quality,
                             dataset_root, synthetic)
    if "reference" in groups:
        write_experiment(base / "reference-mean_pose", "reference-mean_pose", "reference", {}, 1.0, dataset_root,
                         synthetic, kind="reference")
    if (dataset_root / "Test").is_dir():  # what the run stage writes for the report
        write_snapshot(load_dataset(dataset_root), "f1ngerpr1nt", base, progress=False)
    return root / "results"


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory) -> Path:
    return make_results(tmp_path_factory.mktemp("study"))


@pytest.fixture(scope="module")
def results(results_dir):
    return read(results_dir)


def _metrics(results_dir: Path, exp_id: str) -> dict:
    return json.loads((results_dir / "quick" / exp_id / "metrics.json").read_text())


# --- tables ------------------------------------------------------------------------------------

def test_loss_table_rows_columns_and_differences(results_dir, results):
    table = T.loss_table(results)
    data = table.data
    metrics = ["PCK@0.1", "PCK@0.08", "PCK@0.06", "PCK@0.04", "PCK@0.02", "mKS"]
    assert list(data.columns) == [(m, s) for m in metrics for s in ("valid", "test")] + [(F.EPOCH, "")]
    settings = [("simple_baseline", "kce"), ("hourglass", "mse"), ("my_new_model", "kce"), ("mean_pose", "chance level")]
    assert list(data.index) == [(*s, source) for s in settings for source in TB.SOURCES]
    assert "mean_pose / chance level: the Train split's mean pose drawn in every frame" in table.caption

    ours = data.xs("ours", level="source")
    scores = _metrics(results_dir, "loss-hourglass-mse")["metrics"]["wa"]
    assert ours.loc[("hourglass", "mse"), ("PCK@0.04", "test")] == scores["Test"]["annotation"]["pck@0.04"]
    assert ours.loc[("hourglass", "mse"), ("mKS", "valid")] == scores["Valid"]["annotation"]["mks"]

    reference = pd.read_csv(REFERENCE / "loss_table.csv").set_index(["model", "loss", "split"])
    published = data.xs("published", level="source")
    assert published.loc[("hourglass", "mse"), ("mKS", "test")] == reference.loc[("hourglass", "mse", "test"), "mks"]
    assert published.loc[("hourglass", "mse"), (F.EPOCH, "")] == 321
    difference = data.xs("difference", level="source")
    np.testing.assert_allclose(difference.to_numpy(), (ours - published).to_numpy())
    assert published.loc[("my_new_model", "kce")].isna().all()  # not in the publication
    assert difference.loc[("my_new_model", "kce")].isna().all()


def test_display_shows_one_number_per_cell_with_its_interval_and_the_rest_on_hover(results):
    table = T.loss_table(results)
    shown = F.display(table)
    assert list(shown.columns) == ["PCK@0.1", "PCK@0.08", "PCK@0.06", "PCK@0.04", "PCK@0.02", "mKS", "epoch time (s)"]
    key, valid, test = ("simple_baseline", "kce", "ours"), ("PCK@0.1", "valid"), ("PCK@0.1", "test")
    v, t = table.data.loc[key, [valid, test]]
    (vl, tl), (vh, th) = table.low.loc[key, [valid, test]], table.high.loc[key, [valid, test]]
    assert vl <= v <= vh and tl <= t <= th and tl < th
    cell = shown.loc[key, "PCK@0.1"]  # the test split, its interval in small type, the valid split on hover
    assert (cell.value, cell.interval) == (f"{t:.3f}", f"[{tl:.3f}, {th:.3f}]")
    assert cell.detail == f"valid {v:.3f} [{vl:.3f}, {vh:.3f}]" and str(cell) == f"{t:.3f} [{tl:.3f}, {th:.3f}]"
    assert str(shown.loc[("simple_baseline", "kce", "published"), "PCK@0.1"]) == "0.930"
    assert shown.loc[("simple_baseline", "kce", "published"), "PCK@0.1"].detail == "valid 0.937"
    difference = shown.loc[("simple_baseline", "kce", "difference"), "PCK@0.1"]
    assert str(difference) == f"{t - 0.930:+.3f} [{tl - 0.930:+.3f}, {th - 0.930:+.3f}]"
    assert str(shown.loc[("my_new_model", "kce", "published"), "mKS"]) == "–"
    epoch = table.data.loc[key, (F.EPOCH, "")]
    assert str(shown.loc[key, "epoch time (s)"]) == f"{epoch:.1f}"  # no interval
    assert "seeds" not in shown.columns and not table.stalled.any()  # one seed each, all converged
    html = F.html(shown, "loss")
    assert f'<td title="valid {v:.3f} [{vl:.3f}, {vh:.3f}]">{t:.3f} <small>[{tl:.3f}, {th:.3f}]</small></td>' in html
    assert f"{t:.3f} {{\\scriptsize [{tl:.3f}, {th:.3f}]}}" in F.latex(shown, "t")


def test_every_number_of_every_study_table_has_its_interval(results):
    for name in ("loss", "occlusion", "per_region", "decoder", "truth", "smoothness", "smoothness_keypoint"):
        table = TABLES[name](results)
        ours = (table.data.index.get_level_values("source") == "ours" if "source" in table.data.index.names
                else np.ones(len(table.data), dtype=bool))
        numbers = table.data[ours].drop(columns=[(F.EPOCH, "")], errors="ignore")
        low, high = (frame[ours][numbers.columns] for frame in (table.low, table.high))
        present = numbers.notna().to_numpy()
        assert (np.isfinite(low.to_numpy()) == present).all() and (np.isfinite(high.to_numpy()) == present).all(), name
        assert (low.to_numpy()[present] <= numbers.to_numpy()[present] + 1e-9).all(), name
        assert (numbers.to_numpy()[present] <= high.to_numpy()[present] + 1e-9).all(), name


def test_occlusion_and_per_region_tables(results_dir, results):
    occlusion = T.occlusion_table(results).data
    assert occlusion.index.names == ["train face", "valid face", "facial keypoints", "source"]
    assert len(occlusion) == 3 * (len(OCCLUSION) + 1)  # and the chance level's row
    assert ("mean_pose", "chance level", "–", "ours") in occlusion.index
    key = ("occluded", "occluded", "omitted")
    published = pd.read_csv(REFERENCE / "occlusion_table.csv")
    row = published[(published["train_face"] == "occluded") & (published["valid_face"] == "occluded")
                    & (published["split"] == "valid")]
    assert occlusion.loc[(*key, "published"), ("PCK@0.02", "valid")] == row["pck@0.02"].item()

    table = T.per_region_table(results).data
    assert list(table.columns) == [*REGIONS, "avg"]
    exp = results.group("occlusion")[1]
    assert exp.setting == key
    _, arrays = exp.arrays("Test")
    expected = per_region(arrays["prediction"], arrays["annotation"], beta=0.1)["pck"]
    np.testing.assert_allclose(table.loc[(*key, "ours"), list(REGIONS)].to_numpy(float), expected.to_numpy())
    avg = _metrics(results_dir, exp.id)["metrics"]["wa"]["Test"]["annotation"]["pck@0.1"]
    assert table.loc[(*key, "ours"), "avg"] == avg
    assert table.loc[(*key, "published"), "Hip"] == 0.768
    assert table.loc[(*key, "difference"), "Hip"] == pytest.approx(table.loc[(*key, "ours"), "Hip"] - 0.768)


def test_decoder_table(results_dir, results):
    table = T.decoder_table(results).data
    assert list(table.columns) == [(d, m) for d in DECODER_NOISE for m in ("PCK@0.1", "PCK@0.04", "mKS")]
    assert len(table) == len(LOSS) + len(OCCLUSION)
    assert table.index[0] == ("loss", "simple_baseline / kce")
    dark = _metrics(results_dir, "loss-hourglass-mse")["metrics"]["dark"]["Test"]["annotation"]["pck@0.04"]
    assert table.loc[("loss", "hourglass / mse"), ("dark", "PCK@0.04")] == dark


def test_truth_table_scores_the_annotations_against_the_truth(results_dir, results):
    table = T.truth_table(results).data
    assert table.index[0] == ("annotation", "the annotations themselves")
    _, truth, labels = _dataset("Test")
    noise = evaluate(labels, truth, "non_facial")
    assert table.iloc[0][("vs truth", "mKS")] == pytest.approx(noise["mks"])
    error = np.linalg.norm(labels - truth, axis=-1)[:, NON_FACIAL_IDX].mean()
    assert table.iloc[0][("vs truth", F.ERROR)] == pytest.approx(error, abs=1e-9)
    assert np.isnan(table.iloc[0][("vs annotation", "mKS")])
    scores = _metrics(results_dir, "loss-hourglass-mse")["metrics"]["wa"]["Test"]
    row = table.loc[("loss", "hourglass / mse")]
    assert row[("vs annotation", "PCK@0.1")] == scores["annotation"]["pck@0.1"]
    assert row[("vs truth", "mKS")] == scores["truth"]["mks"]
    # the models' predictions are noise around the truth, so they are closer to it than to the labels
    assert row[("vs truth", F.ERROR)] < row[("vs annotation", F.ERROR)]


def test_truth_table_on_real_data_explains_itself(tmp_path):
    real = read(make_results(tmp_path, groups=("loss",), synthetic=False))
    table = T.truth_table(real)
    assert table.data is None and "real data" in table.note


def test_groups_without_results_are_not_run_yet(tmp_path):
    only_loss = read(make_results(tmp_path, groups=("loss",)))
    for name in ("occlusion", "per_region"):
        table = TABLES[name](only_loss)
        assert table.data is None and table.note == TB.NOT_RUN
    empty = read(tmp_path / "nothing")
    assert all(TABLES[name](empty).data is None for name in TABLES)


def test_failed_and_incomplete_experiments_are_listed_never_aggregated(tmp_path):
    results_dir = make_results(tmp_path, groups=("loss",))
    base = results_dir / "quick"
    write_experiment(base / "loss-resunet-bce", "loss-resunet-bce", "loss", {"model": "resunet", "loss": "bce"},
                     1.0, tmp_path / "data", status="FAILED")
    write_experiment(base / "loss-resunet-mse", "loss-resunet-mse", "loss", {"model": "resunet", "loss": "mse"},
                     1.0, tmp_path / "data", status="")  # still running
    (base / "loss-resunet-kce").mkdir()
    (base / "loss-resunet-kce" / "COMPLETE.json").write_text("{not json")
    write_experiment(base / ".staging" / "loss-x", "loss-x", "loss", {"model": "x", "loss": "kce"},
                     1.0, tmp_path / "data")

    results = read(results_dir)
    assert [e.id for e in results.group("loss")] == [f"loss-{m}-{l}" for m, l, _ in LOSS]
    models = set(T.loss_table(results).data.index.get_level_values("model"))
    assert models == {m for m, _, _ in LOSS}
    problems = T.problems_table(results).data
    assert problems["status"].to_dict() == {"loss-resunet-bce": "failed", "loss-resunet-kce": "unreadable",
                                            "loss-resunet-mse": "incomplete"}
    assert "out of memory" in problems.loc["loss-resunet-bce", "error"]


def test_only_the_plans_experiments_with_the_plans_settings_are_read(tmp_path):
    results_dir = make_results(tmp_path, groups=("loss",))
    base = results_dir / "quick"
    seeded = base / "loss-hourglass-mse-s7"  # a seed no run asked for
    write_experiment(seeded, seeded.name, "loss", {"model": "hourglass", "loss": "mse"}, 1.6, tmp_path / "data")
    planned = {i: json.loads((base / i / "metrics.json").read_text())["config"]
               for i in ("loss-simple_baseline-kce", "loss-hourglass-mse")}  # my_new_model's row was removed
    results = read(results_dir, planned)
    assert {e.id for e in results.experiments} == set(planned)
    assert {(p.id, p.status) for p in results.problems} == {("loss-my_new_model-kce", "ignored"),
                                                            ("loss-hourglass-mse-s7", "ignored")}
    assert "my_new_model" not in set(T.loss_table(results).data.index.get_level_values("model"))
    # a planned id whose folder holds other settings (an older manifest's) is not read either
    changed = {**planned, "loss-hourglass-mse": {**planned["loss-hourglass-mse"], "input_size": 160}}
    stale = {p.id: p.error for p in read(results_dir, changed).problems}
    assert "its settings differ from the plan's: input_size 128 (plan: 160)" in stale["loss-hourglass-mse"]


# --- the rendered report -----------------------------------------------------------------------

ALL_TABLES = table_names()
ALL_FIGURES = figure_names()


def build(results_dir: Path, out: Path, tables, figures) -> Path:
    """The report of the quick results under ``results_dir``, into ``out/quick``."""
    from benchmark.report import build_report

    return build_report(read(results_dir), Path(out) / "quick", tables, figures)


@pytest.fixture(scope="module")
def report(results_dir, tmp_path_factory) -> Path:
    return build(results_dir, tmp_path_factory.mktemp("reports"), ALL_TABLES, ALL_FIGURES)


def test_report_writes_every_table_in_every_format(report, results):
    folder = report.parent
    assert report == folder / "index.html" and folder.name == "quick"
    for name in ALL_TABLES:
        for ext in ("csv", "md", "tex"):
            assert (folder / "tables" / f"{name}.{ext}").is_file(), f"{name}.{ext}"
    numbers = pd.read_csv(folder / "tables" / "loss.csv", index_col=[0, 1, 2])
    expected = T.loss_table(results).data
    assert numbers.loc[("hourglass", "mse", "ours"), "PCK@0.02 test"] == pytest.approx(
        expected.loc[("hourglass", "mse", "ours"), ("PCK@0.02", "test")])
    assert numbers.loc[("hourglass", "mse", "published"), "epoch time (s)"] == 321

    shown = F.display(T.loss_table(results)).loc[("hourglass", "mse", "ours"), "mKS"]
    tex = (folder / "tables" / "loss.tex").read_text()
    assert all(rule in tex for rule in (r"\toprule", r"\midrule", r"\bottomrule"))
    assert r"simple\_baseline" in tex and f"{shown.value} {{\\scriptsize {shown.interval}}}" in tex
    assert tex.count(r"\\") == 1 + 3 * (len(LOSS) + 1)  # a header and three rows per setting, the chance level's
    markdown = (folder / "tables" / "loss.md").read_text()
    assert "| hourglass | mse | ours | " in markdown and str(shown) in markdown
    page = report.read_text()  # every table scrolls within the page rather than widening it
    folded = page.count('<div class="table-wrap"><details class="fold">')  # the comparisons: a block per claim
    assert page.count('<table class="data"') + folded == page.count('<div class="table-wrap">') > 0 and folded == 1
    # ours with its interval in small type and the valid split on hover, and the published test mKS
    assert f"{shown.value} <small>{shown.interval}</small>" in page and 'title="valid 0.752">0.741</td>' in page


def test_report_states_provenance_and_links_notebooks(report, results):
    html = report.read_text()
    assert "NOT comparable" in html and "f1ngerpr1nt" in html and "abc1234" in html and "TestDevice" in html
    for e in results.experiments:
        page = report.parent / "notebooks" / f"{e.id}.html"
        assert page.is_file() and f"trained {e.id}" in page.read_text()
        assert f'href="notebooks/{e.id}.html"' in html
    assert "NOT comparable" in (report.parent / "README.md").read_text()


def test_report_draws_every_figure(report):
    html = report.read_text()
    for name in (n for n in ALL_FIGURES if n != "labelling_curves"):  # needs a labelling simulation's
        # results, which this fixture has not: tests/test_labelling_simulation.py draws it
        path = report.parent / "figures" / f"{name}.png"
        with Image.open(path) as image:
            assert image.width > 300 and image.height > 200
        assert f'src="figures/{name}.png"' in html


def test_learning_curves_show_each_trained_model_once_and_where_it_stopped(results):
    from benchmark.report.figure_data import learning_curves

    curves = learning_curves(results)
    trained = [e for e in results.experiments if e.trained and not e.summary.get("trained_by")
               and not e.record.get("same_as")]
    label = {e.id: e.label if e.group == "loss" else f"{e.group}: {e.label}" for e in trained}
    assert sorted(curves["arm"].unique()) == sorted(label.values()) and len(trained) > 1
    for e in trained:
        curve = curves[curves["arm"] == label[e.id]]
        assert list(curve["epoch"]) == list(e.history["epoch"])
        np.testing.assert_allclose(curve["seconds"], e.history["epoch_time_s"].cumsum())
        assert curve["converged"].iloc[-1] == e.convergence.converged() and curve["converged"].iloc[:-1].isna().all()


def test_the_snapshot_mosaics_every_face_before_writing_and_only_when_the_data_change(tmp_path, monkeypatch):
    root = tmp_path / "data"
    write_dataset(root)
    mosaicked, original = [], snapshot.safe_to_show

    def spy(image, keypoints, seed):
        mosaicked.append(seed)
        return original(image, keypoints, seed=seed)

    monkeypatch.setattr(snapshot, "safe_to_show", spy)
    dataset = load_dataset(root)
    doc = write_snapshot(dataset, "fp1", tmp_path / "results", progress=False)
    folder = tmp_path / "results" / snapshot.FOLDER
    assert json.loads((folder / "dataset.json").read_text()) == doc
    frames = [f for split in ("Test", "DomainShift") for f in dataset.frames(split)]
    assert sorted(mosaicked) == sorted(f.id for f in frames) and len(doc["frames"]) == len(frames)
    assert all((folder / entry["file"]).is_file() for entry in doc["frames"])
    assert doc["audit"]["rows"] == [] and doc["fingerprint"] == "fp1" and doc["synthetic"]
    mosaicked.clear()
    write_snapshot(dataset, "fp1", tmp_path / "results", progress=False)
    assert mosaicked == []  # same data: kept as it is
    write_snapshot(dataset, "fp2", tmp_path / "results", progress=False)
    assert len(mosaicked) == len(frames)


@pytest.mark.parametrize("name, split", [("sample_predictions", "Test"), ("frame_sequence", "Test"),
                                         ("domain_shift_gallery", "DomainShift")])
def test_image_figures_draw_only_the_snapshots_mosaicked_frames(results, tmp_path, monkeypatch, name, split):
    from benchmark.report import figures

    loaded, original = [], Results.image
    monkeypatch.setattr(Results, "image", lambda self, entry: loaded.append(entry) or original(self, entry))
    figure = figures.FIGURES[name](results, tmp_path)
    assert figure.path and (tmp_path / f"{name}.png").is_file()
    assert loaded and all(entry["split"] == split for entry in loaded)
    assert not hasattr(figures, "load_image") and not hasattr(figures, "load_dataset")  # results only


def test_image_figures_say_when_results_have_no_snapshot(results_dir, tmp_path):
    from benchmark.report.figures import images as figures

    bare = tmp_path / "bare"
    for folder in (results_dir / "quick").iterdir():
        if not folder.name.startswith("_"):
            shutil.copytree(folder, bare / "quick" / folder.name)
    figure = figures.sample_predictions(read(bare), tmp_path)
    assert figure.path is None and "no dataset snapshot" in figure.note


def test_frame_sequence_shows_frames_t_t15_t30_of_a_video(results, tmp_path, monkeypatch):
    from benchmark.report.figures import images as figures

    drawn = []
    overlays = figures._overlays
    monkeypatch.setattr(figures, "_overlays", lambda results, e, split, frames, keys: drawn.append(keys) or
                        overlays(results, e, split, frames, keys))
    figure = figures.frame_sequence(results, tmp_path)
    # test videos are labelled every 5 frames from 0: each row is frames t, t+15, t+30 of one video
    assert drawn == [[("000", 0), ("000", 15), ("000", 30), ("001", 0), ("001", 15), ("001", 30)]]
    with Image.open(tmp_path / "frame_sequence.png") as image:
        assert image.width > 3 * 300 and image.height > 2 * 300  # 3 columns, one row per test video
    assert "15 video frames apart" in figure.caption


def test_domain_shift_gallery_states_its_metrics(results, tmp_path):
    from benchmark.report.figures import images as figures

    figure = figures.domain_shift_gallery(results, tmp_path)
    e = showcase(results)
    assert f"{e.scores('DomainShift')['pck@0.1']:.3f}" in figure.caption
    assert f"{e.scores('Test')['pck@0.1']:.3f}" in figure.caption


def test_generalisation_table_scores_each_named_shift_against_the_test_split(tmp_path):
    data = tmp_path / "data"
    write_dataset(data)
    settings = json.loads((data / "synth.json").read_text())
    settings["video_settings"] = [{"id": "000", "split": "DomainShift", "shift": "mat"},
                                  {"id": "001", "split": "DomainShift", "shift": "light"}]
    (data / "synth.json").write_text(json.dumps(settings))
    results = read(make_results(tmp_path, groups=("loss",), dataset_root=data))
    assert results.shifts == {"000": "mat", "001": "light"}
    table = TABLES["generalisation"](results)
    e = next(x for x in results.group("loss") if x.setting == ("simple_baseline", "kce"))
    _, arrays = e.arrays("DomainShift")
    videos = e.rows("DomainShift")["video"].to_numpy()[::22]
    mat = evaluate(arrays["prediction"][videos == "000"], arrays["annotation"][videos == "000"])["pck@0.1"]
    test = e.scores("Test")["pck@0.1"]
    row = table.data.loc[("simple_baseline", "kce", "mat")]
    assert row["PCK@0.1"] == pytest.approx(mat) and row["videos"] == 1
    assert row[F.KEPT] == pytest.approx(mat / test)
    assert table.data.loc[("simple_baseline", "kce", "Test"), "videos"] == 2
    assert np.isnan(table.data.loc[("simple_baseline", "kce", "Test"), F.KEPT])
    # only the recommended loss of each model: hourglass has MSE only here, so it is left out
    assert set(table.data.index.get_level_values("model")) == {"simple_baseline", "my_new_model"}
    assert table.low.loc[("simple_baseline", "kce", "light"), "PCK@0.1"] <= table.data.loc[
        ("simple_baseline", "kce", "light"), "PCK@0.1"]


def test_smoothness_tables_compare_annotation_prediction_and_truth(results):
    from benchmark.study.smoothness import by_region, compare_sources, jitter_table

    e = showcase(results)
    rows = e.predictions
    expected = compare_sources(by_region(jitter_table(rows[(rows["split"] == "Test") & (rows["decoder"] == "wa")])),
                               "region")
    table = T.smoothness_table(results).data
    assert list(table.index) == list(REGIONS)
    assert table.loc["Hip", (T.RESIDUAL, "prediction")] == pytest.approx(expected.loc["Hip", ("residual", "prediction")])
    assert table.loc["Hip", (F.ACCELERATION, "truth")] == pytest.approx(
        1000 * expected.loc["Hip", ("acceleration", "truth")])
    # the fake truth moves smoothly and the annotation adds noise: most annotation jitter is noise
    assert (table[(T.RESIDUAL, "annotator noise")] > 0.5).all()
    keypoints = T.smoothness_keypoint_table(results).data
    assert len(keypoints) == 17 and "right hip" in keypoints.index
    shown = F.display(T.smoothness_table(results))
    assert shown[(T.RESIDUAL, "annotator noise")].str.fullmatch(r"\d+% \[\d+%, \d+%\]").all()


def test_sample_predictions_skipped_without_images(tmp_path):
    from benchmark.report.figures import images as figures

    results = read(make_results(tmp_path, groups=("loss",), dataset_root=tmp_path / "gone"))
    figure = figures.sample_predictions(results, tmp_path)
    assert figure.path is None and "skipped" in figure.note
    assert not (tmp_path / "sample_predictions.png").exists()


def test_report_of_missing_groups_failures_and_no_results(tmp_path):
    results_dir = make_results(tmp_path, groups=("loss",))
    write_experiment(results_dir / "quick" / "loss-resunet-bce", "loss-resunet-bce", "loss",
                     {"model": "resunet", "loss": "bce"}, 1.0, tmp_path / "data", status="FAILED")
    index = build(results_dir, tmp_path / "reports", ALL_TABLES, ["per_region_bars", "jitter"])
    html = index.read_text()
    assert html.count(TB.NOT_RUN) == 3  # occlusion and per_region tables, per_region_bars figure
    assert "out of memory" in html and (index.parent / "tables" / "problems.csv").is_file()
    assert (index.parent / "notebooks" / "loss-resunet-bce.html").is_file()
    assert not (index.parent / "tables" / "occlusion.csv").exists()
    assert "resunet" not in (index.parent / "tables" / "loss.csv").read_text()

    empty = build(tmp_path / "none", tmp_path / "reports", ALL_TABLES, ALL_FIGURES)
    assert "no experiment has run yet" in empty.read_text()


def test_report_is_replaced_whole_or_not_at_all(tmp_path, monkeypatch):
    results_dir = make_results(tmp_path, groups=("loss",))
    out = tmp_path / "reports"
    (out / "quick").mkdir(parents=True)
    (out / "quick" / "stale.txt").write_text("old")

    def broken(results):
        raise RuntimeError("table failed")

    monkeypatch.setitem(TABLES, "decoder", broken)
    with pytest.raises(RuntimeError, match="table failed"):
        build(results_dir, out, ["loss", "decoder"], [])
    assert (out / "quick" / "stale.txt").read_text() == "old"
    assert sorted(p.name for p in out.iterdir()) == ["quick"]  # no scratch folder left behind

    monkeypatch.undo()
    build(results_dir, out, ["loss"], [])
    assert not (out / "quick" / "stale.txt").exists() and (out / "quick" / "tables" / "loss.tex").is_file()
    assert sorted(p.name for p in out.iterdir()) == ["quick"]


def test_unknown_names_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="unknown table.*'losses'.*known: loss"):
        build(tmp_path, tmp_path / "reports", ["losses"], [])
    with pytest.raises(ValueError, match="unknown figure"):
        build(tmp_path, tmp_path / "reports", [], ["bars"])


# Lists two of make_results' loss experiments and the chance level; the third loss experiment
# (my_new_model, unregistered) is left out.
MINIMAL_MANIFEST = ("datasets: {d: {path: data}}\nprofiles: {quick: {dataset: d, train: {epochs: 4, cycles: 2}}}\n"
                    "experiments:\n  - group: loss\n    rows:\n      - {model: simple_baseline, loss: kce}\n"
                    "      - {model: hourglass, loss: mse}\n"
                    "  - {group: reference, kind: reference, rows: [{reference: mean_pose}]}\n")


def _report_cli(results_dir: Path, out: Path, manifest: Path) -> int:
    """``report`` on ``results_dir`` as the results of the minimal manifest's dataset ``d``, which
    the command reads from ``<results>/d/quick``; the report goes to ``<out>/d/quick``."""
    from benchmark.commands import report as cli

    results = results_dir.parent / "by_dataset"
    if not results.exists():
        results.mkdir()
        (results / "d").symlink_to(results_dir, target_is_directory=True)
    parser = argparse.ArgumentParser()
    cli.configure(parser)
    return cli.main(parser.parse_args(["--results", str(results), "--out", str(out),
                                       "--manifest", str(manifest), "--profile", "quick"]))


def test_a_report_is_rendered_again_only_when_its_inputs_change(tmp_path, capsys, monkeypatch):
    from nbconvert import HTMLExporter

    results_dir = make_results(tmp_path, groups=("loss",))
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(MINIMAL_MANIFEST + "tables: [loss]\nfigures: [training_curves]\n")
    converted, original = [], HTMLExporter.from_filename
    monkeypatch.setattr(HTMLExporter, "from_filename", lambda self, path: converted.append(Path(path).parent.name)
                        or original(self, path))
    index = tmp_path / "out" / "d" / "quick" / "index.html"
    assert _report_cli(results_dir, tmp_path / "out", manifest) == 0
    assert sorted(converted) == sorted(p.name for p in (results_dir / "quick").iterdir() if p.name[0] not in "._")
    first = index.stat().st_mtime_ns
    assert _report_cli(results_dir, tmp_path / "out", manifest) == 0
    assert "report up to date" in capsys.readouterr().out and index.stat().st_mtime_ns == first

    # one experiment reruns: the report is rendered again, but only its notebook is converted again
    converted.clear()
    rerun = results_dir / "quick" / "loss-hourglass-mse"
    (rerun / "COMPLETE.json").write_text((rerun / "COMPLETE.json").read_text().replace("2024-01-01", "2024-02-02"))
    write_notebook(rerun / "notebook.ipynb", "trained again")
    assert _report_cli(results_dir, tmp_path / "out", manifest) == 0
    assert converted == ["loss-hourglass-mse"] and "trained again" in (index.parent / "notebooks" /
                                                                       "loss-hourglass-mse.html").read_text()
    # the manifest asks for another table: rendered again
    manifest.write_text(MINIMAL_MANIFEST + "tables: [loss, decoder]\nfigures: [training_curves]\n")
    assert _report_cli(results_dir, tmp_path / "out", manifest) == 0
    assert (index.parent / "tables" / "decoder.csv").is_file()


def test_cli_renders_the_manifest_lists(tmp_path, capsys):
    results_dir = make_results(tmp_path, groups=("loss",))
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(MINIMAL_MANIFEST + "tables: [loss, decoder]\nfigures: [training_curves]\n")
    assert _report_cli(results_dir, tmp_path / "out", manifest) == 0
    folder = tmp_path / "out" / "d" / "quick"
    assert str(folder / "index.html") in capsys.readouterr().out
    assert sorted(p.name for p in (folder / "tables").glob("*.tex")) == ["decoder.tex", "loss.tex", "problems.tex"]
    assert "loss-my_new_model-kce" in (folder / "tables" / "problems.csv").read_text()  # not in the manifest
    assert "my_new_model" not in (folder / "tables" / "loss.csv").read_text()
    assert [p.name for p in (folder / "figures").iterdir()] == ["training_curves.png"]


def test_every_table_and_figure_of_the_study_manifest_is_registered():
    from benchmark.report import figures

    study = LoadedManifest(MANIFEST)
    study.check_report(table_names(), figure_names())
    assert study.data.tables and study.data.figures
    assert set(study.data.tables) <= set(TABLES) and set(study.data.figures) <= set(figures.FIGURES)


def test_truth_is_scored_only_where_an_annotation_exists():
    rng = np.random.default_rng(0)
    truth = rng.uniform(50, 150, (20, 22, 2))
    annotation = truth + rng.normal(0, 0.01, truth.shape)
    annotation[:, 10] = np.nan  # e.g. a wrist outside the picture: never labelled, truth still known
    arrays = {"annotation": annotation, "truth": truth}
    assert evaluate(annotation, truth, "non_facial")["pck@0.1"] < 0.95  # unlabelled counted as wrong
    assert evaluate(annotation, TB.labelled_truth(arrays), "non_facial")["pck@0.1"] == 1.0


def test_audit_table_summarises_the_privacy_audit_of_the_dataset(results):
    table = T.audit_table(results)
    assert table.data is not None and set(table.data.index.names) == {"dataset", "severity", "check"}
    # The fake dataset's random pixels pass as mosaicked faces: one "clean" row for its root.
    assert list(table.data["example"]) == ["clean"] and list(table.data["files"]) == [0]
    assert "python -m benchmark audit" in table.caption


# --- evidence: seeds, convergence, claims ------------------------------------------------------

def _loss_experiment(base: Path, model: str, loss: str, quality: float, seed: int = 0, **options) -> None:
    exp_id = f"loss-{model}-{loss}" + (f"-s{seed}" if seed else "")
    write_experiment(base / exp_id, exp_id, "loss", {"model": model, "loss": loss, "seed": seed}, quality,
                     base.parent.parent / "data", **options)


def test_seeds_of_a_setting_are_one_row_with_their_mean_spread_and_count(tmp_path):
    base = tmp_path / "results" / "quick"
    for seed, quality in ((0, 1.0), (1, 1.4), (2, 0.8)):
        _loss_experiment(base, "simple_baseline", "kce", quality, seed)
    _loss_experiment(base, "hourglass", "mse", 1.6)
    results = read(tmp_path / "results")
    table = T.loss_table(results)
    key = ("simple_baseline", "kce", "ours")
    assert list(table.data.index.droplevel("source").unique()) == [("simple_baseline", "kce"), ("hourglass", "mse")]
    seeds = [e for e in results.experiments if e.setting == ("simple_baseline", "kce")]
    per_seed = [e.scores("Test")["pck@0.04"] for e in seeds]
    assert table.data.loc[key, ("PCK@0.04", "test")] == pytest.approx(np.mean(per_seed))
    assert table.spread.loc[key, ("PCK@0.04", "test")] == pytest.approx(np.std(per_seed, ddof=1))
    assert table.seeds[key] == 3 and table.seeds[("hourglass", "mse", "ours")] == 1
    shown = F.display(table)
    assert str(shown.loc[key, "seeds"]) == "3" and str(shown.loc[("hourglass", "mse", "ours"), "seeds"]) == "1"
    assert f"seeds ±{np.std(per_seed, ddof=1):.3f} (SD)" in shown.loc[key, "PCK@0.04"].detail  # on hover
    csv = F.numbers(table)
    assert csv.loc[key, "seeds"] == 3 and csv.loc[key, "PCK@0.04 test_seed_sd"] == pytest.approx(np.std(per_seed, ddof=1))
    decoder = T.decoder_table(results)  # every table pools the seeds of a setting
    assert len(decoder.data) == 2 and decoder.seeds[("loss", "simple_baseline / kce")] == 3


def test_not_converged_experiments_are_marked_in_every_row_and_verdict(tmp_path):
    base = tmp_path / "results" / "quick"
    _loss_experiment(base, "simple_baseline", "kce", 1.0, converged=False)
    _loss_experiment(base, "hourglass", "mse", 1.6)
    results = read(tmp_path / "results")
    for name, row in (("loss", ("simple_baseline", "kce", "ours")), ("decoder", ("loss", "simple_baseline / kce")),
                      ("truth", ("loss", "simple_baseline / kce"))):
        table = TABLES[name](results)
        assert table.stalled[row] and table.stalled.sum() == 1, name
        assert F.display(table).index[list(table.data.index).index(row)][-1].endswith(TB.STALLED), name
        assert TB.STALLED_NOTE in table.caption and F.numbers(table).loc[row, "not_converged"], name
    assert T.smoothness_table(results).stalled.all()  # every row is the showcase experiment's
    claims = V.claims_table(results)
    assert claims.stalled["smoother_than_annotation"] and not claims.stalled["face_occlusion_equivalent"]
    assert F.display(claims).index[list(claims.data.index).index("smoother_than_annotation")].endswith(TB.STALLED)


def _claims_cli(results_dir: Path, *options: str) -> int:
    """``claims`` on the results of the minimal manifest's dataset ``d`` (``<results_dir>/d/quick``)."""
    from benchmark.commands import claims as cli

    parser = argparse.ArgumentParser()
    cli.configure(parser)
    manifest = results_dir.parent / "manifest.yaml"
    manifest.write_text(MINIMAL_MANIFEST.replace("{model: hourglass, loss: mse}", "{model: simple_baseline, loss: bce}"))
    return cli.main(parser.parse_args(["--results", str(results_dir), "--manifest", str(manifest), *options]))


@pytest.mark.parametrize("kce, bce, strict", [(0.3, 2.0, 0), (2.0, 0.3, 1)])
def test_claims_command_prints_the_verdicts_and_fails_strictly_on_a_contradiction(tmp_path, monkeypatch, capsys,
                                                                                   kce, bce, strict):
    import test_report

    monkeypatch.setattr(test_report, "VIDEOS", tuple(f"{v:03d}" for v in range(12)))  # enough to judge
    base = tmp_path / "results" / "d" / "quick"  # where `run` puts the minimal manifest's results
    _loss_experiment(base, "simple_baseline", "kce", kce)
    _loss_experiment(base, "simple_baseline", "bce", bce)
    write_experiment(base / "reference-mean_pose", "reference-mean_pose", "reference", {}, 1.0, tmp_path / "data",
                     kind="reference")
    results = read(tmp_path / "results" / "d")
    comparisons = V.comparisons_table(results).data.loc["kce_beats_bce_mse"]
    judged = comparisons[comparisons["b"].str.startswith("model=simple_baseline, loss=bce (")]
    assert list(judged["verdict"]) == ["holds" if kce < bce else "contradicted"] * 2 and (judged["videos"] == 12).all()
    assert all("best on Valid" in b for b in judged["b"])  # each arm decoded as suits it, chosen on Valid
    # KCE better: its comparisons with BCE hold, but the other models' are not run, so the claim is
    # inconclusive (and, with predictions less noisy than the labels, no claim is contradicted);
    # KCE worse: contradicted.
    verdicts = V.claims_table(results).data["verdict"]
    assert verdicts["kce_beats_bce_mse"] == ("inconclusive" if kce < bce else "contradicted")
    assert (verdicts != "contradicted").all() or kce > bce
    assert _claims_cli(tmp_path / "results") == 0
    out = capsys.readouterr().out
    assert "kce_beats_bce_mse" in out and verdicts["kce_beats_bce_mse"] in out and "+0." in out
    # the claims whose experiments this results folder lacks are "not run", counted apart
    not_run = int((verdicts == "not run").sum())
    assert not_run and verdicts["kce_model_ranking"] == "not run"
    assert f" untested, {not_run} not run\n" in out
    assert "loss-simple_baseline-kce: converged after 4 epochs: training as long again (epochs 3-4, the same schedule) added" in out
    assert _claims_cli(tmp_path / "results", "--strict") == strict
    assert _claims_cli(tmp_path / "elsewhere") == 2 and "no finished experiment" in capsys.readouterr().err


def test_the_report_opens_with_the_verdicts_then_the_comparisons_folded(results_dir, tmp_path):
    manifest = LoadedManifest(MANIFEST).data
    assert manifest.tables[:2] == ["claims", "comparisons"] and manifest.figures[0] == "verdicts"
    index = build(results_dir, tmp_path, manifest.tables, ["verdicts", "training_curves"])
    html = index.read_text()
    lead = html.index('<h2 id="verdicts">Does the study hold?</h2>')
    assert lead < html.index('id="table-claims"') < html.index('id="figure-verdicts"')
    # the comparisons under the forest plot, one closed block per claim, before the model tables
    assert html.index('id="figure-verdicts"') < html.index('id="table-comparisons"') < html.index('<h2 id="tables">')
    assert html.index('<h2 id="tables">') < html.index('id="table-loss"')
    assert "95 % interval" in html[html.index('<h2 id="tables">'):html.index('id="table-loss"')]
    blocks = html[html.index('id="table-comparisons"'):html.index('<h2 id="tables">')]
    claims = V.claims_table(read(results_dir)).data
    assert blocks.count('<details class="fold">') == len(claims) and "<details open" not in blocks
    for claim, verdict in claims["verdict"].items():
        assert f"<summary><strong>{claim}</strong> {verdict}: " in blocks
    assert html.index('id="figure-verdicts"') < html.index('id="figure-training_curves"')
    assert (index.parent / "figures" / "verdicts.png").is_file()
    markdown = (index.parent / "README.md").read_text()
    assert markdown.index("The study's claims") < markdown.index("figures/verdicts.png") < markdown.index(
        "Models and loss functions")
    csv = pd.read_csv(index.parent / "tables" / "loss.csv", index_col=[0, 1, 2])
    assert {"PCK@0.02 test_lo", "PCK@0.02 test_hi", "seeds", "not_converged"} <= set(csv.columns)
    row = csv.loc[("hourglass", "mse", "ours")]
    assert row["PCK@0.02 test_lo"] <= row["PCK@0.02 test"] <= row["PCK@0.02 test_hi"]
    assert "wa PCK@0.04_lo" in pd.read_csv(index.parent / "tables" / "decoder.csv").columns
    tex = (index.parent / "tables" / "loss.tex").read_text()
    assert r"{\scriptsize [" in tex and "±" not in tex and "†" not in tex and tex.count(r"\\") == 1 + 3 * (len(LOSS) + 1)


def test_the_report_key_covers_the_claims_file_and_the_planned_folders_only(tmp_path):
    from benchmark.evidence.claims import CLAIMS
    from benchmark.runner.plan import plan

    assert freshness.CLAIMS == CLAIMS
    results = make_results(tmp_path, groups=("loss",))
    (tmp_path / "manifest.yaml").write_text(MINIMAL_MANIFEST)
    (results / "d").symlink_to(results, target_is_directory=True)
    planned = plan(tmp_path / "manifest.yaml", "quick", results=results)
    claims = tmp_path / "claims.yaml"
    claims.write_text("claims: []\n")
    before = freshness.report_key(planned, ["claims"], [], claims)
    claims.write_text("claims: []  # edited\n")
    edited = freshness.report_key(planned, ["claims"], [], claims)
    assert edited != before
    # a folder the plan ignores changes the list of ignored folders only; a planned one's record, the key
    (results / "quick" / "loss-my_new_model-kce" / "COMPLETE.json").write_text("{}")
    assert freshness.report_key(planned, ["claims"], [], claims) == edited
    (results / "quick" / "loss-hourglass-mse" / "COMPLETE.json").write_text("{}")
    assert freshness.report_key(planned, ["claims"], [], claims) != edited


def test_movement_table_compares_every_source_with_the_truth(results):
    table = T.movement_table(results)
    assert table.data is not None, table.note
    sources = list(dict.fromkeys(table.data.index.get_level_values("source")))
    # the annotation, each KCE model (one seed), and each model's predictions filtered (one column per filter)
    assert sources == ["annotation", "simple_baseline", "my_new_model"]
    assert list(table.data.columns) == ["unfiltered", "One Euro", "Savitzky-Golay"]
    speed = table.data.loc[("speed_mean", "relative")]
    assert speed.loc["annotation", ["One Euro", "Savitzky-Golay"]].isna().all()  # the annotation is not filtered
    low, high = table.low.loc[("speed_mean", "relative")], table.high.loc[("speed_mean", "relative")]
    assert (low.loc["simple_baseline"] <= speed.loc["simple_baseline"]).all()
    assert (speed.loc["simple_baseline"] <= high.loc["simple_baseline"]).all()
    assert "[" in F.display(table).loc[("speed_mean", "relative", "simple_baseline"), "One Euro"].interval


def test_the_comparisons_fold_per_claim_one_line_each_with_the_whole_text_on_hover(results):
    import html

    table = V.comparisons_table(results)
    page = F.folded_html(F.display(table), "comparisons", table.folds, table.short)
    claims = list(dict.fromkeys(table.data.index.get_level_values("claim")))
    assert page.count('<details class="fold">') == page.count('<table class="data compact"') == len(claims)
    assert page.count("<colgroup>") == len(claims)  # fixed column widths: the table never outgrows the page
    for reason in {r for r in table.data["why"] if r}:  # shortened to its gist, whole on hover
        assert f'<td class="text" title="{html.escape(reason)}">{html.escape(V.gist(reason))}</td>' in page
    side = table.data["a"].iloc[0]
    assert f'title="{html.escape(side)}">{html.escape(V.brief(side))}</td>' in page and "=" not in V.brief(side)
    assert V.gist("not run: no finished experiment matches {}") == "not run"
    assert V.gist("not run: x was not run (deferred: it had not converged after 32 epochs)") == "not run"
    assert V.gist("x arm did not learn: ...; y not converged: ...") == "an arm did not learn, an arm had not converged"


def test_experiments_skipped_for_one_reason_are_named_once_with_it(tmp_path):
    from benchmark.report.results import Problem

    results = Results("quick", tmp_path, problems=[
        Problem("loss-hourglass-mse", tmp_path, "skipped", "deferred: 19 minutes"),
        Problem("loss-hourglass-kce", tmp_path, "skipped", "deferred: 19 minutes"),
        Problem("baseline-x", tmp_path, "skipped", "no kernel"),
        Problem("loss-y", tmp_path, "failed", "boom")])
    assert T.baseline_notes(results) == ["loss-hourglass-mse, loss-hourglass-kce: skipped, deferred: 19 minutes.",
                                         "baseline-x: skipped, no kernel."]
