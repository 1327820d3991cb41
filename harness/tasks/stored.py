"""Analyses without a model: find finished score tables in audit folders by what they scored (prompt text,
response set), then rerun one model's tasks (`rm-harness analyse`) or the between-model tasks (`compare`).

Score once, analyse many times: a new or changed task whose prompts were already scanned runs in seconds and is
merged into the model's results.json. Nothing here loads a model.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pandas as pd

from harness.errors import UserError
from harness.models.identity import is_reference_free
from harness.results.layout import Layout
from harness.tasks import pipeline
from harness.tasks.spec import TaskSpec, effective_scorers

log = logging.getLogger(__name__)


class StoredTablesError(UserError, ValueError):
    """Not enough audited models or tables; the message says what to run."""


def table_index(audit_dir: Path) -> dict[tuple[str, str], tuple[Path, dict]]:
    """(prompt text, response set) → the most complete finished table and its meta (full beats subset/limit)."""
    index: dict[tuple[str, str], tuple[Path, dict]] = {}
    for meta_path in sorted((audit_dir / "tables").glob("*/meta.json")):
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            continue
        key = (meta.get("prompt"), meta.get("response_set"))
        rank = (meta.get("limit") is None, not meta.get("subset"), meta.get("n_rows", 0))
        have = index.get(key)
        if have is None or rank > (have[1].get("limit") is None, not have[1].get("subset"), have[1].get("n_rows", 0)):
            index[key] = (meta_path.with_name("table.parquet"), meta)
    return index


def response_set(spec: TaskSpec) -> str:
    from harness.tasks.items_source import item_source_name

    return "vocabulary" if spec.responses["type"] == "vocabulary" else item_source_name(spec.responses)


def tables_for(spec: TaskSpec, model_id: str, kind: str, audit_dir: Path, reference_free: bool = False):
    """prompt key → (table, path, meta) for one audited model, or a reason string when a prompt was never scanned."""
    index = table_index(audit_dir)
    wanted = {k: index.get((p, response_set(spec))) for k, p in spec.prompts.items()}
    missing = [k for k, hit in wanted.items() if hit is None]
    if missing:
        return f"prompts {', '.join(missing)} never scanned for {model_id} (run `rm-harness run` for it)"
    out = {}
    for k, (path, meta) in wanted.items():
        df = pd.read_parquet(path)
        df.attrs.update(scorer=kind, model=model_id, prompt_key=k, reference_free=reference_free)
        out[k] = (df, path, meta)
    return out


def reanalyse(layout: Layout, model: str, specs: list[TaskSpec]) -> tuple[Path, dict[str, str]]:
    """Rerun `specs` over one audit's stored tables and merge them into its results.json."""
    t0 = time.perf_counter()
    path = layout.find(model)
    doc = json.loads(path.read_text())
    model_block = doc["model"]
    model_id, kind = model_block["id"], model_block.get("scorer", "reward")
    ref_free = is_reference_free(model_block)

    def tables(spec: TaskSpec):
        found = tables_for(spec, model_id, kind, path.parent, ref_free)
        return found if isinstance(found, str) else {model_id: {k: (df, p) for k, (df, p, _) in found.items()}}

    def settings(spec: TaskSpec, found) -> dict:
        metas = [json.loads(Path(p).with_name("meta.json").read_text())
                 for prompts in found.values() for _, p in prompts.values()]
        first = metas[0] if metas else {}
        return {"dtype": first.get("dtype", model_block.get("dtype")),
                "prompt_format": model_block.get("prompt_format"), "template_hash": model_block.get("template_hash"),
                "scorer": kind, "subset": first.get("subset"), "limit": first.get("limit")}

    outcome = pipeline.run_specs(specs, scope="model", kinds={kind}, out_dir=path.parent, tables=tables,
                                 settings=settings, model_task=None, title=model_id, reference_free=ref_free)
    pipeline.write_outcome(outcome, model_block, path.parent, path.name, t0, run={"reanalysed": True})
    return path, outcome.skipped


def compare(layout: Layout, models: list[str], specs: list[TaskSpec]) -> Path:
    """Between-model tasks over the stored tables of `models` → <out>/_compare/compare.json (+ report)."""
    t0 = time.perf_counter()
    audited: dict[str, tuple[dict, Path]] = {}
    for m in models:
        path = layout.find(m)
        doc = json.loads(path.read_text())
        audited[doc["model"]["id"]] = (doc, path.parent)
    if len(audited) < 2:
        raise StoredTablesError(f"compare needs two or more audited models, got {list(audited) or models}; audit "
                                "another with `rm-harness run --model ...`")
    kinds = {doc["model"].get("scorer", "reward") for doc, _ in audited.values()}

    def tables(spec: TaskSpec):
        from harness.analyses import registry

        side = registry.joins(spec.analysis_name)  # kinds taken only as the comparison side
        found, subjects = {}, 0
        for model_id, (doc, folder) in audited.items():
            kind = doc["model"].get("scorer", "reward")
            ref_free = is_reference_free(doc["model"])
            if not spec.applies_to(kind, ref_free) and kind not in side:
                continue
            hit = tables_for(spec, model_id, kind, folder, ref_free)
            if not isinstance(hit, str):
                found[model_id] = {k: (df, p) for k, (df, p, _) in hit.items()}
                subjects += spec.applies_to(kind, ref_free)
        if not subjects:
            return f"needs a {' or '.join(sorted(effective_scorers(spec)))} model among those compared"
        if len(found) < 2:
            return f"needs two or more models with its tables (have {', '.join(found) or 'none'})"
        return found

    def settings(spec: TaskSpec, found) -> dict:
        return {"scorer": "mixed" if len(kinds) > 1 else next(iter(kinds))}

    outcome = pipeline.run_specs(specs, scope="models", kinds=set(), out_dir=layout.compare_dir, tables=tables,
                                 settings=settings, model_task=None, title=f"{len(audited)} models")
    if not outcome.blocks:
        reasons = "; ".join(f"{t}: {r}" for t, r in outcome.skipped.items()) or "no between-model task selected"
        raise StoredTablesError(f"no between-model task could run over {', '.join(audited)} ({reasons})")
    block = {"id": "comparison of " + ", ".join(audited), "models": list(audited), "scorer": "mixed"}
    # a comparison is recomputed whole: it describes exactly the models named now
    target = layout.compare_dir / "compare.json"
    target.unlink(missing_ok=True)
    return pipeline.write_outcome(outcome, block, layout.compare_dir, "compare.json", t0)
