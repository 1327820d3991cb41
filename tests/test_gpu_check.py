"""benchmarks/gpu_check.sh --tiny: the GPU check's CPU mode runs end to end, so the script cannot rot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_gpu_check_tiny_runs_and_reports_parity(tmp_path):
    env = {**os.environ, "PYTHON": sys.executable, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), "--tiny", "--sample", "32",
                          "--out", str(tmp_path / "tables")],
                         capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout)
    assert report["mode"] == "tiny" and report["prefix_len"] == 22 and report["suffix_len"] == 1
    scan = report["scan"]
    assert scan["n_ids"] == 512 and scan["all_finite"] and scan["score_std"] > 0
    assert any((tmp_path / "tables").rglob("*.parquet")), "the scan wrote its score table"
    cvp = report["cached_vs_plain"]
    assert cvp["n"] == 32 and cvp["ideal_speedup"] == 12.0
    assert cvp["max_abs_diff_vs_plain_batched"] < 1e-3 * scan["score_std"]
    parity = report["parity"]
    assert parity["kendall_tau"] > 0.999 and parity["max_abs_diff_over_scan_std"] < 1e-3
    assert parity["max_abs_diff_batch"] < 1e-5
