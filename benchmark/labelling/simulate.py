"""Measure the labelling loop on synthetic data: does choosing frames by a strategy buy more accuracy
per labelled frame than choosing them at random?

``simulate(config, dataset_root, out_dir)`` runs one strategy's loop (:class:`LabellingConfig`):

- round 0 labels every Train frame of ``start_videos`` Train videos (drawn by the seed, the same
  for every strategy) and trains on them from scratch;
- each of the ``rounds`` rounds predicts the other Train videos' frames with the last model as
  ``select-frames`` does (with the mirror-image test), picks ``frames_per_round`` of those not yet
  labelled by the strategy (:func:`benchmark.labelling.select.choose`), labels them, retrains from
  scratch on every labelled frame and scores Test.

Labels come from a simulated annotator: the frame's exact truth (``truth/``) plus the noise of the
generator's annotator (:func:`benchmark.data.synth.annotator.annotate`, times ``annotator_noise``),
drawn per frame from the seed, so a frame gets the same label whichever strategy picks it. Every
retrain takes the same recipe, the optimizer steps it takes on the whole Train split, and trains until
converged by the suite's test on Valid, as every trained arm does (``LabellingConfig``): the
strategies differ only in which frames they label (``converge: last``: only the last retrain is
trained until converged, the others take the recipe's steps). The last retrain's record
(``valid_cycles.csv``) is what the claims read; every round's convergence is in ``metrics.json``.

Written into ``out_dir``, each file atomically, ``metrics.json`` last: ``labelling.csv`` (per round
and Test video: ``round, labelled_frames, strategy, video, correct, mks, scored``: PCK@0.1's correct
keypoints, summed keypoint similarity and scored keypoints against the annotation, the configured
decoder), ``labelled.csv`` (the frames labelled in each round, with the strategy's score and reason),
and for the last round's model ``predictions.csv``, ``valid_cycles.csv`` and ``metrics.json`` like a
trained experiment's (kind ``labelling``).
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import keras
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from benchmark.apply.pose_model import PoseModel, predict
from benchmark.common import environment
from benchmark.common.atomic import staged_file
from benchmark.common.errors import InputError
from benchmark.common.metrics_file import write_metrics
from benchmark.common.result_files import CYCLES, LABELLED, LABELLING, PREDICTIONS
from benchmark.data.labelme import Dataset, Frame, load_dataset, load_image
from benchmark.data.layout import SYNTH_SETTINGS
from benchmark.data.oks_sigmas import oks_record
from benchmark.data.synth.annotator import annotate
from benchmark.labelling.config import LabellingConfig, not_applicable
from benchmark.labelling.select import choose
from benchmark.models import model_info
from benchmark.study.codec import HeatmapCodec
from benchmark.study.convergence import check
from benchmark.study.metrics import frame_sums
from benchmark.training.config import TrainConfig
from benchmark.training.inference import decode_to_image
from benchmark.training.train import evaluate_model, fit, split_logits

BETA = 0.1  # the PCK threshold labelling.csv records
ANNOTATOR_SALT = 7919  # keeps the simulated annotator's draws apart from the generator's


class LabellingError(InputError):
    """A labelling simulation that cannot run on this dataset, naming the setting or file."""


def relabel(frames: list[Frame], root: Path, noise: float, seed: int) -> list[Frame]:
    """The frames labelled by the simulated annotator (module docstring): their exact truth plus
    the generator's annotator noise times ``noise``, each frame's draw seeded by ``seed`` and the frame."""
    path = Path(root) / SYNTH_SETTINGS
    try:
        videos = {v["id"]: v for v in json.loads(path.read_text())["video_settings"]}
    except (OSError, ValueError, KeyError) as e:
        raise LabellingError(f"{path}: the labelling simulation needs a synthetic dataset's per-video annotator "
                             f"settings (video_settings): {e}") from None
    labelled = []
    for frame in frames:
        video = videos[frame.video]
        rng = np.random.default_rng([ANNOTATOR_SALT, seed, int(frame.video), frame.frame])
        labels = annotate(frame.truth, video["noise_unit_px"] * noise, tuple(video["picture"]), rng)
        labelled.append(dataclasses.replace(frame, keypoints=labels))
    return labelled


def start_videos(dataset: Dataset, config: LabellingConfig) -> list[str]:
    """The Train videos labelled before the first round, drawn by the seed; :class:`LabellingError`
    when the split is too small for the loop's settings."""
    videos = sorted(dataset.videos("Train"))
    root = dataset.root
    if config.start_videos >= len(videos):
        raise LabellingError(f"{root}: start_videos {config.start_videos}: the Train split has only {len(videos)} "
                             "videos, and some must stay unlabelled to choose from")
    chosen = sorted(np.random.default_rng(config.seed).choice(videos, config.start_videos, replace=False).tolist())
    pool = sum(len(frames) for video, frames in dataset.videos("Train").items() if video not in chosen)
    if config.rounds * config.frames_per_round > pool:
        raise LabellingError(f"{root}: rounds {config.rounds} x frames_per_round {config.frames_per_round}: only "
                             f"{pool} Train frames lie outside the {config.start_videos} start videos")
    first = sum(len(dataset.videos("Train")[v]) for v in chosen)
    if first < config.batch_size:
        raise LabellingError(f"{root}: batch_size {config.batch_size}: the start videos have only {first} frames, "
                             "fewer than one batch (label more start_videos or use a smaller batch_size)")
    return chosen


