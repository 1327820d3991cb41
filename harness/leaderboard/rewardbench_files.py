"""A user's own RewardBench results, read in the forms RewardBench itself writes (`--rewardbench-results FILE`).

RewardBench (0.1.x; fixtures from 0.1.4 in tests/fixtures/rewardbench) writes three result files:

- the `rewardbench` command (v1): `{"accuracy", "num_prompts", "model", "ref_model", "tokenizer",
  "chat_template", "extra_results": {subset: accuracy}}`; `extra_results` is null when it ran on a dataset other
  than allenai/reward-bench, which has no sections to score;
- `scripts/run_rm.py` (v1 eval-set): `{"model", "model_type", "chat_template", <23 subsets>: accuracy}`;
- `scripts/run_v2.py` (RewardBench 2): `{"model", "model_type", "chat_template", "Factuality", "Precise IF",
  "Math", "Safety", "Focus", "Ties"}` (Ties holds RewardBench 2's own ties score).

Scores are computed as RewardBench's leaderboards do: a v1 section is the example-count weighted mean of its
subsets (`calculate_scores_per_section` with `EXAMPLE_COUNTS`), Reasoning weighting math-prm like all of code,
and the overall score is the mean of the four sections (a user's run has no Prior Sets); the RewardBench 2
overall score is the mean of its six subsets. Anything else is refused with one line naming these forms.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping

from harness.io import untrusted
from harness.leaderboard.rewardbench import (
    SECTIONS,
    V1_CODE_SUBSETS,
    V1_SUBSET_COUNTS,
    RewardBenchEntry,
    RewardBenchResultsError,
    VersionResult,
    overall_score,
    v1_sections_from_subsets,
)

V1_SUBSETS = (*V1_SUBSET_COUNTS, "math-prm", *V1_CODE_SUBSETS)
V2_SUBSETS = {"Factuality": "factuality", "Precise IF": "precise_if", "Math": "math", "Safety": "safety",
              "Focus": "focus", "Ties": "ties"}
EXPECTED = ("the JSON RewardBench writes: the `rewardbench` command's file (accuracy, num_prompts, model, "
            "per-subset accuracies under extra_results), scripts/run_rm.py's eval-set file (model, model_type, the "
            "23 v1 subsets) or scripts/run_v2.py's (model, model_type, Factuality, Precise IF, Math, Safety, Focus, "
            "Ties)")
MAX_BYTES = 1 << 20  # a results file is a few KB; the per-prompt score dumps are not results files


def _accuracies(flag: str, found: Mapping[str, Any], names) -> dict[str, float]:
    """The named subsets' accuracies, each a fraction in [0, 1]; a missing or bad one is refused by name."""
    missing = [n for n in names if n not in found]
    if missing:
        shown = ", ".join(missing[:4]) + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")
        raise RewardBenchResultsError(f"{flag}: subsets missing ({shown}); give the file of a full RewardBench run, "
                                      "not one with --debug or a subset filter")
    out = {}
    for n in names:
        x = found[n]
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) or not 0 <= x <= 1:
            raise RewardBenchResultsError(f"{flag}: subset {n!r} is {str(x)[:40]!r}, not an accuracy between 0 "
                                          "and 1 as RewardBench writes")
        out[n] = float(x)
    return out


def _v1(acc: dict[str, float], model_type: str | None) -> VersionResult:
    sections = v1_sections_from_subsets(acc)
    assert sections is not None  # every subset was checked present above
    return VersionResult("v1", round(overall_score("v1", sections), 2),
                         {k: round(x, 2) for k, x in sections.items()}, model_type)


def _v2(acc: dict[str, float], model_type: str | None) -> VersionResult:
    sections = {V2_SUBSETS[k]: 100 * x for k, x in acc.items()}
    return VersionResult("v2", round(overall_score("v2", sections), 2),
                         {k: round(sections[k], 2) for k in SECTIONS["v2"]}, model_type)


def read_one(path: str | Path) -> tuple[str | None, VersionResult]:
    """(model id as written, the one version this file holds) from one RewardBench results file."""
    p = Path(path)
    flag = f"--rewardbench-results {p.name}"
    try:
        data = untrusted.read_json_object(p, "RewardBench results file", max_bytes=MAX_BYTES)
    except FileNotFoundError:
        raise RewardBenchResultsError(f"{flag}: file not found; give {EXPECTED}") from None
    except (OSError, untrusted.UntrustedFileError) as e:
        raise RewardBenchResultsError(f"{flag}: not readable JSON ({str(e)[:120]}); give {EXPECTED}") from None
    model = data.get("model") if isinstance(data.get("model"), str) else None
    model_type = data.get("model_type") if isinstance(data.get("model_type"), str) else None
    if "extra_results" in data and "num_prompts" in data:  # the `rewardbench` command
        extra = data["extra_results"]
        if extra is None:
            raise RewardBenchResultsError(f"{flag}: extra_results is null, so this run was not on "
                                          "allenai/reward-bench and has no sections to score; rerun `rewardbench` "
                                          "on its default dataset")
        if not isinstance(extra, Mapping):
            raise RewardBenchResultsError(f"{flag}: extra_results is not an object of subset accuracies")
        return model, _v1(_accuracies(flag, extra, V1_SUBSETS), model_type)
    if "model_type" in data and set(V2_SUBSETS) & set(data):  # scripts/run_v2.py
        return model, _v2(_accuracies(flag, data, V2_SUBSETS), model_type)
    if "model_type" in data and set(V1_SUBSETS) & set(data):  # scripts/run_rm.py
        return model, _v1(_accuracies(flag, data, V1_SUBSETS), model_type)
    raise RewardBenchResultsError(f"{flag}: not a RewardBench results file; expected {EXPECTED}")


def load_user_results(*paths: str | Path) -> RewardBenchEntry:
    """One self-reported entry from one file per RewardBench version (v1, v2 or both): scores, never a rank."""
    found: dict[str, VersionResult] = {}
    names: list[str] = []
    for path in paths:
        model, result = read_one(path)
        if result.version in found:
            raise RewardBenchResultsError(f"--rewardbench-results {Path(path).name}: a second RewardBench "
                                          f"{result.version} file; give at most one file per version")
        found[result.version] = result
        names.append(model or Path(path).stem)
    return RewardBenchEntry(names[0], found.get("v1"), found.get("v2"),
                            source="self-reported: " + ", ".join(Path(p).name for p in paths), date=None,
                            self_reported=True)
