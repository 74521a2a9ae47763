"""The Dask executor against the local one, on the smoke scale, with a two-worker cluster on this machine.

Same numbers as the local executor, caching in the client, a failing experiment isolated, a worker
killed mid-experiment (retried, or reported when it dies every time) and Ctrl-C. The experiments
that test dying and interrupted workers run a stand-in notebook that trains nothing.
"""

import _thread
import importlib.util
import json
import os
import signal
import subprocess
import sys
import threading
import time

import nbformat
import pandas as pd
import pytest
from conftest import run_manifest
from test_runner import MANIFEST  # the tiny dataset and smoke profile; registers "unknown_to_the_kernel"

from benchmark.commands import main as cli
from benchmark.common.environment import visible_gpus
from benchmark.runner.executors import DaskExecutor, LocalExecutor
from benchmark.runner.manifest import REPO

GOOD = ["loss-simple_baseline-mse", "loss-simple_baseline-kce", "loss-simple_baseline-bce"]
BROKEN = "broken-unknown_to_the_kernel"
GRID = MANIFEST.replace("      loss: [mse, kce]\n", "      loss: [mse, kce, bce]\n  - group: broken\n    rows:\n"
                        "      - {model: unknown_to_the_kernel}\n")

# A stand-in for notebooks/train_evaluate.ipynb that acts out the fate in its experiment's group
# name. Each attempt appends its kernel's pid to <results>/<experiment>.attempts.
STAND_IN = """\
import os, signal, time
from pathlib import Path

out = Path(out_dir)
fate = out.name.split("-")[0]
attempts = out.parents[3] / f"{out.name}.attempts"
with attempts.open("a") as log:
    log.write(f"{os.getpid()}\\n")
attempt = len(attempts.read_text().split())
(out / f"attempt-{attempt}.txt").write_text("unfinished work")
if fate == "dies_always" or (fate == "dies_once" and attempt == 1):
    os.kill(os.getppid(), signal.SIGKILL)  # the kernel's parent is the Dask worker process
    time.sleep(60)
if fate == "sleeps":
    time.sleep(300)
(out / "done.txt").write_text("finished")
"""

pytestmark = pytest.mark.slow  # trains through papermill and Dask (minutes)


def fates_manifest(*fates: str) -> str:
    # A seed each: experiments of one setting would train once (the runner shares the result).
    groups = "".join(f"  - group: {fate}\n    base: {{seed: {i}}}\n    rows:\n      - {{loss: mse}}\n"
                     for i, fate in enumerate(fates))
    return MANIFEST[:MANIFEST.index("experiments:")] + "experiments:\n" + groups


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("executors")
    (root / "manifest.yaml").write_text(GRID)
    parameters = nbformat.v4.new_code_cell('config_json = "{}"\ndataset = ""\nout_dir = ""\nstatus_file = ""',
                                           metadata={"tags": ["parameters"]})
    kernel = {"name": "python3", "language": "python", "display_name": "Python 3"}
    notebook = nbformat.v4.new_notebook(cells=[parameters, nbformat.v4.new_code_cell(STAND_IN)],
                                        metadata={"kernelspec": kernel})
    nbformat.write(notebook, root / "stand_in.ipynb")
    return root


@pytest.fixture(scope="module")
def cluster():
    with DaskExecutor(workers=2, retries=1) as executor:
        yield executor


def _run(root, results, executor=None, manifest="manifest.yaml", **kwargs):
    outcomes = run_manifest(root / manifest, "smoke", results_dir=root / results, data_dir=root / "data",
                            executor=executor, **kwargs)
    return {o.id: o for o in outcomes}


@pytest.fixture(scope="module")
def local_run(workspace):
    return _run(workspace, "local", only="loss-")


@pytest.fixture(scope="module")
def dask_run(workspace, cluster, local_run):
    return _run(workspace, "dask", cluster)


