"""DPO scorer: cached equals plain, a token the policy was pushed towards tops the scan, EOS counted as RewardBench.

Tiny Llama causal LMs built in-process over a small word-level tokenizer with Llama-3's chat template (special
tokens, BOS written by the template, <|eot_id|> as EOS): the reference is random; the policy is the reference with
small noise on every weight and a bias planted on one token's logit.
"""

from __future__ import annotations

import copy
import json
import shutil

import numpy as np
import pytest
import torch

from conftest import PROMPT
from harness.errors import UserError
from harness.models.dpo import NEXT_TOKEN, REWARDBENCH, DPOScorer
from harness.models.loading import load_dpo_scorer
from harness.models.registry import ModelSpec
from harness.models.scorer import LMLogProbScorer
from harness.scoring.parity import check, plain_scores, sample_ids
from harness.scoring.responses import VocabularySet
from harness.scoring.scan import scan
from harness.scoring.table import TableStore

LLAMA3_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}<|start_header_id|>{{ message['role'] }}<|end_header_id|>\n\n"
    "{{ message['content'] | trim }}<|eot_id|>{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)
SPECIALS = ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<unk>"]
WORDS = ["user", "assistant", "What", ",", "in", "one", "word", "is", "the", "best", "thing", "ever", "?"]
VOCAB = SPECIALS + WORDS + [f"w{i}" for i in range(2000)]
PLANT = VOCAB.index("w7")
PLANT_BIAS = 4.0
TINY = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
            max_position_embeddings=512, initializer_range=0.2)


def word_tokenizer(eos: str | None = "<|eot_id|>"):
    """A word-level fast tokenizer with Llama-3's special tokens and chat template (the template writes BOS)."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.WordLevel({w: i for i, w in enumerate(VOCAB)}, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = PreTrainedTokenizerFast(tokenizer_object=core, bos_token="<|begin_of_text|>", eos_token=eos,
                                  unk_token="<unk>", additional_special_tokens=SPECIALS[1:3])
    tok.chat_template = LLAMA3_TEMPLATE
    return tok


@pytest.fixture(scope="module")
def tok():
    return word_tokenizer()


def _planted(tok):
    """(policy, reference): the policy prefers PLANT over the reference in every context."""
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(vocab_size=len(tok), bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, **TINY)
    torch.manual_seed(0)
    ref = LlamaForCausalLM(config).eval()
    policy = copy.deepcopy(ref)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in policy.parameters():
            p.add_(0.05 * p.std() * torch.randn(p.shape, generator=gen))
        head = torch.nn.Linear(config.hidden_size, config.vocab_size, bias=True)
        head.weight.copy_(policy.lm_head.weight)
        head.bias.zero_()
        head.bias[PLANT] = PLANT_BIAS
        policy.lm_head = head
    return policy, ref


@pytest.fixture(scope="module")
def models(tok):
    return _planted(tok)


def _lm(model, tok, name: str) -> LMLogProbScorer:
    return LMLogProbScorer(model, tok, ModelSpec(id=name, kind="lm_logprob"), revision="r0")


def make(models, tok, variant=REWARDBENCH, beta=1.0, reference=True) -> DPOScorer:
    policy, ref = models
    return DPOScorer(_lm(policy, tok, "t/policy"), _lm(ref, tok, "t/ref") if reference else None,
                     variant=variant, beta=beta)


def by_hand(model, ids: list[int], n: int) -> float:
    """Sum of the last n tokens' log-probs from one full forward, written out without the scorer."""
    with torch.no_grad():
        logp = torch.log_softmax(model(input_ids=torch.tensor([ids])).logits[0].float(), -1)
    return float(sum(logp[i - 1, ids[i]] for i in range(len(ids) - n, len(ids))))


REPLIES = [[PLANT], [1000], [1000, 2000], [300, 400, 500], [3], [7, 8]]  # 3: <|eot_id|> itself


@pytest.mark.parametrize("variant, reference", [(REWARDBENCH, True), (NEXT_TOKEN, True), (REWARDBENCH, False)])
def test_cached_equals_plain_and_batch_invariant(models, tok, variant, reference):
    scorer = make(models, tok, variant, reference=reference)
    split = scorer.split(PROMPT)
    report = check(scorer, split, [[i] for i in sample_ids(len(tok), 16)] + REPLIES, batch_size=5)
    assert report.score_std > 0.01
    assert report.max_abs_diff <= 1e-4 * max(1.0, report.score_std) and report.max_abs_diff_batch <= 1e-5
    assert report.kendall_tau > 0.999


