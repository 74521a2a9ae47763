# Sourced by run_all.sh and run_tests.sh: create .venv on first use, install the package and its
# dependencies into it, and activate it. The device (scripts/device.sh: INFANT_POSE_DEVICE=auto|cpu|gpu)
# picks the backend's build: the gpu extra (TensorFlow with CUDA) where nvidia-smi lists a GPU, else cpu.
#   INFANT_POSE_DEPS=locked (default): exactly the versions of the device's lock, locks/cpu.txt or
#     locks/gpu.txt, hash-checked (pip install --require-hashes --no-deps); installed packages the lock
#     does not list are removed first. scripts/lock.sh regenerates the locks.
#   INFANT_POSE_DEPS=latest: the newest versions pyproject.toml allows instead.
# It reinstalls whenever pyproject.toml, the lock, the device or the mode changes, and records what it
# installed in <venv>/infant-pose-install.json (benchmark/common/lock.py: every result records it).
# INFANT_POSE_VENV names another environment than .venv (scripts/test_latest.sh: .venv-latest).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
venv="${INFANT_POSE_VENV:-$ROOT/.venv}"
deps="${INFANT_POSE_DEPS:-locked}"
case "$deps" in
  locked | latest) ;;
  *) echo "error: INFANT_POSE_DEPS=$deps: expected locked (the default) or latest" >&2; exit 2 ;;
esac
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || {
  echo "error: Python >= 3.10 is needed (found $("$PYTHON" --version 2>&1)); set PYTHON=/path/to/python3.x" >&2
  exit 1
}
if [ ! -x "$venv/bin/python" ]; then
  echo "Creating $venv ..."
  "$PYTHON" -m venv "$venv"
fi
choice="$(bash "$ROOT/scripts/device.sh")"
device="${choice%%$'\n'*}"
lock="$ROOT/locks/$device.txt"
stamp="$venv/.installed-$(cat "$ROOT/pyproject.toml" "$lock" | sha256sum | cut -c1-16)-$device-$deps"
if [ ! -f "$stamp" ]; then
  echo "${choice#*$'\n'}"
  log="$venv/install.log"
  # venv_pip ARGS...: pip's output goes to the log; a failure is one line: the registry unreachable, or pip's error.
  venv_pip() {
    if ! "$venv/bin/python" -m pip "$@" >>"$log" 2>&1; then
      if grep -qE 'NewConnectionError|Failed to establish a new connection|Temporary failure in name resolution|Network is unreachable|Max retries exceeded|ConnectTimeout|ProxyError' "$log"; then
        echo "error: the package registry cannot be reached (offline? a proxy?), so $(basename "$venv") cannot be installed; connect and run the command again (pip's log: $log)" >&2
      else
        echo "error: pip $1 failed: $(grep -E '^ERROR' "$log" | tail -1) (pip's log: $log)" >&2
      fi
      exit 1
    fi
  }
  : >"$log"
  if [ "$deps" = locked ]; then
    echo "Installing the locked dependencies (locks/$device.txt, hash-checked) into $(basename "$venv") (first run: a few minutes) ..."
    # What the lock does not list goes first (TensorFlow's CPU and GPU builds hold the same files).
    extraneous="$(PYTHONPATH="$ROOT" "$venv/bin/python" -m benchmark.common.lock extraneous "$lock")"
    # shellcheck disable=SC2086  # names
    [ -z "$extraneous" ] || venv_pip uninstall --yes $extraneous
    venv_pip install --require-hashes --no-deps -r "$lock"
    venv_pip install --no-deps --no-build-isolation -e "$ROOT"
  else
    echo "Installing the newest versions pyproject.toml allows ($device extra) into $(basename "$venv") ..."
    # TensorFlow's CPU and GPU builds install the same files: switching removes the installed one first.
    wanted=tensorflow
    [ "$device/$(uname -sm)" = "cpu/Linux x86_64" ] && wanted=tensorflow_cpu
    installed="$("$venv/bin/python" -m pip list --format=freeze 2>/dev/null | sed -nE 's/^(tensorflow([-_]cpu)?)==.*/\1/p' | tr - _)"
    # shellcheck disable=SC2086  # one or two names
    [ -z "$installed" ] || [ "$installed" = "$wanted" ] || venv_pip uninstall --yes $installed
    venv_pip install --upgrade pip
    venv_pip install --upgrade --upgrade-strategy eager -e "$ROOT[test,export,$device]"
  fi
  PYTHONPATH="$ROOT" "$venv/bin/python" -m benchmark.common.lock mark "$deps" "$lock" "$device"
  rm -f "$venv"/.installed-*
  touch "$stamp"
fi
# shellcheck disable=SC1091
source "$venv/bin/activate"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
# The zero-shot baselines' own environments (.venv-<name>, each a Jupyter kernel of this one): one that
# cannot be built is reported as skipped by the runner, with the reason; nothing else fails.
"$venv/bin/python" -m benchmark.baselines.environments
