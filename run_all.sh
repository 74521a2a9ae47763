#!/usr/bin/env bash
# The main job: reproduce the study's tables and figures on the embedded synthetic dataset.
#   ./run_all.sh                       quick profile (whole grid, 2-core CPU, about 20 minutes)
#   ./run_all.sh --profile paper       the study's scale (GPU)
#   ./run_all.sh --data /path/to/real  the real dataset in the LabelMe layout
# Other arguments go to `python -m benchmark run` (e.g. --only, --force). Reruns are cached.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh

profile=quick
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  [ "${args[$i]}" = "--profile" ] && profile="${args[$((i + 1))]}"
done

status=0
python -m benchmark run "$@" || status=$?
python -m benchmark report --profile "$profile"
echo "Report: reports/$profile/index.html"
exit "$status"
