"""Vocabulary scan speed: the study's method vs plain exact sequences vs the cached scan, one run each.

Figures (printed at the end, and in the benchmark JSON under `rm_harness.scan`): tokens/s per method, cached vs
plain and vs the study's method, the fraction of the ideal speedup (prefix+1+suffix)/(1+suffix), each method's
fraction of this machine's matmul rate, max |cached - plain| and the study's Kendall tau against exact scores.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import scan_methods
from bench_report import REPORT

RUNS: dict[str, dict] = {}


def _demo_model_dir():
    from harness.models.demo import demo_lm_dir

    return str(demo_lm_dir())


@pytest.fixture(scope="module")
def setup(request):
    from harness.models.loading import load_scorer

    opt = request.config.getoption
    model = opt("--bench-model")
    torch.manual_seed(0)
    # The demo LM gets a fresh (random) 2-way classification head: the compute of a reward model of this size.
    scorer = load_scorer(model or _demo_model_dir(), scorer="reward", device=opt("--bench-device"),
                         dtype=opt("--bench-dtype"), output_index=None if model else 0)
    split = scorer.split(scan_methods.PROMPT)
    rng = np.random.default_rng(0)
    ids = sorted(rng.choice(scorer.vocab_size, size=opt("--bench-n"), replace=False).tolist())
    yield scorer, split, ids
    rate = scan_methods.matmul_rate(scorer.device, getattr(torch, scorer.dtype))
    REPORT["scan"] = {"device": str(scorer.device), "dtype": scorer.dtype, "n_tokens": len(ids),
                      **scan_methods.scan_ratios(RUNS, len(split.prefix_ids), len(split.suffix_ids), rate)}


@pytest.mark.parametrize("method", list(scan_methods.METHODS))
def test_scan(benchmark, setup, method, request):
    scorer, split, ids = setup
    batch = request.config.getoption("--bench-batch") or scan_methods.DEFAULT_BATCH[method]
    scan_methods.METHODS[method](scorer, split, ids[:batch], batch)  # warm-up: kernels, allocator
    run = benchmark.pedantic(scan_methods.timed, args=(method, scorer, split, ids, batch), rounds=1, iterations=1)
    RUNS[method] = run
    benchmark.extra_info.update({k: v for k, v in run.items() if k != "scores"})
    assert len(run["scores"]) == len(ids)
