"""A scan sharded over two processes (torchrun, gloo on CPU) writes the same table as one process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd


def _scan(args, out: Path, launcher: list[str]) -> Path:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "OMP_NUM_THREADS": "1"}
    cmd = launcher + ["-m", "harness.cli", "scan", *args, "--output-dir", str(out), "--batch-size", "64"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    tables = list(out.rglob("table.parquet"))
    assert len(tables) == 1
    return tables[0]


def test_two_rank_scan_equals_single(tiny_models, tmp_path):
    args = ["--model", str(tiny_models["mistral"])]
    single = _scan(args, tmp_path / "one", [sys.executable])
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29533"]
    sharded = _scan(args, tmp_path / "two", torchrun)
    a, b = pd.read_parquet(single), pd.read_parquet(sharded)
    assert len(a) == 32768 and a["id"].tolist() == b["id"].tolist()
    assert (a["score"] - b["score"]).abs().max() < 1e-5
    import json

    assert json.loads((sharded.parent / "meta.json").read_text())["world_size"] == 2
