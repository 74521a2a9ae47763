"""Execute the manifest: one papermill run of ``notebooks/train_evaluate.ipynb`` per experiment
(``notebooks/baseline_evaluate.ipynb`` in the baseline's own kernel for a zero-shot baseline,
``notebooks/reference_evaluate.ipynb`` for a chance-level reference, ``notebooks/labelling_evaluate.ipynb``
for a labelling simulation).

Results go to the plan's folder, ``results/<dataset>/<profile>/<experiment>/``
(:mod:`benchmark.runner.plan`). An experiment is complete only when its
``COMPLETE.json`` exists and records the experiment's content hash (resolved config, dataset
fingerprint, code version): such experiments are skipped. Work happens in
``results/<dataset>/<profile>/.staging/<experiment>/`` and is moved into place when finished, so an
interrupted run leaves no partial result and simply resumes. A failing experiment keeps its
executed notebook and a ``FAILED.json``; the others go on, and the exit status is non-zero. Two
experiments of the same setting (two tables list it) have the same hash: one trains, and the
other's folder gets the same files (:func:`share`).
Before anything trains, every image of the dataset is decoded once
(:func:`benchmark.data.info.check_images`).

Each notebook's kernel writes its stderr to ``kernel.log`` beside the notebook, not to this
console: TensorFlow's C++ start-up lines (``oneDNN custom operations are on``, ``All log messages
before absl::InitializeLog()``) are logged before ``TF_CPP_MIN_LOG_LEVEL`` (set by
``benchmark/__init__.py``, inherited by the kernel) takes effect, so that level cannot silence them.
What a cell writes there is in the executed notebook too. Here, where the backend is asked for the
summary line, those notices are dropped (:func:`benchmark.common.environment.quiet_backend_start_up`).

The experiments to run are handed to an executor (``benchmark.runner.executors``): this process, one at
a time, or Dask workers side by side (which must see the results folder on a shared filesystem).
Only this process decides what is cached, shows progress and prints.

A baseline whose kernel is not installed (its environment could not be built:
:mod:`benchmark.baselines.environments`) is not run: its folder gets a ``SKIPPED.json`` with the
reason, the report shows it as skipped, and the run's exit status is not affected. So is an
experiment whose kind cannot apply to the run's dataset: a labelling simulation on a dataset without
exact truth (:func:`benchmark.labelling.config.not_applicable`), and one its profile defers (the
manifest's ``defer``). None is ever cached: each run checks again, so the experiment runs once its
kernel or a dataset it applies to is there, or the profile no longer defers it; a ``SKIPPED.json``
that already gives the same reason is left untouched.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
import threading
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from tqdm.auto import tqdm

from benchmark.baselines.registry import BASELINES
from benchmark.common.atomic import link_or_copy, swap_in
from benchmark.common.environment import quiet_backend_start_up
from benchmark.common.result_files import (
    COMPLETE,
    EXECUTED,
    FAILED,
    KERNEL_LOG,
    METRICS,
    MODEL,
    OPTIMIZER,
    OUTCOMES,
    SKIPPED,
    STATUS,
)
from benchmark.data.info import check_images
from benchmark.data.labelme import load_dataset
from benchmark.labelling.config import not_applicable
from benchmark.models.imagenet import check_imagenet_weights, imagenet_backbone
from benchmark.runner.executors import DaskExecutor, Done, LocalExecutor, error_line
from benchmark.runner.manifest import Experiment
from benchmark.runner.plan import RunPlan, record_seeds
from benchmark.runner.provenance import (
    BASELINE_NOTEBOOK,
    LABELLING_NOTEBOOK,
    NOTEBOOK,
    REFERENCE_NOTEBOOK,
    baseline_code,
    baseline_environment,
    experiment_code,
    experiment_hash,
    labelling_code,
    reference_code,
    training_environment,
)
from benchmark.runner.snapshot import FORMAT, recorded, write_snapshot
from benchmark.training.config import TrainConfig


@dataclass
class Outcome:
    id: str
    status: str  # cached | ran | shared (the result of an experiment of the same setting) | failed | skipped
    wall_time_s: float
    detail: str = ""
    folder: Path | None = None  # the experiment's results folder


@dataclass(frozen=True)
class Job:
    """One experiment to execute, with absolute paths: what a (Dask) worker needs to run it."""

    experiment: Experiment
    digest: str
    dataset: Path
    out: Path
    profile: str
    notebook: Path = NOTEBOOK
    kernel: str = "python3"
    training: str = ""              # a trained experiment's key without its evaluation settings
    trained_by: Path | None = None  # the folder whose model it evaluates instead of training one
    resume_from: Path | None = None  # its own complete result of a lower max_epochs, which training goes on from

    @property
    def staging(self) -> Path:
        return self.out.parent / ".staging" / self.out.name


def _kernel_manager(log: Path) -> type:
    """A Jupyter kernel manager class whose kernels write their stderr to ``log`` (module docstring)."""
    from jupyter_client.manager import AsyncKernelManager

    class LoggedKernelManager(AsyncKernelManager):
        async def start_kernel(self, **kw):
            with open(log, "ab") as stderr:  # the kernel process keeps its own copy
                return await super().start_kernel(stderr=stderr, **kw)

    return LoggedKernelManager


def run_experiment(job: Job) -> Outcome:
    """Execute one experiment's notebook in its staging folder and move it into place.

    Runs wherever the executor puts it, so it shows nothing: the client follows the staging
    folder's ``status.json`` instead. A rerun first discards what an earlier attempt left there.
    """
    import papermill

    staging = job.staging
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    status_file = staging / STATUS
    record = {"id": job.experiment.id, "group": job.experiment.group, "hash": job.digest, "profile": job.profile,
              "notebook": EXECUTED}
    started = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(job.notebook), str(staging / EXECUTED), kernel_name=job.kernel, progress_bar=False,
            extra_arguments=["--IPKernelApp.log_level=ERROR"],  # no start-up chatter on the console
            # Every result file is complete when the last cell ends; a graceful shutdown would wait
            # 2-3 s more for TensorFlow's process to exit.
            shutdown_kernel="immediate",
            kernel_manager_class=_kernel_manager(staging / KERNEL_LOG),
            parameters={"config_json": job.experiment.config.model_dump_json(), "dataset": str(job.dataset),
                        "out_dir": str(staging), "status_file": str(status_file)}
            | ({"trained_by": str(job.trained_by)} if job.trained_by else {})
            | ({"resume_from": str(job.resume_from)} if job.resume_from else {}))
        error = None
    except Exception as exc:  # the executed notebook with the traceback is kept
        error = error_line(exc)
    record["wall_time_s"] = time.perf_counter() - started
    record["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    status_file.unlink(missing_ok=True)
    if error:
        record["error"] = error
        (staging / FAILED).write_text(json.dumps(record, indent=2))
    else:
        (staging / COMPLETE).write_text(json.dumps(record, indent=2))
    swap_in(staging, job.out)
    return Outcome(job.experiment.id, "failed" if error else "ran", record["wall_time_s"], error or "", job.out)


def skip(job: Job, reason: str) -> Outcome:
    """Record in the experiment's folder that it was not run, and why; a folder that says so already
    (the same reason and hash) is left as it is, so a report of it stays up to date."""
    outcome = Outcome(job.experiment.id, "skipped", 0.0, reason, job.out)
    record = {"id": job.experiment.id, "group": job.experiment.group, "hash": job.digest, "profile": job.profile,
              "reason": reason, "config": job.experiment.config.model_dump(mode="json")}
    try:
        recorded = json.loads((job.out / SKIPPED).read_text())
    except (OSError, ValueError):
        recorded = {}
    if {k: recorded.get(k) for k in record} == record:
        return outcome
    staging = job.staging
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    record["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    (staging / SKIPPED).write_text(json.dumps(record, indent=2))
    swap_in(staging, job.out)
    return outcome


def share(source: Job, job: Job) -> Outcome:
    """Give ``job`` the complete result of ``source``, an experiment of the same setting (the same
    hash): the same files (hard links where possible) and its own ``COMPLETE.json``, which names
    ``source`` under ``same_as``."""
    staging = job.staging
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(source.out, staging, copy_function=link_or_copy, ignore=shutil.ignore_patterns(COMPLETE))
    record = json.loads((source.out / COMPLETE).read_text())
    record.update(id=job.experiment.id, group=job.experiment.group, same_as=source.experiment.id)
    (staging / COMPLETE).write_text(json.dumps(record, indent=2))
    swap_in(staging, job.out)
    return Outcome(job.experiment.id, "shared", 0.0, f"the same setting as {source.experiment.id}", job.out)


def missing_kernel(name: str, prefix: Path = Path(sys.prefix)) -> str | None:
    """Why the baseline ``name`` cannot run here (its kernel is not installed), or None; the
    set-up's record of why in ``prefix`` when there is one."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    spec = BASELINES[name]
    try:
        KernelSpecManager().get_kernel_spec(spec.kernel)
        return None
    except NoSuchKernel:
        return spec.failure(prefix) or (
            f"its Jupyter kernel {spec.kernel!r} is not installed (INFANT_POSE_BASELINES=0, or the set-up did not "
            "run: ./run_all.sh builds it, or python -m benchmark.baselines.environments)")


