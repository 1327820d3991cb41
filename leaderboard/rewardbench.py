"""RewardBench ranks and scores to join onto the leaderboard by model id.

The bundled snapshot (`rewardbench.json`, beside this file) holds the ten models of Christian et al. (FAccT 2025)
with the ranks the paper used; it records its source and date. `refresh()` rebuilds a snapshot from the public
results dataset `allenai/reward-bench-results` (per-subset accuracies in `eval-set/<org>/<model>.json`) when the
Hub is reachable; nothing here touches the network unless `refresh` is called.

Overall score (RewardBench v1): Chat, Chat Hard and Safety are means of their subsets' accuracies weighted by the
subsets' example counts; Reasoning is the mean of math-prm and the average of the six HumanEvalPack languages;
the overall score is the mean of the four sections, times 100.

    python -m leaderboard.rewardbench               # print the bundled snapshot
    python -m leaderboard.rewardbench --refresh     # download, recompute, write the snapshot (needs the Hub)
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

SNAPSHOT_PATH = Path(__file__).with_name("rewardbench.json")
RESULTS_REPO = "allenai/reward-bench-results"
SOURCE = "RewardBench leaderboard (allenai/reward-bench-results), ranks as used by Christian et al. FAccT 2025"

# Example counts of the RewardBench v1 subsets (math-prm has 447 pairs; it is weighted like all of code).
SUBSET_COUNTS: dict[str, int] = {
    "alpacaeval-easy": 100, "alpacaeval-length": 95, "alpacaeval-hard": 95, "mt-bench-easy": 28,
    "mt-bench-med": 40, "mt-bench-hard": 37, "llmbar-natural": 100, "llmbar-adver-neighbor": 134,
    "llmbar-adver-GPTInst": 92, "llmbar-adver-GPTOut": 47, "llmbar-adver-manual": 46,
    "refusals-dangerous": 100, "refusals-offensive": 100, "xstest-should-refuse": 154,
    "xstest-should-respond": 250, "donotanswer": 136,
}
SECTIONS: dict[str, tuple[str, ...]] = {
    "Chat": ("alpacaeval-easy", "alpacaeval-length", "alpacaeval-hard", "mt-bench-easy", "mt-bench-med"),
    "Chat Hard": ("mt-bench-hard", "llmbar-natural", "llmbar-adver-neighbor", "llmbar-adver-GPTInst",
                  "llmbar-adver-GPTOut", "llmbar-adver-manual"),
    "Safety": ("refusals-dangerous", "refusals-offensive", "xstest-should-refuse", "xstest-should-respond",
               "donotanswer"),
}
CODE_SUBSETS = ("hep-cpp", "hep-go", "hep-java", "hep-js", "hep-python", "hep-rust")


class Snapshot:
    """A loaded snapshot: provenance plus a case-insensitive index of model ids (and aliases)."""

    def __init__(self, data: Mapping[str, Any], path: Path | None = None):
        if not isinstance(data, Mapping) or not isinstance(data.get("models"), list):
            raise ValueError("a RewardBench snapshot is an object with a 'models' list")
        self.data = dict(data)
        self.path = path
        self.source: str = str(data.get("source") or "unknown source")
        self.date: str | None = data.get("compiled") or data.get("retrieved")
        self._index: dict[str, dict[str, Any]] = {}
        for entry in data["models"]:
            if not isinstance(entry, Mapping) or not isinstance(entry.get("model"), str):
                continue
            for name in [entry["model"], *[a for a in entry.get("aliases", []) if isinstance(a, str)]]:
                self._index.setdefault(name.strip().lower(), dict(entry))

    def lookup(self, model_id: str) -> dict[str, Any] | None:
        """The entry for `model_id` (Hub ids are case-insensitive, so is this), or None when unranked."""
        if not isinstance(model_id, str):
            return None
        return self._index.get(model_id.strip().lower())

    def __len__(self) -> int:
        return len(self.data["models"])


def load_snapshot(path: str | Path | None = None) -> Snapshot:
    p = Path(path) if path is not None else SNAPSHOT_PATH
    return Snapshot(json.loads(p.read_text(encoding="utf-8")), p)


def section_scores(subsets: Mapping[str, Any]) -> dict[str, float] | None:
    """Section and overall scores (0-100) from one eval-set file's subset accuracies; None if any is missing."""
    try:
        acc = {k: float(subsets[k]) for k in [*SUBSET_COUNTS, "math-prm", *CODE_SUBSETS]}
    except (KeyError, TypeError, ValueError):
        return None
    out: dict[str, float] = {}
    for section, names in SECTIONS.items():
        total = sum(SUBSET_COUNTS[n] for n in names)
        out[section] = 100 * sum(acc[n] * SUBSET_COUNTS[n] for n in names) / total
    code = sum(acc[n] for n in CODE_SUBSETS) / len(CODE_SUBSETS)
    out["Reasoning"] = 100 * (acc["math-prm"] + code) / 2
    out["Score"] = sum(out[s] for s in ("Chat", "Chat Hard", "Safety", "Reasoning")) / 4
    return out


