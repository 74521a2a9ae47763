#!/usr/bin/env bash
# The test suite: bootstraps .venv on first use, then runs pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh
python -m pytest "$@"
