"""The LM log-prob scorer: one forward gives the whole vocabulary; multi-token replies sum log-probs exactly."""

from __future__ import annotations

import numpy as np
import torch

import builders
from conftest import PROMPT
from harness.models.loading import load_scorer
from harness.scoring.parity import check, plain_scores
from harness.scoring.responses import VocabularySet
from harness.scoring.scan import BatchSizer, scan, score_rows
from harness.scoring.table import TableStore


def test_lm_vocab_and_items_equal_plain(tmp_path, mistral_dir):
    scorer = load_scorer(str(builders.tiny_lm(mistral_dir, tmp_path / "lm")), scorer="lm_logprob")
    split = scorer.split(PROMPT)
    assert scorer.continuation(split, [5]) == [5], "LM scores stop at the reply"
    report = check(scorer, split, [[i] for i in range(0, 32768, 997)], batch_size=8)
    assert report.max_abs_diff < 1e-5
    replies = [[1000], [1000, 2000], [300, 400, 500], [7, 8]]
    state = scorer.prefix_state(split.prefix_ids)
    cached = score_rows(scorer, state, replies, BatchSizer(3, scorer.device))
    assert np.max(np.abs(cached - plain_scores(scorer, split, replies))) < 1e-5
    # The whole vocabulary is a log-softmax: probabilities sum to one.
    table = scan(scorer, split, VocabularySet(scorer.tokenizer, split, scorer.vocab_size), TableStore(tmp_path / "t"),
                 progress=False)
    assert abs(np.exp(table.df["score"]).sum() - 1) < 1e-4
    full = torch.tensor([list(split.prefix_ids)])
    direct = torch.log_softmax(scorer.model(input_ids=full).logits[0, -1].float(), -1).detach().numpy()
    assert np.max(np.abs(table.df["score"].to_numpy() - direct)) < 1e-5
