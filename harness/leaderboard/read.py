"""Reading what the board shows: the latest audit of every model (through the results layout's one reader, which
binds each document to its folder), the maintainer's trust record about each audit's exact bytes, and the
cross-model comparison computed from trusted audits only. Nothing here renders; nothing here reads a submitted
`_compare/`."""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.report.model_view import published, sanity_lines
from harness.results.attest import record_of
from harness.results.layout import Audit, Layout
from harness.results.trust import TrustStore

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
    trust: dict[str, Any] | None = None  # the maintainer's record about these exact bytes (verified / computed)

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


def read_models(results_dir: str | Path, trust: TrustStore | None = None) -> tuple[list[ModelEntry], list[str]]:
    """The newest readable audit of every model in `results_dir` (a trusted revision before an untrusted one),
    each with the trust record about its bytes, and one message per audit left out."""
    layout = Layout(results_dir)
    entries, used = [], set()
    audits, problems = layout.survey()
    for msg in problems:
        warn(msg)
    records: dict[Path, dict | None] = {}

    def record(a: Audit) -> dict | None:
        if a.path not in records:
            try:
                records[a.path] = record_of(trust, a)
            except OSError:
                records[a.path] = None
        return records[a.path]

    for audit in layout.latest_audits(prefer=record, audits=audits):
        doc = audit.doc
        rec = record(audit)
        failed = trust.record(audit.digest) if trust is not None and rec is None else None
        if failed is not None and failed.get("status") == "mismatch":
            msg = (f"{layout.relative(audit.folder)}: left off the board: `rm-harness verify` found it does not match "
                   f"what its tables and model give ({'; '.join(map(str, failed.get('problems') or []))[:300]})")
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
        model = audit.model
        entries.append(ModelEntry(audit, doc, audit.display_id, audit.kind, str(model.get("origin") or "hub"),
                                  published(doc), _slug(audit, used), trust=rec))
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


def parse_compare(doc: dict[str, Any], folder: Path) -> CompareReport:
    """A comparison document split into per-model blocks (for the model rows) and the whole comparison."""
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
    return CompareReport(folder, doc, models, per_model, overall)


def trusted_comparison(entries: list[ModelEntry], out_dir: Path) -> CompareReport | None:
    """The between-model tasks over the trusted entries' bound tables (figures into `out_dir`); None with fewer
    than two trusted models or when no between-model task could run. Untrusted audits never enter."""
    import time

    from harness.results import document
    from harness.tasks.discovery import discover
    from harness.tasks.stored import compare_audits

    trusted = [e for e in entries if e.trust is not None]
    if len(trusted) < 2:
        return None
    t0 = time.perf_counter()
    specs = [s for s in discover([]).values() if s.scope == "models"]
    outcome = compare_audits([e.audit for e in trusted], specs, out_dir)
    if not outcome.blocks:
        for task, why in outcome.skipped.items():
            log.info("board comparison: %s skipped: %s", task, why)
        return None
    ids = [e.model_id for e in trusted]
    doc = document.jsonable(document.document({"id": "comparison of " + ", ".join(ids), "models": ids,
                                               "scorer": "mixed"}, outcome.blocks, outcome.versions,
                                              outcome.configs, time.perf_counter() - t0, skipped=outcome.skipped))
    return parse_compare(doc, out_dir)
