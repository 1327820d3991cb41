#!/usr/bin/env bash
# Install what the tests need into .venv (created if missing) and run the whole suite, offline.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
# torch is pinned first in requirements.txt: asked for by another package first, pip would pull a CUDA build.
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -r requirements-dev.txt -e .
# The browser tests drive Debian's Chromium; install it when we can (under CI a missing browser fails them).
if ! command -v chromedriver >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
    || echo "could not install chromium; browser tests will be skipped"
fi
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false CI=${CI:-1}
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
