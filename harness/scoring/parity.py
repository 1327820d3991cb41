"""Parity: the cached fast path against plain full-sequence forwards, and batch-size invariance."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from scipy import stats

from harness.models.scorer import Scorer
from harness.models.templates import TemplateSplit
from harness.scoring.scan import BatchSizer, score_rows


@dataclass
class ParityReport:
    n: int
    max_abs_diff: float  # cached vs plain
    kendall_tau: float
    spearman: float
    max_abs_diff_batch: float  # cached at the chosen batch size vs batch size 1
    score_std: float  # scale of the scores, to read the differences against

    def ok(self, tol: float) -> bool:
        return self.max_abs_diff <= tol and self.max_abs_diff_batch <= tol

    def to_json(self) -> dict:
        return asdict(self)


def plain_scores(scorer: Scorer, split: TemplateSplit, replies: list[list[int]], batch_size: int = 1) -> np.ndarray:
    """Reference: full forwards over prefix + reply (+ suffix), no cache. Rows batch together only when they
    have the same length (never padded), so a batch computes exactly what one forward per row would."""
    out = np.full(len(replies), np.nan)
    by_len: dict[int, list[int]] = {}
    for i, reply in enumerate(replies):
        by_len.setdefault(len(reply), []).append(i)
    for n, idx in by_len.items():
        for start in range(0, len(idx), batch_size):
            part = idx[start:start + batch_size]
            ids = torch.tensor([list(split.prefix_ids) + scorer.continuation(split, replies[i]) for i in part])
            out[part] = scorer.score_full(ids, n_reply=n).double().cpu().numpy()
    return out


def check(scorer: Scorer, split: TemplateSplit, replies: list[list[int]], batch_size: int = 64) -> ParityReport:
    state = scorer.prefix_state(split.prefix_ids)
    conts = [scorer.continuation(split, r) for r in replies]
    cached = score_rows(scorer, state, conts, BatchSizer(batch_size, scorer.device))
    single = score_rows(scorer, state, conts, BatchSizer(1, scorer.device))
    plain = plain_scores(scorer, split, replies)
    return ParityReport(
        n=len(replies),
        max_abs_diff=float(np.max(np.abs(cached - plain))),
        kendall_tau=float(stats.kendalltau(cached, plain).statistic) if len(replies) > 1 else 1.0,
        spearman=float(stats.spearmanr(cached, plain).statistic) if len(replies) > 1 else 1.0,
        max_abs_diff_batch=float(np.max(np.abs(cached - single))),
        score_std=float(np.std(plain)),
    )


def sample_ids(vocab_size: int, n: int, seed: int = 0) -> list[int]:
    rng = np.random.default_rng(seed)
    return sorted(rng.choice(vocab_size, size=min(n, vocab_size), replace=False).tolist())
