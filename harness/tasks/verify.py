"""Verify an audit: reload the model at the recorded revision, rescore a seeded sample of every score table with
plain full forwards (the independent path), check each table's checksum, and record verified / mismatch.

The board marks verified rows; without this, a self-submitted row is only as good as its submitter's machine.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import UserError


class VerifyError(UserError, ValueError):
    """The audit cannot be verified as named (no results, an unreadable record)."""


@dataclass
class TableCheck:
    table: str
    n_checked: int
    max_abs_diff: float
    tolerance: float
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.max_abs_diff <= self.tolerance


@dataclass
class Verification:
    status: str  # verified | mismatch
    tables: list[TableCheck]
    problems: list[str]

    def to_json(self) -> dict[str, Any]:
        from harness.results.document import utc_now

        return {"status": self.status, "at": utc_now(), "problems": self.problems,
                "tables": [{**t.__dict__, "ok": t.ok} for t in self.tables]}


def results_path_of(target: str | Path) -> Path:
    """A results.json, its folder, or a submission record (whose results_path is followed)."""
    p = Path(target)
    if p.is_dir():
        p = p / "results.json"
    if not p.is_file():
        raise VerifyError(f"{target}: no results.json or submission record there")
    doc = json.loads(p.read_text())
    if "results_path" in doc and "status" in doc:  # a submission record
        out = p.parents[3] / doc["results_path"] if not Path(doc["results_path"]).is_absolute() \
            else Path(doc["results_path"])
        if not out.is_file():
            raise VerifyError(f"{target}: the record's results {out} do not exist")
        return out
    return p


def ref_from_results(doc: dict[str, Any], device: str = "auto"):
    """The ModelRef the results were computed with (the Hub is asked for the recorded revision)."""
    from harness.models.identity import resolve_model_ref

    m = doc["model"]
    source = m.get("source") or m["id"]
    origin = m.get("origin", "hub")
    demo = {"demo:gemma-3-270m-lm": "lm"}.get(m["id"], "rm")
    return resolve_model_ref(
        None if origin == "demo" else source, revision=m.get("revision") if origin == "hub" else None,
        dtype=m.get("dtype"), device=device, scorer=m.get("scorer"), trust_remote_code=m.get("trust_remote_code"),
        registry_entry=m.get("registry_entry") if origin != "hub" else None,
        pretrained=m.get("prompt_format") == "plain", demo=demo,
    )


def _tolerance(dtype: str, spread: float) -> float:
    return max(1e-4, 1e-3 * spread) if dtype == "float32" else max(1e-2, 3e-2 * spread)


def _reply_ids(row, vocabulary: bool) -> list[int]:
    """A vocabulary row is its token id; an item row keeps its token ids, space-separated, in `token`."""
    return [int(row["id"])] if vocabulary else [int(t) for t in str(row["token"]).split()]


def check_table(scorer, table_dir: Path, n: int, seed: int) -> TableCheck:
    from harness.scoring.parity import plain_scores

    meta = json.loads((table_dir / "meta.json").read_text())
    path = table_dir / "table.parquet"
    problems = []
    expected = meta.get("sha256")
    if expected and hashlib.sha256(path.read_bytes()).hexdigest() != expected:
        problems.append("table checksum differs from meta.json")
    import pandas as pd

    df = pd.read_parquet(path)
    split = scorer.split(meta["prompt"])
    if list(split.prefix_ids) != meta.get("prefix_ids") or list(split.suffix_ids) != meta.get("suffix_ids"):
        problems.append("the template gives different prefix/suffix ids than the audit recorded")
    finite = df[df["finite"]]
    rng = np.random.default_rng(seed)
    rows = finite.iloc[np.sort(rng.choice(len(finite), size=min(n, len(finite)), replace=False))]
    stored = rows["score"].to_numpy(dtype=float)
    fresh = plain_scores(scorer, split, [_reply_ids(r, meta.get("response_set") == "vocabulary") for _, r in rows.iterrows()])
    diff = float(np.max(np.abs(stored - fresh))) if len(rows) else 0.0
    spread = float(np.std(finite["score"])) if len(finite) > 1 else 1.0
    return TableCheck(table_dir.name, len(rows), diff, _tolerance(meta.get("dtype", "float32"), spread), problems)


def verify(target: str | Path, *, n: int = 32, seed: int = 0, device: str = "auto") -> tuple[Path, Verification]:
    """Rescore `n` seeded rows of each table of the audit at `target`; record the outcome in its results.json."""
    from harness.models.loading import load_ref
    from harness.results.document import update_fields

    path = results_path_of(target)
    doc = json.loads(path.read_text())
    problems = []
    ref = ref_from_results(doc, device=device)
    if ref.revision != doc["model"].get("revision"):
        problems.append(f"the model's revision is now {ref.revision}, not the recorded "
                        f"{doc['model'].get('revision')} (its weights changed)")
    scorer = load_ref(ref)
    scorer.ref = ref
    tables = sorted(p.parent for p in (path.parent / "tables").glob("*/meta.json"))
    checks = [check_table(scorer, t, n, seed) for t in tables] if not problems else []
    if not tables:
        problems.append("no score tables to rescore")
    ok = not problems and all(c.ok for c in checks)
    result = Verification("verified" if ok else "mismatch", checks, problems)
    update_fields(path, verification=result.to_json())
    return path, result
