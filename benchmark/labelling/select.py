"""Which frames to label next: :func:`choose` ranks the frames a model has seen by one of
:data:`STRATEGIES` and picks ``n``, spread across videos.

Inputs are per-frame arrays: video ids ``(N,)``, frame numbers ``(N,)``, predicted keypoints
``(N, 22, 2)`` in pixels and their confidences ``(N, 22)`` (:func:`benchmark.apply.pose_model.predict`).
Every strategy gives each candidate a score (higher: chosen first) and a reason:

- ``uncertain``: score = 1 - the mean confidence over the 17 non-facial keypoints (facial
  keypoints are left out: a model trained without them gets confidence 0 there). Low or spread
  heatmap peaks, and a picture and its mirror image that disagree, lower the confidence.
- ``jump``: a keypoint that moves more than ``jump_threshold`` (default :data:`JUMP` = 0.25 S)
  between neighbouring frames of a video (the next frame number present), S the video's median
  predicted body scale (:func:`benchmark.study.metrics.reference_scale` of the predicted pose).
  Each move (of one keypoint between two neighbouring frames) counts for one of its two frames:
  the one that also moves more on its other side (a single-frame glitch moves from both
  neighbours, so the glitch is chosen, not its neighbours), the later one on a tie (a step).
  Score = the largest move a frame counts, over keypoints. When fewer than ``n`` frames jump beyond
  the threshold, the rest are the largest moves below it (their reason says so, with a warning).
- ``diverse``: k-means (``scipy.cluster.vq.kmeans2``, k-means++ start, seeded) with ``n`` clusters
  over ``embeddings`` if given, else over the predicted non-facial pose centred on the mid-hip and
  divided by the frame's S. Each cluster, largest first, gives the frame nearest its centre among
  the videos that have fewer than ceil(n / videos) picks (none if it has no such frame); while
  fewer than ``n`` are chosen (clusters skipped or empty), the clusters give their next nearest in
  the same way, and the cap is lifted only when no video under it has frames left. Score = the
  share of the candidates its cluster holds.
- ``random``: the control: a seeded uniform score.

Frames in ``exclude`` (already labelled) are never chosen. Selections are spread across videos
round-robin: every video's candidates are ordered by score; each round, every video offers its
best remaining candidate and the offers are taken by score until ``n`` are chosen. So no video gets
more than ceil(n / videos) frames, plus what the videos that run out of candidates leave
(``diverse`` applies the same cap cluster by cluster, and the round-robin orders its picks). The
result is deterministic for a seed and does not depend on the order of the input rows. With fewer
candidates than ``n``, all are chosen, with a warning.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.cluster.vq import kmeans2

from benchmark.common.errors import InputError
from benchmark.study.keypoints import INDEX, LABELS, NON_FACIAL_IDX
from benchmark.study.metrics import reference_scale

STRATEGIES = ("uncertain", "jump", "diverse", "random")
JUMP = 0.25  # a keypoint moving further than this many S between neighbouring frames is a jump
COLUMNS = ["video", "frame", "strategy", "score", "reason"]


def _uncertain(confidence) -> tuple[np.ndarray, list[str]]:
    body = confidence[:, NON_FACIAL_IDX]
    mean = body.mean(axis=1)
    weakest = NON_FACIAL_IDX[body.argmin(axis=1)]
    reasons = [f"mean non-facial confidence {m:.2f} (lowest {LABELS[k]} {confidence[i, k]:.2f})"
               for i, (m, k) in enumerate(zip(mean, weakest))]
    return 1 - mean, reasons


def _jump(coords, videos, frames, jump_threshold) -> tuple[np.ndarray, list[str]]:
    score, reasons = np.zeros(len(coords)), ["no neighbouring frame"] * len(coords)
    for video in np.unique(videos):
        rows = np.flatnonzero(videos == video)
        rows = rows[np.argsort(frames[rows], kind="stable")]
        if len(rows) < 2:
            continue
        scale = np.nanmedian(reference_scale(coords[rows]))
        scale = scale if np.isfinite(scale) and scale > 0 else np.nan
        moves = np.linalg.norm(np.diff(coords[rows], axis=0), axis=-1) / scale  # (T - 1, 22)
        moves = np.nan_to_num(moves)
        # each move is charged to one of its two frames: the one that also moves more on its other
        # side (a glitch moves from both neighbours), the later one on a tie (a step)
        zero = np.zeros((1, moves.shape[1]))
        left_other, right_other = np.vstack([zero, moves[:-1]]), np.vstack([moves[1:], zero])
        to_right = right_other >= left_other  # (T - 1, 22)
        from_before = np.vstack([zero, np.where(to_right, moves, 0)])  # frame t, move from t - 1
        from_after = np.vstack([np.where(to_right, 0, moves), zero])   # frame t, move to t + 1
        largest = np.maximum(from_before, from_after)
        for t, row in enumerate(rows):
            k = int(largest[t].argmax())
            other = rows[t + 1] if t == 0 or from_after[t, k] > from_before[t, k] else rows[t - 1]
            score[row] = largest[t, k]
            below = "" if score[row] > jump_threshold else f" (below the {jump_threshold:g} S threshold)"
            reasons[row] = f"{LABELS[k]} moved {score[row]:.2f} S from frame {frames[other]}{below}"
    return score, reasons


def _features(coords, embeddings) -> np.ndarray:
    """What ``diverse`` clusters: the embeddings, or the non-facial pose centred on the mid-hip
    and divided by S (frames without a usable S get the median S)."""
    if embeddings is not None:
        return np.asarray(embeddings, dtype=float).reshape(len(coords), -1)
    scale = reference_scale(coords)
    usable = np.isfinite(scale) & (scale > 0)
    scale = np.where(usable, scale, np.median(scale[usable]) if usable.any() else 1.0)
    hip = coords[:, [INDEX["Hip_R"], INDEX["Hip_L"]]].mean(axis=1, keepdims=True)
    return ((coords - hip) / scale[:, None, None])[:, NON_FACIAL_IDX].reshape(len(coords), -1)


def _diverse(coords, videos, n, seed, embeddings) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The rows ``diverse`` picks (module docstring), with every row's score and reason."""
    features = np.nan_to_num(_features(coords, embeddings))
    with warnings.catch_warnings():  # an empty cluster only means fewer distinct poses than n
        warnings.simplefilter("ignore")
        centres, cluster = kmeans2(features, n, seed=seed, minit="++")
    distance = np.linalg.norm(features - centres[cluster], axis=1)
    sizes = np.bincount(cluster, minlength=n)
    score = sizes[cluster] / len(coords)
    members = {c: list(np.flatnonzero(cluster == c)[np.argsort(distance[cluster == c], kind="stable")])
               for c in sorted(np.flatnonzero(sizes), key=lambda c: (-sizes[c], c))}
    cap = -(-n // len(np.unique(videos)))
    taken: dict[str, int] = {}
    picks: list[int] = []
    reasons = [""] * len(coords)
    for capped in (True, False):  # the cap holds while a video under it has frames left
        while len(picks) < n:
            before = len(picks)
            for c, rows in members.items():  # one frame per cluster and pass, largest cluster first
                row = next((r for r in rows if r not in picks and (not capped or taken.get(videos[r], 0) < cap)), None)
                if row is None or len(picks) == n:
                    continue
                picks.append(row)
                taken[videos[row]] = taken.get(videos[row], 0) + 1
                place = "nearest its centre" if row == rows[0] else f"{distance[row]:.2f} from its centre"
                reasons[row] = f"cluster {c + 1} of {n} ({sizes[c]} frames), {place}"
            if len(picks) == before:
                break
    return np.array(picks, dtype=int), score, reasons


def spread(videos: np.ndarray, score: np.ndarray, n: int) -> np.ndarray:
    """Row indices of ``n`` picks, round-robin over videos by score (module docstring)."""
    queues = {}
    for row in sorted(range(len(score)), key=lambda r: (-score[r], videos[r], r)):
        queues.setdefault(videos[row], []).append(row)
    chosen: list[int] = []
    for depth in range(max(map(len, queues.values()), default=0)):
        offers = sorted((q[depth] for q in queues.values() if depth < len(q)),
                        key=lambda r: (-score[r], videos[r], r))
        chosen += offers[:n - len(chosen)]
        if len(chosen) == n:
            break
    return np.array(chosen, dtype=int)


def choose(videos: np.ndarray, frames: np.ndarray, coords: np.ndarray, confidence: np.ndarray, n: int,
           strategy: str, seed: int = 0, embeddings: np.ndarray | None = None,
           exclude: set[tuple[str, int]] = frozenset(), jump_threshold: float = JUMP) -> pd.DataFrame:
    """``n`` frames to label by ``strategy``, in the order chosen: a table with the columns
    ``video, frame, strategy, score, reason`` (module docstring)."""
    if strategy not in STRATEGIES:
        raise InputError(f"--strategy {strategy!r}: unknown; choose one of {', '.join(STRATEGIES)}")
    if n < 1:
        raise InputError(f"--n {n}: choose at least one frame")
    videos = np.asarray(videos).astype(str)
    frames = np.asarray(frames).astype(int)
    coords, confidence = np.asarray(coords, dtype=float), np.asarray(confidence, dtype=float)
    order = np.lexsort((frames, videos))  # results do not depend on the input's order
    videos, frames, coords, confidence = videos[order], frames[order], coords[order], confidence[order]
    embeddings = None if embeddings is None else np.asarray(embeddings)[order]
    candidate = np.array([(v, int(f)) not in exclude for v, f in zip(videos, frames)], dtype=bool)
    count = int(candidate.sum())
    if count < n:
        warnings.warn(f"only {count} unlabelled frames to choose from, fewer than the {n} asked for: "
                      "choosing all of them", stacklevel=2)
        n = count
    if n == 0:
        return pd.DataFrame(columns=COLUMNS)
    rows = np.arange(count)  # the candidates the round-robin takes from
    if strategy == "jump":  # neighbours count whether labelled or not
        score, reasons = _jump(coords, videos, frames, jump_threshold)
        score, reasons = score[candidate], [r for r, c in zip(reasons, candidate) if c]
        beyond = int((score > jump_threshold).sum())
        if beyond < n:
            warnings.warn(f"only {beyond} frames move more than {jump_threshold:g} S from a neighbour; "
                          f"the other {n - beyond} are the largest moves below it", stacklevel=2)
    elif strategy == "diverse":
        rows, score, reasons = _diverse(coords[candidate], videos[candidate], n, seed,
                                        None if embeddings is None else embeddings[candidate])
    elif strategy == "uncertain":
        score, reasons = _uncertain(confidence[candidate])
    else:
        score, reasons = np.random.default_rng(seed).random(count), ["random control"] * count
    picked = rows[spread(videos[candidate][rows], score[rows], n)]
    return pd.DataFrame({"video": videos[candidate][picked], "frame": frames[candidate][picked],
                         "strategy": strategy, "score": score[picked],
                         "reason": [reasons[i] for i in picked]}, columns=COLUMNS)
