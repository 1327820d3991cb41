#!/usr/bin/env bash
# GPU check: a random-weight Llama-3-8B-shaped reward model (bf16), its whole 128,256-id vocabulary scanned for one
# prompt through the harness's scan, cached vs plain on a sample with their parity; prints JSON.
#   bash benchmarks/gpu_check.sh           # on a CUDA machine (offline; about 16 GiB of GPU memory)
#   bash benchmarks/gpu_check.sh --tiny    # CPU smoke run (what tests/test_gpu_check.py runs)
# Needs only torch, transformers, pandas, pyarrow, scipy, tqdm, PyYAML (no tokenizer, no Hub, no install).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec "${PYTHON:-python3}" "$ROOT/benchmarks/gpu_check.py" "$@"
