"""The data behind the figures of training and of the labelling loop, as tables: computed from the
results alone, without a plotting library (so they can be tested and read without drawing)."""

from __future__ import annotations

import pandas as pd

from benchmark.common.result_files import LABELLING
from benchmark.evidence import Cell, interval
from benchmark.labelling.select import STRATEGIES
from benchmark.report.results import Result, Results


def learning_curves(results: Results) -> pd.DataFrame:
    """Valid PCK@0.1 after every epoch of each trained model (its twins and shared settings left out),
    against epochs and cumulative training seconds; ``converged`` (True, False or None: untested) on
    the last epoch of each, where it stopped."""
    frames = []
    for e in results.experiments:
        if not e.trained or e.summary.get("trained_by") or e.record.get("same_as") or e.history.empty:
            continue
        history = e.history.assign(seconds=e.history["epoch_time_s"].cumsum()).dropna(subset=["val_pck@0.1"])
        arm = e.label if e.group == "loss" else f"{e.group}: {e.label}"
        frames.append(pd.DataFrame({"arm": arm, "model": e.config["model"], "epoch": history["epoch"],
                                    "seconds": history["seconds"], "pck": history["val_pck@0.1"],
                                    "converged": [None] * (len(history) - 1) + [e.convergence.converged()]}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def labelling_points(results: Results) -> pd.DataFrame:
    """Per strategy and round of the labelling simulations: ``labelled_frames``, Test PCK@0.1
    (``pck``) with its 95 % video-bootstrap interval (``low``, ``high``), a strategy's seeds averaged,
    and ``converged``: False when a seed's retrain of that round had not converged (metrics.json's
    rounds; True when all had, None when one was not tested or the results do not record it)."""
    runs: dict[str, list[tuple[Result, pd.DataFrame]]] = {}
    for e in results.group("labelling"):
        rows = e.cached(("labelling",), lambda e=e: pd.read_csv(e.path / LABELLING, dtype={"video": str}))
        runs.setdefault(e.config["strategy"], []).append((e, rows))
    points = []
    for strategy, seeds in sorted(runs.items(), key=lambda item: STRATEGIES.index(item[0])):
        for round_ in sorted(set().union(*(rows["round"] for _, rows in seeds))):
            parts = [(e, rows[rows["round"] == round_]) for e, rows in seeds]
            found = interval(Cell.stack([Cell(part["video"].to_numpy(), part["correct"].to_numpy(),
                                               part["scored"].to_numpy(), (e.config.get("seed", 0),), (e.id,))
                                          for e, part in parts if len(part)]))
            points.append({"strategy": strategy, "round": round_, "pck": found.estimate, "low": found.low,
                           "high": found.high, "labelled_frames": parts[0][1]["labelled_frames"].max(),
                           "converged": _round_converged([e for e, _ in seeds], round_)})
    return pd.DataFrame(points, columns=["strategy", "round", "labelled_frames", "pck", "low", "high", "converged"])


def _round_converged(experiments: list[Result], round_: int) -> bool | None:
    """Whether every experiment's retrain of ``round_`` had converged (None: one was not tested, or
    the results do not record it)."""
    said = [r.get("converged") for e in experiments for r in e.summary.get("labelling", {}).get("rounds", [])
            if r.get("round") == round_]
    return None if not said or None in said else all(said)

