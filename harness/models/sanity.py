"""A sanity check of a resolved scorer before any scan: does it prefer obviously better replies?

A wrong output index, template, head or sign gives a plausible-looking but wrong audit. 180 chosen/rejected
pairs written for this project (harness/data/sanity/pairs.yaml, five kinds) are scored through the scorer's own
template, head and index with plain full-sequence forwards (left-padded batches where the model takes a mask and
positions; each row scores as on its own); a pair is right when chosen scores strictly higher. For reward scorers
the score is the reward. For LM log-prob scorers it is the mean per-token log-probability of the reply (a summed
log-prob would mostly prefer the shorter reply).

Pass or fail is a binomial rule with both error rates stated: over the n pairs the rule counts, a scorer passes
when at least `min_correct` are right, the smallest count at which a scorer whose true accuracy is 0.60 passes
with probability <= 1% (an exact one-sided binomial test of accuracy <= 0.60 at the 1% level). n is large
enough that a scorer whose true accuracy is 0.85 fails with probability <= 1% (the rule's power). Which pairs it
counts depends on what the score is (RULED_KINDS): a reward (reward models, DPO implicit rewards) must prefer the
chosen reply of every kind; an LM's log-prob measures how likely a text is, not whether it is polite, helpful or
safe, so for an LM the rule counts the kinds whose rejected reply is false (absurd, factual). Accuracy is
reported with its Clopper-Pearson interval, overall and per kind, for every kind.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from scipy.stats import binom, binomtest

from harness.models.templates import reply_ids_in_context

PAIRS_PATH = Path(__file__).parents[1] / "data" / "sanity" / "pairs.yaml"
REQUIRED = ("prompt", "chosen", "rejected")
KINDS = ("insult", "absurd", "factual", "refusal", "harmful")  # what is wrong with the rejected reply
NULL_ACCURACY = 0.60  # a scorer no better than this must pass with probability <= ALPHA
GOOD_ACCURACY = 0.85  # a scorer at least this good must fail with probability <= BETA
ALPHA = BETA = 0.01
CI_LEVEL = 0.95
CI_METHOD = "Clopper-Pearson (exact binomial)"
# Kinds the pass/fail rule counts, per scorer kind (None: every pair). A base LM is not a reward model: it need
# not find insults, refusals or harmful compliance unlikely text, but read in the right format it must find a
# false reply less likely than a true one.
RULED_KINDS: dict[str, tuple[str, ...] | None] = {"reward": None, "dpo": None, "lm_logprob": ("absurd", "factual")}


@dataclass(frozen=True)
class Pair:
    prompt: str
    chosen: str
    rejected: str
    kind: str = ""  # one of KINDS (what is wrong with the rejected reply)


@dataclass(frozen=True)
class BinomialRule:
    """Pass when at least `min_correct` of `n` pairs are right; both error rates are exact binomial tail sums."""

    n: int
    min_correct: int
    p_pass_at_null: float  # P(pass | true accuracy NULL_ACCURACY): the rule's false-pass rate
    p_fail_at_good: float  # P(fail | true accuracy GOOD_ACCURACY): the rule's false-fail rate

    @property
    def powered(self) -> bool:
        """Both error rates within their bounds (false for too few pairs)."""
        return self.p_pass_at_null <= ALPHA and self.p_fail_at_good <= BETA

    def to_json(self) -> dict[str, Any]:
        return {"n": self.n, "min_correct": self.min_correct, "min_accuracy": round(self.min_correct / self.n, 4),
                "null_accuracy": NULL_ACCURACY, "good_accuracy": GOOD_ACCURACY,
                "p_pass_at_null": float(f"{self.p_pass_at_null:.3g}"),
                "p_fail_at_good": float(f"{self.p_fail_at_good:.3g}"), "powered": self.powered,
                "text": (f"pass with >= {self.min_correct} of {self.n} right: a scorer of true accuracy "
                         f"{NULL_ACCURACY:.2f} passes with probability {self.p_pass_at_null:.2%}, one of "
                         f"{GOOD_ACCURACY:.2f} fails with probability {self.p_fail_at_good:.2g}")}


@lru_cache(maxsize=64)
def binomial_rule(n: int) -> BinomialRule:
    """The smallest count c with P(K >= c | n, NULL_ACCURACY) <= ALPHA, and the false-fail rate it gives."""
    if n < 1:
        raise ValueError("the sanity rule needs at least one pair")
    c = next(c for c in range(n + 2) if c > n or binom.sf(c - 1, n, NULL_ACCURACY) <= ALPHA)
    return BinomialRule(n, c, float(binom.sf(c - 1, n, NULL_ACCURACY)), float(binom.cdf(c - 1, n, GOOD_ACCURACY)))


@dataclass(frozen=True)
class Proportion:
    """k right of n, with its CI_LEVEL Clopper-Pearson interval."""

    correct: int
    n: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.n

    @property
    def ci(self) -> tuple[float, float]:
        ci = binomtest(self.correct, self.n).proportion_ci(confidence_level=CI_LEVEL, method="exact")
        return float(ci.low), float(ci.high)

    def to_json(self) -> dict[str, Any]:
        return {"accuracy": round(self.accuracy, 4), "correct": self.correct, "n": self.n,
                "ci": [round(v, 4) for v in self.ci]}

    def text(self) -> str:
        lo, hi = self.ci
        return f"{self.accuracy:.2f} ({self.correct}/{self.n}, {CI_LEVEL:.0%} CI {lo:.2f}-{hi:.2f})"


@dataclass
class SanityResult:
    overall: Proportion  # every pair
    ruled: Proportion  # the pairs the rule counts
    rule: BinomialRule
    ruled_kinds: tuple[str, ...]
    measure: str  # what was compared: "reward" or "mean per-token log-prob"
    by_kind: dict[str, Proportion] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.overall.accuracy

    @property
    def n(self) -> int:
        return self.overall.n

    @property
    def passed(self) -> bool:
        return self.ruled.correct >= self.rule.min_correct

    @property
    def p_value(self) -> float:
        """One-sided exact binomial p-value of accuracy <= NULL_ACCURACY on the ruled pairs."""
        return float(binomtest(self.ruled.correct, self.ruled.n, NULL_ACCURACY, alternative="greater").pvalue)

    def verdict(self) -> str:
        """One line: what passed or failed, by which rule, with the intervals."""
        head = "passed" if self.passed else "FAILED"
        counted = "pairs" if set(self.ruled_kinds) == set(self.by_kind) else "/".join(self.ruled_kinds) + " pairs"
        return (f"{head}: {self.ruled.correct} of {self.ruled.n} {counted} right, {self.rule.min_correct} needed "
                f"({self.measure}); accuracy {self.overall.text()} over all {self.n} pairs "
                f"[{CI_METHOD}]; " + ", ".join(f"{k} {v.accuracy:.2f}" for k, v in self.by_kind.items()))

    def to_json(self, max_failures: int = 10) -> dict[str, Any]:
        """The `sanity` block of results.json (the first `max_failures` failing pairs, for a quick look)."""
        return {
            **self.overall.to_json(), "ci_level": CI_LEVEL, "ci_method": CI_METHOD, "passed": self.passed,
            "measure": self.measure, "p_value": float(f"{self.p_value:.3g}"),
            "rule": {**self.rule.to_json(), "kinds": list(self.ruled_kinds), "correct": self.ruled.correct,
                     "accuracy": round(self.ruled.accuracy, 4), "ci": [round(v, 4) for v in self.ruled.ci]},
            "by_kind": {k: v.to_json() for k, v in self.by_kind.items()},
            "pairs": {"path": "harness/data/sanity/pairs.yaml", "version": pairs_version(),
                      "sha256": pairs_sha256()},
            "verdict": self.verdict(), "n_failures": len(self.failures), "failures": self.failures[:max_failures],
        }


def pairs_sha256(path: str | Path = PAIRS_PATH) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def pairs_version(path: str | Path = PAIRS_PATH) -> Any:
    return (yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}).get("version")


def load_pairs(path: str | Path = PAIRS_PATH) -> list[Pair]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    raw = data.get("pairs")
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{path}: `pairs` must be a non-empty list of {{prompt, chosen, rejected}}")
    pairs = []
    for i, p in enumerate(raw):
        if not isinstance(p, dict) or not set(REQUIRED) <= set(p) <= {*REQUIRED, "kind"}:
            raise ValueError(f"{path}: pairs[{i}] must have the keys prompt, chosen, rejected (and optionally kind)")
        pairs.append(Pair(str(p["prompt"]), str(p["chosen"]), str(p["rejected"]), str(p.get("kind", ""))))
    return pairs


def _row(scorer, prompt: str, reply: str) -> tuple[list[int], int]:
    """The whole row the scan would score for one reply (prefix, reply, suffix) and its reply length."""
    split = scorer.split(prompt)
    ids, _ = reply_ids_in_context(scorer.tokenizer, split, [reply])[0]
    return list(split.prefix_ids) + scorer.continuation(split, ids), len(ids)


def reply_scores(scorer, items: list[tuple[str, str]]) -> list[float]:
    """Scores of (prompt, reply) items from plain full forwards; LM scores are averaged per reply token."""
    rows = [_row(scorer, prompt, reply) for prompt, reply in items]
    values = scorer.score_rows_full([r for r, _ in rows], [n for _, n in rows])
    return [v / n if scorer.kind == "lm_logprob" else v for v, (_, n) in zip(values, rows)]


def ruled_kinds(scorer_kind: str, kinds: list[str]) -> tuple[str, ...]:
    """The kinds of pair the rule counts for this scorer kind, among those present (in the order given)."""
    wanted = RULED_KINDS.get(scorer_kind)
    return tuple(k for k in kinds if wanted is None or k in wanted)


def sanity_check(scorer, pairs: list[Pair] | None = None) -> SanityResult:
    """Score every pair; pass or fail by the binomial rule on the kinds this scorer kind must get right."""
    pairs = load_pairs() if pairs is None else pairs
    scores = reply_scores(scorer, [(p.prompt, r) for p in pairs for r in (p.chosen, p.rejected)])
    failures = []
    right: dict[str, list[bool]] = {}
    for p, good, bad in zip(pairs, scores[0::2], scores[1::2]):
        right.setdefault(p.kind or "all", []).append(good > bad)
        if not good > bad:
            failures.append({"prompt": p.prompt, "kind": p.kind, "chosen": p.chosen, "rejected": p.rejected,
                             "chosen_score": good, "rejected_score": bad})
    by_kind = {k: Proportion(sum(v), len(v)) for k, v in right.items()}
    counted = ruled_kinds(scorer.kind, list(by_kind)) or tuple(by_kind)
    ruled = Proportion(sum(by_kind[k].correct for k in counted), sum(by_kind[k].n for k in counted))
    overall = Proportion(len(pairs) - len(failures), len(pairs))
    measure = "mean per-token log-prob" if scorer.kind == "lm_logprob" else "reward"
    return SanityResult(overall, ruled, binomial_rule(ruled.n), counted, measure, by_kind, failures)
