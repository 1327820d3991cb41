"""The one loop shared by `run`, `analyse` and `compare`: tasks over score tables → results blocks → results.json
and report.

Callers differ only in where tables come from (a live scan, an audit folder on disk, many audit folders) and
whether a model is at hand for model-level tasks (GCG). Each task is skipped with a one-line reason when it does
not apply (scope, scorer kind, missing reference data, tables never scanned).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from harness.analyses.base import AnalysisResult
from harness.report.figures import close_figures, save_figures
from harness.results import document
from harness.tasks import catalog
from harness.tasks.checks import missing_data
from harness.tasks.spec import TaskSpec, select_metrics

log = logging.getLogger(__name__)

# model id -> prompt key -> (table, its path); a table source returns a reason string when they are not there
Tables = dict[str, dict[str, tuple[pd.DataFrame, Path]]]
TableSource = Callable[[TaskSpec], "Tables | str"]


@dataclass
class Outcome:
    """What the loop produced for one results document."""

    blocks: dict[str, dict] = field(default_factory=dict)
    versions: dict[str, Any] = field(default_factory=dict)
    configs: dict[str, dict] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def version_text(spec: TaskSpec) -> str:
    """The task version exactly as written (1.5 is not 1, 1.0 is not 1)."""
    return spec.version_text


def skip_reason(spec: TaskSpec, scope: str, kinds: set[str], reference_free: bool = False) -> str | None:
    """Why `spec` does not run here (None: it runs). `reference_free`: the scorer is a DPO policy without its
    reference model, whose scores are summed log-probs (see harness/analyses/registry.py)."""
    if spec.scope != scope:  # a between-model task in a one-model run, or the reverse: not this loop's business
        return None
    bad = [k for k in kinds if not spec.applies_to(k, reference_free)]
    if bad:
        return catalog.skip_reason(spec.analysis_name, bad[0], reference_free) or \
            f"not valid for {bad[0]} scorers (task scorer: {spec.scorer})"
    missing = missing_data(spec)
    if missing:
        return "; ".join(missing)
    return None


def block_for(spec: TaskSpec, result: AnalysisResult, out_dir: Path, table_paths: dict[str, Path],
              settings: dict[str, Any], model: str | None = None, base: Path | None = None,
              render: bool = True) -> dict:
    """An analysis result as its results.json block: selected metrics, data, saved figures (only named when not
    `render`), and the table paths relative to the audit folder `base` (default `out_dir`), the only form a
    document may cite."""
    metrics = select_metrics(result.metrics, spec.metric_list)
    figures = save_figures(result, spec.task, out_dir, model=model, prompts=dict(spec.prompts)) if render \
        else close_figures(result, spec.task)
    root = Path(base or out_dir).resolve()
    paths = {k: Path(p).resolve().relative_to(root).as_posix() for k, p in table_paths.items()}
    return document.task_block(result, metrics, figures, paths, {**settings, "task_version": version_text(spec)},
                               getattr(spec, "file_hash", None))


def run_specs(specs: list[TaskSpec], *, scope: str, kinds: set[str], out_dir: Path,
              tables: TableSource, settings: Callable[[TaskSpec, Tables], dict[str, Any]],
              model_task: Callable[[TaskSpec, Any], AnalysisResult] | None = None,
              title: str | None = None, base: Path | None = None, reference_free: bool = False) -> Outcome:
    """Run every spec that applies: tables from `tables(spec)`, or the model itself for model-level tasks."""
    out = Outcome()
    for spec in specs:
        reason = skip_reason(spec, scope, kinds, reference_free)
        if reason is None and spec.scope != scope:
            continue
        if reason:
            out.skipped[spec.task] = reason
            log.info("skipping task %s: %s", spec.task, reason)
            continue
        entry = catalog.lookup(spec.analysis_name)
        mt = entry.model_task
        if mt is not None:
            if model_task is None:
                out.skipped[spec.task] = "needs the model (rerun with `rm-harness run`)"
                continue
            bad = [k for k in kinds if k not in mt.scorers]
            if bad:
                out.skipped[spec.task] = f"{spec.analysis_name} is not valid for {bad[0]} scorers"
                continue
            result, found = model_task(spec, mt), {}
        else:
            found = tables(spec)
            if isinstance(found, str):
                out.skipped[spec.task] = found
                continue
            frames = {m: {k: df for k, (df, _) in prompts.items()} for m, prompts in found.items()}
            result = entry.fn(frames, **spec.analysis_args)
        paths = {k: p for prompts in found.values() for k, (_, p) in prompts.items()} if scope == "model" else {}
        out.blocks[spec.task] = block_for(spec, result, out_dir, paths, settings(spec, found), model=title, base=base)
        out.versions[spec.task] = spec.metadata.get("version")
        out.configs[spec.task] = spec.to_json()
    return out


def write_outcome(outcome: Outcome, model_block: dict, out_dir: Path, results_name: str, t0: float,
                  run: dict | None = None, extra: dict | None = None, trust=None) -> Path:
    """Merge the outcome into <out_dir>/<results_name> (never dropping earlier tasks) and rewrite the report.

    `trust` (the maintainer's TrustStore): record the audit as computed here when every byte it cites came from
    this installation (harness/results/attest.py)."""
    from harness.errors import UserError
    from harness.report.html import write_report
    from harness.results.attest import record_computed, record_of
    from harness.results.audit import open_audit

    doc = document.document(model_block, outcome.blocks, outcome.versions, outcome.configs,
                            time.perf_counter() - t0, skipped=outcome.skipped, run=run)
    doc.update(extra or {})
    path = Path(out_dir) / results_name
    existed, prior = path.exists() or path.is_symlink(), None
    if trust is not None and existed:
        try:
            prior = record_of(trust, open_audit(path))
        except UserError:
            prior = None
    merged = document.write_merged(doc, path)
    record = record_computed(trust, open_audit(path), prior, existed) if trust is not None else None
    write_report(merged, Path(out_dir), trust=record)
    return path
