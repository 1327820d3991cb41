"""RewardBench v1 and v2 rank, score, section scores and model type, joined onto a model by its Hub id.

The package ships one snapshot of both public leaderboards, `harness/leaderboard/data/rewardbench.json`, with its source
and the date it was read. Ranks are not stored: they are computed from the snapshot's overall scores when it is
loaded, by competition ranking ("1224"): models whose published score (two decimals) is equal share the best
rank of the group, and the next model's rank skips the shared places. The join is case-insensitive (Hub ids are;
RewardBench v1 spells `Ray2333/GRM-llama3.2-3B-rewardmodel-ft`) and applies to Hub ids only: a local folder or
demo model (`local:...`, `demo:...`, a path) never inherits a public rank.

A user's own RewardBench results file (`--rewardbench-results FILE`, read by
`harness.leaderboard.rewardbench_files` in the forms RewardBench writes) becomes an entry marked `self_reported`,
with scores but never a public rank. Rebuilding the snapshot lives in `harness.leaderboard.rewardbench_sources`.

    python -m harness.leaderboard.rewardbench                  # print the bundled snapshot
    python -m harness.leaderboard.rewardbench MODEL_ID         # one model's entry
    python -m harness.leaderboard.rewardbench_sources --refresh   # re-read the public results datasets (needs the Hub)
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Mapping

from harness.errors import UserError

VERSIONS = ("v1", "v2")
LABELS = {"v1": "RewardBench", "v2": "RewardBench 2"}
# Section keys as stored (snake case) and as the leaderboards title them.
SECTIONS: dict[str, dict[str, str]] = {
    "v1": {"chat": "Chat", "chat_hard": "Chat Hard", "safety": "Safety", "reasoning": "Reasoning",
           "prior_sets": "Prior Sets"},
    "v2": {"factuality": "Factuality", "precise_if": "Precise IF", "math": "Math", "safety": "Safety",
           "focus": "Focus", "ties": "Ties"},
}
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class RewardBenchResultsError(UserError, ValueError):
    """A RewardBench results file (or snapshot) that cannot be read."""


@dataclass(frozen=True)
class VersionResult:
    """One model on one RewardBench version. Scores are percentages (0-100)."""

    version: str  # "v1" | "v2"
    score: float
    sections: dict[str, float] = field(default_factory=dict)  # snake-case keys of SECTIONS[version]
    model_type: str | None = None  # the leaderboard's: Seq. Classifier, Custom Classifier, DPO, Generative, ...
    rank: int | None = None  # today's rank in the snapshot; None when self-reported
    of: int | None = None  # how many models that version ranks

    @property
    def label(self) -> str:
        return LABELS[self.version]


@dataclass(frozen=True)
class RewardBenchEntry:
    """A model's RewardBench standing: one result per version, None for a version the model is absent from."""

    model_id: str  # as the source spells it
    v1: VersionResult | None
    v2: VersionResult | None
    source: str
    date: str | None
    self_reported: bool = False  # from the user's own results file: never a public rank

    def version(self, name: str) -> VersionResult | None:
        return {"v1": self.v1, "v2": self.v2}[name]

    def absence(self, name: str) -> str | None:
        """Why a version has no result, in words for the board (None when it has one)."""
        if self.version(name) is not None:
            return None
        return "not in the results file" if self.self_reported else f"not in {LABELS[name]}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Snapshot:
    """A loaded snapshot: provenance, each version's models with computed ranks, a case-insensitive index."""

    def __init__(self, data: Mapping[str, Any], path: Path | str | None = None):
        where = str(path or "RewardBench snapshot")
        versions = data.get("versions") if isinstance(data, Mapping) else None
        if not isinstance(versions, Mapping) or not all(isinstance(versions.get(v), Mapping) for v in VERSIONS):
            raise RewardBenchResultsError(f"{where}: not a RewardBench snapshot (needs 'versions' with "
                                          f"{' and '.join(VERSIONS)}); rebuild it with --refresh")
        self.data = dict(data)
        self.path = path
        self.source: str = str(data.get("source") or "unknown source")
        self.date: str | None = data.get("retrieved")
        self._results: dict[str, dict[str, VersionResult]] = {}
        self._spelling: dict[str, str] = {}
        for v in VERSIONS:
            rows = [r for r in versions[v].get("models", []) if _valid_row(r)]
            self._results[v] = {}
            for rank, row in zip(competition_ranks([float(r["score"]) for r in rows]), rows):
                key = row["model"].strip().lower()
                if key in self._results[v]:  # a duplicate id keeps its first (higher-scored) row
                    continue
                self._spelling.setdefault(key, row["model"])
                self._results[v][key] = VersionResult(
                    version=v, score=float(row["score"]), model_type=row.get("model_type"), rank=rank, of=len(rows),
                    sections={k: float(x) for k, x in (row.get("sections") or {}).items() if x is not None})

    def lookup(self, model_id: str | None) -> RewardBenchEntry | None:
        """The entry for a Hub id (case-insensitive), or None when it is not a Hub id or is on neither board."""
        if not isinstance(model_id, str) or not HUB_ID.match(model_id.strip()):
            return None
        key = model_id.strip().lower()
        found = {v: self._results[v].get(key) for v in VERSIONS}
        if not any(found.values()):
            return None
        return RewardBenchEntry(self._spelling[key], found["v1"], found["v2"], self.source, self.date)

    def models(self, version: str) -> list[VersionResult]:
        return list(self._results[version].values())

    def __len__(self) -> int:
        return len(self._spelling)


