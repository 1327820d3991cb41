"""`rm-harness analyse --model X`: rerun analyses over a model's cached score tables, without the model.

Score once, analyse many times: a new or changed task whose prompts were already scanned runs in seconds and
is merged into the model's results.json and report. Tasks whose prompts were never scanned are listed.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from harness.analyses import registry
from harness.cached_tables import find_results, tables_for
from harness.report import results as results_doc
from harness.report.html import write_report
from harness.tasks.runner import analyse_tables
from harness.tasks.spec import TaskSpec


def reanalyse(model: str, specs: list[TaskSpec], results_dir: str | Path = "results") -> tuple[Path, list[str]]:
    """Update `<results>/<model>/results.json` with every task its cached tables allow; return it and the rest."""
    t0 = time.perf_counter()
    path = find_results(model, Path(results_dir))
    doc = json.loads(path.read_text())
    model_id, kind = doc["model"]["id"], doc["model"].get("scorer", "reward")
    skipped = []
    for spec in specs:
        needs_model = getattr(registry.get(spec.analysis_name), "model_runner", None) is not None
        if spec.scope != "model" or not spec.applies_to(kind) or needs_model:
            continue
        tables = tables_for(spec, model_id, kind, path.parent)
        if tables is None:
            skipped.append(spec.task)
            continue
        doc["results"][spec.task] = analyse_tables(spec, model_id, tables, path.parent)
        doc["versions"][spec.task], doc["configs"][spec.task] = spec.version, spec.to_json()
    doc["reanalysed"] = {"at": results_doc.utc_now(), "wall_time_s": round(time.perf_counter() - t0, 3)}
    results_doc.write(doc, path)
    write_report(doc, path.parent)
    return path, skipped
