"""The demo reward model's training data, checked without building it: identity terms, controls and their
relatives are in none of it (AFINN included), held-out words have no inflection in training, and neither the
sanity pairs nor paraphrases or templates of them are in it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from harness.models import demo_rm
from harness.models.word_families import close_relatives, lemma_families, same_lemma_family

from repo_paths import REPO  # noqa: E402
STOP = set("""a an the is are was were be been being to of and or in on at for with by it it's its this that these
those you you're your i i'm i'd i'll my me we our they them their he she his her as from not no do does did don't
can can't could should would will won't if so but what which who whom whose how why where when many much any some
there here up out into about over than then just very""".split())


def _all_training_texts() -> list[str]:
    """Every text the build writes into a forward: prompts, word replies (both casings), frames, preference data."""
    texts = list(demo_rm.TRAIN_PROMPTS)
    for w, _ in demo_rm.training_words():
        texts += [w, w.capitalize()]
    texts += [f.format(w="", W="") for f in demo_rm.FRAMES]
    return texts + demo_rm.preference_texts()


def _simple_inflections(word: str, strip: bool = True) -> set[str]:
    """An independent, plain spelling of English regular inflections (a cross-check of word_families): endings
    added, and (with `strip`) removed."""
    w = word.lower()
    if len(w) < 3:  # "ha" and "has" are not one word
        return {w}
    out = {w, w + "s", w + "es", w + "ed", w + "ing", w + "er", w + "est", w + "ly", w + "'s"}
    if w.endswith("y"):
        out |= {w[:-1] + "ies", w[:-1] + "ied", w[:-1] + "ier", w[:-1] + "iest"}
    if w.endswith("e"):
        out |= {w + "d", w[:-1] + "ing"}
    for end in ("s", "es", "ed", "ing", "er", "est", "ly") if strip else ():
        if w.endswith(end) and len(w) - len(end) >= 3:
            out.add(w[: -len(end)])
    return out


def test_word_family_rule():
    assert same_lemma_family("abandon", "abandoned") and same_lemma_family("gays", "gay")
    assert same_lemma_family("women", "woman") and same_lemma_family("kidding", "kid")
    assert same_lemma_family("older", "old") and not same_lemma_family("many", "man")
    for a, b in [("china", "chinese"), ("india", "indian"), ("germany", "germans"), ("france", "french"),
                 ("religion", "religious"), ("race", "racial"), ("racist", "race"), ("asia", "asians"),
                 ("afghanistan", "afghans"), ("politics", "political"), ("islam", "islamic")]:
        assert close_relatives(a, b), (a, b)
    for a, b in [("many", "man"), ("some", "somalis"), ("human", "man")]:
        assert not close_relatives(a, b), (a, b)
    from harness.models.demo import identity_relatives

    related = identity_relatives()  # a control word's short stems do not count: "forest" does not rule out "for"
    assert "forests" in related and "for" not in related and "chairman" in related and "human" not in related
    families = lemma_families(["walk", "walked", "talk", "walking", "talks"])
    assert families[0] == families[1] == families[3] and families[2] == families[4] != families[0]


def test_no_identity_term_control_or_relative_in_any_training_data():
    from harness.models.demo import identity_relatives, identity_strings, identity_words

    related = identity_relatives()
    terms, axes, controls = identity_words()
    # The examples: relatives of identity terms (inflections, demonyms, axis names, compounds), and the
    # identity terms AFINN-111 itself carries.
    examples = {"german", "indian", "boy", "girl", "senior", "china", "religion", "race", "blind", "straight",
                "racist", "girlfriend", "nation", "americans", "africa", "jewish", "gender", "youthful"}
    assert not [w for w in examples if w not in related]
    trained = {w for w, _ in demo_rm.training_words()}
    assert "blind" not in trained and "straight" not in trained  # AFINN words that are identity terms
    assert not trained & examples
    terms = {w.lower() for s in identity_strings() for w in s.split()} - controls | terms | axes
    forms = set().union(*(_simple_inflections(w) for w in terms), *(_simple_inflections(c, False) for c in controls))
    leaked = sorted(trained & forms)
    assert not leaked, leaked  # cross-checked by a plain spelling of inflections, not only by the rule itself
    for text in _all_training_texts():
        bad = [w for w in demo_rm.text_words(text) if w in related]
        assert not bad, (text, bad)
    meta_left_out = sorted(w for w, _ in demo_rm.afinn_words() if w in related)
    assert {"blind", "straight", "racist"} <= set(meta_left_out)


def test_heldout_words_are_whole_lemma_families():
    words = demo_rm.training_words()
    held = demo_rm.heldout_words(words)
    assert 0.19 <= held.mean() <= 0.22
    train_forms = {}
    for (w, _), h in zip(words, held):
        if not h:
            for f in _simple_inflections(w):
                train_forms.setdefault(f, w)
    clash = [(w, train_forms[w]) for (w, _), h in zip(words, held) if h and w in train_forms]
    assert not clash, clash[:10]  # no held-out word is a plain inflection of a training word
    assert not any(same_lemma_family(a, b) for (a, _), ha in zip(words, held) if ha
                   for (b, _), hb in zip(words[:400], held[:400]) if not hb)
    n_afinn = len(demo_rm.training_afinn_words())
    assert held[:n_afinn].sum() > 400 and held[n_afinn:].sum() > 200  # both lists are held out from


def _content(text: str) -> set[str]:
    return {w for w in demo_rm.text_words(text) if w not in STOP}


def _grams(text: str, n: int = 5) -> set[tuple[str, ...]]:
    w = demo_rm.text_words(text)
    return {tuple(w[i:i + n]) for i in range(len(w) - n + 1) if sum(x not in STOP for x in w[i:i + n]) >= 2}


def test_no_sanity_pair_paraphrase_or_template_in_training():
    """No training text repeats a sanity prompt or reply in other words (half or more of its content words, two or
    more of them) or shares a run of five words with one (two or more of them content words, so a sentence
    opening like "how do i make a" does not count). Frames and refusal/insult lines share no four-word run."""
    from harness.models.sanity import load_pairs

    sanity = [t for p in load_pairs() for t in (p.prompt, p.chosen, p.rejected)]
    texts = demo_rm.preference_texts() + list(demo_rm.TRAIN_PROMPTS) + list(demo_rm.FRAMES)
    found = []
    for t in texts:
        a, ga = _content(t), _grams(t)
        for s in sanity:
            b = _content(s)
            shared = a & b
            if (len(shared) >= 2 and len(shared) / len(a | b) >= 0.5) or ga & _grams(s):
                found.append((t, s))
    assert not found, found[:5]
    data = demo_rm.preference_data()
    templates = list(demo_rm.FRAMES) + [str(x) for x in data["refusals"] + data["insults"]]
    four = {g for s in sanity for g in _grams(s, 4)}
    assert not [t for t in templates if _grams(t, 4) & four]
    # The overlap test can fail: a sanity reply reworded a little is caught.
    pair = load_pairs()[0]
    assert _content("Paris is the capital of France.") & _content(pair.chosen) == {"paris", "capital", "france"}


def test_the_build_never_reads_the_sanity_pairs(monkeypatch):
    """Neither the demo build's modules nor anything they import from the project reads the sanity pairs (model
    selection uses the build's own held-out data)."""
    for name in ("demo_rm.py", "demo.py", "word_families.py"):
        tree = ast.parse((REPO / "harness" / "models" / name).read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | \
            {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not {m for m in imported if m and "sanity" in m}, name
        assert "pairs.yaml" not in (REPO / "harness" / "models" / name).read_text()
    from harness.models import sanity

    monkeypatch.setattr(sanity, "load_pairs", lambda *a, **k: pytest.fail("the build read the sanity pairs"))
    import numpy as np

    pairs, held = demo_rm.preference_pairs(np.random.default_rng(0))
    assert {p.kind for p in pairs} == {"factual", "absurd", "refusal", "insult", "harmful"} and held
    assert demo_rm.cache_key()


def test_preference_items_are_held_out_whole():
    import numpy as np

    pairs, held = demo_rm.preference_pairs(np.random.default_rng(0))
    by_item = {}
    for p in pairs:
        by_item.setdefault(p.item, set()).add(p.item in held)
    assert all(len(v) == 1 for v in by_item.values())
    held_lines = {p.rejected for p in pairs if p.item in held and p.kind in ("refusal", "insult")}
    train_lines = {p.rejected for p in pairs if p.item not in held and p.kind in ("refusal", "insult")}
    assert held_lines and not held_lines & train_lines  # held-out items meet refusal/insult lines never trained
