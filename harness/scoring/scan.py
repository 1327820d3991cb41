"""The scan: score every row of a response set after one cached prompt, in equal-length batches, to disk.

Rows are grouped by continuation length so no batch ever needs padding. Each chunk of rows becomes one
parquet part as soon as it is scored, so a killed scan resumes at the first missing chunk. Under
torch.distributed, chunk i belongs to rank i % world_size and rank 0 merges the parts.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from typing import Callable

import numpy as np
import torch
from tqdm.auto import tqdm

from harness.models.scorer import PrefixState, Scorer
from harness.models.templates import TemplateSplit
from harness.io.atomic import kill_point
from harness.scoring import distributed
from harness.scoring.table import ScoreTable, TableStore, table_key

log = logging.getLogger(__name__)
CPU_BATCH = 128
GPU_START_BATCH = 1024


def _is_oom(err: BaseException) -> bool:
    return isinstance(err, torch.OutOfMemoryError) or "out of memory" in str(err).lower()


class BatchSizer:
    """Batch size: fixed when the user sets one; otherwise start from the device's default, halve on OOM."""

    def __init__(self, requested: int | str | None, device: torch.device):
        self.fixed = isinstance(requested, int)
        if self.fixed:
            self.size = int(requested)
        else:
            self.size = GPU_START_BATCH if device.type == "cuda" else CPU_BATCH

    def run(self, fn: Callable[[torch.Tensor], torch.Tensor], rows: torch.Tensor,
            on_batch: Callable[[int], None] | None = None) -> torch.Tensor:
        out = []
        i = 0
        while i < len(rows):
            batch = rows[i : i + self.size]
            try:
                out.append(fn(batch).float().cpu())
                i += len(batch)
                if on_batch is not None:
                    on_batch(len(batch))
            except (torch.OutOfMemoryError, RuntimeError) as e:
                if not _is_oom(e) or self.size == 1:
                    raise
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
                self.size = max(1, self.size // 2)
                log.warning("out of memory; batch size now %d", self.size)
        return torch.cat(out) if out else torch.empty(0)


def score_rows(scorer: Scorer, state: PrefixState, conts: list[list[int]], sizer: BatchSizer,
               on_batch: Callable[[int], None] | None = None, with_sides: bool = False) -> np.ndarray:
    """Scores for continuations of any lengths: grouped by length, batched without padding. `with_sides` and a
    scorer with side columns (a kind's per-row extras): an array (rows, 1 + side columns); else the scores."""
    sides = with_sides and bool(scorer.side_columns)
    scores = np.full((len(conts), 1 + len(scorer.side_columns)), np.nan, dtype=np.float64)
    by_len: dict[int, list[int]] = defaultdict(list)
    for i, c in enumerate(conts):
        by_len[len(c)].append(i)
    fn = scorer.score_cached_sides if sides else (lambda st, b: scorer.score_cached(st, b)[:, None])
    for length, idx in sorted(by_len.items()):
        rows = torch.tensor([conts[i] for i in idx], dtype=torch.long)
        scores[idx] = sizer.run(lambda b: fn(state, b), rows, on_batch).double().numpy()
    return scores if sides else scores[:, 0]


def scan_key_parts(scorer: Scorer, split: TemplateSplit, responses) -> dict:
    """Everything that determines the scores; hashed into the table's key and stored in its meta.json, so a
    reader can check that a table is what its folder name says."""
    return {
        "model": scorer.spec.id, "revision": scorer.revision, "dtype": scorer.dtype, "kind": scorer.kind,
        "output": scorer.spec.output, "index": scorer.spec.index, "template": split.template_hash,
        "prefix": list(split.prefix_ids), "suffix": list(split.suffix_ids), "uses_suffix": scorer.uses_suffix,
        "responses": responses.fingerprint,
    }


def scan(
    scorer: Scorer,
    split: TemplateSplit,
    responses,
    store: TableStore,
    batch_size: int | str | None = "auto",
    chunk_rows: int = 8192,
    progress: bool = True,
    prompt_key: str | None = None,
    on_part: Callable[[int, int], None] | None = None,
    meta_extra: dict | None = None,
    label: str | None = None,
) -> ScoreTable:
    """Score every row of `responses` (VocabularySet or ItemSet); reuse or resume the on-disk table. `label` names
    the scan's place in the run on its progress bar (e.g. "token_optimality · scan 2/3 · prompt worst")."""
    parts = scan_key_parts(scorer, split, responses)
    key = table_key(parts)
    done = store.load(key)
    if done is not None:
        return done
    store.check_writable()
    rank, world = distributed.rank_and_world()
    n = len(responses)
    chunks = [(s, min(s + chunk_rows, n)) for s in range(0, n, chunk_rows)]
    mine = [c for i, c in enumerate(chunks) if i % world == rank]
    have = store.done_parts(key)
    todo = [c for c in mine if c not in have]
    t0 = time.perf_counter()
    if todo:
        state = scorer.prefix_state(split.prefix_ids)
        sizer = BatchSizer(batch_size if batch_size != "auto" else None, scorer.device)
        bar = tqdm(total=sum(e - s for s, e in todo), unit="tok" if responses.name == "vocabulary" else "item",
                   desc=f"{label or prompt_key or 'scan'}" + (f" [rank {rank}/{world}]" if world > 1 else ""),
                   disable=not progress, leave=False)
        for start, end in todo:
            conts = [scorer.continuation(split, r) for r in responses.reply_ids(start, end)]
            scores = score_rows(scorer, state, conts, sizer, on_batch=bar.update, with_sides=True)
            df = responses.describe(start, end)
            if scores.ndim == 2:
                for j, name in enumerate(scorer.side_columns, start=1):
                    df[name] = scores[:, j]
                scores = scores[:, 0]
            df["score"] = scores
            df["finite"] = np.isfinite(scores)
            store.write_part(key, start, end, df)
            kill_point("scan.part_written", f"{start}-{end}")
            if on_part is not None:
                on_part(start, end)
        bar.close()
    distributed.barrier()
    if rank == 0:
        meta = {
            "model": scorer.spec.id, "revision": scorer.revision, "dtype": scorer.dtype, "scorer": scorer.kind,
            "prompt_key": prompt_key, "prompt": split.prompt, "template_hash": split.template_hash,
            "prefix_ids": list(split.prefix_ids), "suffix_ids": list(split.suffix_ids),
            "responses": responses.fingerprint, "response_set": responses.name, "device": str(scorer.device),
            "world_size": world, "scan_wall_s": round(time.perf_counter() - t0, 3), **(meta_extra or {}),
            "key_parts": parts,
        }
        table = store.finalize(key, n, meta, notes=scorer.table_notes)
        if table.meta["n_nonfinite"]:
            log.warning("%s/%s: %d non-finite scores (kept, flagged finite=False)",
                        scorer.spec.id, prompt_key, table.meta["n_nonfinite"])
    distributed.barrier()
    if rank == 0:
        return table
    result = store.load(key)  # the other ranks read what rank 0 merged
    if result is None:
        raise RuntimeError(f"score table {key} was not written")
    return result