def _lost(done: Done) -> Outcome:
    """An experiment whose run gave no outcome (its worker died): drop what it left in staging."""
    shutil.rmtree(done.item.staging, ignore_errors=True)
    return Outcome(done.item.experiment.id, "failed", 0.0, done.error, done.item.out)


class EpochBars:
    """One epoch bar per running experiment, read from its staging ``status.json`` by a thread here.

    Works the same whether the experiments run in this process or on Dask workers; a bar appears
    when an experiment's staging folder does, and goes when :meth:`finished` is called for it.
    """

    def __init__(self, jobs: list[Job], enabled: bool = True):
        jobs = [job for job in jobs if job.experiment.kind == "train" and not job.trained_by]  # the others: no epochs
        self.waiting = {job.experiment.id: job for job in jobs}
        self.bars: dict[str, tqdm] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True) if enabled and jobs else None

    def __enter__(self) -> EpochBars:
        if self.thread:
            self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        if self.thread:
            self.thread.join()
        for exp_id in list(self.bars):
            self.finished(exp_id)

    def finished(self, exp_id: str) -> None:
        with self.lock:
            self.waiting.pop(exp_id, None)
            bar = self.bars.pop(exp_id, None)
            if bar is not None:
                bar.close()

    def _watch(self) -> None:
        while not self.stop.wait(0.5):
            with self.lock:
                for exp_id, job in self.waiting.items():
                    self._refresh(exp_id, job)

    def _refresh(self, exp_id: str, job: Job) -> None:
        if exp_id not in self.bars:
            if not job.staging.is_dir():
                return
            self.bars[exp_id] = tqdm(desc=f"  {exp_id}", total=job.experiment.config.epochs, unit="epoch",
                                     leave=False)
        try:
            status = json.loads((job.staging / STATUS).read_text())
        except (OSError, ValueError):
            return
        bar = self.bars[exp_id]
        bar.total = status.get("epochs", bar.total)  # training to convergence doubles its epochs
        bar.set_postfix(loss=f"{status['loss']:.4g}", val_pck=f"{status.get('val_pck@0.1', float('nan')):.3f}",
                        refresh=False)
        bar.update(status["epoch"] - bar.n)


