"""The scorer sanity check: a planted preference is found; a flipped sign or a wrong output column fails it."""

from __future__ import annotations

import hashlib
import types

import pytest
import torch
from transformers import AutoTokenizer
from transformers.modeling_outputs import CausalLMOutput, SequenceClassifierOutput

from harness.models.registry import ModelSpec
from harness.models.sanity import load_pairs, sanity_check
from harness.models.scorer import LMLogProbScorer, RewardScorer
from harness.models.templates import reply_ids_in_context, split_template


def planted_weights(tok, sign: float) -> torch.Tensor:
    """+sign on tokens only chosen replies use, -sign on tokens only rejected replies use (as tokenised in context)."""
    good, bad = set(), set()
    for p in load_pairs():
        split = split_template(tok, p.prompt)
        (g, _), (b, _) = reply_ids_in_context(tok, split, [p.chosen, p.rejected])
        good.update(g)
        bad.update(b)
    w = torch.zeros(len(tok))
    w[sorted(good - bad)] = sign
    w[sorted(bad - good)] = -sign
    return w


class BagOfTokensRM(torch.nn.Module):
    """A reward model whose two output columns are +/- the sum of per-token weights (column 0 is the reward)."""

    def __init__(self, w: torch.Tensor):
        super().__init__()
        self.embed = torch.nn.Embedding.from_pretrained(w[:, None].clone())
        self.score = torch.nn.Linear(1, 2, bias=False)
        self.score.weight.data = torch.tensor([[1.0], [-1.0]])
        self.config = types.SimpleNamespace(pad_token_id=None)

    def get_input_embeddings(self):
        return self.embed

    def forward(self, input_ids=None, past_key_values=None, use_cache=None):
        return SequenceClassifierOutput(logits=self.score(self.embed(input_ids).sum(1)))


class BagOfTokensLM(torch.nn.Module):
    """An LM whose next-token logits are the same planted weights at every position."""

    def __init__(self, w: torch.Tensor):
        super().__init__()
        self.embed = torch.nn.Embedding.from_pretrained(w[:, None].clone())

    def get_input_embeddings(self):
        return self.embed

    def forward(self, input_ids=None, past_key_values=None, use_cache=None):
        logits = 3 * self.embed.weight[:, 0].expand(*input_ids.shape, -1)
        return CausalLMOutput(logits=logits)


@pytest.fixture(scope="module")
def tok(llama3_dir):
    return AutoTokenizer.from_pretrained(llama3_dir)


# The pairs file is fixed: a model measured on it must not have been measured on an edited copy. Changing the
# pairs is a new version of the check (a new file version, a new checksum here, every sanity number remeasured).
PAIRS_SHA256 = "4d048ef2d235039802a28f765933c9187c6ae5ae49d247dd1f099b7c9e3ef1f5"
KINDS = {"insult", "absurd", "factual", "refusal", "harmful"}


def test_pairs_file_checksum_is_pinned():
    from harness.models.sanity import PAIRS_PATH

    assert hashlib.sha256(PAIRS_PATH.read_bytes()).hexdigest() == PAIRS_SHA256


def test_pairs_file_is_well_formed():
    pairs = load_pairs()
    assert len(pairs) >= 150
    assert all(p.chosen != p.rejected for p in pairs)
    assert {p.kind for p in pairs} == KINDS
    assert min(sum(p.kind == k for p in pairs) for k in KINDS) >= 30  # every kind has an interval worth reading
    assert len({(p.prompt, p.chosen) for p in pairs}) == len(pairs)  # no pair twice


def test_reward_scorer_planted_signal_passes_and_flipped_fails(tok):
    w = planted_weights(tok, 1.0)
    right = sanity_check(RewardScorer(BagOfTokensRM(w), tok, ModelSpec(id="planted", index=0)))
    assert right.passed and right.accuracy > 0.95 and right.measure == "reward", right.failures[:3]
    assert set(right.by_kind) == KINDS and min(right.by_kind.values()) > 0.9
    flipped = sanity_check(RewardScorer(BagOfTokensRM(-w), tok, ModelSpec(id="flipped", index=0)))
    assert not flipped.passed and flipped.accuracy < 0.05
    # A wrong --output-index reads the negated column: the check catches it too.
    wrong_column = sanity_check(RewardScorer(BagOfTokensRM(w), tok, ModelSpec(id="planted", index=1)))
    assert not wrong_column.passed and wrong_column.accuracy < 0.05
    doc = flipped.to_json(max_failures=3)
    assert doc["n"] == flipped.n and doc["n_failures"] == flipped.n - round(flipped.accuracy * flipped.n)
    assert len(doc["failures"]) == 3 and {"prompt", "chosen_score", "rejected_score"} <= set(doc["failures"][0])


