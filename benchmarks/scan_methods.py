"""The three ways of scoring vocabulary ids that the scan benchmark compares, and the ratios it reports.

- study:  decode each token, render the chat template, re-tokenise the text (special tokens on), right-pad;
- plain:  exact ids `prefix + [id] + suffix`, one full forward per row, batched;
- cached: exact ids with the prefix KV cache (the harness' vocabulary scan).
Each returns (scores, positions run through the model). `scan_ratios` turns one run of each into the figures the
README quotes: speedups, the fraction of the ideal speedup and of this machine's matmul rate, and parity.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np
import torch

PROMPT = "What, in one word, is the best thing ever?"


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def study_method(scorer, split, ids: list[int], batch: int) -> tuple[torch.Tensor, int]:
    """The study's pipeline: text round trip, then right-padded batches."""
    from harness.models.templates import retokenised_ids

    tok = scorer.tokenizer
    rows = [retokenised_ids(tok, split, tok.decode([i]), scorer.chat_template) for i in ids]
    pad = scorer.model.config.pad_token_id
    out, processed = [], 0
    for s in range(0, len(rows), batch):
        chunk = rows[s : s + batch]
        width = max(map(len, chunk))
        x = torch.full((len(chunk), width), pad, dtype=torch.long)
        mask = torch.zeros_like(x)
        for r, row in enumerate(chunk):
            x[r, : len(row)] = torch.tensor(row)
            mask[r, : len(row)] = 1
        with torch.inference_mode():
            o = scorer.model(input_ids=x.to(scorer.device), attention_mask=mask.to(scorer.device))
        out.append(scorer.reward(o).cpu())
        processed += x.numel()
    return torch.cat(out), processed


def plain_exact(scorer, split, ids: list[int], batch: int) -> tuple[torch.Tensor, int]:
    rows = torch.tensor([list(split.prefix_ids) + scorer.continuation(split, [i]) for i in ids])
    out = [scorer.score_full(rows[s : s + batch]).cpu() for s in range(0, len(rows), batch)]
    return torch.cat(out), rows.numel()


def cached_scan(scorer, split, ids: list[int], batch: int) -> tuple[torch.Tensor, int]:
    from harness.scoring.scan import BatchSizer, score_rows

    state = scorer.prefix_state(split.prefix_ids)
    conts = [scorer.continuation(split, [i]) for i in ids]
    scores = score_rows(scorer, state, conts, BatchSizer(batch, scorer.device))
    return torch.tensor(scores), len(ids) * len(conts[0]) + len(split.prefix_ids)


METHODS: dict[str, Callable[..., tuple[torch.Tensor, int]]] = {
    "study": study_method, "plain": plain_exact, "cached": cached_scan,
}
DEFAULT_BATCH = {"study": 64, "plain": 64, "cached": 256}


def timed(method: str, scorer, split, ids: list[int], batch: int) -> dict[str, Any]:
    """One run of `method` (after the caller's warm-up): wall time, rate, achieved FLOP/s, scores (and peak CUDA
    memory: on a CPU the process' peak RSS would mix the methods, which share one process here)."""
    cuda = scorer.device.type == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats(scorer.device)
    sync(scorer.device)
    t0 = time.perf_counter()
    scores, positions = METHODS[method](scorer, split, ids, batch)
    sync(scorer.device)
    wall = time.perf_counter() - t0
    n_params = sum(p.numel() for n, p in scorer.model.named_parameters() if "embed" not in n)
    return {"method": method, "tokens_scored_per_s": len(ids) / wall, "wall_s": wall, "positions_run": positions,
            "achieved_flops": 2 * n_params * positions / wall, "batch": batch, "scores": scores.tolist(),
            "peak_cuda_memory_bytes": torch.cuda.max_memory_allocated(scorer.device) if cuda else None}


def matmul_rate(device: str | torch.device, dtype: torch.dtype, size: int = 2048, reps: int = 10) -> float:
    """This machine's dense matmul FLOP/s at the model's dtype: the ceiling the achieved rates are compared with."""
    device = torch.device(device)
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    a @ b
    sync(device)
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    sync(device)
    return 2 * size**3 * reps / (time.perf_counter() - t0)


def scan_ratios(runs: dict[str, dict[str, Any]], prefix_len: int, suffix_len: int, matmul_flops: float) -> dict:
    """The one-run figures: per-method rates and fraction of the matmul rate, speedups, fraction of ideal, parity."""
    ideal = (prefix_len + 1 + suffix_len) / (1 + suffix_len)
    report: dict[str, Any] = {"prefix_len": prefix_len, "suffix_len": suffix_len, "matmul_flops": matmul_flops,
                              "ideal_speedup_cached_vs_plain": ideal}
    for name, r in runs.items():
        report[name] = {"tokens_scored_per_s": r["tokens_scored_per_s"], "wall_s": r["wall_s"],
                        "fraction_of_matmul_rate": r["achieved_flops"] / matmul_flops,
                        "peak_cuda_memory_bytes": r.get("peak_cuda_memory_bytes")}
    if "plain" in runs and "cached" in runs:
        sp = runs["cached"]["tokens_scored_per_s"] / runs["plain"]["tokens_scored_per_s"]
        report["speedup_cached_vs_plain"] = sp
        report["fraction_of_ideal_speedup"] = sp / ideal
        report["max_abs_diff_cached_vs_plain"] = float(
            np.max(np.abs(np.array(runs["cached"]["scores"]) - np.array(runs["plain"]["scores"]))))
    if "study" in runs and "cached" in runs:
        from scipy.stats import kendalltau

        report["speedup_cached_vs_study"] = (runs["cached"]["tokens_scored_per_s"]
                                             / runs["study"]["tokens_scored_per_s"])
        report["kendall_tau_study_vs_exact"] = float(
            kendalltau(runs["study"]["scores"], runs["cached"]["scores"]).statistic)
    return report
