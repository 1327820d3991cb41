"""`--rewardbench-results`: read the user's own RewardBench files up front, and attach them to an audit.

The files are read with the other cheap checks, before any model is resolved or loaded, so a wrong file costs
nothing. On a model revision that is already audited, the self-report is attached to its results.json without
scoring anything again; the audit's trust record is renewed when the document was trusted before (the change
touches only the model block's `rewardbench_self_reported`, which the board shows as self-reported, never ranked).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

FIELD = "rewardbench_self_reported"


def read_self_report(paths: Sequence[str] | None) -> dict[str, Any] | None:
    """The self-reported entry as stored in results.json, or None without files; refuses bad files in one line."""
    if not paths:
        return None
    from harness.leaderboard.rewardbench_files import load_user_results

    return load_user_results(*paths).to_json()


def attach(results_path: Path, entry: dict[str, Any], trust=None) -> None:
    """Write `entry` into the audit's model block (under the merge lock) and rewrite its report."""
    from harness.errors import UserError
    from harness.report.html import write_report
    from harness.results import document
    from harness.io.atomic import atomic_write_json
    from harness.results.attest import record_computed, record_of
    from harness.results.audit import open_audit

    prior = None
    if trust is not None:
        try:
            prior = record_of(trust, open_audit(results_path))
        except UserError:
            prior = None
    with document.locked(results_path):
        doc = document.read(results_path) or {}
        doc["model"] = {**doc.get("model", {}), FIELD: entry}
        atomic_write_json(results_path, document.jsonable(doc))
    record = record_computed(trust, open_audit(results_path), prior, True) if trust is not None else None
    write_report(doc, results_path.parent, trust=record)
