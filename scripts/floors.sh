#!/usr/bin/env bash
# Install the LOWER bounds of setup.cfg's declared ranges in a throwaway venv and run the fast tests against them.
# Not part of CI's default run (it resolves old wheels): run it before widening or raising a range.
#   bash scripts/floors.sh [VENV_DIR] [pytest args...]      (default venv: a fresh temporary folder)
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-$(mktemp -d)/floors}"
shift || true
python3 -m venv "$venv"
py="$venv/bin/python"
# The floor of every range in install_requires and the dev extra (`name>=X,<Y` -> `name==X`); torch first, CPU build.
floors="$("$py" - <<'PY'
import configparser, re
cfg = configparser.ConfigParser()
cfg.read("setup.cfg")
lines = cfg["options"]["install_requires"].splitlines() + cfg["options.extras_require"]["dev"].splitlines()
for line in filter(None, (l.strip() for l in lines)):
    m = re.match(r"^([A-Za-z0-9_.\[\]-]+)\s*>=\s*([^,;\s]+)", line)
    print(f"{m[1]}=={m[2]}" if m else line)
PY
)"
# TORCH_SPEC overrides the torch floor (e.g. TORCH_SPEC="torch==2.13.0" where only that CPU wheel is at hand: the
# PyPI build of an old torch pulls several GB of CUDA wheels).
torch_floor="${TORCH_SPEC:-$(printf '%s\n' $floors | grep '^torch==')}"
floors="$(printf '%s\n' $floors | grep -v '^torch==')"
# TORCH_INDEX: where the CPU build of torch comes from (empty: the default index only).
index="${TORCH_INDEX-https://download.pytorch.org/whl/cpu}"
"$py" -m pip install -q "$torch_floor" ${index:+--extra-index-url "$index"}
# shellcheck disable=SC2086
"$py" -m pip install -q "$torch_floor" $floors
"$py" -m pip install -q --no-deps -e .
echo "installed at the floors:"; "$py" -m pip freeze | grep -iE "^($(printf '%s\n' $floors | sed 's/\[.*\]//; s/==.*//' | paste -sd'|'))==" || true
HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false "$py" -m pytest -q -m "not slow" -x -p no:cacheprovider \
    --ignore=tests/test_leaderboard_browser.py "$@"
