"""Export one model's results.json in lm-evaluation-harness's results layout (`rm-harness export --format lm-eval`).

lm-eval writes `{"results": {task: {"alias": task, "<metric>,<filter>": value}}, "versions", "configs", "config",
"n-shot", "higher_is_better", "git_hash", "date", ...}`. Our metrics have no filters, so every key gets lm-eval's
`,none`; a metric that could not be computed is "N/A" (lm-eval's spelling for a missing value), never 0. Tasks are
zero-shot. Reads both the original results.json and the layout with `settings`/`computed`/`provenance` blocks.
"""

from __future__ import annotations

import copy
import re
from datetime import datetime, timezone
from typing import Any

FILTER = "none"  # lm-eval's filter name when no filter pipeline ran
MISSING = "N/A"
_INT_RE = re.compile(r"^[+-]?\d+$")


def _version_number(written: Any) -> Any:
    """A version as lm-eval stores it (a number), keeping the written type: "1" -> 1, "1.0" -> 1.0."""
    if isinstance(written, (int, float)) or written is None:
        return written
    text = str(written).strip()
    try:
        return int(text) if _INT_RE.match(text) else float(text)
    except ValueError:
        return text  # not a number: keep it as written rather than guess


def _timestamp(doc: dict) -> float | None:
    """lm-eval's `date` is a Unix time; ours is an ISO-8601 UTC string."""
    stamps = [doc.get("created")] + [(b.get("computed") or {}).get("at") for b in doc.get("results", {}).values()]
    for stamp in stamps:
        if isinstance(stamp, str) and stamp:
            moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
            return moment.timestamp()
    return None


def _metric_value(metric: Any) -> Any:
    value = metric.get("value") if isinstance(metric, dict) else metric
    return MISSING if value is None else value


def _model_config(doc: dict) -> dict[str, Any]:
    model = doc.get("model") or {}
    settings = [b.get("settings") or {} for b in doc.get("results", {}).values()]
    limits = [s["limit"] for s in settings if s.get("limit") is not None]
    args = {
        "pretrained": model.get("source") or model.get("id"),
        "revision": model.get("revision"),
        "dtype": model.get("dtype"),
        "scorer": model.get("scorer") or model.get("kind"),
        "trust_remote_code": model.get("trust_remote_code"),
    }
    return {
        "model": "rm-harness",
        "model_args": ",".join(f"{k}={v}" for k, v in args.items() if v is not None),
        "model_name": model.get("id"),
        "model_revision": model.get("revision"),
        "batch_size": model.get("batch_size"),
        "device": model.get("device"),
        "limit": max(limits) if limits else None,
    }


def to_lm_eval(doc: dict) -> dict:
    """Our results.json document → lm-eval's results layout (a new dict; `doc` is not changed)."""
    results: dict[str, dict[str, Any]] = {}
    higher: dict[str, dict[str, bool | None]] = {}
    versions: dict[str, Any] = {}
    for task, block in doc.get("results", {}).items():
        metrics = block.get("metrics") or {}
        results[task] = {"alias": task, **{f"{name},{FILTER}": _metric_value(m) for name, m in metrics.items()}}
        higher[task] = {name: m.get("higher_is_better") if isinstance(m, dict) else None
                        for name, m in metrics.items()}
        written = (block.get("settings") or {}).get("task_version", (doc.get("versions") or {}).get(task))
        versions[task] = _version_number(written)
    provenance = doc.get("provenance") or {}
    environment = doc.get("environment") or {}
    return {
        "results": results,
        "versions": versions,
        "configs": {t: copy.deepcopy((doc.get("configs") or {}).get(t, {"task": t})) for t in results},
        "config": _model_config(doc),
        "n-shot": {t: 0 for t in results},
        "higher_is_better": higher,
        "git_hash": provenance.get("git_commit") or environment.get("git_commit"),
        "date": _timestamp(doc),
        "model_name": (doc.get("model") or {}).get("id"),
        "transformers_version": provenance.get("transformers") or environment.get("transformers"),
        "rm_harness_version": provenance.get("harness_version") or doc.get("harness_version"),
    }
