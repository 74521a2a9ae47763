"""Intervals for the study's metrics: a cluster bootstrap that resamples videos.

Why videos: the frames of one video share the infant, the camera, the lighting and the annotator, so
they are not independent evidence; resampling frames would count twenty near-copies as twenty
observations and give intervals far too narrow. The video is the resampling unit.

Every metric here is a ratio of sums over videos, ``sum_v num[v] / sum_v den[v]``: pooled PCK@beta
(correct / scored keypoints), mKS (summed similarity / scored keypoints), a mean over videos of a
per-video value (value / 1) or a ratio of such means (prediction jitter / annotation jitter). One
resample draws V videos with replacement from the V videos of the split that contribute (a positive
denominator: at least one scored keypoint), i.e. multinomial counts ``c[v]`` (how often video v was
drawn), and its metric is ``c @ num / c @ den``. All B resamples are
one ``(B, V)`` count matrix and one matrix product (:func:`resample_counts`). A metric that is not a
ratio of sums (COCO's OKS AP: :class:`benchmark.evidence.oks_cell.OKSCell`) is a cell that computes
its own value from the same counts (:meth:`Cell.resampled`), so it is resampled, paired and
differenced like every other.

- Interval: percentile, the ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of the B resampled
  values; ``level = 0.95`` and ``B = 2000`` by default, counts from ``numpy.random.default_rng(seed)``.
- Seeds: a setting trained with S seeds is a :class:`Cell` with ``num`` and ``den`` of shape
  ``(S, V)``. Its value is the mean over seeds of each seed's metric; every seed gets the same video
  counts (they are scored on the same videos). The interval therefore describes the sampling of
  videos; the seeds' own spread (min, max, SD of the per-seed values) is reported beside it
  (:attr:`Interval.seed_values`), not folded into it.
- Paired differences (:func:`difference`): two settings scored on the same videos get the same
  counts, so what the videos share (an easy infant is easy for every model) cancels in the
  difference; this is the right interval for two experiments on one split, or two decoders of one
  experiment. ``paired=False`` draws independent counts, for settings on different videos.
- Display (:func:`format_interval`): ``0.274 [0.231, 0.320]`` is the estimate on the full data and
  its 95 % percentile interval, all at ``digits`` decimals; differences are signed,
  ``+0.012 [+0.004, +0.020]``.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from benchmark.study.metrics import BETAS, DEFAULT_LAMBDA, frame_sums

N_BOOT = 2000
LEVEL = 0.95


@dataclass(frozen=True)
class Cell:
    """Per-video sufficient statistics of one metric for one setting: ``value = sum num / sum den``
    per seed, averaged over seeds.

    ``videos`` ``(V,)`` ids; ``num``, ``den`` ``(S, V)`` (a ``(V,)`` array means one seed); ``seeds``
    (default ``0 .. S-1``) and ``experiments`` describe the S rows.
    """

    videos: np.ndarray
    num: np.ndarray
    den: np.ndarray
    seeds: tuple = ()
    experiments: tuple[str, ...] = ()

    def __post_init__(self):
        videos = np.asarray(self.videos)
        num = np.atleast_2d(np.asarray(self.num, dtype=np.float64))
        den = np.atleast_2d(np.asarray(self.den, dtype=np.float64))
        if num.shape != den.shape or num.shape[1] != len(videos) or len(np.unique(videos)) != len(videos):
            raise ValueError(f"expected unique videos (V,) and num, den (S, V); got {videos.shape}, "
                             f"{num.shape}, {den.shape}")
        object.__setattr__(self, "videos", videos)
        object.__setattr__(self, "num", num)
        object.__setattr__(self, "den", den)
        object.__setattr__(self, "seeds", tuple(self.seeds) or tuple(range(len(num))))
        if len(self.seeds) != len(num):
            raise ValueError(f"{len(num)} seed rows but {len(self.seeds)} seeds")

    @property
    def per_seed(self) -> np.ndarray:
        """``(S,)`` the metric of each seed on the full data."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.num.sum(axis=1) / self.den.sum(axis=1)

    @property
    def value(self) -> float:
        return float(self.per_seed.mean())

    def on(self, videos: np.ndarray) -> Cell:
        """The same cell on another list of videos: new ones contribute ``0 / 0``, unlisted ones go."""
        position = pd.Index(self.videos).get_indexer(videos)
        present = position >= 0
        num, den = np.zeros((len(self.num), len(videos))), np.zeros((len(self.num), len(videos)))
        num[:, present], den[:, present] = self.num[:, position[present]], self.den[:, position[present]]
        return dataclasses.replace(self, videos=videos, num=num, den=den)

    @staticmethod
    def stack(cells: list[Cell]) -> Cell:
        """Several seeds of one setting as one cell, on the union of their videos."""
        videos = np.array(sorted(set().union(*(c.videos.tolist() for c in cells))), dtype=object)
        aligned = [c.on(videos) for c in cells]
        return aligned[0].joined(aligned[1:])

    def joined(self, others: list[Cell]) -> Cell:
        """This cell's seed rows followed by those of ``others``: cells of the same kind on the same videos."""
        return dataclasses.replace(self, **self._rows_of([self, *others]))

    def _rows_of(self, cells: list[Cell]) -> dict:
        """The per-seed fields of ``cells``, concatenated (a subclass adds its own)."""
        return {"num": np.concatenate([c.num for c in cells]), "den": np.concatenate([c.den for c in cells]),
                "seeds": tuple(s for c in cells for s in c.seeds),
                "experiments": tuple(e for c in cells for e in c.experiments)}

    def resampled(self, counts: np.ndarray) -> np.ndarray:
        """``(B, S)`` each seed's value in each resample; ``counts`` ``(B, V)``: how often each of the
        cell's videos is drawn (a row of ones: the full data)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return (counts @ self.num.T) / (counts @ self.den.T)


@dataclass(frozen=True)
class Interval:
    """An estimate on the full data, its bootstrap interval ``[low, high]``, the number of videos that
    contribute, and the per-seed values behind the estimate (one value for a single seed; per-seed
    differences for a difference)."""

    estimate: float
    low: float
    high: float
    level: float = LEVEL
    n_boot: int = N_BOOT
    n_videos: int = 0
    seed_values: tuple[float, ...] = ()

    @property
    def seed_spread(self) -> tuple[float, float, float]:
        """``(min, max, SD)`` over seeds; SD is NaN for a single seed."""
        values = np.asarray(self.seed_values, dtype=np.float64)
        if not values.size:
            return (np.nan, np.nan, np.nan)
        sd = float(values.std(ddof=1)) if values.size > 1 else np.nan
        return float(values.min()), float(values.max()), sd

    def format(self, digits: int = 3, signed: bool = False) -> str:
        return format_interval(self.estimate, self.low, self.high, digits, signed)

    def __str__(self) -> str:
        return self.format()


def format_interval(estimate: float, low: float, high: float, digits: int = 3, signed: bool = False) -> str:
    """``"0.274 [0.231, 0.320]"``: estimate and interval at ``digits`` decimals (``+`` signs with
    ``signed``, for differences); ``"n/a"`` when the estimate is NaN."""
    if not np.isfinite(estimate):
        return "n/a"
    spec = f"{'+' if signed else ''}.{digits}f"
    return f"{estimate:{spec}} [{low:{spec}}, {high:{spec}}]"


def video_sums(pred, labels, videos, subset: str = "non_facial", betas=BETAS,
               lam: float = DEFAULT_LAMBDA) -> pd.DataFrame:
    """Per video (sorted index): ``n`` scored keypoints and the numerators ``pck@<beta>`` and ``mks``
    (:func:`benchmark.study.metrics.frame_sums` summed over the video's frames). ``pred``, ``labels``:
    ``(N, 22, 2)``; ``videos``: ``(N,)`` the video of each frame."""
    sums = pd.DataFrame(frame_sums(pred, labels, subset, betas, lam))
    return sums.groupby(np.asarray(videos), sort=True).sum().rename_axis("video")


def metric_cell(sums: pd.DataFrame, metric: str, seed=0, experiment: str = "") -> Cell:
    """A :func:`video_sums` table as the cell of one metric (``pck@0.02``, ``mks``)."""
    return Cell(sums.index.to_numpy(), sums[metric].to_numpy(), sums["n"].to_numpy(), (seed,),
                (experiment,) if experiment else ())


def mean_cell(values, videos=None) -> Cell:
    """A cell whose value is the mean over videos of a per-video value (``(V,)`` or ``(S, V)``, e.g.
    jitter per video); NaN values leave their video out of the mean."""
    values = np.atleast_2d(np.asarray(values, dtype=np.float64))
    videos = np.arange(values.shape[1]) if videos is None else np.asarray(videos)
    present = ~np.isnan(values)
    return Cell(videos, np.where(present, values, 0), present.astype(np.float64))


def pooled_cell(values, videos) -> Cell:
    """A cell whose value is the mean of every finite entry of ``values`` ``(N, K)`` (e.g. 1/0 for a
    correct keypoint, or a distance), pooled over the frames ``(N,)`` of each video: per video the
    sum and the count of its finite entries."""
    values = np.asarray(values, dtype=np.float64).reshape(len(videos), -1)
    present = np.isfinite(values)
    frame = pd.DataFrame({"num": np.where(present, values, 0).sum(axis=1), "den": present.sum(axis=1)})
    sums = frame.groupby(np.asarray(videos), sort=True).sum()
    return Cell(sums.index.to_numpy(), sums["num"].to_numpy(), sums["den"].to_numpy())


def resample_counts(n_videos: int, n_boot: int = N_BOOT, seed: int | np.random.Generator = 0) -> np.ndarray:
    """``(n_boot, n_videos)`` how often each video is drawn in each resample (each row sums to V);
    for an integer seed the same read-only matrix each time (a report draws it for every cell).
    No video (nothing measurable, e.g. one labelled frame per video): no draws, NaN intervals."""
    if n_videos == 0:
        return np.zeros((n_boot, 0), dtype=np.int64)
    if isinstance(seed, np.random.Generator):
        return seed.multinomial(n_videos, np.full(n_videos, 1 / n_videos), size=n_boot)
    return _seeded_counts(n_videos, n_boot, seed)


@functools.lru_cache(maxsize=32)
def _seeded_counts(n_videos: int, n_boot: int, seed: int) -> np.ndarray:
    counts = resample_counts(n_videos, n_boot, np.random.default_rng(seed))
    counts.flags.writeable = False
    return counts


def _resampled(cell: Cell, counts: np.ndarray) -> np.ndarray:
    """``(B,)`` the cell's value (mean over seeds) in each resample."""
    return cell.resampled(counts).mean(axis=1)


def _informative(*cells: Cell) -> list[Cell]:
    """The cells on the videos that contribute to any of them (a positive denominator in some seed),
    in one order: the resampling units."""
    videos = sorted(set().union(*(c.videos[(c.den > 0).any(axis=0)].tolist() for c in cells)))
    return [c.on(np.array(videos, dtype=object)) for c in cells]


def _interval(estimate: float, resampled: np.ndarray, level: float, n_videos: int, seed_values) -> Interval:
    tail = 100 * (1 - level) / 2
    finite = resampled[np.isfinite(resampled)]
    low, high = np.percentile(finite, [tail, 100 - tail]) if finite.size else (np.nan, np.nan)
    return Interval(float(estimate), float(low), float(high), level, len(resampled), n_videos,
                    tuple(float(v) for v in seed_values))


def interval(cell: Cell, n_boot: int = N_BOOT, seed: int = 0, level: float = LEVEL) -> Interval:
    """The cell's value with its video-bootstrap percentile interval."""
    cell, = _informative(cell)
    counts = resample_counts(len(cell.videos), n_boot, seed)
    return _interval(cell.value, _resampled(cell, counts), level, len(cell.videos), cell.per_seed)


def difference(a: Cell, b: Cell | float, paired: bool = True, n_boot: int = N_BOOT, seed: int = 0,
               level: float = LEVEL) -> Interval:
    """``value(a) - value(b)`` with its interval; ``b`` may be a constant (e.g. 1 for a ratio).

    Paired: both cells are put on the union of their contributing videos and every resample applies
    the same counts to both. Unpaired: independent counts for each. ``seed_values`` holds per-seed differences,
    matched by seed where both cells have the same seeds, else every pair.
    """
    rng = np.random.default_rng(seed)
    if not isinstance(b, Cell):
        a, = _informative(a)
        counts = resample_counts(len(a.videos), n_boot, rng)
        return _interval(a.value - b, _resampled(a, counts) - b, level, len(a.videos), a.per_seed - b)
    if paired:
        a, b = _informative(a, b)
        counts = resample_counts(len(a.videos), n_boot, rng)
        resampled = _resampled(a, counts) - _resampled(b, counts)
    else:
        (a,), (b,) = _informative(a), _informative(b)
        resampled = (_resampled(a, resample_counts(len(a.videos), n_boot, rng))
                     - _resampled(b, resample_counts(len(b.videos), n_boot, rng)))
    per_seed = (a.per_seed - b.per_seed if a.seeds == b.seeds
                else (a.per_seed[:, None] - b.per_seed[None, :]).ravel())
    return _interval(a.value - b.value, resampled, level, min(len(a.videos), len(b.videos)), per_seed)


def ratio(a: Cell, b: Cell, paired: bool = True, n_boot: int = N_BOOT, seed: int = 0,
          level: float = LEVEL) -> Interval:
    """``value(a) / value(b)`` with its interval: paired like :func:`difference` for two cells on the same
    videos (e.g. prediction and annotation jitter), or ``paired=False`` for cells on different videos (a
    shifted split over the test split: independent counts for each); ``seed_values`` holds per-seed
    ratios where the seeds match."""
    with np.errstate(invalid="ignore", divide="ignore"):
        if paired:
            a, b = _informative(a, b)
            counts = resample_counts(len(a.videos), n_boot, seed)
            resampled = _resampled(a, counts) / _resampled(b, counts)
        else:
            rng = np.random.default_rng(seed)
            (a,), (b,) = _informative(a), _informative(b)
            resampled = (_resampled(a, resample_counts(len(a.videos), n_boot, rng))
                         / _resampled(b, resample_counts(len(b.videos), n_boot, rng)))
        per_seed = a.per_seed / b.per_seed if a.seeds == b.seeds else [np.divide(a.value, b.value)]
        estimate = np.divide(a.value, b.value)  # NaN or inf, not an error, when b is 0
        return _interval(estimate, resampled, level, min(len(a.videos), len(b.videos)), per_seed)


def metric_interval(pred, labels, videos, metric: str = "pck@0.1", subset: str = "non_facial",
                    n_boot: int = N_BOOT, seed: int = 0, level: float = LEVEL) -> Interval:
    """One table cell: a pooled metric of arrays ``(N, 22, 2)`` with its video-bootstrap interval."""
    betas = tuple(sorted({*BETAS, float(metric.split("@")[1])})) if metric.startswith("pck@") else BETAS
    return interval(metric_cell(video_sums(pred, labels, videos, subset, betas), metric), n_boot, seed, level)
