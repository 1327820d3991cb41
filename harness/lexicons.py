"""Lexicons and word frequencies used by the analyses (cached): AFINN-111, wordfreq, the BNC 1.1 list.

Also the token → word join shared by the sentiment and frequency analyses (`afinn_words`).
"""

from __future__ import annotations

import math
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Callable

import pandas as pd

# ---------------------------------------------------------------------------------------------------- AFINN-111


def afinn111_path() -> Path:
    import afinn  # the package only ships the data; its Afinn() class defaults to a newer list, so read the file

    return Path(afinn.__file__).resolve().parent / "data" / "AFINN-111.txt"


@lru_cache(maxsize=4)
def load_afinn111(path: str | None = None, single_words_only: bool = True) -> dict[str, int]:
    """AFINN-111 as {lower-cased entry: value in -5..5}. Multi-word entries are dropped by default."""
    p = Path(path) if path else afinn111_path()
    out: dict[str, int] = {}
    with open(p, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.rstrip("\n\r")
            if not line.strip():
                continue
            word, sep, value = line.rpartition("\t")
            if not sep:
                raise ValueError(f"{p}:{n}: expected 'word<TAB>value', got {line!r}")
            word = word.strip().lower()
            if single_words_only and (" " in word):
                continue
            out[word] = int(value)
    return out


# ---------------------------------------------------------------------------------------------------- wordfreq


@lru_cache(maxsize=None)
def wordfreq_frequency(word: str, lang: str = "en") -> float:
    """`wordfreq.word_frequency(word, lang)`: proportion of running words (0.0 when unknown)."""
    from wordfreq import word_frequency

    return float(word_frequency(word, lang))


# ---------------------------------------------------------------------------------------------------- BNC


@lru_cache(maxsize=4)
def load_bnc(path: str, variants: str = "forms") -> dict[str, float]:
    """BNC 1.1 frequency list (Leech, Rayson & Wilson 2001) as {lower-cased word: frequency per million}.

    The file is Latin-1, tab-separated, each line starting with a tab: Word, PoS, marker, Freq, Range, Disp.
    A headword with marker `%` is a lemma whose Freq is the total over its word forms, which follow as rows with
    Word (and PoS) `@` and the form in the marker column; a headword with marker `:` has a single form.

    variants="forms" (default, what we use): the frequency of a *surface form*, which is what a token is: the sum,
    over every part of speech, of the rows that give that form (`:` headwords and `@` variant rows); the `%` lemma
    totals are skipped so nothing is counted twice. E.g. "love" = 148 (noun form) + 86 (verb form) = 234, and
    "loved" gets its own 46.
    variants="headword": the lemma totals of headword rows (`%` or `:`), summed over parts of speech; variant rows
    are ignored (so "loved" is absent and "love" = 150 + 150).
    Clean-up: a trailing `*` on a Word and a trailing `#` on a number (BNC annotations) are removed, a
    parenthetical lemma note is dropped ('lie (/lay)' -> 'lie'), cross-reference rows ('[see far]') are skipped,
    multi-word entries ('a bit') are kept as they are (they never equal a single token).
    """
    if variants not in ("forms", "headword"):
        raise ValueError(f"variants must be 'forms' or 'headword', got {variants!r}")
    freqs: dict[str, float] = {}
    with open(path, encoding="latin-1") as fh:
        for n, raw in enumerate(fh, 1):
            parts = raw.rstrip("\n\r").split("\t")
            if parts and parts[0] == "":
                parts = parts[1:]
            if len(parts) < 4:
                continue
            word, marker, freq = parts[0], parts[2], parts[3]
            if n == 1 and word == "Word":
                continue  # header
            try:
                f = float(freq.rstrip("#"))  # '#' flags a form shared between homograph lemmas
            except ValueError:
                continue  # cross-references such as 'further*  Adj  [see far]'
            if word == "@":
                if variants != "forms":
                    continue
                form = marker
            else:
                if variants == "forms" and marker == "%":
                    continue  # lemma total; its forms follow as @ rows
                form = word
            form = re.sub(r"\s*\(.*\)$", "", form).rstrip("*").strip().lower()  # 'lie (/lay)' -> 'lie'
            if form:
                freqs[form] = freqs.get(form, 0.0) + f
    if not freqs:
        raise ValueError(f"{path}: no frequencies read (not a BNC 1.1 list?)")
    return freqs


def frequency_lookup(source: str = "wordfreq", path: str | None = None, lang: str = "en",
                     variants: str = "forms") -> Callable[[str], float]:
    """A function word -> frequency (0.0 = unknown). source: 'wordfreq' or 'bnc' (needs `path`)."""
    if source == "wordfreq":
        return lambda w: wordfreq_frequency(w, lang)
    if source == "bnc":
        if not path:
            raise ValueError("frequency source 'bnc' needs a path to 1_1_all_alpha.txt")
        if not os.path.isfile(path):
            raise FileNotFoundError(f"BNC frequency list not found: {path}")
        table = load_bnc(str(path), variants)
        return lambda w: table.get(w.lower(), 0.0)
    raise ValueError(f"unknown frequency source {source!r} (wordfreq | bnc)")


# ---------------------------------------------------------------------------------------------------- token → word


def _variant_rank(decoded: str, word: str) -> int:
    if decoded == " " + word:
        return 0
    if decoded == word:
        return 1
    stripped = decoded.strip()
    if stripped == word:
        return 2
    if decoded[:1].isspace():
        return 3
    return 4


DEDUPE = ("preferred", "mean", "none")  # how afinn_words keeps words that several tokens decode to


def afinn_words(df: pd.DataFrame, lexicon: dict[str, int] | None = None, dedupe: str = "preferred") -> pd.DataFrame:
    """Join a score table to AFINN-111 on `decoded.strip().lower() == entry`, finite scores only.

    Several tokens can decode to one word (" love", "love", " Love", "LOVE"); a regression over all of them
    would count a word several times. `dedupe`:
      - "preferred" (default): one row per word, the variant ranked first by: exactly " word" (leading space,
        lower case), exactly "word", the lower-case word with other whitespace, a case variant with leading
        whitespace, any other case variant; ties by lowest id.
      - "mean": one row per word with the mean score of its variants (id/decoded of the preferred variant).
      - "none": every matching token (duplicated words).
    Returns columns id, decoded, word, afinn, score, n_variants.
    """
    if dedupe not in DEDUPE:
        raise ValueError(f"dedupe must be preferred | mean | none, got {dedupe!r}")
    lex = lexicon if lexicon is not None else load_afinn111()
    d = df.loc[df["finite"].astype(bool), ["id", "decoded", "score"]].copy()
    d["word"] = d["decoded"].astype(str).str.strip().str.lower()
    d = d[d["word"].isin(lex.keys())]
    cols = ["id", "decoded", "word", "afinn", "score", "n_variants"]
    if d.empty:
        return pd.DataFrame(columns=cols)
    d["afinn"] = d["word"].map(lex).astype(float)
    d["n_variants"] = d.groupby("word")["id"].transform("size").astype(int)
    if dedupe == "none":
        return d[cols].reset_index(drop=True)
    d["_rank"] = [_variant_rank(dec, w) for dec, w in zip(d["decoded"], d["word"])]
    d = d.sort_values(["word", "_rank", "id"], kind="mergesort")
    if dedupe == "mean":
        means = d.groupby("word")["score"].mean()
        first = d.drop_duplicates("word", keep="first").copy()
        first["score"] = first["word"].map(means)
        d = first
    else:
        d = d.drop_duplicates("word", keep="first")
    return d[cols].reset_index(drop=True)


def add_log_frequency(words: pd.DataFrame, lookup: Callable[[str], float]) -> pd.DataFrame:
    """Add `freq` and `log_freq` (natural log); words with zero/unknown frequency are dropped."""
    out = words.copy()
    out["freq"] = [float(lookup(w)) for w in out["word"]]
    out = out[out["freq"] > 0].copy()
    out["log_freq"] = [math.log(f) for f in out["freq"]]
    return out.reset_index(drop=True)