def _recover(base: Path) -> None:
    """After an interruption: move finished staging folders into place, drop unfinished ones."""
    for staging in sorted((base / ".staging").glob("*")):
        if any((staging / name).exists() for name in OUTCOMES):
            swap_in(staging, base / staging.name)
        else:
            shutil.rmtree(staging)
    for old in base.glob(".*.old"):
        shutil.rmtree(old)


def _job(experiment: Experiment, fingerprint: str, code: dict, environment: dict, weights: dict, root: Path,
         base: Path, profile: str, notebook: Path) -> Job:
    """The job of one experiment, with its cache key."""
    if experiment.kind == "baseline":
        name = experiment.config.baseline
        digest = experiment_hash(experiment.config.model_dump(), fingerprint, baseline_code(name),
                                 baseline_environment(name))
        return Job(experiment, digest, root, base / experiment.id, profile, BASELINE_NOTEBOOK, BASELINES[name].kernel)
    if experiment.kind == "reference":
        digest = experiment_hash(experiment.config.model_dump(), fingerprint, reference_code())
        return Job(experiment, digest, root, base / experiment.id, profile, REFERENCE_NOTEBOOK)
    weight = weights.get(imagenet_backbone(experiment.config))
    if experiment.kind == "labelling":
        digest = experiment_hash(experiment.config.model_dump(), fingerprint, labelling_code(experiment.config.model),
                                 environment, weight)
        return Job(experiment, digest, root, base / experiment.id, profile, LABELLING_NOTEBOOK)
    key = (fingerprint, code[experiment.config.model], environment, weight)
    out = base / experiment.id
    return Job(experiment, experiment_hash(experiment.config.model_dump(), *key), root, out, profile,
               notebook, training=experiment_hash(experiment.config.training_settings(), *key),
               resume_from=_resumable(experiment.config, key, out))


