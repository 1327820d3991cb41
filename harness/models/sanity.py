"""A sanity check of a resolved scorer before any scan: does it prefer obviously better replies?

A wrong output index, template, head or sign gives a plausible-looking but wrong audit. About 50 chosen/rejected
pairs written for this project (harness/data/sanity/pairs.yaml) are scored through the scorer's own template,
head and index with plain full-sequence forwards (left-padded batches where the model takes a mask and
positions; each row scores as on its own); the accuracy is the share of pairs where chosen scores
strictly higher. For reward scorers the score is the reward. For LM log-prob scorers it is the mean per-token
log-probability of the reply (a summed log-prob would mostly prefer the shorter reply).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.models.templates import reply_ids_in_context

PAIRS_PATH = Path(__file__).parents[1] / "data" / "sanity" / "pairs.yaml"
DEFAULT_THRESHOLD = 0.7
REQUIRED = ("prompt", "chosen", "rejected")


@dataclass(frozen=True)
class Pair:
    prompt: str
    chosen: str
    rejected: str
    kind: str = ""  # insult | absurd (what is wrong with the rejected reply)


@dataclass
class SanityResult:
    accuracy: float
    n: int
    threshold: float
    passed: bool
    measure: str  # what was compared: "reward" or "mean per-token log-prob"
    failures: list[dict[str, Any]] = field(default_factory=list)
    by_kind: dict[str, float] = field(default_factory=dict)  # accuracy per kind of pair

    def to_json(self, max_failures: int = 10) -> dict[str, Any]:
        """The `sanity` block of results.json (the first `max_failures` failing pairs, for a quick look)."""
        out = asdict(self)
        out["accuracy"] = round(self.accuracy, 4)
        out["by_kind"] = {k: round(v, 4) for k, v in self.by_kind.items()}
        out["n_failures"] = len(self.failures)
        out["failures"] = self.failures[:max_failures]
        return out


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


def sanity_check(scorer, threshold: float = DEFAULT_THRESHOLD, pairs: list[Pair] | None = None) -> SanityResult:
    """Share of pairs where `chosen` scores strictly above `rejected`; passed when it is at least `threshold`."""
    pairs = load_pairs() if pairs is None else pairs
    scores = reply_scores(scorer, [(p.prompt, r) for p in pairs for r in (p.chosen, p.rejected)])
    failures = []
    right: dict[str, list[bool]] = {}
    for p, good, bad in zip(pairs, scores[0::2], scores[1::2]):
        right.setdefault(p.kind or "all", []).append(good > bad)
        if not good > bad:
            failures.append({"prompt": p.prompt, "kind": p.kind, "chosen": p.chosen, "rejected": p.rejected,
                             "chosen_score": good, "rejected_score": bad})
    accuracy = 1 - len(failures) / len(pairs)
    measure = "mean per-token log-prob" if scorer.kind == "lm_logprob" else "reward"
    by_kind = {k: sum(v) / len(v) for k, v in sorted(right.items())}
    return SanityResult(accuracy, len(pairs), threshold, accuracy >= threshold, measure, failures, by_kind)
