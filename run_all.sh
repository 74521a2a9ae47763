#!/usr/bin/env bash
# The main job: reproduce the study's tables and figures on the embedded synthetic dataset.
#   ./run_all.sh                       quick profile (whole grid, 2-core CPU, about 50 minutes)
#   ./run_all.sh --profile paper       the study's scale (GPU)
#   ./run_all.sh --data /path/to/real  the real dataset in the LabelMe layout
# Arguments go to `python -m benchmark run` (e.g. --only, --force); those that say which results
# to read (--profile, --data, --dataset, --results, --manifest) go to `report` too. Reruns are cached.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh

report_args=()
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    --profile | --data | --dataset | --results | --manifest)
      report_args+=("${args[$i]}" "${args[$((i + 1))]:-}")
      i=$((i + 1)) ;;
    --profile=* | --data=* | --dataset=* | --results=* | --manifest=*)
      report_args+=("${args[$i]}") ;;
  esac
done

status=0
python -m benchmark run "$@" || status=$?
python -m benchmark report "${report_args[@]}" || { rc=$?; [ "$status" -ne 0 ] || status=$rc; }
exit "$status"
