"""RewardBench v1 and v2 rank and score beside each model: one adapter over `harness.leaderboard.rewardbench`.

Only Hub models join (a local folder or the demo model shares no identity with a RewardBench entry). The
adapter accepts the per-version `lookup(model_id)` of the v1+v2 snapshot, and falls back to the older
single-version `Snapshot.lookup` (the study's ranks) while that is what the module offers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

VERSIONS = ("v1", "v2")


@dataclass(frozen=True)
class RBScore:
    version: str
    rank: int | None
    score: float | None
    model_type: str | None = None
    self_reported: bool = False
    of: int | None = None  # how many models that version ranks


@dataclass(frozen=True)
class RBSource:
    note: str  # one line for the glossary: where the ranks come from


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _score(version: str, raw: Mapping[str, Any], self_reported: bool) -> RBScore:
    rank = raw.get("rank")
    of = raw.get("of")
    return RBScore(version, int(rank) if isinstance(rank, int) and not isinstance(rank, bool) else None,
                   _num(raw.get("score")), raw.get("model_type") or raw.get("type"),
                   bool(raw.get("self_reported", self_reported)),
                   int(of) if isinstance(of, int) and not isinstance(of, bool) else None)


def normalise(entry: Any) -> dict[str, RBScore]:
    """Whatever a lookup returned as {version: RBScore}."""
    if entry is None:
        return {}
    if not isinstance(entry, Mapping):
        entry = getattr(entry, "__dict__", {})
    flag = bool(entry.get("self_reported", False))
    out = {}
    for v in VERSIONS:
        raw = entry.get(v)
        if isinstance(raw, Mapping):
            out[v] = _score(v, raw, flag)
        elif raw is not None and hasattr(raw, "__dict__"):
            out[v] = _score(v, vars(raw), flag)
    if not out and ("rank" in entry or "score" in entry):
        out["v1"] = _score("v1", entry, flag)  # the older snapshot: one version, the study's ranks
    return out


class RewardBench:
    """Joins RewardBench results by model id (Hub models only)."""

    def __init__(self, lookup: Callable[[str], Any] | None = None, source: str | None = None) -> None:
        """`lookup` and `source` replace the bundled snapshot (tests, or a snapshot of your own)."""
        from harness.leaderboard import rewardbench as rb

        self._lookup = lookup
        self.source = RBSource(source or "no RewardBench snapshot")
        if lookup is None:
            try:
                snap = rb.load_snapshot()
            except Exception:  # noqa: BLE001  no snapshot: the cells say "not listed", the board still builds
                self._lookup = lambda model_id: None
                return
            self._lookup = getattr(rb, "lookup", None) or snap.lookup
            when = getattr(snap, "date", None)
            self.source = RBSource(source or f"{snap.source}" + (f", read {when}" if when else ""))

    def for_model(self, model: Mapping[str, Any]) -> dict[str, RBScore]:
        """The public standing of a Hub model; a version it lacks (or any version of a local or demo model) shows
        the submitter's own RewardBench run, marked self-reported and never ranked."""
        own = model.get("rewardbench_self_reported")
        mine = {v: RBScore(s.version, None, s.score, s.model_type, True, None)
                for v, s in normalise({**own, "self_reported": True}).items()} if isinstance(own, Mapping) else {}
        if str(model.get("origin") or "hub") != "hub":
            return mine
        try:
            public = normalise(self._lookup(str(model.get("id") or "")))
        except Exception:  # noqa: BLE001  a broken snapshot costs the RewardBench cells, never the board
            public = {}
        return {v: public.get(v) or mine[v] for v in VERSIONS if v in public or v in mine}
