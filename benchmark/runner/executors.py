"""Where the runner's experiments execute: here, one after another, or on a Dask cluster side by side.

Both executors offer one method, ``map(function, items)``, that yields a :class:`Done` per item in
the order the items finish, and both are context managers (a Dask executor starts or connects to
its cluster on entry and lets go of it on exit). ``function`` must be importable (a module-level
function) and ``items`` picklable, so that Dask workers can run them.

The Dask executor runs one item per worker at a time. Without a scheduler address it starts a
``distributed`` cluster on this machine: one single-threaded worker process per GPU (each seeing
only its own GPU through ``CUDA_VISIBLE_DEVICES``, so the processes it starts inherit the pinning),
or one worker when no GPU is visible. A worker that dies is replaced and the items it held are
retried; an item whose workers died ``retries`` + 1 times is done with the error "worker died".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from benchmark.common.environment import visible_gpus
from benchmark.common.errors import InputError


@dataclass
class Done:
    """One finished item: the function's ``value``, or why there is none in ``error``."""

    item: Any
    value: Any = None
    error: str = ""


def error_line(exc: BaseException) -> str:
    """An exception as one line: its type and the last line of its message that says something
    (pydantic ends its messages with a link to its documentation)."""
    lines = [line.strip() for line in str(exc).strip().splitlines()
             if line.strip() and not line.strip().startswith("For further information visit")]
    return f"{type(exc).__name__}: {lines[-1] if lines else ''}"


class LocalExecutor:
    """Runs the items one after another in this process (Ctrl-C stops the running one at once)."""

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc) -> None:
        pass

    def __str__(self) -> str:
        return "this process, one experiment at a time"

    def map(self, function: Callable, items: Iterable) -> Iterator[Done]:
        for item in items:
            try:
                done = Done(item, function(item))
            except Exception as exc:
                done = Done(item, error=error_line(exc))
            yield done


class DaskExecutor:
    """Runs the items on a Dask cluster, one per worker at a time, and yields them as they finish.

    ``scheduler``: the address of a running cluster (``dask scheduler``, dask-jobqueue, ...); its
    workers should have one thread each, and declare the resource ``GPU`` when ``gpus_per_worker``
    is given; its own ``distributed.scheduler.allowed-failures`` decides retries. Without it a
    cluster on this machine is started with ``workers`` single-threaded processes, each owning
    ``gpus_per_worker`` GPUs (default: 1 when GPUs are visible, else 0), that retries an item whose
    worker died ``retries`` times (default: Dask's ``allowed-failures``, 3). Dask counts a death
    against every item the worker held, running or queued.
    """

    def __init__(self, scheduler: str | None = None, workers: int | None = None,
                 gpus_per_worker: int | None = None, retries: int | None = None):
        if scheduler and workers:
            raise InputError("the number of workers is the running cluster's when a scheduler address is given")
        self.scheduler, self.retries = scheduler, retries
        self.gpus = [] if scheduler else visible_gpus()
        self.gpus_per_worker = (1 if self.gpus else 0) if gpus_per_worker is None else gpus_per_worker
        self.workers = workers or (len(self.gpus) // self.gpus_per_worker if self.gpus_per_worker else 1)
        if not scheduler and self.workers * self.gpus_per_worker > len(self.gpus):
            raise InputError(f"{self.workers} worker(s) with {self.gpus_per_worker} GPU(s) each need "
                             f"{self.workers * self.gpus_per_worker} GPUs, but {len(self.gpus)} are visible")
        self.cluster = self.client = None

    def __enter__(self) -> DaskExecutor:
        from distributed import Client

        if not self.scheduler:
            self.cluster = self._local_cluster()
        self.client = Client(self.scheduler or self.cluster)
        return self

    def __exit__(self, *exc) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def __str__(self) -> str:
        if self.client is None:
            return f"Dask at {self.scheduler or 'a local cluster'}"
        workers = len(self.client.scheduler_info()["workers"])
        return f"Dask at {self.client.scheduler.address}, {workers} worker(s) now"

    def _local_cluster(self):
        """``workers`` single-threaded worker processes on this machine, each seeing only its own GPUs."""
        import dask
        from distributed import Nanny, Scheduler, SpecCluster

        def worker(i: int) -> dict:
            mine = self.gpus[i * self.gpus_per_worker:(i + 1) * self.gpus_per_worker]
            options = {"nthreads": 1, "silence_logs": logging.ERROR,
                       "memory_limit": 0,  # the training happens in a child process Dask does not see
                       "env": {"CUDA_VISIBLE_DEVICES": ",".join(mine)}}  # its own GPUs, or none
            if self.gpus_per_worker:
                options["resources"] = {"GPU": self.gpus_per_worker}
            return {"cls": Nanny, "options": options}

        # Dask pins OpenMP/BLAS to one thread in its workers (and in this process); an experiment's
        # kernel should get the threads it gets without Dask.
        unpinned = {f"distributed.nanny.pre-spawn-environ.{name}": None
                    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
        with dask.config.set(unpinned):
            return SpecCluster(
                scheduler={"cls": Scheduler, "options": {"allowed_failures": self.retries,
                                                         "dashboard_address": ":0"}},
                workers={i: worker(i) for i in range(self.workers)}, silence_logs=logging.ERROR)

    def map(self, function: Callable, items: Iterable) -> Iterator[Done]:
        from distributed import KilledWorker, as_completed

        resources = {"GPU": self.gpus_per_worker} if self.gpus_per_worker else None
        pending = {self.client.submit(function, item, pure=False, resources=resources): item for item in items}
        try:
            for future in as_completed(list(pending)):
                item = pending.pop(future)
                try:
                    done = Done(item, future.result())
                except KilledWorker:
                    done = Done(item, error="worker died (KilledWorker: the worker of every attempt died)")
                except Exception as exc:
                    done = Done(item, error=error_line(exc))
                yield done
        finally:
            if pending:  # interrupted: Dask cannot stop a running task, so the workers are restarted
                self.client.cancel(list(pending))
                self.client.restart(wait_for_workers=False)
