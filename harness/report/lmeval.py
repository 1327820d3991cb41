"""Export one model's results.json in lm-evaluation-harness's results layout (`rm-harness export --format lm-eval`).

lm-eval writes `{"results": {task: {"alias": task, "<metric>,<filter>": value}}, "versions", "configs", "config",
"n-shot", "higher_is_better", "git_hash", "date", ...}`. Our metrics have no filters, so every key gets lm-eval's
`,none`. Every value where lm-eval has a number is a finite number or null, never NaN, Infinity or a string, so
the file is strict JSON: a metric that could not be computed (or a value in results.json that is not a finite
number) is null, and why is said under `missing_reasons` (task -> key -> reason), never 0. Tasks are zero-shot.
Reads both the original results.json and the layout with `settings`/`computed`/`provenance` blocks; results.json
is untrusted, so every value is checked for its type.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from typing import Any

from harness.report.text import finite_json

FILTER = "none"  # lm-eval's filter name when no filter pipeline ran
_INT_RE = re.compile(r"^[+-]?\d+$")


def _number(value: Any) -> tuple[int | float | None, str | None]:
    """(a finite number, None) or (None, why it is not one)."""
    if isinstance(value, bool) or value is None:
        return None, "not computed" if value is None else f"not a number ({value!r})"
    if isinstance(value, (int, float)):
        return (value, None) if math.isfinite(value) else (None, f"not finite ({value!r})")
    return None, f"not a number ({type(value).__name__} {str(value)[:40]!r})"


def _version_number(written: Any) -> tuple[int | float | None, str | None]:
    """A version as lm-eval stores it (a number), keeping the written type: "1" -> 1, "1.0" -> 1.0."""
    if isinstance(written, str):
        text = written.strip()
        try:
            written = int(text) if _INT_RE.match(text) else float(text)
        except ValueError:
            return None, f"task version {text[:40]!r} is not a number"
    return _number(written) if written is not None else (None, "no task version recorded")


def _timestamp(doc: dict) -> float | None:
    """lm-eval's `date` is a Unix time; ours is an ISO-8601 UTC string (a malformed one is skipped)."""
    results = doc.get("results") if isinstance(doc.get("results"), dict) else {}
    stamps = [doc.get("created")] + [(b.get("computed") or {}).get("at") if isinstance(b, dict) and
                                     isinstance(b.get("computed"), dict) else None for b in results.values()]
    for stamp in stamps:
        if isinstance(stamp, str) and stamp:
            try:
                moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            except ValueError:
                continue
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
            return moment.timestamp()
    return None


def _metric_value(metric: Any) -> tuple[int | float | None, str | None]:
    value = metric.get("value") if isinstance(metric, dict) else metric
    number, why = _number(value)
    if number is None and value is None and isinstance(metric, dict) and isinstance(metric.get("missing_reason"), str):
        why = metric["missing_reason"]
    return number, why


def _model_config(doc: dict) -> dict[str, Any]:
    model = doc.get("model") if isinstance(doc.get("model"), dict) else {}
    blocks = doc.get("results") if isinstance(doc.get("results"), dict) else {}
    settings = [b.get("settings") for b in blocks.values() if isinstance(b, dict)]
    limits = [s["limit"] for s in settings if isinstance(s, dict) and _number(s.get("limit"))[0] is not None]
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
    reasons: dict[str, dict[str, str]] = {}
    blocks = doc.get("results") if isinstance(doc.get("results"), dict) else {}
    top_versions = doc.get("versions") if isinstance(doc.get("versions"), dict) else {}
    for task, block in blocks.items():
        block = block if isinstance(block, dict) else {}
        metrics = block.get("metrics") if isinstance(block.get("metrics"), dict) else {}
        results[task] = {"alias": task}
        for name, m in metrics.items():
            value, why = _metric_value(m)
            results[task][f"{name},{FILTER}"] = value
            if why is not None:
                reasons.setdefault(task, {})[f"{name},{FILTER}"] = why
        higher[task] = {name: m.get("higher_is_better") if isinstance(m, dict) and
                        isinstance(m.get("higher_is_better"), bool) else None for name, m in metrics.items()}
        settings = block.get("settings") if isinstance(block.get("settings"), dict) else {}
        versions[task], why = _version_number(settings.get("task_version", top_versions.get(task)))
        if why is not None:
            reasons.setdefault(task, {})["version"] = why
    provenance = doc.get("provenance") if isinstance(doc.get("provenance"), dict) else {}
    environment = doc.get("environment") if isinstance(doc.get("environment"), dict) else {}
    configs = doc.get("configs") if isinstance(doc.get("configs"), dict) else {}
    model = doc.get("model") if isinstance(doc.get("model"), dict) else {}
    return finite_json({  # every other value copied from results.json, made strict JSON too
        "results": results,
        "versions": versions,
        "configs": {t: finite_json(configs.get(t, {"task": t})) for t in results},  # copies, strict JSON
        "config": _model_config(doc),
        "n-shot": {t: 0 for t in results},
        "higher_is_better": higher,
        "missing_reasons": reasons,
        "git_hash": provenance.get("git_commit") or environment.get("git_commit"),
        "date": _timestamp(doc),
        "model_name": model.get("id"),
        "transformers_version": provenance.get("transformers") or environment.get("transformers"),
        "rm_harness_version": provenance.get("harness_version") or doc.get("harness_version"),
    })
