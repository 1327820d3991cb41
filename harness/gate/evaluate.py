"""Judge one audit against a policy: resolve each check to the stored numbers, apply its rule, say why.

Outcomes per value: `pass`, `fail`, `inconclusive` (an interval rule whose interval straddles a threshold; the
check says whether that passes) and `missing` (task absent, skipped, partial, computed with --limit or on a subset,
or the metric not computed; fails unless the check sets allow_missing). A check passes when every value it covers
passes. Names are resolved strictly: an unknown task, metric or board column, or an interval rule on a metric
without a declared interval, is a PolicyError (exit 2) listing the close names.

Intervals come from the audit (`headline.yaml` declares which metric holds which interval). An interval rule over
several values (several prompts, or a `*` segment such as every identity axis) judges them as one family, so the
chance that any of its intervals misses its true value stays at the stored intervals' nominal rate: Bonferroni
intervals at level 1 - alpha/k, recomputed from the stored data by the analysis's own method (`family_interval`).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from harness.gate.family import family_interval, has_family_interval
from harness.gate.policy_spec import SANITY_TASK, Check, Policy, PolicyError
from harness.gate.rules import FAIL, INCONCLUSIVE, MISSING, PASS, Row, judge  # noqa: F401 (re-exported)
from harness.report.headline import load_headlines, metric_value
from harness.report.text import safe_text
from harness.results.audit import Audit

@dataclass
class CheckResult:
    check: Check
    rows: list[Row] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.rows)

    def failure_message(self) -> str:
        bad = [r for r in self.rows if not r.passed]
        return "; ".join(f"{r.metric} ({r.prompt}) = {r.value_text()}: {r.outcome()}, {r.reason}" for r in bad)


@dataclass
class GateResult:
    policy: Policy
    audit: Audit
    checks: list[CheckResult]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def n_failed(self) -> int:
        return sum(not c.passed for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {"policy": self.policy.name, "passed": self.passed, "model": self.audit.display_id,
                "revision": self.audit.revision,
                "checks": [{"name": c.check.name, "passed": c.passed,
                            "rows": [{"metric": r.metric, "prompt": r.prompt, "value": r.value,
                                      "interval": list(r.interval) if r.interval else None, "status": r.status,
                                      "outcome": r.outcome(), "reason": r.reason} for r in c.rows]}
                           for c in self.checks]}


# ------------------------------------------------------------------------------------------------ names


@lru_cache(maxsize=1)
def _builtin_metrics() -> dict[str, frozenset[str]]:
    """Built-in task -> the metric names its analysis declares (or its metric_list)."""
    from harness.tasks.catalog import declared_metrics
    from harness.tasks.discovery import discover

    out: dict[str, frozenset[str]] = {}
    for name, spec in discover().items():
        names = set(spec.metric_list)
        try:
            names |= set(declared_metrics(spec.analysis_name) or {})
        except Exception:  # noqa: BLE001 - a model-level task has no analysis callable: its metric_list stands
            pass
        out[name] = frozenset(names)
    return out


def _close(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, sorted(set(choices)), n=5, cutoff=0.6)
    return f"; did you mean {', '.join(close)}?" if close else ""


def _audit_tasks(audit: Audit) -> set[str]:
    doc = audit.doc
    out = set(audit.blocks())
    for key in ("skipped", "partial_results"):
        if isinstance(doc.get(key), dict):
            out |= {str(k) for k in doc[key]}
    return out


def _suffixes(block: Mapping[str, Any] | None, prompts: list[str]) -> set[str]:
    """Every metric key of a block with its prompt cut off."""
    keys = (block or {}).get("metrics") or {}
    out = set()
    for k in keys if isinstance(keys, dict) else ():
        for p in prompts:
            if isinstance(k, str) and k.startswith(p + "/"):
                out.add(k[len(p) + 1:])
    return out


def _resolve_column(check: Check, where: str) -> tuple[str, str, tuple[str, ...] | None, Any]:
    heads = {h.id: h for h in load_headlines()}
    h = heads.get(check.column or "")
    if h is None:
        raise PolicyError(where, f"checks[{check.name}].column",
                          f"unknown board column {check.column!r} (columns: {', '.join(heads)})"
                          f"{_close(check.column or '', heads)}")
    if h.source != "results":
        raise PolicyError(where, f"checks[{check.name}].column", f"{h.id} comes from the comparison of several "
                                                                 "models, not from one audit: the gate cannot judge it")
    prompts = check.prompts if check.prompts is not None or h.per_prompt else (h.prompt,)
    return h.task, h.metric, prompts, h


def interval_keys(task: str, metric: str) -> tuple[str, str] | None:
    """The (low, high) metric names of the interval declared for `metric` of `task` (headline.yaml), if any."""
    last = metric.rsplit("/", 1)[-1]
    for h in load_headlines():
        if h.task == task and h.metric == last and h.ci:
            return h.ci
    return None


def _prompts(audit: Audit, task: str, block: Mapping[str, Any]) -> list[str]:
    """The prompt keys the audit ran for `task` (its config), else the first segments of its metric keys."""
    cfg = audit.doc.get("configs", {}).get(task) if isinstance(audit.doc.get("configs"), dict) else None
    texts = cfg.get("prompts") if isinstance(cfg, dict) else None
    if isinstance(texts, dict) and texts:
        return [str(k) for k in texts]
    keys = block.get("metrics") if isinstance(block.get("metrics"), dict) else {}
    return sorted({str(k).split("/", 1)[0] for k in keys if "/" in str(k)})


def _missing_block_reason(audit: Audit, task: str) -> str:
    skipped = audit.doc.get("skipped")
    if isinstance(skipped, dict) and task in skipped:
        return f"task {task} was skipped: {safe_text(skipped[task])[:300]}"
    partial = audit.doc.get("partial_results")
    if isinstance(partial, dict) and task in partial:
        return f"task {task} has only a partial run (--limit or a vocabulary subset), which is never judged"
    return f"task {task} was not run in this audit"


def _partial_reason(block: Mapping[str, Any]) -> str | None:
    s = block.get("settings") if isinstance(block.get("settings"), dict) else {}
    if s.get("limit") is not None:
        return f"computed with --limit {safe_text(s.get('limit'))[:40]} (a smoke run), never judged"
    if s.get("subset"):
        return f"computed on a vocabulary subset ({safe_text(s.get('subset'))[:80]}), not the whole vocabulary"
    return None


# ------------------------------------------------------------------------------------------------ evaluation


def _sanity_rows(audit: Audit, check: Check, policy: Policy) -> list[Row]:
    from harness.models.sanity import Proportion, binomial_rule, pairs_sha256

    metric = f"{SANITY_TASK}/accuracy"

    def row(value, interval, status, reason, note="") -> Row:
        return Row(check, metric, "pairs", value, interval, note, status, reason)

    block = audit.doc.get("sanity")
    if not isinstance(block, dict):
        return [row(None, None, MISSING, "no sanity result: an audit made by `rm-harness run` has none; "
                                         "`python submit.py` runs the check (or set allow_missing)")]
    rule = block.get("rule") if isinstance(block.get("rule"), dict) else {}
    correct, n = rule.get("correct"), rule.get("n")
    if not (isinstance(correct, int) and isinstance(n, int) and not isinstance(correct, bool)
            and not isinstance(n, bool) and 0 <= correct <= n and 0 < n <= 100_000):
        return [row(None, None, MISSING, "the sanity block holds no counts of right pairs")]
    pairs = block.get("pairs") if isinstance(block.get("pairs"), dict) else {}
    if pairs.get("sha256") != pairs_sha256():
        return [row(correct / n, None, FAIL, "the sanity check was run on another pair set than this "
                                             "installation's (pairs sha256 differs): rerun it")]
    prop = Proportion(correct, n)
    interval = prop.ci  # recomputed from the counts (Clopper-Pearson), never read from the document
    if check.binomial_rule:
        need = binomial_rule(n).min_correct
        ok = correct >= need
        return [row(prop.accuracy, interval, PASS if ok else FAIL,
                    f"{correct} of {n} right, {need} needed by the binomial rule", "95% Clopper-Pearson")]
    status, reason = judge(prop.accuracy, interval, check)
    return [row(prop.accuracy, interval, status, f"{correct} of {n} right; {reason}", "95% Clopper-Pearson")]


def sanity_check_of(policy: Policy) -> Check | None:
    """The check `sanity_min` stands for (`rule`: the shipped binomial rule, marked by column="rule")."""
    if policy.sanity_min is None:
        return None
    if policy.sanity_min == "rule":
        return Check(name="sanity", task=SANITY_TASK, metric="accuracy", prompts=None, min=0.0, binomial_rule=True,
                     description="the scorer passes the shipped sanity rule")
    return Check(name="sanity", task=SANITY_TASK, metric="accuracy", prompts=None, min=float(policy.sanity_min),
                 description=f"scorer sanity accuracy at least {policy.sanity_min:g}")


def _key_pattern(prompt: str, metric: str) -> re.Pattern:
    parts = [re.escape(prompt)] + ["[^/]+" if p == "*" else re.escape(p) for p in metric.split("/")]
    return re.compile("^" + "/".join(parts) + "$")


def _check_rows(audit: Audit, check: Check, where: str) -> list[Row]:
    task, metric, prompts, head = (check.task, check.metric, check.prompts, None)
    if check.column is not None:
        task, metric, prompts, head = _resolve_column(check, where)
    assert task is not None and metric is not None
    builtin = _builtin_metrics()
    known_tasks = set(builtin) | _audit_tasks(audit) | {SANITY_TASK}
    if task not in known_tasks:
        raise PolicyError(where, f"checks[{check.name}].task", f"unknown task {task!r}{_close(task, known_tasks)}")
    block = audit.blocks().get(task)
    run_prompts = _prompts(audit, task, block) if block else []
    last = metric.rsplit("/", 1)[-1]
    names = set(builtin.get(task, ())) | {s.rsplit("/", 1)[-1] for s in _suffixes(block, run_prompts)}
    if names and last not in names:
        raise PolicyError(where, f"checks[{check.name}].metric", f"task {task} has no metric {last!r}"
                                                                 f"{_close(last, names)}")
    ci_keys = head.ci if head is not None and head.ci else interval_keys(task, metric)
    if check.needs_interval and ci_keys is None:
        raise PolicyError(where, f"checks[{check.name}].rule", f"rule {check.rule} needs an interval, and {task} "
                                                               f"{last} declares none: use rule: point")
    name = f"{task}/{metric}"
    if block is None:
        return [Row(check, name, ", ".join(prompts or ["all"]), None, None, "", MISSING,
                    _missing_block_reason(audit, task))]
    partial = _partial_reason(block)
    if partial:
        return [Row(check, name, ", ".join(prompts or ["all"]), None, None, "", MISSING, partial)]
    metrics = block.get("metrics") if isinstance(block.get("metrics"), dict) else {}
    members: list[tuple[str, str]] = []  # (prompt, key)
    rows: list[Row] = []
    for prompt in prompts if prompts is not None else run_prompts:
        if prompt not in run_prompts:
            rows.append(Row(check, name, prompt, None, None, "", MISSING, f"prompt {prompt} was not run for {task}"
                                                                          f" (run: {', '.join(run_prompts)})"))
            continue
        pattern = _key_pattern(prompt, metric)
        keys = sorted(k for k in metrics if isinstance(k, str) and pattern.match(k))
        if not keys:
            rows.append(Row(check, name, prompt, None, None, "", MISSING, "not reported"))
        members += [(prompt, k) for k in keys]
    k = len(members)
    family = check.needs_interval and k > 1
    if family and not has_family_interval(task, last):
        raise PolicyError(where, f"checks[{check.name}]", f"an interval rule over {k} values needs family-wise "
                                                          f"intervals, which {task} {last} cannot give from stored "
                                                          "numbers: name one prompt (and no `*`), or use rule: point")
    for prompt, key in members:
        shown = f"{task}/{key[len(prompt) + 1:]}"
        value, why = metric_value(block, key)
        interval, note = None, ""
        if value is not None and check.needs_interval and ci_keys is not None:
            base = key.rsplit("/", 1)[0]
            if family:
                fi = family_interval(task, last, block, key, k)
                if fi.problem:
                    rows.append(Row(check, shown, prompt, value, None, "", FAIL, fi.problem))
                    continue
                interval, note, withheld = fi.interval, fi.note, fi.reason
            else:
                lo, lo_why = metric_value(block, f"{base}/{ci_keys[0]}")
                hi, hi_why = metric_value(block, f"{base}/{ci_keys[1]}")
                ok = lo is not None and hi is not None and lo <= value <= hi
                interval = (lo, hi) if ok else None
                note, withheld = "stored interval", None if ok else (lo_why or hi_why or "not around the value")
            if interval is None:
                status, reason = judge(value, None, check)
                rows.append(Row(check, shown, prompt, value, None, note, status,
                                f"{reason} (no interval: {safe_text(withheld)[:200]})"))
                continue
        status, reason = judge(value, interval, check)
        if status == MISSING:
            reason = safe_text(why)[:300]
        rows.append(Row(check, shown, prompt, value, interval, note, status,
                        reason + (f" ({note})" if note and family else "")))
    return rows


def evaluate(policy: Policy, audit: Audit, baseline: Audit | None = None) -> GateResult:
    """Judge `audit` by `policy` (PolicyError when the policy does not apply or names what does not exist);
    `worsens_by` checks against `baseline` (harness/gate/baseline.py)."""
    where = policy.files[-1] if policy.files else policy.source
    if audit.kind not in policy.scorers:
        raise PolicyError(where, "scorers", f"this policy gates {', '.join(policy.scorers)} scorers; "
                                            f"{audit.display_id} is a {audit.kind} audit: use a policy for that kind")
    results = []
    sanity = sanity_check_of(policy)
    if sanity is not None:
        results.append(CheckResult(sanity, _sanity_rows(audit, sanity, policy)))
    diff: list = []  # computed once, when a baseline rule asks
    for check in policy.checks:
        if check.worsens_by is not None:
            from harness.gate.baseline import baseline_diff, baseline_rows

            if not diff:
                diff.append(baseline_diff(baseline, audit))
            results.append(CheckResult(check, baseline_rows(check, diff[0], where)))
            continue
        if check.task == SANITY_TASK:
            if check.metric != "accuracy":
                raise PolicyError(where, f"checks[{check.name}].metric", "the sanity pseudo-task has one metric: "
                                                                         f"accuracy{_close(check.metric or '', ['accuracy'])}")
            results.append(CheckResult(check, _sanity_rows(audit, check, policy)))
            continue
        results.append(CheckResult(check, _check_rows(audit, check, where)))
    return GateResult(policy, audit, results)


def table(result: GateResult) -> str:
    """The outcome as a text table (tabulate): one row per judged value."""
    from tabulate import tabulate

    rows = []
    for c in result.checks:
        for r in c.rows:
            rows.append([c.check.name, safe_text(r.metric), safe_text(r.prompt), r.value_text(), c.check.rule,
                         "binomial rule" if c.check.binomial_rule else c.check.rule_text(),
                         f"{r.outcome()}: {safe_text(r.reason)}"])
    return tabulate(rows, headers=["check", "metric", "prompt", "value [CI]", "rule", "threshold", "outcome"])
