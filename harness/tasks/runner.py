"""Run tasks for one model: score what each task names (cached tables), analyse, write results.json + report."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pandas as pd

from harness.analyses import registry
from harness.errors import UserError
from harness.models.loading import describe
from harness.models.scorer import Scorer
from harness.models.templates import resolve_chat_template
from harness.report import results as results_doc
from harness.scoring import distributed
from harness.scoring.responses import ItemSet, VocabularySet
from harness.scoring.scan import scan
from harness.scoring.table import TableStore
from harness.submission import model_slug
from harness.tasks.spec import TaskSpec, missing_data, select_metrics

log = logging.getLogger(__name__)


class TaskRunError(UserError, RuntimeError):
    """A task could not run; the message names the task and the cause."""


def chat_template_hash(scorer: Scorer) -> str:
    template = resolve_chat_template(scorer.tokenizer, scorer.chat_template)
    return hashlib.sha256(template.encode()).hexdigest()[:16]


@dataclass
class RunOptions:
    batch_size: int | str = "auto"
    progress: bool = True
    chunk_rows: int = 8192
    vocab_ids: list[int] | None = None  # a subset of the vocabulary (tests, quick looks)


def load_items(spec: TaskSpec) -> tuple[list[str], pd.DataFrame]:
    path = Path(spec.responses["path"])
    if not path.exists():
        raise TaskRunError(f"task {spec.task}: item list {path} does not exist (responses.path in {spec.source})")
    frame = pd.read_csv(path)
    column = spec.responses["column"]
    if column not in frame.columns:
        raise TaskRunError(f"task {spec.task}: {path} has no column {column!r} (columns: {list(frame.columns)})")
    return frame[column].astype(str).tolist(), frame


def task_block(spec: TaskSpec, result, out_dir: Path, table_paths: dict[str, Path]) -> dict:
    """An analysis result as its results.json block: the task's metrics, data, saved figures, table paths."""
    metrics = select_metrics(result.metrics, spec.metric_list)
    figures = results_doc.save_figures(result, spec.task, out_dir)
    paths = {k: Path(p).resolve().relative_to(Path(out_dir).resolve()).as_posix() for k, p in table_paths.items()}
    return results_doc.task_block(result, metrics, figures, paths)


def analyse_tables(spec: TaskSpec, model_id: str, tables: dict[str, tuple[pd.DataFrame, Path]], out_dir: Path) -> dict:
    """Run the task's analysis over one model's tables (no model needed) → its results.json block."""
    result = registry.get(spec.analysis_name)({model_id: {k: df for k, (df, _) in tables.items()}},
                                              **spec.analysis_args)
    return task_block(spec, result, out_dir, {k: p for k, (_, p) in tables.items()})


def score_task(scorer: Scorer, spec: TaskSpec, store: TableStore, opts: RunOptions) -> dict[str, tuple[pd.DataFrame, Path]]:
    """prompt key → (score table, its path) for every prompt of the task; reuses finished tables."""
    out = {}
    items = frame = None
    if spec.responses["type"] == "items":
        items, frame = load_items(spec)
    for key, prompt in spec.prompts.items():
        split = scorer.split(prompt)
        if items is None:
            responses = VocabularySet(scorer.tokenizer, split, scorer.vocab_size, ids=opts.vocab_ids)
        else:
            responses = ItemSet(scorer.tokenizer, split, items, name=Path(spec.responses["path"]).stem)
        table = scan(scorer, split, responses, store, batch_size=opts.batch_size, chunk_rows=opts.chunk_rows,
                     progress=opts.progress, prompt_key=key)
        df = table.df
        df.attrs.update(scorer=table.meta.get("scorer"), model=table.meta.get("model"), prompt_key=key)
        if frame is not None:
            keep = [c for c in spec.responses.get("keep_columns", []) if c in frame.columns]
            df = df.join(frame[keep].reset_index(drop=True), on="id") if keep else df
        out[key] = (df, table.path)
    return out


def run_tasks(scorer: Scorer, specs: Iterable[TaskSpec], output_dir: str | Path, opts: RunOptions | None = None,
              model_id: str | None = None) -> Path:
    """Run every task that applies to this scorer; write <output_dir>/<slug>/results.json and report.html."""
    from harness.report.html import write_report

    opts = opts or RunOptions()
    t0 = time.perf_counter()
    model_id = model_id or describe(scorer)["id"]
    out_dir = Path(output_dir) / model_slug(model_id)
    store = TableStore(out_dir / "tables")
    store.check_writable()
    tasks, versions, configs = {}, {}, {}
    rank, _ = distributed.rank_and_world()
    skipped: dict[str, str] = {}
    for spec in specs:
        if spec.scope != "model" or not spec.applies_to(scorer.kind):
            log.info("skipping %s (scope %s, scorer %s)", spec.task, spec.scope, spec.scorer)
            continue
        missing = missing_data(spec)
        if missing:  # e.g. reference data not downloaded: the rest of the audit still runs
            skipped[spec.task] = "; ".join(missing)
            log.warning("skipping task %s: %s", spec.task, skipped[spec.task])
            continue
        model_runner = getattr(registry.get(spec.analysis_name), "model_runner", None)
        if rank != 0:  # under torchrun the other ranks only share the scans; rank 0 analyses and writes
            if model_runner is None:
                score_task(scorer, spec, store, opts)
            continue
        if model_runner is not None:  # analyses that need the model itself (gcg)
            tasks[spec.task] = task_block(spec, model_runner(scorer, spec), out_dir, {})
        else:
            tasks[spec.task] = analyse_tables(spec, model_id, score_task(scorer, spec, store, opts), out_dir)
        versions[spec.task] = spec.version
        configs[spec.task] = spec.to_json()
    if rank != 0:
        return out_dir / "results.json"
    model = {**describe(scorer), "id": model_id, "template_hash": chat_template_hash(scorer)}
    doc = results_doc.document(model, tasks, versions, configs, time.perf_counter() - t0)
    if skipped:
        doc["skipped"] = skipped
    path = results_doc.write(doc, out_dir / "results.json")
    write_report(doc, out_dir)
    return path