def test_rewardbench_variant_counts_the_eos_after_the_reply(models, tok):
    policy, ref = models
    rb, nt = make(models, tok, REWARDBENCH), make(models, tok, NEXT_TOKEN)
    split = rb.split(PROMPT)
    eos = tok.eos_token_id
    assert rb.continuation(split, [5, 6]) == [5, 6, eos] and nt.continuation(split, [5, 6]) == [5, 6]
    prefix = list(split.prefix_ids)
    assert prefix.count(tok.bos_token_id) == 1
    state_rb, state_nt = rb.prefix_state(prefix), nt.prefix_state(prefix)
    for reply in REPLIES:
        want_nt = by_hand(policy, prefix + reply, len(reply)) - by_hand(ref, prefix + reply, len(reply))
        full = prefix + reply + [eos]
        want_rb = by_hand(policy, full, len(reply) + 1) - by_hand(ref, full, len(reply) + 1)
        got_rb = float(rb.score_cached(state_rb, torch.tensor([rb.continuation(split, reply)]))[0])
        got_nt = float(nt.score_cached(state_nt, torch.tensor([nt.continuation(split, reply)]))[0])
        assert got_rb == pytest.approx(want_rb, abs=1e-4) and got_nt == pytest.approx(want_nt, abs=1e-4)
        assert abs(want_rb - want_nt) > 1e-4  # the EOS term is really there


def test_beta_scales_and_reference_free_is_the_policy_log_prob(models, tok):
    policy, _ = models
    replies = [[1000], [PLANT], [300, 400]]
    split = make(models, tok).split(PROMPT)
    one = plain_scores(make(models, tok, beta=1.0), split, replies)
    tenth = plain_scores(make(models, tok, beta=0.1), split, replies)
    np.testing.assert_allclose(tenth, 0.1 * one, rtol=1e-5, atol=1e-6)
    free = plain_scores(make(models, tok, NEXT_TOKEN, beta=0.5, reference=False), split, replies)
    lm = plain_scores(_lm(policy, tok, "t/policy"), split, replies)
    np.testing.assert_allclose(free, 0.5 * lm, rtol=1e-5, atol=1e-6)


def _count_forwards(model) -> list[int]:
    calls = [0]
    model.register_forward_pre_hook(lambda *_: calls.__setitem__(0, calls[0] + 1))
    return calls


