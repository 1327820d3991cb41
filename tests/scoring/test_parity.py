"""The cached scan equals plain full-sequence forwards, for every architecture, at every batch size."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import PROMPT
from harness.scoring.parity import check, plain_scores, sample_ids
from harness.scoring.scan import BatchSizer, score_rows


@pytest.mark.parametrize("arch", ["llama", "gemma2", "mistral", "custom"])
def test_cached_equals_plain(scorers, arch):
    scorer = scorers[arch]
    split = scorer.split(PROMPT)
    report = check(scorer, split, [[i] for i in sample_ids(scorer.vocab_size, 48, seed=1)], batch_size=16)
    assert report.score_std > 1e-3, "scores must spread for the comparison to mean anything"
    assert report.max_abs_diff < 1e-5
    assert report.max_abs_diff_batch < 1e-5
    assert report.kendall_tau > 0.999


@pytest.mark.parametrize("arch", ["llama", "mistral"])
def test_batch_size_invariance(scorers, arch):
    scorer = scorers[arch]
    split = scorer.split(PROMPT)
    state = scorer.prefix_state(split.prefix_ids)
    conts = [scorer.continuation(split, [i]) for i in range(100, 160)]
    runs = [score_rows(scorer, state, conts, BatchSizer(bs, scorer.device)) for bs in (1, 7, 64)]
    assert np.max(np.abs(runs[0] - runs[1])) < 1e-5
    assert np.max(np.abs(runs[0] - runs[2])) < 1e-5


def test_multi_token_items_cached_equals_plain(scorers):
    scorer = scorers["llama"]
    split = scorer.split(PROMPT)
    replies = [[9906], [9906, 1917], [40, 3021, 499, 1633], [791]]  # mixed lengths: grouped, never padded
    state = scorer.prefix_state(split.prefix_ids)
    cached = score_rows(scorer, state, [scorer.continuation(split, r) for r in replies], BatchSizer(2, scorer.device))
    assert np.max(np.abs(cached - plain_scores(scorer, split, replies))) < 1e-5


def test_oom_halves_the_batch_and_keeps_scores(scorers, monkeypatch):
    scorer = scorers["llama"]
    split = scorer.split(PROMPT)
    state = scorer.prefix_state(split.prefix_ids)
    conts = [scorer.continuation(split, [i]) for i in range(200, 232)]
    want = score_rows(scorer, state, conts, BatchSizer(32, scorer.device))
    real = scorer.score_cached
    seen = []

    def flaky(st, ids):
        seen.append(len(ids))
        if len(ids) > 8:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(st, ids)

    monkeypatch.setattr(scorer, "score_cached", flaky)
    sizer = BatchSizer(None, torch.device("cuda"))  # auto: starts big, halves
    got = score_rows(scorer, state, conts, sizer)
    assert sizer.size == 8 and seen[0] > 8
    assert np.max(np.abs(got - want)) < 1e-5


def test_device_map_auto_loads_and_scores_the_same(tiny_models, scorers):
    from harness.models.loading import load_scorer

    sharded = load_scorer(str(tiny_models["llama"]), device_map="auto")  # accelerate places it (CPU here)
    plain = scorers["llama"]
    split = plain.split(PROMPT)
    ids = torch.tensor([list(split.prefix_ids) + plain.continuation(split, [i]) for i in (5, 500, 5000)])
    assert torch.allclose(sharded.score_full(ids), plain.score_full(ids), atol=1e-6)