def retrain_config(config: LabellingConfig, labelled: int, train: int, tested: bool = True) -> TrainConfig:
    """The recipe of one retrain on ``labelled`` frames: about the optimizer steps of ``config.epochs``
    over all ``train`` Train frames, in a whole number of cycles (at least one epoch each), with the
    warm-up as many steps long as there, doubled while not converged up to the same multiple of them
    as ``max_epochs`` allows the profile (training until converged, as every trained arm does) when
    the retrain is ``tested`` on Valid (:func:`converges`)."""
    full, mine = train // config.batch_size, labelled // config.batch_size  # steps per epoch
    epochs = config.cycles * max(1, round(config.epochs * full / (config.cycles * mine)))
    doublings = config.epoch_cap // config.epochs  # trained until converged, up to as many doublings
    return config.training(epochs=epochs, max_epochs=epochs * doublings if config.max_epochs and tested else None,
                           warmup_epochs=config.warmup_epochs * full / mine)


def converges(config: LabellingConfig, round_: int) -> bool:
    """Whether the retrain of ``round_`` monitors Valid and trains until converged (``converge``:
    every retrain, or the last only)."""
    return config.converge == "every" or round_ == config.rounds


def candidates(model, codec: HeatmapCodec, frames: list[Frame],
               config: LabellingConfig) -> tuple[np.ndarray, np.ndarray]:
    """What ``select-frames`` sees of the frames it may choose: keypoints ``(N, 22, 2)`` in image
    pixels and their confidence ``(N, 22)``, with the mirror-image test
    (:func:`benchmark.apply.pose_model.predict`; a model that sees the body frames each picture by its
    own predictions)."""
    return predict(PoseModel.trained_with(model, codec, config.model_dump()), [load_image(f) for f in frames])


def evaluated(model, codec: HeatmapCodec, frames: list[Frame], config: LabellingConfig) -> np.ndarray:
    """Keypoints ``(N, 22, 2)`` as the evaluation predicts them (``evaluate_model``, the configured
    decoder)."""
    return decode_to_image(*split_logits(model, codec, frames, config), codec)[0]


