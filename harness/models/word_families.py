"""English word families by rule: which words are inflections, close derivations or compounds of which.

The demo reward model must not train on any word an out-of-sample analysis reads (identity terms, their
controls and their relatives), and its held-out words must have no inflection in training. Both need "the same
word in another form", decided here by a fixed, documented rule rather than by a hand-made list of examples:

- **inflections** (`inflection_stems`): regular English endings removed with their spelling changes (-s, -es,
  -ies, -'s, -ed, -ing, -er, -est, -ly, a doubled final consonant), plus the irregular plurals of English. Two
  words are in one lemma family when their sets of inflection stems meet.
- **derivations** (`derivation_stems`): one or two derivational endings removed after the inflections (demonym
  endings such as -an, -ian, -ese, -i; -ic, -ism, -ist, -ity, -al, -ion, -ation, -ness, ...), plus English's
  irregular country/demonym pairs (France/French, ...); a second ending removed must leave 5 letters. Two words
  are close relatives when they share such a stem of at least 3 letters that covers at least 60% of the shorter
  word and is either 5+ letters long or at most 3 letters short of both words (China/Chinese, India/Indian,
  Germany/German, religion/religious, race/racial; not some/Somalis).
- **compounds** (`compound_parts`): a word that starts or ends with a whole word of the family and whose rest is a
  common English word of 4+ letters (girlfriend, chairman).

The rule errs towards calling words related: a false match only drops a training word.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

# Regular inflections: (ending, replacement). Longer endings first so "ies" wins over "s".
_INFLECTIONS = (("'s", ""), ("iest", "y"), ("ier", "y"), ("ies", "y"), ("ied", "y"), ("ily", "y"), ("es", ""),
                ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e"), ("est", ""), ("est", "e"),
                ("er", ""), ("er", "e"), ("ly", ""), ("ly", "le"))
IRREGULAR_PLURALS = {"men": "man", "women": "woman", "children": "child", "people": "person", "feet": "foot",
                     "teeth": "tooth", "geese": "goose", "mice": "mouse", "wives": "wife", "lives": "life",
                     "knives": "knife", "halves": "half", "selves": "self", "leaves": "leaf", "wolves": "wolf",
                     "oxen": "ox", "dice": "die", "criteria": "criterion", "phenomena": "phenomenon"}
_DERIVATIONS = ("ically", "ality", "ility", "ation", "ition", "istan", "ians", "ical", "ious", "ness", "hood",
                "ists", "ism", "ist", "ity", "ian", "ans", "ese", "ish", "ial", "ual", "ous", "ion", "ant", "ent",
                "ful", "dom", "ic", "al", "an", "ia", "is", "ee", "ty", "n", "i", "a", "o", "e", "y")
# English country/demonym pairs whose stems differ (no ending rule links them).
IRREGULAR_DEMONYMS = {"french": "france", "british": "britain", "dutch": "netherlands", "welsh": "wales",
                      "swiss": "switzerland", "spanish": "spain", "danish": "denmark", "swedish": "sweden",
                      "finnish": "finland", "polish": "poland", "irish": "ireland", "scottish": "scotland",
                      "scots": "scotland", "greek": "greece", "turkish": "turkey", "filipino": "philippines",
                      "thai": "thailand", "icelandic": "iceland", "norwegian": "norway", "peruvian": "peru",
                      "english": "england", "arab": "arabia", "malagasy": "madagascar"}
MIN_STEM = 3
MIN_SHARE = 0.6


def _norm(word: str) -> str:
    return word.strip().lower().replace("\u2019", "'")


@lru_cache(maxsize=200_000)
def inflection_stems(word: str) -> frozenset[str]:
    """The word (lower case) and every form left by removing one regular ending, or its irregular singular."""
    w = _norm(word)
    out = {w}
    if w in IRREGULAR_PLURALS:
        out.add(IRREGULAR_PLURALS[w])
    for end, repl in _INFLECTIONS:
        if w.endswith(end) and len(w) - len(end) + len(repl) >= MIN_STEM:
            stem = w[: -len(end)] + repl
            out.add(stem)
            # running -> runn -> run; kidding -> kid (but pass, call keep their double letter: both are added)
            if not repl and len(stem) >= 4 and stem[-1] == stem[-2] and stem[-1] not in "aeiou":
                out.add(stem[:-1])
    return frozenset(out)


def same_lemma_family(a: str, b: str) -> bool:
    """True when one word is an inflection of the other, or both inflect one stem (gay/gays, old/older)."""
    return bool(inflection_stems(a) & inflection_stems(b))


@lru_cache(maxsize=200_000)
def derivation_stems(word: str) -> frozenset[str]:
    """Inflection stems, and what is left after removing one or two derivational endings (>= MIN_STEM letters)."""
    out = set(inflection_stems(word))
    w = _norm(word)
    if w in IRREGULAR_DEMONYMS:
        out |= derivation_stems(IRREGULAR_DEMONYMS[w])
    for step in range(2):
        for s in list(out):
            for end in _DERIVATIONS:
                # a one-letter ending other than a silent -e needs a 4-letter stem (india/indian, not man/many);
                # a second ending removed must leave 5 letters (nationalist -> national -> nation, not some/somalis)
                least = MIN_STEM if len(end) > 1 or end == "e" else MIN_STEM + 1
                least = max(least, 5) if step else least
                if s.endswith(end) and len(s) - len(end) >= least:
                    out.add(s[: -len(end)])
    return frozenset(out)


def _base_len(word: str) -> int:
    """The length of a word without its inflection (racists -> 6)."""
    return min(len(s) for s in inflection_stems(word))


def _deriv_ok(stem: str, word_len: int, other_len: int) -> bool:
    """A shared derivational stem counts when it covers >= 60% of the shorter word (lengths without inflections)
    and is either >= 5 letters or at most 3 letters short of both words (race/racial, not somalis/some)."""
    return len(stem) >= max(MIN_STEM, MIN_SHARE * min(word_len, other_len)) and \
        (len(stem) >= 5 or max(word_len, other_len) - len(stem) <= 3)


def close_relatives(a: str, b: str) -> bool:
    """Same lemma family, or a shared derivational stem that `_deriv_ok` accepts (china/chinese, race/racial)."""
    if same_lemma_family(a, b):
        return True
    la, lb = _base_len(a), _base_len(b)
    return any(_deriv_ok(s, la, lb) for s in derivation_stems(a) & derivation_stems(b))


class Relatives:
    """Every word related to a fixed set of words: inflections of `inflect_only`, and inflections, close
    derivations and compounds (of `compounds_of`) of `words`. Looking a word up costs a few set operations."""

    def __init__(self, words: Iterable[str], inflect_only: Iterable[str] = (),
                 compound_rest: frozenset[str] | set[str] = frozenset(), compounds_of: Iterable[str] | None = None):
        self.words = {_norm(w) for w in words if _norm(w)}
        # the words whose compounds count (default all); a word like "age" heads too many unrelated compounds
        self.compounds_of = self.words if compounds_of is None else {_norm(w) for w in compounds_of} & self.words
        self.inflect_only = {_norm(w) for w in inflect_only if _norm(w)} - self.words
        self._word_infl = {s for w in self.words for s in inflection_stems(w)}
        # a control word and its stems of 4+ letters (forest -> for would rule out "for")
        self._infl = self._word_infl | {s for w in self.inflect_only for s in inflection_stems(w)
                                        if s == w or len(s) >= MIN_STEM + 1}
        self._deriv: dict[str, int] = {}  # stem -> length of the shortest word of the set that has it
        for w in self.words:
            for s in derivation_stems(w):
                self._deriv[s] = min(self._deriv.get(s, _base_len(w)), _base_len(w))
        self._compound_rest = compound_rest

    def reason(self, word: str) -> str | None:
        """Why `word` is related to the set (inflection, derivation, compound), or None."""
        w = _norm(word)
        if not w:
            return None
        hit = inflection_stems(w) & self._infl
        if hit:
            return f"inflection ({min(hit)})"
        for s in derivation_stems(w):
            other = self._deriv.get(s)
            if other is not None and _deriv_ok(s, _base_len(w), other):
                return f"derivation ({s})"
        for part in compound_parts(w, self._compound_rest):
            # the part is a word of the set or its singular or plural (girl of girls, boy of boys)
            if {part, part + "s", part + "es", part.removesuffix("s")} & self.compounds_of:
                return f"compound ({part})"
        return None

    def __contains__(self, word: str) -> bool:
        return self.reason(word) is not None


def compound_parts(word: str, rest_words: frozenset[str] | set[str]) -> list[str]:
    """The heads or tails `p` of `word` (3+ letters) whose remainder is in `rest_words` and 4+ letters long."""
    w = _norm(word)
    out = []
    for i in range(3, len(w) - 2):
        head, tail = w[:i], w[i:]
        if len(tail) >= 4 and tail in rest_words:
            out.append(head)
        if len(head) >= 4 and head in rest_words and len(tail) >= 3:
            out.append(tail)
    return out


def lemma_families(words: list[str]) -> list[int]:
    """A family index per word: words are in one family when linked by `same_lemma_family` (transitively)."""
    parent = list(range(len(words)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_stem: dict[str, int] = {}
    for i, w in enumerate(words):
        for s in inflection_stems(w):
            j = by_stem.setdefault(s, i)
            parent[find(i)] = find(j)
    roots = [find(i) for i in range(len(words))]
    index = {r: k for k, r in enumerate(dict.fromkeys(roots))}
    return [index[r] for r in roots]