def test_dask_gives_the_local_executors_results(workspace, local_run, dask_run):
    assert {i: o.status for i, o in local_run.items()} == dict.fromkeys(GOOD, "ran")
    for exp_id in GOOD:
        assert dask_run[exp_id].status == "ran", dask_run[exp_id].detail
        local, remote = (workspace / results / "tiny" / "smoke" / exp_id for results in ("local", "dask"))
        assert (local / "predictions.csv").read_text() == (remote / "predictions.csv").read_text()
        metrics = [json.loads((folder / "metrics.json").read_text()) for folder in (local, remote)]
        assert metrics[0]["metrics"] == metrics[1]["metrics"] and metrics[0]["model"] == metrics[1]["model"]
        losses = [pd.read_csv(folder / "history.csv")["loss"].tolist() for folder in (local, remote)]
        assert losses[0] == losses[1]
        hashes = [json.loads((folder / "COMPLETE.json").read_text())["hash"] for folder in (local, remote)]
        assert hashes[0] == hashes[1]  # the executor is not part of an experiment's identity
    assert not any((workspace / "dask" / "tiny" / "smoke" / ".staging").iterdir())


def test_a_failing_experiment_is_isolated(workspace, dask_run):
    assert dask_run[BROKEN].status == "failed" and "unknown_to_the_kernel" in dask_run[BROKEN].detail
    folder = workspace / "dask" / "tiny" / "smoke" / BROKEN
    assert (folder / "FAILED.json").exists() and (folder / "notebook.ipynb").exists()
    assert not (folder / "COMPLETE.json").exists()
    assert all(dask_run[exp_id].status == "ran" for exp_id in GOOD)


class Recording:
    """An executor that remembers which experiments it was handed."""

    def __init__(self, executor):
        self.executor, self.submitted = executor, []

    def map(self, function, jobs):
        self.submitted += [job.experiment.id for job in jobs]
        return self.executor.map(function, jobs)


def test_complete_experiments_are_not_submitted_again(workspace, cluster, dask_run):
    # Through the scheduler's address, as for a cluster started elsewhere (dask-jobqueue, `dask scheduler`).
    with DaskExecutor(scheduler=cluster.client.scheduler.address) as connected:
        spy = Recording(connected)
        again = _run(workspace, "dask", spy)
    assert spy.submitted == [BROKEN], again  # failures are retried, complete results are not
    assert {i: o.status for i, o in again.items()} == {**dict.fromkeys(GOOD, "cached"), BROKEN: "failed"}