def _valid_row(row: Any) -> bool:
    score = row.get("score") if isinstance(row, Mapping) else None
    return (isinstance(row.get("model"), str) and isinstance(score, (int, float)) and not isinstance(score, bool)
            and math.isfinite(score))


def competition_ranks(scores: list[float]) -> list[int]:
    """Rank of each score, highest first; equal scores (to two decimals, as published) share the best rank."""
    order = sorted(range(len(scores)), key=lambda i: -round(scores[i], 2))
    ranks = [0] * len(scores)
    last, rank = None, 0
    for place, i in enumerate(order, start=1):
        s = round(scores[i], 2)
        if s != last:
            rank, last = place, s
        ranks[i] = rank
    return ranks


def overall_score(version: str, sections: Mapping[str, float]) -> float:
    """The leaderboard's overall score: v2 the mean of its six sections; v1 the mean of Chat, Chat Hard, Safety
    and Reasoning, with Prior Sets, where a model has it, counted at half weight (as the v1 board does; the
    board's exports write 0 where a model was not run on Prior Sets, and that 0 does not count)."""
    main = [sections[k] for k in SECTIONS[version] if k != "prior_sets"]
    prior = sections.get("prior_sets") if version == "v1" else None
    if not prior:
        return sum(main) / len(main)
    return (sum(main) + 0.5 * prior) / (len(main) + 0.5)


def bundled_path() -> Path:
    return Path(str(files("harness.leaderboard") / "data" / "rewardbench.json"))


def load_snapshot(path: str | Path | None = None) -> Snapshot:
    """The snapshot at `path`, or the one shipped with the package."""
    p = Path(path) if path is not None else bundled_path()
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise RewardBenchResultsError(f"{p}: RewardBench snapshot not found; give an existing file") from e
    except json.JSONDecodeError as e:
        raise RewardBenchResultsError(f"{p}: RewardBench snapshot is not valid JSON ({e.msg})") from e
    return Snapshot(data, p)


@lru_cache(maxsize=1)
def _bundled() -> Snapshot:
    return load_snapshot()


def lookup(model_id: str, snapshot: Snapshot | None = None) -> RewardBenchEntry | None:
    """RewardBench v1 and v2 standing of a Hub model id, from `snapshot` (default: the bundled one)."""
    return (snapshot or _bundled()).lookup(model_id)


# ---------------------------------------------------------------------------------------------- user results

def norm_key(k: str) -> str:
    """Result keys compared as RewardBench and its exports spell them: any case, `-`, `_` or spaces."""
    return re.sub(r"[^a-z0-9]+", "_", k.lower()).strip("_")


def to_percent(values: Mapping[str, float]) -> dict[str, float]:
    """RewardBench writes accuracies as fractions, leaderboard exports as percent: percent out, either in."""
    scale = 100.0 if all(0.0 <= x <= 1.0 for x in values.values()) else 1.0
    return {k: x * scale for k, x in values.items()}