def _resumable(config: TrainConfig, key: tuple, out: Path) -> Path | None:
    """``out`` when it holds a complete result of ``config`` with a lower ``max_epochs`` (the same
    hash but for that), which training can go on from instead of starting again; else None."""
    try:
        summary = json.loads((out / METRICS).read_text())
        earlier = config.model_copy(update={"max_epochs": summary["config"]["max_epochs"]})
    except (OSError, ValueError, KeyError):
        return None
    if earlier == config or summary.get("epochs_run", 0) > config.epoch_cap or not (out / OPTIMIZER).is_file():
        return None
    return out if is_complete(out, experiment_hash(earlier.model_dump(), *key)) else None


def is_complete(out: Path, digest: str) -> bool:
    try:
        return json.loads((out / COMPLETE).read_text())["hash"] == digest
    except (OSError, ValueError, KeyError):
        return False


def _evaluation_twins(jobs: list[Job], complete: list[Job]) -> tuple[list[Job], list[Job]]:
    """Settings that differ only in how they are evaluated (``TrainConfig.EVALUATION``) train once:
    ``jobs`` to run now (each evaluating a complete model of its training where there is one), and
    those that wait for a model one of them trains."""
    trains = {job.training: job for job in reversed(complete) if (job.out / MODEL).is_file()}
    now, later = [], []
    for job in jobs:
        source = trains.get(job.training) if job.experiment.kind == "train" else None
        if source is None:
            trains.setdefault(job.training, job)
            now.append(job)
        else:
            (now if source in complete else later).append(dataclasses.replace(job, trained_by=source.out))
    return now, later


def _ready(later: list[Job], outcomes: dict[str, Outcome], bar) -> list[Job]:
    """The jobs of ``later`` whose model was trained; the others fail with the reason."""
    ready = []
    for job in later:
        source = next((o for o in outcomes.values() if o.folder == job.trained_by), None)
        if source is not None and source.status == "ran":
            ready.append(job)
        else:
            outcomes[job.experiment.id] = Outcome(job.experiment.id, "failed", 0.0, "the experiment that trains its "
                                                  f"model failed: {source.detail if source else 'not run'}", job.out)
            bar.update()
    return ready


