"""Between-model tasks (scope: models) over cached score tables: `rm-harness compare --models A B C`.

No model is loaded: each model's tables are found in its results folder by prompt text and response set, so
any models audited with the same prompts can be compared. Output: <results>/_compare/compare.json (same
layout as results.json), figures and report.html.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pandas as pd

from harness.analyses import registry
from harness.cached_tables import find_results, tables_for
from harness.errors import UserError
from harness.report import results as results_doc
from harness.report.html import write_report
from harness.tasks.runner import task_block
from harness.tasks.spec import TaskSpec, discover

log = logging.getLogger(__name__)


class CompareError(UserError, ValueError):
    """Not enough models or tables to compare; the message says which are missing."""


def gather(spec: TaskSpec, audited: dict[str, tuple[dict, Path]]) -> dict[str, dict[str, pd.DataFrame]]:
    """model id → prompt key → table, for the models that have every prompt of the task."""
    tables: dict[str, dict[str, pd.DataFrame]] = {}
    for model_id, (doc, folder) in audited.items():
        kind = doc["model"].get("scorer")
        if spec.scorer == "reward" and kind != "reward":
            continue
        found = tables_for(spec, model_id, kind, folder)
        if found is not None:
            tables[model_id] = {k: df for k, (df, _) in found.items()}
    return tables


def compare(models: list[str], results_dir: str | Path = "results", output_dir: str | Path | None = None,
            tasks: str | None = "all", include_path: list[str] | None = None) -> Path:
    t0 = time.perf_counter()
    results_dir = Path(results_dir)
    out_dir = Path(output_dir) if output_dir else results_dir / "_compare"
    audited = {}
    for m in models:
        path = find_results(m, results_dir)
        doc = json.loads(path.read_text())
        audited[doc["model"]["id"]] = (doc, path.parent)
    specs = [s for s in discover(include_path or []).values() if s.scope == "models"]
    if tasks and tasks != "all":
        names = set(tasks.split(","))
        specs = [s for s in specs if s.task in names]
    blocks, versions, configs = {}, {}, {}
    for spec in specs:
        tables = gather(spec, audited)
        kinds = {audited[m][0]["model"].get("scorer") for m in tables}
        if len(tables) < 2 or (spec.scorer == "lm_logprob" and "lm_logprob" not in kinds):
            log.warning("%s: needs at least two models with matching tables (have %s); skipped", spec.task, list(tables))
            continue
        blocks[spec.task] = task_block(spec, registry.get(spec.analysis_name)(tables, **spec.analysis_args), out_dir, {})
        versions[spec.task], configs[spec.task] = spec.version, spec.to_json()
    if not blocks:
        raise CompareError(f"no between-model task could run over {models}: each needs two or more audited models "
                           "sharing its prompts (see `rm-harness tasks list`, scope 'models')")
    model_block = {"id": "comparison of " + ", ".join(audited), "models": list(audited), "scorer": "mixed"}
    doc = results_doc.document(model_block, blocks, versions, configs, time.perf_counter() - t0)
    path = results_doc.write(doc, out_dir / "compare.json")
    write_report(doc, out_dir)
    return path
