"""Baseline rules (`worsens_by`): judge the change of a headline metric from a baseline audit on the interval of
that change (harness/diff), with the gate's own outcomes.

The worsening is the change in the bad direction (`better: higher` → A − B, `lower` → B − A; default: the board
column's direction). The check fails when the whole worsening interval exceeds the tolerance, passes when the
whole interval is within it, and is `inconclusive` when it straddles the tolerance (passing under `ci`, failing
under `strict`); a `point` rule judges the point change. Only metrics whose change has a resampling unit can be
judged this way (harness/diff/audits.RESAMPLED); another is a PolicyError.
"""

from __future__ import annotations

from typing import Any

from harness.gate.rules import MISSING, Row, judge
from harness.gate.policy_spec import Check, PolicyError
from harness.results.audit import Audit


def _column(check: Check, where: str) -> tuple[str, str]:
    from harness.diff.audits import RESAMPLED
    from harness.report.headline import load_headlines

    by_id = {col: task for task, col in RESAMPLED.items()}
    col = check.column
    if col is None:  # task/metric naming: the headline column of that task
        col = RESAMPLED.get(check.task or "")
    if col not in by_id:
        raise PolicyError(where, f"checks[{check.name}].worsens_by", "a baseline rule needs a metric whose change "
                          f"has an interval: one of the columns {', '.join(by_id)}")
    better = check.better or next((h.direction for h in load_headlines() if h.id == col), "none")
    if better not in ("higher", "lower"):
        raise PolicyError(where, f"checks[{check.name}].better", f"{col} has no better direction on the board: "
                                                                 "say `better: higher` or `better: lower`")
    return col, better


def baseline_rows(check: Check, diff: dict[str, Any] | None, where: str) -> list[Row]:
    """One row per prompt the check covers, judged on the worsening interval."""
    from harness.diff.audits import RESAMPLED

    col, better = _column(check, where)
    task = next(t for t, c in RESAMPLED.items() if c == col)
    name = f"{task}/{col} change"
    if diff is None:
        return [Row(check, name, "all", None, None, "", MISSING, "no baseline audit")]
    prompts = diff["tasks"].get(task)
    if not prompts:
        why = diff["skipped"].get(task, f"task {task} was not run in both audits")
        return [Row(check, name, "all", None, None, "", MISSING, why)]
    rows = []
    tol = Check(name=check.name, task=task, metric=col, prompts=None, max=check.worsens_by, rule=check.rule,
                inconclusive_passes=check.inconclusive_passes)
    for prompt in check.prompts if check.prompts is not None else list(prompts):
        entry = prompts.get(prompt)
        delta = next((m for m in (entry or {}).get("deltas", []) if m["metric"] == col), None)
        if delta is None or delta["delta"] is None:
            rows.append(Row(check, name, prompt, None, None, "", MISSING, (delta or {}).get("reason") or
                            f"prompt {prompt} not in both audits"))
            continue
        sign = -1.0 if better == "higher" else 1.0
        worse = sign * delta["delta"]
        interval = None
        if delta["ci_low"] is not None:
            interval = tuple(sorted((sign * delta["ci_low"], sign * delta["ci_high"])))
        if check.needs_interval and interval is None:
            rows.append(Row(check, name, prompt, worse, None, "", MISSING, f"no interval: {delta['reason']}"))
            continue
        status, reason = judge(worse, interval, tol)
        reason = reason.replace("maximum", "tolerated worsening")
        rows.append(Row(check, f"{name} (worsening, {better} is better)", prompt, worse, interval,
                        delta.get("method") or "", status, reason))
    return rows


def baseline_diff(baseline: Audit | None, audit: Audit) -> dict[str, Any] | None:
    from harness.diff.audits import diff_audits

    return None if baseline is None else diff_audits(baseline, audit, top_k=1)
