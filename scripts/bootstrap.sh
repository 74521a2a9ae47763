# Sourced by run_all.sh and run_tests.sh: create .venv on first use and (re)install the package
# whenever pyproject.toml or the device choice (scripts/device.sh: INFANT_POSE_DEVICE=auto|cpu|gpu)
# changes: the gpu extra (TensorFlow with CUDA) where nvidia-smi lists a GPU, the cpu extra elsewhere.
# Then activates it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || {
  echo "error: Python >= 3.10 is needed (found $("$PYTHON" --version 2>&1)); set PYTHON=/path/to/python3.x" >&2
  exit 1
}
if [ ! -x "$ROOT/.venv/bin/python" ]; then
  echo "Creating $ROOT/.venv ..."
  "$PYTHON" -m venv "$ROOT/.venv"
fi
choice="$(bash "$ROOT/scripts/device.sh")"
device="${choice%%$'\n'*}"
stamp="$ROOT/.venv/.installed-$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)-$device"
if [ ! -f "$stamp" ]; then
  echo "${choice#*$'\n'}"
  echo "Installing the package and its dependencies ($device extra) into .venv (first run: a few minutes) ..."
  pip=("$ROOT/.venv/bin/python" -m pip)
  "${pip[@]}" install --quiet --upgrade pip
  # TensorFlow's CPU and GPU builds install the same files: switching removes the installed one first.
  wanted=tensorflow
  [ "$device/$(uname -sm)" = "cpu/Linux x86_64" ] && wanted=tensorflow_cpu
  installed="$("${pip[@]}" list --format=freeze 2>/dev/null | sed -nE 's/^(tensorflow([-_]cpu)?)==.*/\1/p' | tr - _)"
  if [ -n "$installed" ] && [ "$installed" != "$wanted" ]; then
    # shellcheck disable=SC2086  # one or two names
    "${pip[@]}" uninstall --quiet --yes $installed
  fi
  "${pip[@]}" install --quiet -e "$ROOT[test,export,$device]"
  rm -f "$ROOT"/.venv/.installed-*
  touch "$stamp"
fi
# shellcheck disable=SC1091
source "$ROOT/.venv/bin/activate"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
# The zero-shot baselines' own environments (.venv-<name>, each a Jupyter kernel of .venv): one that
# cannot be built is reported as skipped by the runner, with the reason; nothing else fails.
"$ROOT/.venv/bin/python" -m benchmark.baselines.environments
