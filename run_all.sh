#!/usr/bin/env bash
# The main job: reproduce the study's tables and figures on the embedded synthetic dataset.
#   ./run_all.sh                       quick profile (the study's grid, 2-core CPU, at most 30 minutes)
#   ./run_all.sh --profile paper       the study's scale (GPU)
#   ./run_all.sh --data /path/to/real  the real dataset in the LabelMe layout
# Every argument goes to `python -m benchmark run --report`: the run and its report resolve one run
# plan (which results, which experiments), so they always agree. Reruns are cached.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh
python -m benchmark run --report "$@"