def run(plan: RunPlan, force: bool = False, progress: bool = True, notebook: Path = NOTEBOOK,
        executor: LocalExecutor | DaskExecutor | None = None) -> list[Outcome]:
    """Run every experiment of ``plan`` (:func:`benchmark.runner.plan.plan` with ``run=True``) that is
    not already complete; return one outcome each. ``executor`` (entered by the caller) runs them;
    by default this process, one at a time."""
    experiments, data, base, profile = list(plan.experiments), plan.data, plan.results, plan.profile
    root, loaded = data.root, data.loaded
    # What the report needs of the dataset; it is read and hashed again only when a file changed.
    record = recorded(base)
    if record is None or record.get("state") != data.state or record.get("format") != FORMAT:
        loaded = loaded or load_dataset(root)
        record = write_snapshot(loaded, data.fingerprint or loaded.fingerprint(), base, data.state, progress)
    fingerprint = record["fingerprint"]
    if plan.seeds:  # the report and `claims` count the seeds a run asked for
        record_seeds(plan)
    trained = [e for e in experiments if e.kind == "train"]
    code = {model: experiment_code(model, notebook) for model in {e.config.model for e in trained}}
    environment = training_environment()
    # ImageNet files are found or fetched now, once, before any training (offline: a message that
    # names the file and where to put it); each experiment's cache key records the file it uses.
    weights = check_imagenet_weights([e.config for e in experiments if e.kind in ("train", "labelling")])
    _recover(base)  # leftovers of an interrupted run (one runner per results folder at a time)

    executor = executor or LocalExecutor()
    every = [_job(experiment, fingerprint, code, environment, weights, root.resolve(), base, profile,
                  Path(notebook).resolve()) for experiment in experiments]
    if force:  # trains from the start, not from a shorter cached run
        every = [dataclasses.replace(job, resume_from=None) for job in every]
    cached = [] if force else [job for job in every
                               if not job.experiment.deferred and is_complete(job.out, job.digest)]
    complete = {job.digest: job for job in reversed(cached)}  # the first complete job of each setting
    cached_ids = {job.experiment.id for job in cached}
    # A setting listed by two groups (the loss table's Simple Baseline + KCE is the occlusion table's
    # visible/visible/preserved row) has one hash: it trains once and the other folder shares it.
    outcomes, runs, twins = {}, {}, []
    for job in every:
        experiment = job.experiment
        if experiment.deferred:
            outcomes[experiment.id] = skip(job, f"deferred in profile {profile!r}: {experiment.deferred}")
        elif experiment.id in cached_ids:
            outcomes[experiment.id] = Outcome(experiment.id, "cached", 0.0, folder=job.out)
        elif experiment.kind == "baseline" and (reason := missing_kernel(experiment.config.baseline)):
            outcomes[experiment.id] = skip(job, reason)
        elif experiment.kind == "labelling" and (reason := not_applicable(root)):  # a real dataset: no truth
            outcomes[experiment.id] = skip(job, reason)
        elif job.digest in complete:
            outcomes[experiment.id] = share(complete[job.digest], job)
        elif job.digest in runs:
            twins.append(job)
        else:
            runs[job.digest] = job
    jobs, later = _evaluation_twins(list(runs.values()), [job for job in cached if job.experiment.kind == "train"])
    if jobs:  # a broken image is found now, not by a notebook after minutes of training
        check_images(loaded or load_dataset(root), progress)
    if progress:
        shared = f" (and {len(twins)} of the same setting as one of them)" if twins else ""
        evaluated = sum(bool(job.trained_by) for job in jobs + later)
        evaluated = f", {evaluated} of them evaluating a model trained with their other settings" if evaluated else ""
        skipped = sum(o.status == "skipped" for o in outcomes.values())
        not_run = f", {skipped} not run" if skipped else ""
        print(f"{record['description']}\n{len(experiments)} experiment(s) selected for profile "
              f"{profile!r}: {len(outcomes) - skipped} cached{not_run}, {len(jobs) + len(later)} to run{evaluated}{shared} on {executor}; "
              f"results in {base}")
        if jobs:  # asking the backend costs seconds: only when something trains
            with quiet_backend_start_up():
                from benchmark.runner.doctor import summary_line

                line = summary_line()
            print(line)
            paper = [job.experiment.config for job in jobs
                     if job.experiment.kind == "train" and job.experiment.config.variant == "paper"]
            if paper:  # a profile meant for a GPU: say what it costs here before spending it
                from benchmark.runner.perf import estimated_training_s

                train = next((s["frames"] for s in record["splits"] if s["split"] == "Train"), 0)
                print("timing a few training steps of each paper-size model to estimate the run ...")
                with quiet_backend_start_up():
                    hours = estimated_training_s(paper, train) / 3600
                print(f"estimated training time on this machine: {hours:.1f} h for {len(paper)} paper-size "
                      f"experiment(s) ({line.split(', ')[0]})")

    bar = tqdm(total=len(experiments), initial=len(outcomes), desc="experiments", unit="exp",
               disable=not progress)
    with bar, EpochBars(jobs, progress) as epochs:
        # then the experiments that evaluate a model trained in the first stage
        for stage in (lambda: jobs, lambda: _ready(later, outcomes, bar)):
            with closing(executor.map(run_experiment, stage())) as finished:
                for done in finished:
                    outcome = done.value or _lost(done)
                    epochs.finished(outcome.id)
                    outcomes[outcome.id] = outcome
                    bar.set_postfix_str(f"{outcome.id} {outcome.status}")
                    bar.update()
        for job in twins:
            source = runs[job.digest]
            ran = outcomes[source.experiment.id]
            outcomes[job.experiment.id] = share(source, job) if ran.status == "ran" else Outcome(
                job.experiment.id, "failed", 0.0, f"the same setting as {source.experiment.id}, which failed: "
                f"{ran.detail}", job.out)
            bar.update()
    return [outcomes[e.id] for e in experiments]
