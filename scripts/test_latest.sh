#!/usr/bin/env bash
# CI's second job: the quick test tier against the newest versions pyproject.toml allows, so that a
# breaking release is seen before the lock is refreshed. It builds .venv-latest (INFANT_POSE_DEPS=latest;
# the locked .venv is untouched), says which packages moved against the lock, and runs
# `pytest -m "not slow"` there. Extra arguments go to pytest. Exit status: pytest's.
set -euo pipefail
cd "$(dirname "$0")/.."
export INFANT_POSE_DEPS=latest INFANT_POSE_VENV="$PWD/.venv-latest"
source scripts/bootstrap.sh
device="$(bash scripts/device.sh | head -1)"
echo "Packages of .venv-latest that moved against locks/$device.txt:"
python -m benchmark.common.lock moved "locks/$device.txt" | sed 's/^/  /'
python -m pytest -m "not slow" "$@"