@pytest.mark.parametrize("variant", [REWARDBENCH, NEXT_TOKEN])
def test_planted_token_tops_the_scan_at_the_stated_cost(tok, variant, tmp_path):
    policy, ref = _planted(tok)
    calls = [_count_forwards(policy), _count_forwards(ref)]
    scorer = make((policy, ref), tok, variant)
    split = scorer.split(PROMPT)
    batch = 128
    table = scan(scorer, split, VocabularySet(tok, split, len(tok)), TableStore(tmp_path), batch_size=batch,
                 progress=False)
    assert table.meta["scorer"] == "dpo" and len(table.df) == len(tok)
    # Forwards per model: the prompt's; the rewardbench variant adds one one-token step per batch of candidates.
    want = 1 if variant == NEXT_TOKEN else 1 + -(-len(tok) // batch)
    assert [c[0] for c in calls] == [want, want]
    ids, scores = table.df["id"].to_numpy(), table.df["score"].to_numpy()
    assert ids[int(np.argmax(scores))] == PLANT
    others = scores[ids != PLANT]
    assert scores[ids == PLANT][0] - others.max() > 1.0  # the planted bias, less what it costs the rest
    assert np.median(others) < 0  # the rest lost the probability mass the planted token gained


def test_identical_models_give_zero_reward(models, tok):
    _, ref = models
    scorer = DPOScorer(_lm(ref, tok, "t/ref"), _lm(ref, tok, "t/ref"))
    split = scorer.split(PROMPT)
    assert np.abs(plain_scores(scorer, split, REPLIES)).max() == 0.0


def test_settings_key_the_table_and_bad_settings_are_user_errors(models, tok):
    a, b = make(models, tok, REWARDBENCH), make(models, tok, NEXT_TOKEN)
    c, d = make(models, tok, beta=0.1), make(models, tok, reference=False)
    labels = {s.spec.output for s in (a, b, c, d)}
    assert len(labels) == 4 and all(s.kind == "dpo" for s in (a, b, c, d))
    assert "ref=t/ref@r0" in a.spec.output and "reference-free" in d.spec.output
    assert a.settings.to_json()["eos_token_id"] == tok.eos_token_id and b.settings.eos_token_id is None
    with pytest.raises(UserError, match="variant 'mean' is unknown"):
        make(models, tok, "mean")
    with pytest.raises(UserError, match="beta"):
        make(models, tok, beta=0)
    no_eos = word_tokenizer(eos=None)
    policy, _ = models
    with pytest.raises(UserError, match="end-of-sequence"):
        DPOScorer(_lm(policy, no_eos, "t/p"), None)
    DPOScorer(_lm(policy, no_eos, "t/p"), None, variant=NEXT_TOKEN)  # next_token needs no EOS


def test_load_dpo_scorer_from_folders(models, tok, tmp_path):
    _, ref = models
    policy = copy.deepcopy(ref)  # a plain Llama (the planted bias is not part of the architecture)
    with torch.no_grad():
        policy.model.norm.weight.mul_(1.5)
    tok.save_pretrained(tmp_path / "policy")
    for folder in ("ref", "other"):
        shutil.copytree(tmp_path / "policy", tmp_path / folder)
    policy.save_pretrained(tmp_path / "policy")
    ref.save_pretrained(tmp_path / "ref")
    scorer = load_dpo_scorer(str(tmp_path / "policy"), str(tmp_path / "ref"), variant=REWARDBENCH,
                             dtype="float32", device="cpu", chat_template=None, beta=1.0)
    assert not scorer.loaded  # lazy, like every scorer
    split = scorer.split(PROMPT)
    loaded = plain_scores(scorer, split, REPLIES)
    np.testing.assert_allclose(loaded, plain_scores(make((policy, ref), tok), split, REPLIES), atol=1e-5)
    assert np.abs(loaded).max() > 0.01
    assert scorer.loaded and scorer.ref.ref_model is not None
    added = json.loads((tmp_path / "other" / "tokenizer.json").read_text())
    added["model"]["vocab"]["<not-in-the-policy>"] = max(added["model"]["vocab"].values()) + 1
    (tmp_path / "other" / "tokenizer.json").write_text(json.dumps(added))
    ref.save_pretrained(tmp_path / "other")
    with pytest.raises(UserError, match="--ref-model .*tokenizer differs"):
        load_dpo_scorer(str(tmp_path / "policy"), str(tmp_path / "other"), variant=REWARDBENCH, dtype="float32",
                        device="cpu", chat_template=None, beta=1.0)


def test_reference_free_dpo_is_recorded_and_refused_where_log_probs_are(models, tok, tmp_path):
    """Without a reference model a DPO score is the policy's summed log-prob: the model block says
    `reference: none`, and frequency, identity and framing (which refuse log-probs) are skipped with their reason,
    while the rank-only tasks still run."""
    from harness.analyses import registry
    from harness.tasks.runner import RunOptions, run_tasks
    from harness.tasks.discovery import discover

    policy, ref = models
    tok.save_pretrained(tmp_path / "policy")
    shutil.copytree(tmp_path / "policy", tmp_path / "ref")
    policy.save_pretrained(tmp_path / "policy")
    ref.save_pretrained(tmp_path / "ref")
    free = load_dpo_scorer(str(tmp_path / "policy"), None, variant=NEXT_TOKEN, dtype="float32", device="cpu",
                           chat_template=None, beta=1.0)
    paired = load_dpo_scorer(str(tmp_path / "policy"), str(tmp_path / "ref"), variant=NEXT_TOKEN, dtype="float32",
                             device="cpu", chat_template=None, beta=1.0)
    assert free.ref.reference_free and free.ref.to_json()["reference"] == "none"
    assert not paired.ref.reference_free and paired.ref.to_json()["reference"].startswith("local:ref@")
    assert paired.ref.to_json()["scorer"] == free.ref.to_json()["scorer"] == "dpo"  # no new scorer kind
    refused = {"frequency_bias", "identity_bias", "framing_asymmetry"}
    for name in refused:
        why = registry.skip_reason(name, "dpo", reference_free=True)
        assert why and "without a reference model" in why and registry.skip_reason(name, "dpo") is None
    assert registry.skip_reason("token_optimality", "dpo", reference_free=True) is None
    tasks = discover()
    specs = [tasks[t] for t in ("token_optimality", *sorted(refused))]
    path = run_tasks(free, specs, tmp_path / "results", RunOptions(progress=False, vocab_ids=list(range(64))))
    doc = json.loads(path.read_text())
    assert doc["model"]["reference"] == "none" and doc["model"]["output"]["reference"] == "none"
    assert "token_optimality" in doc["results"]
    assert refused <= set(doc["skipped"]) and not refused & set(doc["results"])
    assert all("without a reference model" in doc["skipped"][t] for t in refused)
