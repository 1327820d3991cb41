"""Building a RewardBench snapshot: from leaderboard CSV exports, or from the public results datasets.

Both write the same document (see `harness/leaderboard/data/rewardbench.json`): source, retrieval date, and per version
the models with overall score, section scores (percent) and model type. Ranks are never stored; the loader
computes them (`harness.leaderboard.rewardbench`).

Refresh (needs the Hub) reads `eval-set/**.json` of `allenai/reward-bench-results` (v1: per-subset accuracies,
turned into sections as below) and of `allenai/reward-bench-2-results` (v2: section accuracies).
RewardBench v1 sections: Chat, Chat Hard and Safety are means of their subsets' accuracies weighted by the
subsets' example counts; Reasoning is the mean of math-prm and the average of the six HumanEvalPack languages.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from harness.leaderboard.rewardbench import (
    SECTIONS,
    VERSIONS,
    norm_key,
    overall_score,
    to_percent,
    v1_sections_from_subsets,
)

RESULTS_REPOS = {"v1": "allenai/reward-bench-results", "v2": "allenai/reward-bench-2-results"}
SNAPSHOT_FORMAT = 2



def v2_sections(result: Mapping[str, Any]) -> dict[str, float] | None:
    """v2 section scores (percent) from one results file's section accuracies; None if one is missing."""
    by_key = {norm_key(k): v for k, v in result.items() if isinstance(k, str)}
    try:
        return to_percent({k: float(by_key[k]) for k in SECTIONS["v2"]})
    except (KeyError, TypeError, ValueError):
        return None


def _row(model: str, model_type: str | None, score: float, sections: Mapping[str, float | None]) -> dict:
    return {"model": model, "model_type": model_type, "score": round(score, 2),
            "sections": {k: (None if x is None else round(x, 2)) for k, x in sections.items()}}


def _document(rows: dict[str, list[dict]], *, source: str, retrieved: str, source_urls: dict[str, str],
              notes: list[str]) -> dict:
    return {
        "format": SNAPSHOT_FORMAT,
        "source": source,
        "source_urls": source_urls,
        "retrieved": retrieved,
        "notes": [*notes, "Scores are percent. rank is not stored: readers compute it from score by competition "
                  "ranking (equal published scores share the best rank)."],
        "versions": {v: {"name": "RewardBench" if v == "v1" else "RewardBench 2",
                         "sections": SECTIONS[v],
                         "models": sorted(rows[v], key=lambda r: (-r["score"], r["model"].lower()))}
                     for v in VERSIONS},
    }


def snapshot_from_csv(v1_csv: str | Path, v2_csv: str | Path, *, retrieved: str, source: str,
                      notes: list[str] | None = None) -> dict:
    """A snapshot document from the two leaderboard exports (columns: model, model_type, score, sections)."""
    rows: dict[str, list[dict]] = {}
    for v, path in (("v1", v1_csv), ("v2", v2_csv)):
        with open(path, newline="", encoding="utf-8") as fh:
            rows[v] = [
                _row(r["model"], r.get("model_type") or None, float(r["score"]),
                     {k: (float(r[k]) if r.get(k) not in (None, "") else None) for k in SECTIONS[v]})
                for r in csv.DictReader(fh) if r.get("model") and r.get("score")
            ]
    urls = {"v1": "https://huggingface.co/spaces/allenai/reward-bench",
            "v2": f"https://huggingface.co/datasets/{RESULTS_REPOS['v2']}"}
    return _document(rows, source=source, retrieved=retrieved, source_urls=urls, notes=notes or [])


def _read_results(local: Path) -> list[dict]:
    out = []
    for f in sorted((local / "eval-set").rglob("*.json")):
        try:
            d = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError):
            continue
        if isinstance(d, dict) and isinstance(d.get("model"), str):
            out.append(d)
    return out


def refresh(out_path: str | Path, *, token: str | None = None) -> Path:
    """Download both results datasets, recompute every model's sections and score, and write a snapshot.

    Needs the Hub (raises what huggingface_hub raises when it is unreachable). The v1 board's Prior Sets come
    from a separate dataset and are not re-read, so refreshed v1 scores are the four-section mean.
    """
    from huggingface_hub import snapshot_download

    from harness.io.atomic import atomic_write_json

    rows: dict[str, list[dict]] = {}
    for v, repo in RESULTS_REPOS.items():
        local = Path(snapshot_download(repo_id=repo, repo_type="dataset", allow_patterns=["eval-set/**"],
                                       token=token))
        rows[v] = []
        for d in _read_results(local):
            sections = v1_sections_from_subsets(d) if v == "v1" else v2_sections(d)
            if sections is not None:
                model_type = d.get("model_type") if isinstance(d.get("model_type"), str) else None
                rows[v].append(_row(d["model"], model_type, overall_score(v, sections), sections))
        if not rows[v]:
            raise RuntimeError(f"{repo}: no eval-set results could be read")
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    doc = _document(rows, source=f"RewardBench results datasets {RESULTS_REPOS['v1']} and {RESULTS_REPOS['v2']} "
                                 "(Ai2, ODC-BY), recomputed by rm-harness",
                    retrieved=today, source_urls={v: f"https://huggingface.co/datasets/{r}"
                                                  for v, r in RESULTS_REPOS.items()},
                    notes=["Recomputed from per-model results files; the public boards may list or exclude a few "
                           "models differently."])
    return atomic_write_json(out_path, doc)


def main(argv: list[str] | None = None) -> int:
    """`python -m harness.leaderboard.rewardbench_sources --refresh [--out FILE]`: rebuild the snapshot from the Hub."""
    import argparse

    from harness.leaderboard.rewardbench import bundled_path

    ap = argparse.ArgumentParser(prog="python -m harness.leaderboard.rewardbench_sources", description=main.__doc__)
    ap.add_argument("--refresh", action="store_true", required=True,
                    help="rebuild the snapshot from the public results datasets (needs the Hub)")
    ap.add_argument("--out", default=None, help="where to write (default: the bundled file)")
    args = ap.parse_args(argv)
    print(f"wrote {refresh(args.out or bundled_path())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