def test_threshold_decides_passed(tok):
    w = planted_weights(tok, 1.0)
    scorer = RewardScorer(BagOfTokensRM(w), tok, ModelSpec(id="planted", index=0))
    result = sanity_check(scorer, threshold=1.01)
    assert not result.passed and result.threshold == 1.01


def test_lm_scorer_compares_mean_token_logprob(tok):
    w = planted_weights(tok, 1.0)
    right = sanity_check(LMLogProbScorer(BagOfTokensLM(w), tok, ModelSpec(id="lm", kind="lm_logprob")))
    assert right.passed and right.accuracy > 0.95 and right.measure == "mean per-token log-prob"
    flipped = sanity_check(LMLogProbScorer(BagOfTokensLM(-w), tok, ModelSpec(id="lm", kind="lm_logprob")))
    assert flipped.accuracy < 0.05


@pytest.mark.parametrize("arch", ["llama", "gemma2", "mistral", "custom", "lm"])
def test_padded_batches_score_each_row_as_on_its_own(arch, scorers, mistral_dir, tmp_path):
    """The check batches its rows left-padded: every row must score as in a forward of its own."""
    import builders

    from harness.models.loading import load_scorer
    from harness.models.sanity import _row

    scorer = (load_scorer(str(builders.tiny_lm(mistral_dir, tmp_path / "lm")), scorer="lm_logprob")
              if arch == "lm" else scorers[arch])
    rows = [_row(scorer, p.prompt, r) for p in load_pairs()[:9] for r in (p.chosen, p.rejected)]
    lengths = {len(r) for r, _ in rows}
    assert len(lengths) > 5  # unequal rows: padding is really exercised
    batched = scorer.score_rows_full([r for r, _ in rows], [n for _, n in rows], batch=8)
    alone = [float(scorer.score_full(torch.tensor([r]), n_reply=n)[0]) for r, n in rows]
    assert max(abs(a - b) for a, b in zip(batched, alone)) < 1e-5 * max(1.0, max(map(abs, alone)))
    assert len({round(v, 7) for v in alone}) == len(alone)  # distinct scores: a mix-up of rows would show


class FirstTokenRM(BagOfTokensRM):
    """Pools the first token (as an encoder's [CLS] read-out would) and takes a mask and positions: left padding
    changes its scores, so batched rows must fall back to one forward each."""

    def forward(self, input_ids=None, attention_mask=None, position_ids=None, past_key_values=None, use_cache=None):
        return SequenceClassifierOutput(logits=self.score(self.embed(input_ids[:, :1]).sum(1)))


def test_a_model_that_padding_changes_gets_one_forward_per_row(tok):
    from harness.models.sanity import _row

    w = torch.linspace(-1, 1, len(tok))
    scorer = RewardScorer(FirstTokenRM(w), tok, ModelSpec(id="cls", index=0))
    rows = [_row(scorer, "Say something.", r) for r in ("a", "a longer reply than that", "ok then", "no")]
    ids, n = [r for r, _ in rows], [k for _, k in rows]
    alone = [float(scorer.score_full(torch.tensor([r]))[0]) for r in ids]
    assert scorer.score_rows_full(ids, n, batch=4) == alone
    # The case is real: the padded batch itself reads the pad token for the shorter rows.
    width = max(map(len, ids))
    pad = scorer.model.config.pad_token_id
    padded = torch.tensor([[pad] * (width - len(r)) + r for r in ids])
    raw = scorer._score_padded(padded, (padded != pad).long(), torch.zeros_like(padded), n).tolist()
    assert raw != alone
