"""Analyses without a model: find an audit's finished score tables by their full key, then rerun one model's tasks
(`rm-harness analyse`), recompute them for `verify`, or run the between-model tasks (`compare`, the board).

A table is used only when it binds to the audit (harness/results/audit.py): this model and revision, the dtype,
scorer and template of the task's block (of the model block for a task never run), the prompt's text and the
response set. All prompts of one task come from tables of one vocabulary and limit, so an analysis never mixes
settings. Nothing here loads a model.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from harness.errors import UserError
from harness.results.audit import Audit
from harness.results.layout import Layout
from harness.tasks import pipeline
from harness.tasks.items_source import join_kept_columns, load_items
from harness.tasks.spec import TaskSpec, effective_scorers

log = logging.getLogger(__name__)


class StoredTablesError(UserError, ValueError):
    """Not enough audited models or tables; the message says what to run."""


def response_set(spec: TaskSpec) -> str:
    from harness.tasks.items_source import item_source_name

    return "vocabulary" if spec.responses["type"] == "vocabulary" else item_source_name(spec.responses)


def _completeness(meta: dict[str, Any]) -> tuple:
    """Full beats a declared subset beats a `--limit` run; then more rows."""
    return (meta.get("limit") is None, not meta.get("subset"), meta.get("n_rows") or 0)


def tables_for(spec: TaskSpec, audit: Audit, kind: str | None = None):
    """prompt key -> (table, relative path, meta) for one audit, or a reason string when the task cannot use its
    tables. Every prompt's table binds to the audit (see the module docstring) and all share one vocabulary and
    limit: the most complete combination every prompt has."""
    kind = kind or audit.kind
    found: dict[str, dict[tuple, tuple[str, dict]]] = {}
    for key, prompt in spec.prompts.items():
        expect = {k: v for k, v in audit.expected(spec.task).items() if k not in ("subset", "limit", "responses")}
        expect.update(prompt=prompt, response_set=response_set(spec))
        for rel, meta in audit.candidates(expect):
            combo = (meta.get("subset"), meta.get("limit"))
            have = found.setdefault(key, {}).get(combo)
            if have is None or _completeness(meta) > _completeness(have[1]):
                found[key][combo] = (rel, meta)
    missing = [k for k in spec.prompts if k not in found]
    if missing:
        return f"prompts {', '.join(missing)} never scanned for {audit.display_id} (run `rm-harness run` for it)"
    common = set.intersection(*(set(v) for v in found.values()))
    if not common:
        return f"the prompts of {spec.task} were scanned over different vocabularies or limits; rescan them together"
    combo = max(common, key=lambda c: min(_completeness(found[k][c][1]) for k in found))
    out = {}
    frame = load_items(spec)[1] if spec.responses.get("type") == "items" and spec.responses.get("keep_columns") \
        else None
    for k in spec.prompts:
        rel, meta = found[k][combo]
        expect = {**audit.expected(spec.task), "prompt": spec.prompts[k], "response_set": response_set(spec),
                  "subset": meta.get("subset"), "limit": meta.get("limit")}
        expect.pop("responses", None)
        try:
            table = audit.table(rel, expect)
        except UserError as e:  # damaged or foreign: this task cannot use it (the others still run)
            return f"prompt {k}: {e.one_line()}"
        df = join_kept_columns(spec, table.df, frame)
        df.attrs.update(scorer=kind, model=audit.display_id, prompt_key=k, reference_free=audit.reference_free)
        out[k] = (df, audit.folder / rel, table.meta)
    return out


def _settings(audit: Audit, found: dict) -> dict[str, Any]:
    metas = [meta for _, _, meta in found.values()]
    first = metas[0] if metas else {}
    parts = first.get("key_parts") or {}
    model = audit.model
    return {"dtype": parts.get("dtype", model.get("dtype")), "prompt_format": model.get("prompt_format"),
            "template_hash": first.get("chat_template_hash", model.get("template_hash")),
            "scorer": parts.get("kind", audit.kind), "subset": first.get("subset"), "limit": first.get("limit")}


def recompute(audit: Audit, specs: list[TaskSpec], out_dir: Path) -> pipeline.Outcome:
    """Rerun `specs` over one audit's bound tables, figures into `out_dir` (nothing written to the audit)."""
    seen: dict[str, Any] = {}

    def tables(spec: TaskSpec):
        found = seen[spec.task] = tables_for(spec, audit)
        return found if isinstance(found, str) else {audit.display_id: {k: (df, p) for k, (df, p, _) in found.items()}}

    def settings(spec: TaskSpec, found) -> dict:
        hit = seen.get(spec.task)
        return _settings(audit, hit) if isinstance(hit, dict) else {}

    return pipeline.run_specs(specs, scope="model", kinds={audit.kind}, out_dir=out_dir, tables=tables,
                              settings=settings, model_task=None, title=audit.display_id, base=audit.folder,
                              reference_free=audit.reference_free)