def test_a_killed_worker_leaves_nothing_partial_and_is_retried_or_reported(workspace, cluster):
    # One at a time: Dask counts a death against every experiment the worker held, queued ones too.
    (workspace / "fates.yaml").write_text(fates_manifest("dies_once", "dies_always"))
    fates = {}
    for fate in ("dies_once", "dies_always"):
        fates |= _run(workspace, "fates", cluster, manifest="fates.yaml", notebook=workspace / "stand_in.ipynb",
                      only=fate)
    results = workspace / "fates" / "tiny" / "smoke"
    assert fates["dies_once-mse"].status == "ran", fates["dies_once-mse"].detail
    assert sorted(p.name for p in (results / "dies_once-mse").glob("*.txt")) == ["attempt-2.txt", "done.txt"]
    assert fates["dies_always-mse"].status == "failed"
    assert "worker died" in fates["dies_always-mse"].detail
    assert len((workspace / "fates" / "dies_always-mse.attempts").read_text().split()) == 1 + cluster.retries
    assert not (results / "dies_always-mse").exists()
    assert not any((results / ".staging").iterdir())
    cluster.client.wait_for_workers(2, timeout=60)  # dead workers are replaced


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def python_sigint():
    """SIGINT handled by Python for the test: ``interrupt_main`` does nothing while SIGINT is ignored
    or at its default, and importing ``dask_jobqueue`` (the `hpc` extra) sets it to
    ``lambda *_: sys.exit()`` (dask_jobqueue/runner.py), which raises SystemExit instead."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_cancels_the_rest_and_keeps_finished_experiments(workspace, cluster, python_sigint):
    (workspace / "interrupt.yaml").write_text(fates_manifest("finishes", "sleeps"))
    results = workspace / "interrupt"
    finished = results / "tiny" / "smoke" / "finishes-mse" / "COMPLETE.json"
    sleeper = results / "sleeps-mse.attempts"

    def press_ctrl_c_when_one_finished():
        deadline = time.time() + 120
        while not (finished.exists() and sleeper.exists()) and time.time() < deadline:
            time.sleep(0.2)
        _thread.interrupt_main()

    threading.Thread(target=press_ctrl_c_when_one_finished, daemon=True).start()
    started = time.time()
    try:
        outcomes = _run(workspace, "interrupt", cluster, manifest="interrupt.yaml",
                        notebook=workspace / "stand_in.ipynb")
    except KeyboardInterrupt:
        pass
    else:
        pytest.fail(f"the run returned after {time.time() - started:.0f} s, before Ctrl-C: "
                    f"{ {i: (o.status, o.detail) for i, o in outcomes.items()} }; sleeper started: {sleeper.exists()}; "
                    f"SIGINT handler: {signal.getsignal(signal.SIGINT)}")
    assert finished.exists() and (finished.parent / "done.txt").exists()
    assert not (results / "tiny" / "smoke" / "sleeps-mse").exists()
    # The sleeping experiment's kernel went with its restarted worker, and the scheduler forgot it.
    kernel = int(sleeper.read_text().split()[0])
    deadline = time.time() + 30
    while (_alive(kernel) or cluster.client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))) \
            and time.time() < deadline:
        time.sleep(0.5)
    assert not _alive(kernel)
    assert cluster.client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)) == 0


def test_each_local_worker_owns_one_gpu(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    assert visible_gpus() == ["3", "5"]
    show = [sys.executable, "-c", "import os; print(os.environ['CUDA_VISIBLE_DEVICES'])"]
    threads = os.getenv("OMP_NUM_THREADS")
    with DaskExecutor() as executor:
        assert (executor.workers, executor.gpus_per_worker) == (2, 1)
        pinned = executor.client.run(os.getenv, "CUDA_VISIBLE_DEVICES")
        assert sorted(pinned.values()) == ["3", "5"]
        # Dask's one-thread OpenMP default is imposed neither on the kernels nor on this process.
        assert set(executor.client.run(os.getenv, "OMP_NUM_THREADS").values()) == {threads}
        assert os.getenv("OMP_NUM_THREADS") == threads
        resources = {w["resources"].get("GPU") for w in executor.client.scheduler_info()["workers"].values()}
        assert resources == {1}
        # What a worker starts (the papermill kernel) inherits its one GPU.
        seen = [done.value.decode().strip() for done in executor.map(subprocess.check_output, [show, show])]
        assert set(seen) <= {"3", "5"} and len(seen) == 2
    with pytest.raises(ValueError, match="need 4 GPUs, but 2 are visible"):
        DaskExecutor(workers=2, gpus_per_worker=2)


def test_no_gpu_means_one_cpu_worker(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    executor = DaskExecutor()
    assert (executor.workers, executor.gpus_per_worker, executor.gpus) == (1, 0, [])


def test_cpu_workers_see_no_gpu(cluster):
    assert set(cluster.client.run(os.getenv, "CUDA_VISIBLE_DEVICES").values()) == {""}


def test_local_executor_reports_an_exception_and_goes_on():
    done = list(LocalExecutor().map(lambda x: 1 / x, [0, 2]))
    assert done[0].value is None and done[0].error.startswith("ZeroDivisionError")
    assert done[1].value == 0.5 and done[1].error == ""


def test_cli_runs_through_dask_and_rejects_dask_options_without_it(workspace, dask_run, capsys):
    common = ["run", "--profile", "smoke", "--manifest", str(workspace / "manifest.yaml"), "--data-dir",
              str(workspace / "data"), "--results", str(workspace / "dask"), "--only", "loss-", "--no-progress"]
    assert cli(common + ["--workers", "2"]) == 2
    assert "--workers need(s) --executor dask" in capsys.readouterr().err
    assert cli(common + ["--executor", "dask", "--workers", "1"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert all(any(exp_id in row and "cached" in row for row in rows) for exp_id in GOOD)


def test_the_slurm_example_asks_for_one_thread_and_one_gpu_per_job():
    pytest.importorskip("dask_jobqueue")  # the `hpc` extra
    spec = importlib.util.spec_from_file_location("slurm_example", REPO / "experiments" / "dask" / "slurm.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    with example.slurm_cluster() as cluster:  # submits nothing until scaled
        script = cluster.job_script()
    assert "--nthreads 1" in script and "--resources GPU=1" in script
    assert "#SBATCH --gres=gpu:1" in script and "#SBATCH --cpus-per-task=8" in script
