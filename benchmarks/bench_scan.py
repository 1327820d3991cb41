"""Benchmark (not a test): the study's method vs plain exact sequences vs our cached scan, in one run.

Prints JSON: tokens/s for each method, the speedup, the ideal speedup (prefix+reply+suffix)/(reply+suffix)
for this template, achieved FLOP/s against this machine's dense matmul rate measured in the same run, and
peak memory of each method (each runs in its own process so peaks do not mix).

    python benchmarks/bench_scan.py                       # the demo model (Gemma-3 270M) with a reward head
    python benchmarks/bench_scan.py --model ORG/RM --device cuda --n 8192
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import resource
import time

import numpy as np
import torch

PROMPT = "What, in one word, is the best thing ever?"


def _load(args):
    from harness.models.loading import load_scorer

    model = args.model
    if model is None:
        from harness.models.demo import demo_lm_dir

        model = str(demo_lm_dir())
    # The demo LM gets a fresh (random) 2-way classification head: the compute of a reward model of this size.
    return load_scorer(model, kind="reward", device=args.device, dtype=args.dtype,
                       output_index=0 if args.model is None else None)


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def study_method(scorer, split, ids, batch):
    """Decode each token, render the template, re-tokenise the text (special tokens on), right-pad."""
    tok = scorer.tokenizer
    from harness.models.templates import retokenised_ids

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


def plain_exact(scorer, split, ids, batch):
    rows = torch.tensor([list(split.prefix_ids) + scorer.continuation(split, [i]) for i in ids])
    out = [scorer.score_full(rows[s : s + batch]).cpu() for s in range(0, len(rows), batch)]
    return torch.cat(out), rows.numel()


def cached_scan(scorer, split, ids, batch):
    from harness.scoring.scan import BatchSizer, score_rows

    state = scorer.prefix_state(split.prefix_ids)
    conts = [scorer.continuation(split, [i]) for i in ids]
    scores = score_rows(scorer, state, conts, BatchSizer(batch, scorer.device))
    return torch.tensor(scores), len(ids) * len(conts[0]) + len(split.prefix_ids)


METHODS = {"study": study_method, "plain": plain_exact, "cached": cached_scan}


def _worker(name, args):
    torch.manual_seed(0)
    scorer = _load(args)
    split = scorer.split(PROMPT)
    rng = np.random.default_rng(0)
    ids = sorted(rng.choice(scorer.vocab_size, size=args.n, replace=False).tolist())
    batch = args.batch or (64 if name != "cached" else 256)
    METHODS[name](scorer, split, ids[: batch], batch)  # warm-up
    if scorer.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    _sync(scorer.device)
    t0 = time.perf_counter()
    scores, tokens = METHODS[name](scorer, split, ids, batch)
    _sync(scorer.device)
    wall = time.perf_counter() - t0
    n_params = sum(p.numel() for n, p in scorer.model.named_parameters() if "embed" not in n)
    peak = (torch.cuda.max_memory_allocated() if scorer.device.type == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    return ({"method": name, "tokens_scored_per_s": args.n / wall, "wall_s": wall, "positions_run": tokens,
               "achieved_flops": 2 * n_params * tokens / wall, "peak_memory_bytes": int(peak),
               "scores": scores.tolist(), "batch": batch, "prefix_len": len(split.prefix_ids),
               "suffix_len": len(split.suffix_ids), "device": str(scorer.device), "dtype": scorer.dtype,
               "non_embedding_params": n_params})


def matmul_rate(device: str, dtype: torch.dtype, size: int = 2048, reps: int = 10) -> float:
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    a @ b
    _sync(torch.device(device))
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    _sync(torch.device(device))
    return 2 * size**3 * reps / (time.perf_counter() - t0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None)
    p.add_argument("--device", default="auto")
    p.add_argument("--dtype", default="auto")
    p.add_argument("--n", type=int, default=1024, help="vocabulary ids to score per method")
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--methods", default="study,plain,cached")
    p.add_argument("--worker", help=argparse.SUPPRESS)  # internal: run one method in this process
    args = p.parse_args()
    if args.worker:
        print("BENCH-RESULT " + json.dumps(_worker(args.worker, args)))
        return
    runs = {}
    for name in args.methods.split(","):
        # A fresh process per method: peak memory is that method's own.
        cmd = [sys.executable, __file__, "--worker", name, "--n", str(args.n), "--device", args.device,
               "--dtype", args.dtype] + (["--model", args.model] if args.model else []) + \
              (["--batch", str(args.batch)] if args.batch else [])
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        runs[name] = json.loads(next(l for l in out.splitlines() if l.startswith("BENCH-RESULT "))[13:])
    any_run = next(iter(runs.values()))
    device = any_run["device"]
    dtype = getattr(torch, any_run["dtype"])
    peak = matmul_rate(device.split(":")[0] if device.startswith("cpu") else device, dtype)
    pre, suf = any_run["prefix_len"], any_run["suffix_len"]
    report = {"device": device, "dtype": any_run["dtype"], "n_tokens": args.n, "prefix_len": pre, "suffix_len": suf,
              "ideal_speedup_cached_vs_plain": (pre + 1 + suf) / (1 + suf), "matmul_flops": peak}
    for name, r in runs.items():
        report[name] = {k: r[k] for k in ("tokens_scored_per_s", "wall_s", "batch", "peak_memory_bytes")}
        report[name]["achieved_flops"] = r["achieved_flops"]
        report[name]["fraction_of_matmul_rate"] = r["achieved_flops"] / peak
    if "plain" in runs and "cached" in runs:
        sp = runs["cached"]["tokens_scored_per_s"] / runs["plain"]["tokens_scored_per_s"]
        report["speedup_cached_vs_plain"] = sp
        report["fraction_of_ideal_speedup"] = sp / report["ideal_speedup_cached_vs_plain"]
        report["max_abs_diff_cached_vs_plain"] = float(np.max(np.abs(np.array(runs["cached"]["scores"]) -
                                                                     np.array(runs["plain"]["scores"]))))
    if "study" in runs and "cached" in runs:
        report["speedup_cached_vs_study"] = runs["cached"]["tokens_scored_per_s"] / runs["study"]["tokens_scored_per_s"]
        from scipy.stats import kendalltau

        report["kendall_tau_study_vs_exact"] = float(kendalltau(runs["study"]["scores"], runs["cached"]["scores"]).statistic)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