def reanalyse(layout: Layout, model: str, specs: list[TaskSpec], trust=None) -> tuple[Path, dict[str, str]]:
    """Rerun `specs` over one audit's stored tables and merge them into its results.json."""
    t0 = time.perf_counter()
    audit = layout.open(model)
    outcome = recompute(audit, specs, audit.folder)
    pipeline.write_outcome(outcome, audit.model, audit.folder, audit.path.name, t0, run={"reanalysed": True},
                           trust=trust)
    return audit.path, outcome.skipped


def compare_audits(audits: list[Audit], specs: list[TaskSpec], out_dir: Path) -> pipeline.Outcome:
    """The between-model tasks over the bound tables of `audits` (figures into `out_dir`)."""
    kinds = {a.kind for a in audits}

    def tables(spec: TaskSpec):
        from harness.analyses import registry

        side = registry.joins(spec.analysis_name)  # kinds taken only as the comparison side
        found, subjects = {}, 0
        for audit in audits:
            if not spec.applies_to(audit.kind, audit.reference_free) and audit.kind not in side:
                continue
            hit = tables_for(spec, audit)
            if not isinstance(hit, str):
                found[audit.display_id] = {k: (df, p) for k, (df, p, _) in hit.items()}
                subjects += spec.applies_to(audit.kind, audit.reference_free)
        if not subjects:
            return f"needs a {' or '.join(sorted(effective_scorers(spec)))} model among those compared"
        if len(found) < 2:
            return f"needs two or more models with its tables (have {', '.join(found) or 'none'})"
        return found

    def settings(spec: TaskSpec, found) -> dict:
        return {"scorer": "mixed" if len(kinds) > 1 else next(iter(kinds))}

    return pipeline.run_specs(specs, scope="models", kinds=set(), out_dir=out_dir, tables=tables,
                              settings=settings, model_task=None, title=f"{len(audits)} models")


def compare(layout: Layout, models: list[str], specs: list[TaskSpec]) -> Path:
    """Between-model tasks over the stored tables of `models` → <out>/_compare/compare.json (+ report)."""
    t0 = time.perf_counter()
    audits: dict[str, Audit] = {}
    for m in models:
        a = layout.open(m)
        audits[a.display_id] = a
    if len(audits) < 2:
        raise StoredTablesError(f"compare needs two or more audited models, got {list(audits) or models}; audit "
                                "another with `rm-harness run --model ...`")
    outcome = compare_audits(list(audits.values()), specs, layout.compare_dir)
    if not outcome.blocks:
        reasons = "; ".join(f"{t}: {r}" for t, r in outcome.skipped.items()) or "no between-model task selected"
        raise StoredTablesError(f"no between-model task could run over {', '.join(audits)} ({reasons})")
    block = {"id": "comparison of " + ", ".join(audits), "models": list(audits), "scorer": "mixed"}
    # a comparison is recomputed whole: it describes exactly the models named now
    target = layout.compare_dir / "compare.json"
    target.unlink(missing_ok=True)
    return pipeline.write_outcome(outcome, block, layout.compare_dir, "compare.json", t0)
