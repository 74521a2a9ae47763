"""The run plan: where one run's results live and which experiments belong to it, decided once.

Every command that writes or reads results (``run``, ``report``, ``claims``, ``predict``, ``gallery``,
``deidentify``, ``shifts``, ``movement``) resolves a :class:`RunPlan` from the same options
(``--manifest``, ``--profile``, ``--dataset`` or ``--data``, ``--results``; ``run`` also ``--seeds``
and ``--only``) and reads nothing else, so they can never disagree:

- the results folder is ``<results>/<dataset name>/<profile>/`` (:func:`results_path`, the one
  place that builds it); the dataset name is the manifest's entry (``synthetic``) or, for a root
  given from outside, its folder name and fingerprint (``sample_data-1a2b3c4d``,
  :func:`benchmark.runner.datasets.root_name`);
- the experiments are the manifest's, resolved for the profile, plus the seeds that ``run
  --seeds`` added (recorded beside the results in ``_seeds.json``, so ``report`` and ``claims``
  count them without being told again);
- a folder in the results folder that the plan does not name (a row since removed, a seed no run
  asked for, an id of an older manifest) is ignored, listed once, and never read; so is a folder
  whose recorded settings differ from the plan's (:func:`benchmark.report.results.load_results`).

A run's plan also carries its dataset (:class:`RunDataset`), resolved once: the runner reads
neither the manifest's dataset entries nor the dataset's files again to find it.

Reading a plan never reads the dataset: a root given with ``--data`` is found among the results
by the root and file state that ``run`` recorded (:mod:`benchmark.runner.snapshot`), and
``--dataset`` also takes a results folder name as ``run`` printed it.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from benchmark.common.atomic import staged_file
from benchmark.common.result_files import SEEDS, SNAPSHOT, SNAPSHOT_RECORD
from benchmark.common.seeds import without_seed
from benchmark.data.labelme import Dataset
from benchmark.runner.datasets import defined_root, entry, given_root, root_name
from benchmark.runner.manifest import MANIFEST, Experiment, LoadedManifest, ManifestError, select
from benchmark.runner.snapshot import files_state, recorded


class PlanError(ManifestError):
    """Options that name no results or experiments; the message says what to give instead."""


def results_path(results: Path, name: str, profile: str) -> Path:
    """The folder of a profile's results on the dataset ``name``: the only place that builds it."""
    return Path(results) / name / profile


@dataclass(frozen=True)
class RunDataset:
    """A run's dataset as resolving the plan found it: what the run needs to snapshot and hash it."""

    root: Path
    state: str                      # benchmark.runner.snapshot.files_state(root)
    fingerprint: str | None = None  # when resolving had to compute it (a root from outside, not recorded)
    loaded: Dataset | None = field(default=None, compare=False, repr=False)  # what it read to compute it


@dataclass(frozen=True)
class RunPlan:
    manifest: LoadedManifest
    profile: str
    dataset: str                 # the manifest's dataset entry (e.g. synthetic, real)
    name: str                    # the results folder name of the dataset
    results: Path                # <results>/<name>/<profile>
    experiments: tuple[Experiment, ...]
    data: RunDataset | None = None  # a run's dataset (None when only reading results)
    seeds: tuple[int, ...] = ()  # the seeds a run was asked for (--seeds), recorded by the run

    def folder(self, experiment_id: str) -> Path:
        return self.results / experiment_id

    def report_folder(self, reports: Path) -> Path:
        """Where this plan's report goes: ``<reports>/<name>/<profile>``."""
        return results_path(reports, self.name, self.profile)

    @property
    def ids(self) -> list[str]:
        return [e.id for e in self.experiments]

    def experiment(self, experiment_id: str) -> Experiment:
        """The planned experiment ``experiment_id``; PlanError lists the planned ones."""
        for e in self.experiments:
            if e.id == experiment_id:
                return e
        raise PlanError(f"{experiment_id!r} is no experiment of profile {self.profile!r} in {self.manifest.path} "
                        f"(its experiments: {', '.join(self.ids)})")

    def unplanned(self) -> list[str]:
        """Folders in the results folder that the plan does not name (never read)."""
        if not self.results.is_dir():
            return []
        planned = set(self.ids)
        return sorted(p.name for p in self.results.iterdir()
                      if p.is_dir() and not p.name.startswith((".", "_")) and p.name not in planned)

    def ignored_line(self) -> str | None:
        """One line naming the unplanned folders, or None."""
        names = self.unplanned()
        if not names:
            return None
        return (f"{len(names)} folder{'s' * (len(names) != 1)} in {self.results} not in this plan "
                f"(profile {self.profile!r} of {self.manifest.path}), ignored: {', '.join(names)}")


def _recorded_seeds(results: Path) -> dict[str, list[int]]:
    try:
        return {str(k): [int(s) for s in v] for k, v in json.loads((results / SEEDS).read_text()).items()}
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


def record_seeds(plan: RunPlan) -> None:
    """Record beside the results the seeds ``run --seeds`` asked for of the plan's experiments."""
    known = _recorded_seeds(plan.results)
    for e in plan.experiments:
        if e.kind == "train":
            row = without_seed(e.id)
            known[row] = sorted(set(known.get(row, [])) | set(plan.seeds))
    plan.results.mkdir(parents=True, exist_ok=True)
    with staged_file(plan.results / SEEDS) as tmp:
        tmp.write_text(json.dumps(known, indent=1, sort_keys=True))