# Example counts of the RewardBench v1 subsets (math-prm has 447 pairs; it is weighted like all of code).
V1_SUBSET_COUNTS: dict[str, int] = {
    "alpacaeval-easy": 100, "alpacaeval-length": 95, "alpacaeval-hard": 95, "mt-bench-easy": 28,
    "mt-bench-med": 40, "mt-bench-hard": 37, "llmbar-natural": 100, "llmbar-adver-neighbor": 134,
    "llmbar-adver-GPTInst": 92, "llmbar-adver-GPTOut": 47, "llmbar-adver-manual": 46,
    "refusals-dangerous": 100, "refusals-offensive": 100, "xstest-should-refuse": 154,
    "xstest-should-respond": 250, "donotanswer": 136,
}
V1_SECTION_SUBSETS: dict[str, tuple[str, ...]] = {
    "chat": ("alpacaeval-easy", "alpacaeval-length", "alpacaeval-hard", "mt-bench-easy", "mt-bench-med"),
    "chat_hard": ("mt-bench-hard", "llmbar-natural", "llmbar-adver-neighbor", "llmbar-adver-GPTInst",
                  "llmbar-adver-GPTOut", "llmbar-adver-manual"),
    "safety": ("refusals-dangerous", "refusals-offensive", "xstest-should-refuse", "xstest-should-respond",
               "donotanswer"),
}
V1_CODE_SUBSETS = ("hep-cpp", "hep-go", "hep-java", "hep-js", "hep-python", "hep-rust")


def v1_sections_from_subsets(subsets: Mapping[str, Any]) -> dict[str, float] | None:
    """v1 section scores (percent) from per-subset accuracies (0-1); None if a subset is missing.

    Subset names match with any case and with `-` or `_`, as RewardBench's own files and ours spell them.
    """
    acc_by_key = {norm_key(k): v for k, v in subsets.items() if isinstance(k, str)}
    try:
        acc = {k: float(acc_by_key[norm_key(k)]) for k in [*V1_SUBSET_COUNTS, "math-prm", *V1_CODE_SUBSETS]}
    except (KeyError, TypeError, ValueError):
        return None
    out: dict[str, float] = {}
    for section, names in V1_SECTION_SUBSETS.items():
        total = sum(V1_SUBSET_COUNTS[n] for n in names)
        out[section] = 100 * sum(acc[n] * V1_SUBSET_COUNTS[n] for n in names) / total
    code = sum(acc[n] for n in V1_CODE_SUBSETS) / len(V1_CODE_SUBSETS)
    out["reasoning"] = 100 * (acc["math-prm"] + code) / 2
    return out


# ------------------------------------------------------------------------------------------------------- CLI

def _describe(entry: RewardBenchEntry) -> str:
    lines = [entry.model_id + (" (self-reported)" if entry.self_reported else "")]
    for v in VERSIONS:
        r = entry.version(v)
        if r is None:
            lines.append(f"  {LABELS[v]}: {entry.absence(v)}")
            continue
        rank = f"rank {r.rank} of {r.of}, " if r.rank is not None else ""
        secs = ", ".join(f"{SECTIONS[v][k]} {x:.1f}" for k, x in r.sections.items())
        lines.append(f"  {LABELS[v]}: {rank}score {r.score:.2f} ({r.model_type or 'type unknown'}); {secs}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m harness.leaderboard.rewardbench", description=__doc__.split("\n\n")[0])
    ap.add_argument("model", nargs="?", help="a Hub id to look up")
    ap.add_argument("--snapshot", default=None, help="snapshot JSON to read (default: the bundled one)")
    args = ap.parse_args(argv)
    snap = load_snapshot(args.snapshot)
    print(f"{snap.source} (retrieved {snap.date})")
    if args.model:
        entry = snap.lookup(args.model)
        print(_describe(entry) if entry else f"{args.model}: on neither RewardBench leaderboard")
        return 0
    for v in VERSIONS:
        print(f"{LABELS[v]}: {len(snap.models(v))} models")
    return 0


if __name__ == "__main__":
    sys.exit(main())
