#!/usr/bin/env bash
# Regenerate the lock files, locks/*.txt: every Python dependency at an exact version with its hashes,
# for every platform and Python version the project supports (uv's universal resolution writes each
# pin under its environment marker), one file per environment:
#   locks/cpu.txt, locks/gpu.txt   the main environment: pyproject.toml's dependencies with the test and
#                                  export extras and the cpu or gpu extra, plus its build backend
#   locks/<baseline>.txt           each zero-shot baseline's environment (benchmark/baselines/registry.py)
# Usage (from anywhere):
#   scripts/lock.sh            keep every locked version that still satisfies the requirements; lock what is new
#   scripts/lock.sh --upgrade  the newest versions the requirements allow
# Review the diff like code and commit it; ./run_all.sh and ./run_tests.sh then reinstall from it.
# uv is installed, at the version below, by pip into .venv-lock (a tool environment of its own, so that
# .venv holds exactly what the lock lists). It resolves against PyPI (or UV_INDEX_URL).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
UV_VERSION=0.13.9
PYTHON="${PYTHON:-python3}"
tools="$ROOT/.venv-lock"
if [[ "$("$tools/bin/uv" --version 2>/dev/null)" != "uv $UV_VERSION "* ]]; then
  echo "Installing uv $UV_VERSION into .venv-lock ..."
  "$PYTHON" -m venv "$tools"
  "$tools/bin/python" -m pip install --quiet "uv==$UV_VERSION"
fi
upgrade=()
[ "${1:-}" = --upgrade ] && upgrade=(--upgrade)
cd "$ROOT"
mkdir -p locks

# compile OUT MIN_PYTHON INPUT... : one universal, hash-checked lock (its current pins are kept unless --upgrade)
compile() {
  local out="$1" python="$2"
  shift 2
  "$tools/bin/uv" pip compile --quiet --universal --generate-hashes --python-version "$python" \
    --custom-compile-command "scripts/lock.sh" "${upgrade[@]}" -o "$out" "$@"
  echo "$out: $(grep -c '^[A-Za-z0-9]' "$out") pins, $(du -k "$out" | cut -f1) KiB"
}

read_python() {  # prints what the one-line Python program $1 computes from the repository's files
  PYTHONPATH="$ROOT" "$tools/bin/python" -c "$1"
}
minimum="$(read_python 'import re, tomllib; print(re.search(r">=\s*([\d.]+)", tomllib.load(open("pyproject.toml", "rb"))["project"]["requires-python"])[1])')"
# The build backend (pyproject.toml's build-system) is locked too: the editable install uses it, hash-checked.
for device in cpu gpu; do
  # A new lock starts from the cpu lock's versions, so that the two agree wherever they can.
  [ -f "locks/$device.txt" ] || [ ! -f locks/cpu.txt ] || cp locks/cpu.txt "locks/$device.txt"
  read_python 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"]))' |
    compile "locks/$device.txt" "$minimum" pyproject.toml - --extra test --extra export --extra "$device"
done

# wheels LOCK: on which platforms every pin has a wheel (a locked install needs no compiler there).
wheels() {
  local target verdict report=()
  for target in x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu aarch64-apple-darwin x86_64-pc-windows-msvc; do
    if MACOSX_DEPLOYMENT_TARGET=15.0 "$tools/bin/uv" pip install --quiet --dry-run --no-deps --require-hashes \
      --only-binary :all: --python-platform "$target" --python-version 3.11 --target "$ROOT/.venv-lock/check" \
      -r "$1" >/dev/null 2>"$ROOT/.venv-lock/check.log"; then
      verdict=yes
    else
      verdict="no ($(sed -nE 's/.*Because ([^ ]+) has no .*/\1/p' "$ROOT/.venv-lock/check.log" | head -1))"
    fi
    report+=("$target $verdict")
  done
  echo "  wheels for every pin (Python 3.11; macOS 15): $(IFS=,; echo "${report[*]}" | sed 's/,/, /g')"
}
for device in cpu gpu; do wheels "locks/$device.txt"; done
registry='from benchmark.baselines.registry import BASELINES'
for name in $(read_python "$registry; print(*BASELINES)"); do
  read_python "$registry; print('\n'.join(BASELINES['$name'].requirements))" |
    compile "locks/$name.txt" "$(read_python "$registry; print('%d.%d' % BASELINES['$name'].python[0])")" -
  wheels "locks/$name.txt"
done