def video_scores(frames: list[Frame], coords: np.ndarray, subset: str) -> pd.DataFrame:
    """Per video: PCK@0.1's ``correct`` keypoints, summed keypoint similarity ``mks`` and ``scored``
    keypoints against the annotation (the sums the video bootstrap resamples)."""
    sums = frame_sums(coords, np.stack([f.keypoints for f in frames]), subset, betas=(BETA,))
    table = pd.DataFrame({"video": [f.video for f in frames], "correct": sums[f"pck@{BETA:g}"],
                          "mks": sums["mks"], "scored": sums["n"]})
    return table.groupby("video", sort=True).sum().reset_index()


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    with staged_file(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.4f")


def simulate(config: LabellingConfig, dataset_root: Path, out_dir: Path, progress: bool = True) -> dict:
    """Run the loop of ``config`` and write its results (module docstring); returns ``metrics.json``."""
    started = time.perf_counter()
    dataset = load_dataset(dataset_root)
    reason = not_applicable(dataset_root)
    if reason:
        raise LabellingError(f"{dataset_root}: {reason}")
    codec = HeatmapCodec.from_config(config)
    first = start_videos(dataset, config)
    train, test = dataset.frames("Train"), dataset.frames("Test")
    pool = [f for f in train if f.video not in first]
    labelled = relabel([f for f in train if f.video in first], dataset.root, config.annotator_noise, config.seed)
    picks = [pd.DataFrame({"round": 0, "video": [f.video for f in labelled], "frame": [f.frame for f in labelled],
                           "strategy": "start", "score": np.nan, "reason": "a start video"})]
    scores, rounds, model = [], [], None
    for round_ in tqdm(range(config.rounds + 1), desc=f"labelling ({config.strategy})", unit="round",
                       disable=not progress):
        if round_:
            coords, confidence = candidates(model, codec, pool, config)
            done = {(f.video, f.frame) for f in labelled}
            chosen = choose([f.video for f in pool], [f.frame for f in pool], coords, confidence,
                            config.frames_per_round, config.strategy, seed=1000 * config.seed + round_,
                            exclude=done)
            picks.append(chosen.assign(round=round_))
            wanted = set(zip(chosen["video"], chosen["frame"].astype(int)))
            labelled += relabel([f for f in pool if (f.video, f.frame) in wanted], dataset.root,
                                config.annotator_noise, config.seed)
        monitored = converges(config, round_)
        recipe = retrain_config(config, len(labelled), len(train), monitored)
        keras.backend.clear_session()  # the previous round's model is done with
        fitting = time.perf_counter()
        trained = fit(recipe, Dataset(dataset.root, {
            "Train": labelled, "Valid": dataset.frames("Valid") if monitored else []}), codec, progress=False)
        convergence = check(trained.cycles, cap=recipe.epoch_cap) if monitored else None
        model = trained.model
        per_video = video_scores(test, evaluated(model, codec, test, config), config.eval_subset)
        scores.append(per_video.assign(round=round_, labelled_frames=len(labelled), strategy=config.strategy))
        rounds.append({"round": round_, "labelled_frames": len(labelled), "epochs": trained.facts["epochs_run"],
                       "steps": trained.facts["steps"], "fit_s": round(time.perf_counter() - fitting, 2),
                       "converged": convergence.converged() if convergence else None,
                       "convergence": convergence.reason() if convergence else
                       "not tested: the recipe's steps (converge: last)",
                       f"test_pck@{BETA:g}": float(per_video["correct"].sum() / max(per_video["scored"].sum(), 1))})

    evaluating = time.perf_counter()
    predictions, metrics = evaluate_model(model, dataset, recipe, progress, codec=codec)
    summary = {
        "kind": "labelling",
        "config": config.model_dump(),
        "dataset": {"root": str(dataset_root), "fingerprint": dataset.fingerprint(), "synthetic": True,
                    "frames": {s: len(f) for s, f in dataset.splits.items()}, "train_frames_used": len(labelled),
                    **oks_record(dataset_root)},
        "model": model_info(model),
        "codec": codec.to_dict(),
        "environment": environment.record(),
        "labelling": {"start_videos": first, "pool_frames": len(pool), "rounds": rounds,
                      "annotator": f"exact truth + the synthetic annotator's noise x {config.annotator_noise:g}",
                      "evaluate_s": round(time.perf_counter() - evaluating, 2)},
        "wall_time_s": time.perf_counter() - started,
        "metrics": metrics,
    }
    out_dir = Path(out_dir)
    columns = ["round", "labelled_frames", "strategy", "video", "correct", "mks", "scored"]
    _write_csv(pd.concat(scores, ignore_index=True)[columns], out_dir / LABELLING)
    _write_csv(pd.concat(picks, ignore_index=True)[["round", "video", "frame", "strategy", "score", "reason"]],
               out_dir / LABELLED)
    _write_csv(trained.cycles, out_dir / CYCLES)
    with staged_file(out_dir / PREDICTIONS) as tmp:
        predictions.to_csv(tmp, index=False, float_format="%.3f")
    write_metrics(out_dir, summary)
    return summary
