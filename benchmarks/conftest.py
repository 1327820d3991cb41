"""pytest-benchmark suites (not part of the test suite: `.ci/run` collects `tests/` only).

    python -m pytest benchmarks --benchmark-autosave                  # saved under .benchmarks/ for --benchmark-compare
    python -m pytest benchmarks --benchmark-json bench.json --bench-n 512

Each method runs once (`benchmark.pedantic`, one round, after a warm-up), as the study's numbers were taken; the
figures that matter are ratios between methods measured in the same session, printed at the end and stored in
the JSON under `rm_harness`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]  # the suites' helpers; builders (the tiny test models)

from bench_report import REPORT  # filled by the suites, printed and saved at the end of the session


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("rm-harness benchmarks")
    g.addoption("--bench-model", default=None, help="scan: a local folder or Hub id (default: the demo Gemma-3 270M "
                                                    "with a fresh reward head)")
    g.addoption("--bench-device", default="auto", help="auto, cpu, cuda, cuda:1 ...")
    g.addoption("--bench-dtype", default="auto")
    g.addoption("--bench-n", type=int, default=1024, help="scan: vocabulary ids scored by each method")
    g.addoption("--bench-batch", type=int, default=None, help="scan: batch size (default 64, cached 256)")
    g.addoption("--gcg-model", default=None, help="gcg: a local folder or Hub id (default: a random Llama classifier)")
    g.addoption("--gcg-hidden", type=int, default=256)
    g.addoption("--gcg-layers", type=int, default=4)
    g.addoption("--gcg-steps", type=int, default=10)
    g.addoption("--gcg-width", type=int, default=64)
    g.addoption("--gcg-topk", type=int, default=64)
    g.addoption("--gcg-tokens", type=int, default=8)


def pytest_benchmark_update_json(config, benchmarks, output_json) -> None:
    output_json["rm_harness"] = REPORT


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    for name, figures in REPORT.items():
        terminalreporter.write_sep("=", f"rm-harness {name} benchmark (one run per method)")
        terminalreporter.write_line(json.dumps(figures, indent=2))
