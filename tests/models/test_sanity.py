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
    assert set(right.by_kind) == KINDS and min(v.accuracy for v in right.by_kind.values()) > 0.9
    flipped = sanity_check(RewardScorer(BagOfTokensRM(-w), tok, ModelSpec(id="flipped", index=0)))
    assert not flipped.passed and flipped.accuracy < 0.05
    # A wrong --output-index reads the negated column: the check catches it too.
    wrong_column = sanity_check(RewardScorer(BagOfTokensRM(w), tok, ModelSpec(id="planted", index=1)))
    assert not wrong_column.passed and wrong_column.accuracy < 0.05
    doc = flipped.to_json(max_failures=3)
    assert doc["n"] == flipped.n and doc["n_failures"] == flipped.n - round(flipped.accuracy * flipped.n)
    assert len(doc["failures"]) == 3 and {"prompt", "chosen_score", "rejected_score"} <= set(doc["failures"][0])


def _tail(n: int, p: float, lo: int, hi: int) -> float:
    """P(lo <= K <= hi) for K ~ Binomial(n, p), by exact enumeration (no scipy)."""
    from fractions import Fraction
    from math import comb

    q = Fraction(p).limit_denominator(1000)
    return float(sum(comb(n, k) * q**k * (1 - q) ** (n - k) for k in range(lo, hi + 1)))


@pytest.mark.parametrize("n", [20, 52, 72, 180, 181])
def test_binomial_rule_is_the_smallest_count_with_both_error_rates_exact(n):
    from harness.models.sanity import binomial_rule

    rule = binomial_rule(n)
    c = rule.min_correct
    assert _tail(n, 0.60, c, n) <= 0.01 < _tail(n, 0.60, c - 1, n)  # the smallest count that keeps 1%
    assert rule.p_pass_at_null == pytest.approx(_tail(n, 0.60, c, n), rel=1e-9)
    assert rule.p_fail_at_good == pytest.approx(_tail(n, 0.85, 0, c - 1), rel=1e-9, abs=1e-300)
    assert rule.powered == (rule.p_fail_at_good <= 0.01)


def test_shipped_pairs_give_both_error_rates_for_every_scorer_kind():
    """The issue's bar: true accuracy <= 0.60 passes with probability <= 1%, >= 0.85 fails with probability <= 1%,
    for the pairs each scorer kind is judged on."""
    from harness.models.sanity import RULED_KINDS, binomial_rule, ruled_kinds

    pairs = load_pairs()
    kinds = sorted({p.kind for p in pairs})
    for scorer_kind in RULED_KINDS:
        n = sum(p.kind in ruled_kinds(scorer_kind, kinds) for p in pairs)
        rule = binomial_rule(n)
        assert rule.powered and rule.p_pass_at_null <= 0.01 and rule.p_fail_at_good <= 0.01, (scorer_kind, rule)
    assert binomial_rule(len(pairs)).min_correct == 124  # 124 of 180 (0.689): pinned, so a change is seen


class _Fixed:
    """A stand-in scorer whose pair scores are given (the rule's arithmetic, without a model)."""

    def __init__(self, kind, right):
        self.kind, self.right = kind, right


@pytest.fixture
def fixed_scores(monkeypatch):
    from harness.models import sanity

    def scores(scorer, items):
        out = []
        for ok in scorer.right:
            out += [1.0, 0.0] if ok else [0.0, 1.0]
        return out

    monkeypatch.setattr(sanity, "reply_scores", scores)


def test_rule_decides_at_exactly_min_correct_and_reports_intervals(fixed_scores):
    from statsmodels.stats.proportion import proportion_confint

    from harness.models.sanity import binomial_rule

    pairs = load_pairs()
    c = binomial_rule(len(pairs)).min_correct
    at = sanity_check(_Fixed("reward", [i < c for i in range(len(pairs))]), pairs)
    below = sanity_check(_Fixed("reward", [i < c - 1 for i in range(len(pairs))]), pairs)
    assert at.passed and not below.passed
    assert at.overall.correct == c and below.overall.correct == c - 1
    lo, hi = proportion_confint(c, len(pairs), alpha=0.05, method="beta")  # Clopper-Pearson, independently
    assert at.overall.ci == pytest.approx((lo, hi), abs=1e-9)
    for kind, prop in at.by_kind.items():
        k = sum(1 for i, p in enumerate(pairs) if p.kind == kind and i < c)
        assert (prop.correct, prop.n) == (k, sum(p.kind == kind for p in pairs))
        assert prop.ci == pytest.approx(proportion_confint(k, prop.n, alpha=0.05, method="beta"), abs=1e-9)
    doc = at.to_json()
    assert doc["passed"] and doc["rule"]["min_correct"] == c and doc["rule"]["p_pass_at_null"] <= 0.01
    assert doc["ci_method"].startswith("Clopper-Pearson") and set(doc["by_kind"]) == KINDS
    assert doc["pairs"]["sha256"] == PAIRS_SHA256 and doc["pairs"]["version"] == 2
    assert "124 of 180" in at.verdict() or f"{c} of {len(pairs)}" in at.verdict()


def test_an_lm_is_judged_on_the_false_replies_only(fixed_scores):
    """A base LM need not find insults, refusals or harmful compliance unlikely; it must find false replies so."""
    from harness.models.sanity import binomial_rule

    pairs = load_pairs()
    plausible = [p.kind in ("absurd", "factual") for p in pairs]
    lm = sanity_check(_Fixed("lm_logprob", plausible), pairs)
    assert lm.passed and lm.ruled_kinds == ("absurd", "factual") and lm.ruled.n == 72
    assert lm.accuracy == pytest.approx(72 / 180)  # overall still reported over every pair
    assert lm.rule == binomial_rule(72) and lm.rule.powered
    # The same scores fail a reward scorer, which must get every kind right.
    assert not sanity_check(_Fixed("reward", plausible), pairs).passed
    # And an LM that gets the false replies wrong fails, whatever it does on the rest.
    assert not sanity_check(_Fixed("lm_logprob", [not ok for ok in plausible]), pairs).passed


def test_sanity_lines_read_new_and_old_blocks(fixed_scores):
    from harness.report.model_view import sanity_lines

    pairs = load_pairs()
    doc = sanity_check(_Fixed("reward", [True] * len(pairs)), pairs).to_json()
    lines = sanity_lines(doc)
    assert lines[0].startswith("passed: accuracy 1.00 (180/180, CI 0.98-1.00)") and "124 needed" in lines[0]
    assert "factual 1.00 (36/36, CI 0.90-1.00)" in lines[1]
    assert "passes with probability 0.85%" in lines[2]
    old = sanity_lines({"accuracy": 0.77, "n": 52, "threshold": 0.7, "passed": True, "by_kind": {"insult": 0.9}})
    assert old[0].startswith("passed: accuracy 0.77") and "threshold 0.7" in old[0] and "insult 0.9" in old[1]
    hostile = sanity_lines({"passed": "yes", "accuracy": "<b>", "ci": ["x"], "rule": {"kinds": [1, "<i>"]},
                            "by_kind": {"<script>": {"accuracy": None}}})
    assert hostile[0].startswith("FAILED")  # only a true `passed` reads as passed; markup is escaped by Jinja


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
