"""A scan sharded over two processes (torchrun, gloo on CPU) writes the same table as one process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
from repo_paths import REPO


TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29533"]


def _cli(launcher: list[str], *args: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(launcher + ["-m", "harness.cli", *args], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


def _scan(args, out: Path, launcher: list[str]) -> Path:
    _cli(launcher, "scan", *args, "--output-dir", str(out), "--batch-size", "64")
    tables = list(out.rglob("table.parquet"))
    assert len(tables) == 1
    return tables[0]


def test_two_rank_scan_equals_single(tiny_models, tmp_path):
    args = ["--model", str(tiny_models["mistral"])]
    single = _scan(args, tmp_path / "one", [sys.executable])
    sharded = _scan(args, tmp_path / "two", TORCHRUN)
    a, b = pd.read_parquet(single), pd.read_parquet(sharded)
    assert len(a) == 32768 and a["id"].tolist() == b["id"].tolist()
    assert (a["score"] - b["score"]).abs().max() < 1e-5
    assert json.loads((sharded.parent / "meta.json").read_text())["world_size"] == 2


def test_two_rank_run_writes_one_results_file(tiny_models, tmp_path):
    _cli(TORCHRUN, "run", "--model", str(tiny_models["mistral"]), "--tasks", "token_optimality",
         "--output-dir", str(tmp_path))
    (results,) = tmp_path.glob("*/*/results.json")
    doc = json.loads(results.read_text())
    assert doc["results"]["token_optimality"]["metrics"]["best/n"]["value"] == 32768
    metas = [json.loads(p.read_text()) for p in tmp_path.rglob("meta.json")]
    assert len(metas) == 3 and all(m["world_size"] == 2 for m in metas)
