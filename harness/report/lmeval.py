"""Export one model's results.json in lm-evaluation-harness's results layout (`rm-harness export --format lm-eval`).

lm-eval writes `{"results": {task: {"alias": task, "<metric>,<filter>": value}}, "versions", "configs", "config",
"n-shot", "higher_is_better", "git_hash", "date", ...}`. Our metrics have no filters, so every key gets lm-eval's
`,none`. Every value where lm-eval has a number is a finite number or null, never NaN, Infinity or a string, so
the file is strict JSON: a metric that could not be computed (or a value in results.json that is not a finite
number) is null, and why is said under `missing_reasons` (task -> key -> reason), never 0. Tasks are zero-shot.
Reads both the original results.json and the layout with `settings`/`computed`/`provenance` blocks; results.json
is untrusted, so every value is checked for its type.

Made for lm-eval's own tooling (tested with lm-eval 0.4.13's `utils.make_table` and its W&B logger): a metric
with an interval in results.json gets lm-eval's `<metric>_stderr,none` entry (its `_se` metric where there is
one, else the interval's half-width over the normal quantile of its level: an approximation for an interval that
is not symmetric); a metric without one gets no stderr key at all (lm-eval's "N/A" string breaks its W&B
sanitiser under metric names holding `/`). A metric with no declared direction gets no `higher_is_better`
entry: none is invented. No value holds a local path (`data_paths.portable`), a user or a host name.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from typing import Any

from statistics import NormalDist

from harness.data_paths import portable
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
    # A local folder is named by its display id (`local:<folder>@<hash8>`), never by the path it was read from.
    source = model.get("source") if model.get("origin", "hub") == "hub" else None
    args = {
        "pretrained": source or model.get("id"),
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


def _z(config: Any) -> float:
    """The normal quantile of the task's interval level (`confidence_level` in its analysis args, else 95%)."""
    args = ((config or {}).get("analysis") or {}).get("args") if isinstance(config, dict) else None
    level = args.get("confidence_level") if isinstance(args, dict) else None
    if not isinstance(level, (int, float)) or isinstance(level, bool) or not 0 < level < 1:
        level = 0.95
    return NormalDist().inv_cdf(0.5 + level / 2)


def stderr_of(name: str, metrics: dict[str, Any], z: float) -> float | None:
    """A metric's standard error from results.json: its `_se` metric, else its interval's half-width / z."""
    prefix, _, stem = name.rpartition("/")
    prefix = prefix + "/" if prefix else ""
    for base in (stem, stem.removesuffix("_coef")):
        se = _metric_value(metrics.get(f"{prefix}{base}_se"))[0]
        if se is not None and se >= 0:
            return float(se)
    for base in (stem, stem.removesuffix("_coef"), stem.removeprefix("percentile_")):
        lo = _metric_value(metrics.get(f"{prefix}{base}_ci_low"))[0]
        hi = _metric_value(metrics.get(f"{prefix}{base}_ci_high"))[0]
        if lo is not None and hi is not None and hi >= lo:
            return (hi - lo) / (2 * z)
    return None


def _sanitized(model_id: Any) -> str | None:
    """lm-eval's `model_name_sanitized`: the name with `/` (and anything unsafe in a file name) as `__`."""
    return re.sub(r"[^A-Za-z0-9._-]+", "__", model_id) if isinstance(model_id, str) else None


def to_lm_eval(doc: dict) -> dict:
    """Our results.json document → lm-eval's results layout (a new dict; `doc` is not changed)."""
    results: dict[str, dict[str, Any]] = {}
    higher: dict[str, dict[str, bool]] = {}
    versions: dict[str, Any] = {}
    reasons: dict[str, dict[str, str]] = {}
    hashes: dict[str, Any] = {}
    blocks = doc.get("results") if isinstance(doc.get("results"), dict) else {}
    top_versions = doc.get("versions") if isinstance(doc.get("versions"), dict) else {}
    configs = doc.get("configs") if isinstance(doc.get("configs"), dict) else {}
    for task, block in blocks.items():
        block = block if isinstance(block, dict) else {}
        metrics = block.get("metrics") if isinstance(block.get("metrics"), dict) else {}
        z = _z(configs.get(task))
        results[task] = {"alias": task}
        for name, m in metrics.items():
            value, why = _metric_value(m)
            results[task][f"{name},{FILTER}"] = value
            if why is not None:
                reasons.setdefault(task, {})[f"{name},{FILTER}"] = why
            se = stderr_of(name, metrics, z) if value is not None else None
            if se is not None and math.isfinite(se):
                results[task][f"{name}_stderr,{FILTER}"] = se
        higher[task] = {name: m["higher_is_better"] for name, m in metrics.items()
                        if isinstance(m, dict) and isinstance(m.get("higher_is_better"), bool)}
        settings = block.get("settings") if isinstance(block.get("settings"), dict) else {}
        versions[task], why = _version_number(settings.get("task_version", top_versions.get(task)))
        if why is not None:
            reasons.setdefault(task, {})["version"] = why
        computed = block.get("computed") if isinstance(block.get("computed"), dict) else {}
        hashes[task] = computed.get("task_file_hash") if isinstance(computed.get("task_file_hash"), str) else None
    provenance = doc.get("provenance") if isinstance(doc.get("provenance"), dict) else {}
    environment = doc.get("environment") if isinstance(doc.get("environment"), dict) else {}
    model = doc.get("model") if isinstance(doc.get("model"), dict) else {}
    end = _timestamp(doc)
    wall = _number(doc.get("wall_time_s"))[0]
    template_sha = model.get("template_hash") if isinstance(model.get("template_hash"), str) and \
        re.fullmatch(r"[0-9a-f]{8,64}", model["template_hash"]) else None
    return portable(finite_json({  # every other value copied from results.json, made strict JSON too
        "results": results,
        "group_subtasks": {t: [] for t in results},  # our tasks are not lm-eval groups: each stands alone
        "configs": {t: finite_json(configs.get(t, {"task": t})) for t in results},  # copies, strict JSON
        "versions": versions,
        "n-shot": {t: 0 for t in results},
        "higher_is_better": higher,
        "n-samples": {t: {"original": None, "effective": None} for t in results},  # not recorded per task
        "config": _model_config(doc),
        "missing_reasons": reasons,
        "git_hash": provenance.get("git_commit") or environment.get("git_commit"),
        "date": end,
        "transformers_version": provenance.get("transformers") or environment.get("transformers"),
        "task_hashes": hashes,  # our task file's sha256 (lm-eval hashes its samples)
        "model_source": "rm-harness",
        "model_name": model.get("id"),
        "model_name_sanitized": _sanitized(model.get("id")),
        "chat_template": None,  # results.json keeps the template's hash, not its text
        "chat_template_sha": template_sha,  # sha256 of the template text, first 16 hex digits
        "start_time": end - wall if end is not None and wall is not None else None,
        "end_time": end,
        "total_evaluation_time_seconds": str(wall) if wall is not None else None,  # a string, as lm-eval writes
        "rm_harness_version": provenance.get("harness_version") or doc.get("harness_version"),
    }))
