"""Run the manifest on a SLURM cluster: dask-jobqueue submits one single-GPU job per Dask worker.

    pip install -e '.[hpc,gpu]'
    python experiments/dask/slurm.py --dry-run                 # the job script, nothing submitted
    python experiments/dask/slurm.py --profile paper --jobs 8  # any `python -m benchmark run` option

Start it from the repository root of a checkout on the filesystem the compute nodes share (the
code, the dataset and the results folder must have the same paths on every node), on a node the
compute nodes can reach: the Dask scheduler runs in this process, which must stay up for the whole
run (tmux, or a small long job). The cluster settings are in jobqueue.yaml beside this file.
See docs/SCALING.md.
"""

import argparse
import sys
from pathlib import Path

import dask
import yaml
from dask_jobqueue import SLURMCluster

from benchmark.commands import run as runner

SETTINGS = Path(__file__).with_name("jobqueue.yaml")


def slurm_cluster() -> SLURMCluster:
    """A cluster with the settings of jobqueue.yaml; it submits jobs only when scaled."""
    dask.config.update(dask.config.config, yaml.safe_load(SETTINGS.read_text()), priority="new")
    return SLURMCluster()


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the manifest on SLURM through dask-jobqueue.")
    runner.configure(parser)
    parser.add_argument("--jobs", type=int, default=4, help="SLURM jobs to keep running (one GPU each)")
    parser.add_argument("--dry-run", action="store_true", help="print the job script and stop")
    args = parser.parse_args()
    with slurm_cluster() as cluster:
        if args.dry_run:
            print(cluster.job_script())
            return 0
        cluster.scale(jobs=args.jobs)
        args.executor, args.scheduler, args.gpus_per_worker = "dask", cluster.scheduler_address, 1
        return runner.main(args)


if __name__ == "__main__":  # Dask may start processes that import this file
    sys.exit(main())