def _with_recorded_seeds(manifest: LoadedManifest, profile: str, results: Path) -> list[Experiment]:
    """The manifest's experiments, plus the seeds runs recorded for rows it still has."""
    experiments = manifest.experiments(profile)
    have = {e.id for e in experiments}
    recorded_seeds = _recorded_seeds(results)
    extra = sorted({s for seeds in recorded_seeds.values() for s in seeds})
    for e in manifest.experiments(profile, seeds=extra) if extra else []:
        if e.id not in have and e.config.seed in recorded_seeds.get(without_seed(e.id), []):
            experiments.append(e)
            have.add(e.id)
    return experiments


def _recorded(results: Path, root: Path, profile: str) -> list[tuple[str, str | None]]:
    """``(folder name, recorded file state)`` of every results folder whose snapshot names ``root``."""
    root = root.resolve()
    found = []
    for snapshot in sorted(Path(results).glob(f"{root.name}-*/{profile}/{SNAPSHOT}/{SNAPSHOT_RECORD}")):
        doc = recorded(snapshot.parents[1]) or {}
        if Path(doc.get("root", "")).resolve() == root:
            found.append((snapshot.parents[2].name, doc.get("state")))
    return found


def _to_run(results: Path, root: Path, profile: str, entry_name: str | None) -> tuple[str, RunDataset]:
    """The results folder name of the run's dataset at ``root`` and the dataset as the run needs it.
    A manifest dataset is named by its entry ``entry_name``; a root given from outside (None) by its
    fingerprint: that of the folder recorded with the root's current file state, read from there,
    else computed."""
    state = files_state(root)
    if entry_name is not None:
        return entry_name, RunDataset(root, state)
    for name, recorded_state in _recorded(results, root, profile):
        if recorded_state == state:
            return name, RunDataset(root, state)
    from benchmark.data.labelme import load_dataset

    loaded = load_dataset(root)
    fingerprint = loaded.fingerprint()
    return root_name(root, fingerprint), RunDataset(root, state, fingerprint, loaded)


def _name_to_read(results: Path, root: Path, profile: str) -> str:
    """The results folder name of a root given from outside, from what runs recorded (no image is
    read): the folder whose snapshot names this root; the one recorded with the root's current file
    state when there are several."""
    found = _recorded(results, root, profile)
    if not found:
        raise PlanError(f"no results of the dataset {root} for profile {profile!r} in {results}: run "
                        "`python -m benchmark run` with the same --data, --profile and --results first")
    if len(found) > 1:
        state = files_state(root)
        current = [name for name, recorded_state in found if recorded_state == state]
        if current:
            return current[0]
        raise PlanError(f"the results in {results} hold {len(found)} versions of {root} "
                        f"({', '.join(n for n, _ in found)}) and none matches its files now: give the folder "
                        "with --dataset NAME, or run again")
    return found[0][0]


def plan(manifest_path: Path = MANIFEST, profile: str = "quick", dataset: str | None = None,
         data: Path | None = None, results: Path = Path("results"), seeds: list[int] | None = None,
         only: str | None = None, run: bool = False, data_dir: Path = Path("data"),
         progress: bool = True) -> RunPlan:
    """Resolve the plan of a run (``run=True``: the dataset is found, generated or read and named by
    its fingerprint; ``seeds`` and ``only`` select) or of reading its results (no dataset is read)."""
    manifest = LoadedManifest(manifest_path)
    manifest.profile(profile)  # an unknown profile is an error before anything else
    if (seeds is not None or only) and not run:
        raise PlanError("--seeds and --only choose what `run` trains; reading results takes what runs recorded")
    run_data = None
    if dataset is not None and dataset not in manifest.data.datasets and data is None and not run:
        if not results_path(Path(results), dataset, profile).is_dir():  # a results folder name as `run --data` printed it
            raise PlanError(f"--dataset {dataset}: neither a dataset of {manifest.path} "
                            f"({', '.join(manifest.data.datasets)}) nor a results folder in {results}")
        name, chosen = dataset, manifest.profile(profile).dataset
    else:
        chosen = entry(manifest, profile, dataset)
        outside = given_root(manifest, chosen, data)
        if run:
            root = outside or defined_root(manifest, chosen, data_dir, progress)
            name, run_data = _to_run(Path(results), root, profile, None if outside else chosen)
        else:
            name = _name_to_read(Path(results), outside, profile) if outside else chosen
    base = results_path(Path(results), name, profile).resolve()
    experiments = manifest.experiments(profile, seeds) if run else _with_recorded_seeds(manifest, profile, base)
    if run:
        experiments = select(experiments, only)
        if only and not experiments:
            raise PlanError(f"--only {only!r} matches no experiment of profile {profile!r} in {manifest.path}")
    return RunPlan(manifest, profile, chosen, name, base, tuple(experiments), run_data, tuple(seeds or ()))


def to_read(run_plan: RunPlan) -> RunPlan:
    """The plan of reading what the run ``run_plan`` wrote (``run --report``), without resolving it
    again: the same results, every experiment the manifest plans (not only those ``--only`` chose)
    and the seeds runs recorded."""
    experiments = _with_recorded_seeds(run_plan.manifest, run_plan.profile, run_plan.results)
    return dataclasses.replace(run_plan, experiments=tuple(experiments), data=None, seeds=())


def warn_ignored(plan_: RunPlan) -> None:
    """Say once which folders the plan ignores (a warning: one line on the console)."""
    line = plan_.ignored_line()
    if line:
        warnings.warn(line, stacklevel=2)
