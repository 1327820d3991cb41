"""Reading what the board shows: the latest audit of every model (through the results layout), and the
cross-model comparison report. Nothing here renders."""

from __future__ import annotations

import json
import logging
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.report.model_view import published, sanity_lines
from harness.results.layout import Audit, Layout

log = logging.getLogger(__name__)


class LeaderboardWarning(UserWarning):
    """A results file (or the comparison report) was skipped or is partly unreadable."""


def warn(msg: str) -> None:
    log.warning(msg)
    warnings.warn(msg, LeaderboardWarning, stacklevel=3)


@dataclass
class ModelEntry:
    """One model on the board: its newest audit, the blocks the board may show, and where its page goes."""

    audit: Audit
    doc: dict[str, Any]
    model_id: str
    kind: str
    origin: str
    results: dict[str, dict]
    slug: str
    compare_blocks: dict[str, dict] = field(default_factory=dict)  # task -> {metrics, settings} for this model
    rewardbench: dict[str, Any] | None = None

    @property
    def model(self) -> dict[str, Any]:
        m = self.doc.get("model")
        return m if isinstance(m, dict) else {}


def _slug(audit: Audit, used: set[str]) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", audit.slug).lstrip(".-") or "model"
    base, i = slug, 2
    while slug.lower() in used:
        slug, i = f"{base}-{i}", i + 1
    used.add(slug.lower())
    return slug


def read_models(results_dir: str | Path) -> tuple[list[ModelEntry], list[str]]:
    """The newest readable audit of every model in `results_dir`, and one message per audit left out."""
    layout = Layout(results_dir)
    entries, problems, used = [], [], set()
    for audit in layout.latest_audits():
        doc = audit.doc
        model = doc.get("model") if isinstance(doc.get("model"), dict) else {}
        mid = str(model.get("id") or "").strip()
        if not mid:
            msg = f"{audit.path}: skipped: model.id is missing"
            warn(msg)
            problems.append(msg)
            continue
        sanity = doc.get("sanity") if isinstance(doc.get("sanity"), dict) else {}
        if sanity.get("publish") is False:
            msg = (f"{audit.path}: left off the board: the scorer failed its sanity check "
                   f"({sanity_lines(sanity)[0].removeprefix('FAILED: ')}); check --output-field/--output-index and "
                   "the template, or resubmit with --allow-failed-sanity")
            warn(msg)
            problems.append(msg)
            continue
        entries.append(ModelEntry(audit, doc, mid, str(model.get("scorer") or "reward"),
                                  str(model.get("origin") or "hub"), published(doc), _slug(audit, used)))
    return entries, problems


@dataclass
class CompareReport:
    folder: Path
    doc: dict[str, Any]
    models: list[str]
    per_model: dict[str, dict[str, dict]]  # model id -> task -> {metrics, settings}
    overall: dict[str, dict]  # task -> {metrics, settings} of the whole comparison


def split_model_key(key: str, models: list[str]) -> tuple[str, str, str] | None:
    """`<prompt>/<model id>/<name>` -> (model id, prompt, name) for one of `models` (longest id first)."""
    for m in sorted(models, key=len, reverse=True):
        i = key.find(f"/{m}/")
        if i > 0:
            return m, key[:i], key[i + len(m) + 2:]
    return None


def read_compare(folder: str | Path) -> CompareReport | None:
    """The comparison report in `folder` (None when there is none); unreadable parts are warned about."""
    root = Path(folder)
    cj = root / "compare.json"
    if not cj.is_file():
        return None
    try:
        doc = json.loads(cj.read_text(encoding="utf-8"))
        if not isinstance(doc, dict):
            raise TypeError("not a JSON object")
    except (OSError, ValueError, TypeError) as exc:
        warn(f"{cj}: unreadable ({type(exc).__name__}: {exc}); no comparison shown")
        return None
    model = doc.get("model") if isinstance(doc.get("model"), dict) else {}
    listed = model.get("models", doc.get("models"))
    models = [m for m in listed if isinstance(m, str) and m] if isinstance(listed, list) else []
    per_model: dict[str, dict[str, dict]] = {}
    overall: dict[str, dict] = {}
    for task, block in published(doc).items():
        metrics = block.get("metrics") if isinstance(block.get("metrics"), Mapping) else {}
        settings = block.get("settings") or {}
        for key, raw in metrics.items():
            hit = split_model_key(str(key), models)
            if hit is None:
                overall.setdefault(task, {"metrics": {}, "settings": settings})["metrics"][key] = raw
            else:
                mid, prompt, name = hit
                per_model.setdefault(mid, {}).setdefault(task, {"metrics": {}, "settings": settings})[
                    "metrics"][f"{prompt}/{name}"] = raw
    return CompareReport(root, doc, models, per_model, overall)
