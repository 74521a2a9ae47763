#!/usr/bin/env bash
# The time of ./run_all.sh from a fresh clone, set-up included: the figure README.md gives.
#   scripts/time_fresh_clone.sh [options for ./run_all.sh]
# Clones this checkout's HEAD into a new folder beside it (so ../shared is where CI has it), with an
# empty frame cache of its own, runs ./run_all.sh there and prints the wall time (and the peak
# memory where GNU time is installed) and the log's path; the clone is removed afterwards (KEEP=1
# keeps it). pip's own download cache is used as it is: a machine that has never installed the
# packages downloads them too.
set -euo pipefail
source_repo="$(cd "$(dirname "$0")/.." && pwd)"
clone="$(mktemp -d "$(dirname "$source_repo")/fresh-clone.XXXXXX")"
log="$clone.log"
cleanup() { [ "${KEEP:-0}" = 1 ] || rm -rf "$clone"; rm -f "$clone.time"; }
trap cleanup EXIT
git clone --quiet "$source_repo" "$clone"
echo "timing ./run_all.sh $* in $clone (log: $log) ..."
timer=()
[ -x /usr/bin/time ] && timer=(/usr/bin/time -f "%M" -o "$clone.time")
status=0
SECONDS=0
(cd "$clone" && INFANT_POSE_CACHE="$clone/.cache" "${timer[@]}" ./run_all.sh "$@") > "$log" 2>&1 || status=$?
elapsed=$SECONDS
memory=""
[ -s "$clone.time" ] && memory="$(awk '{printf ", peak memory %.1f GiB", $1 / 1048576}' "$clone.time")"
printf 'fresh-clone ./run_all.sh: %d min %02d s%s, exit status %d\n' "$((elapsed / 60))" "$((elapsed % 60))" \
  "$memory" "$status"
exit "$status"