def rank_entries(scores: Mapping[str, float]) -> list[dict[str, Any]]:
    """Competition ranking (1, 2, 2, 4) by overall score, highest first; scores rounded to 0.1 as displayed."""
    ordered = sorted(scores.items(), key=lambda kv: (-round(kv[1], 1), kv[0].lower()))
    out, last, rank = [], None, 0
    for i, (model, score) in enumerate(ordered, start=1):
        s = round(score, 1)
        if s != last:
            rank, last = i, s
        out.append({"model": model, "rank": rank, "score": s})
    return out


def refresh(out_path: str | Path | None = None, *, repo_id: str = RESULTS_REPO, token: str | None = None,
            previous: Snapshot | None = None) -> Path:
    """Download the eval-set files of `repo_id`, recompute every model's score and rank, and write a snapshot.

    Needs the Hub (raises whatever huggingface_hub raises when it is unreachable). The paper's ranks of the
    previous snapshot are kept as `paper_rank`, its short names and aliases carried over.
    """
    from huggingface_hub import snapshot_download

    from harness.atomic import atomic_write_json

    prev = previous if previous is not None else load_snapshot()
    local = Path(snapshot_download(repo_id=repo_id, repo_type="dataset", allow_patterns=["eval-set/*.json"],
                                   token=token))
    scores: dict[str, float] = {}
    for f in sorted((local / "eval-set").rglob("*.json")):
        try:
            d = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        model = d.get("model") if isinstance(d, dict) else None
        sec = section_scores(d) if isinstance(model, str) else None
        if sec is not None:
            scores[model] = sec["Score"]
    if not scores:
        raise RuntimeError(f"{repo_id}: no eval-set results could be read")
    models = []
    for entry in rank_entries(scores):
        old = prev.lookup(entry["model"]) or {}
        if "rank" in old:
            entry["paper_rank"] = old.get("paper_rank", old["rank"])
        for k in ("short", "aliases"):
            if k in old:
                entry[k] = old[k]
        entry["score_source"] = f"computed from eval-set subset accuracies in {repo_id}"
        models.append(entry)
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    data = {
        "source": f"RewardBench results dataset ({repo_id}), recomputed; paper_rank as used by Christian et al. "
                  "FAccT 2025",
        "source_url": f"https://huggingface.co/datasets/{repo_id}",
        "compiled": today,
        "rank_note": "rank: position by overall score among all models with complete eval-set results in the "
                     "dataset on the compiled date (the public leaderboard may list or exclude a few differently).",
        "score_note": "score: mean of Chat, Chat Hard, Safety, Reasoning (x100), see leaderboard/rewardbench.py",
        "models": models,
    }
    return atomic_write_json(out_path if out_path is not None else SNAPSHOT_PATH, data)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m leaderboard.rewardbench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--refresh", action="store_true", help=f"recompute from {RESULTS_REPO} (needs the Hub)")
    ap.add_argument("--out", default=None, help="snapshot to write (default: the bundled file)")
    args = ap.parse_args(argv)
    if args.refresh:
        path = refresh(args.out)
        print(f"wrote {path}")
        return 0
    snap = load_snapshot()
    print(f"{snap.source} (compiled {snap.date})")
    for e in snap.data["models"]:
        score = "null" if e.get("score") is None else f"{e['score']:.1f}"
        print(f"{e.get('rank', '?'):>4}  {score:>5}  {e['model']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
