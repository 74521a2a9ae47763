# Sourced by run_all.sh and run_tests.sh: create .venv on first use and (re)install the package
# whenever pyproject.toml changes. Then activates it.
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
stamp="$ROOT/.venv/.installed-$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "Installing the package and its dependencies into .venv (first run: a few minutes) ..."
  "$ROOT/.venv/bin/python" -m pip install --quiet --upgrade pip
  "$ROOT/.venv/bin/python" -m pip install --quiet -e "$ROOT[test]"
  rm -f "$ROOT"/.venv/.installed-*
  touch "$stamp"
fi
# shellcheck disable=SC1091
source "$ROOT/.venv/bin/activate"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
