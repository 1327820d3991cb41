"""Run tasks for one loaded model: score what each task names (cached tables), analyse, merge into results.json.

Paths come from the results layout and identity from the ModelRef; the loop itself is `pipeline.run_specs`.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from harness.models.loading import describe
from harness.models.scorer import Scorer
from harness.models.templates import resolve_chat_template
from harness.results import document
from harness.io.atomic import cleanup_temp_files
from harness.results.layout import Layout
from harness.scoring import distributed
from harness.scoring.responses import ItemSet, VocabularySet
from harness.scoring.scan import scan
from harness.scoring.table import TableStore
from harness.tasks import pipeline
from harness.tasks.items_source import item_source_name, join_kept_columns, load_items
from harness.tasks.spec import TaskSpec

log = logging.getLogger(__name__)


def chat_template_hash(scorer: Scorer) -> str:
    if getattr(scorer.spec, "pretrained", False):
        return "plain-format"
    template = resolve_chat_template(scorer.tokenizer, scorer.chat_template)
    return hashlib.sha256(template.encode()).hexdigest()[:16]


@dataclass
class RunOptions:
    batch_size: int | str = "auto"
    progress: bool = True
    chunk_rows: int = 8192
    vocab_ids: list[int] | None = None  # a declared subset of the vocabulary
    subset_name: str | None = None  # its name, recorded in every block computed from it
    limit: int | None = None  # first N ids or items per response set (smoke runs; never published)
    trust: Any = None  # the maintainer's TrustStore: tables written here are attested, the audit recorded


def run_settings(ref, template_hash: str, opts: RunOptions | None, spec: TaskSpec) -> dict:
    """The settings a block records. A model-level task (GCG) searches the whole vocabulary whatever the run's
    subset or limit, so it records neither."""
    from harness.tasks import catalog

    scans = catalog.model_task(spec.analysis_name) is None
    is_vocab = spec.responses.get("type") == "vocabulary"
    return {"dtype": ref.dtype, "prompt_format": ref.prompt_format, "template_hash": template_hash,
            "scorer": ref.scorer, "subset": opts.subset_name if opts and scans and is_vocab else None,
            "limit": opts.limit if opts and scans else None}


def score_task(scorer: Scorer, spec: TaskSpec, store: TableStore, opts: RunOptions, template_hash: str):
    """prompt key → (score table, its path) for every prompt of the task; reuses finished tables."""
    out = {}
    items = frame = None
    if spec.responses["type"] == "items":
        items, frame = load_items(spec)
        if opts.limit is not None:
            items, frame = items[: opts.limit], frame.iloc[: opts.limit]
    ids = opts.vocab_ids
    if items is None and opts.limit is not None:
        ids = list(ids[: opts.limit]) if ids is not None else list(range(min(opts.limit, scorer.vocab_size)))
    n_scans = len(spec.prompts)
    for i, (key, prompt) in enumerate(spec.prompts.items(), 1):
        split = scorer.split(prompt)
        if items is None:
            responses = VocabularySet(scorer.tokenizer, split, scorer.vocab_size, ids=ids)
        else:
            responses = ItemSet(scorer.tokenizer, split, items, name=item_source_name(spec.responses),
                                max_length=getattr(scorer, "max_length", None))
        table = scan(scorer, split, responses, store, batch_size=opts.batch_size, chunk_rows=opts.chunk_rows,
                     progress=opts.progress, prompt_key=key,
                     label=f"{spec.task} · scan {i}/{n_scans} · prompt {key}",
                     meta_extra={"subset": opts.subset_name if items is None else None, "limit": opts.limit,
                                 "chat_template_hash": template_hash})
        df = join_kept_columns(spec, table.df, frame)
        df.attrs.update(scorer=table.meta.get("scorer"), model=table.meta.get("model"), prompt_key=key,
                        reference_free=bool(getattr(getattr(scorer, "ref", None), "reference_free", False)))
        out[key] = (df, table.path)
    return out


def run_tasks(scorer: Scorer, specs: Iterable[TaskSpec], output_dir: str | Path, opts: RunOptions | None = None,
              extra: dict | None = None, model_extra: dict | None = None) -> Path:
    """Run every task that applies to this scorer; merge into the audit's results.json and rewrite report.html."""
    opts = opts or RunOptions()
    t0 = time.perf_counter()
    ref = scorer.ref
    layout = Layout(output_dir)
    out_dir = layout.checked_audit_dir(ref)
    existing = document.read(layout.results_path(ref))
    if existing is not None and not document.same_model(existing, {"model": ref.to_json()}):
        raise document.ForeignDocument(f"{layout.results_path(ref)} describes another model or revision than "
                                       f"{ref.display_id} @ {ref.short_revision}; it was copied there: move it aside "
                                       "and rerun (nothing was scanned)")
    cleanup_temp_files(out_dir, recursive=True)  # leftovers of a killed run whose writer is dead
    store = TableStore(layout.tables_dir(ref), witness=opts.trust)
    store.check_writable()
    rank, _ = distributed.rank_and_world()
    specs = list(specs)
    template_hash = chat_template_hash(scorer)

    def tables(spec: TaskSpec):
        return {ref.display_id: score_task(scorer, spec, store, opts, template_hash)}

    def settings(spec: TaskSpec, found) -> dict:
        return run_settings(ref, template_hash, opts, spec)

    if rank != 0:  # under torchrun the other ranks only share the scans; rank 0 analyses and writes
        from harness.tasks import catalog

        for spec in specs:
            if (spec.scope == "model" and spec.applies_to(ref.scorer, ref.reference_free)
                    and not pipeline.missing_data(spec)
                    and catalog.model_task(spec.analysis_name) is None):
                score_task(scorer, spec, store, opts, template_hash)
        return layout.results_path(ref)
    from harness.progress import showing_progress

    with showing_progress(opts.progress):  # model-level tasks (GCG) show their steps as the scans do
        outcome = pipeline.run_specs(specs, scope="model", kinds={ref.scorer}, out_dir=out_dir, tables=tables,
                                     settings=settings, model_task=lambda spec, mt: mt.run(scorer, spec),
                                     title=ref.display_id, reference_free=ref.reference_free)
    model = {**describe(scorer), "template_hash": template_hash,
             "batch_size": opts.batch_size, "subset": opts.subset_name, "limit": opts.limit, **(model_extra or {})}
    return pipeline.write_outcome(outcome, model, out_dir, "results.json", t0,
                                  run={"batch_size": opts.batch_size, "limit": opts.limit,
                                       "subset": opts.subset_name}, extra=extra, trust=opts.trust)
