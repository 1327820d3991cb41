"""GCG speed: steps per second with the prefix KV cache, without it, and a plain reference loop; prints JSON.

    python benchmarks/bench_gcg.py                       # a small random Llama classifier, real Llama-3 tokenizer
    python benchmarks/bench_gcg.py --model ORG/NAME --device cuda --search-width 512 --topk 256 --n-tokens 19

Modes, same model, same seed, same settings, in one run:
- cached:    prefix KV cache for the gradient and the candidates, candidates batched (the default path);
- no_cache:  full forwards over prefix + reply + suffix for the gradient and the candidates, still batched;
- reference: full forward per candidate, batch of one, no cache (the plain loop).
All three should follow the same trajectory (same best ids each step) up to float ties; `same_trajectory` says.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def build_model(out: Path, hidden: int, layers: int) -> Path:
    import builders

    heads = max(1, hidden // 64)
    return builders.tiny_classifier("Llama", builders.llama3_tokenizer_dir(), out, hidden_size=hidden,
                                    intermediate_size=hidden * 4, num_hidden_layers=layers,
                                    num_attention_heads=heads, num_key_value_heads=heads)


def run_mode(scorer, prompt: str, config) -> tuple[dict, list]:
    from harness.gcg import run_gcg

    t = time.perf_counter()
    res = run_gcg(scorer, prompt, config)
    wall = time.perf_counter() - t
    r = res.best
    # per-step time: from the end of step 1 to the end of the last step (no setup, no initial sequence)
    steps = r.steps
    step_s = (steps[-1].elapsed_s - steps[0].elapsed_s) / (len(steps) - 1) if len(steps) > 1 else float("nan")
    return {
        "steps": res.steps_run, "wall_s": round(wall, 3), "s_per_step": round(step_s, 5),
        "steps_per_s": round(1.0 / step_s, 4) if step_s > 0 else None,
        "best_score": r.best_score, "rescore": r.rescore, "rescore_abs_diff": r.rescore_diff,
        "mean_valid_candidates": round(sum(s.n_valid for s in steps) / max(1, len(steps)), 1),
    }, [s.best_ids for s in steps]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="a local folder or Hub id (default: a random Llama classifier built here)")
    p.add_argument("--hidden", type=int, default=256, help="hidden size of the built model")
    p.add_argument("--layers", type=int, default=4, help="layers of the built model")
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="auto")
    p.add_argument("--prompt", default="What, in one word, is the best thing ever?")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--reference-steps", type=int, default=None, help="steps for the reference loop (default --steps)")
    p.add_argument("--search-width", type=int, default=64)
    p.add_argument("--topk", type=int, default=64)
    p.add_argument("--n-tokens", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    import torch

    from harness.gcg import GCGConfig
    from harness.models.loading import load_scorer

    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model or str(build_model(Path(tmp) / "bench-llama", args.hidden, args.layers))
        scorer = load_scorer(model, device=args.device, dtype=args.dtype)
        base = GCGConfig(steps=args.steps, search_width=args.search_width, topk=args.topk, n_tokens=args.n_tokens,
                         seed=args.seed)
        run_mode(scorer, args.prompt, base.with_(steps=1))  # warm-up: allowed-token table, kernels
        split = scorer.split(args.prompt)
        modes = {
            "cached": base,
            "no_cache": base.with_(prefix_cache=False),
            "reference": base.with_(prefix_cache=False, batch_size=1, steps=args.reference_steps or args.steps),
        }
        out, traj = {}, {}
        for name, config in modes.items():
            out[name], traj[name] = run_mode(scorer, args.prompt, config)
        n = min(len(t) for t in traj.values())
        rate = {k: v["steps_per_s"] for k, v in out.items()}
        doc = {
            "benchmark": "gcg",
            "model": "random Llama classifier (hidden %d, %d layers, Llama-3 vocabulary)" % (args.hidden, args.layers)
            if not args.model else args.model,
            "params_m": round(sum(p.numel() for p in scorer.model.parameters()) / 1e6, 2),
            "device": str(scorer.device), "dtype": scorer.dtype, "torch_threads": torch.get_num_threads(),
            "cpu": platform.processor() or platform.machine(),
            "settings": {"steps": args.steps, "search_width": args.search_width, "topk": args.topk,
                         "n_tokens": args.n_tokens, "prefix_tokens": len(split.prefix_ids),
                         "suffix_tokens": len(split.suffix_ids)},
            "modes": out,
            "speedup": {
                "cached_vs_no_cache": round(rate["cached"] / rate["no_cache"], 3),
                "cached_vs_reference": round(rate["cached"] / rate["reference"], 3),
                "no_cache_vs_reference": round(rate["no_cache"] / rate["reference"], 3),
            },
            "same_trajectory": all(traj[k][:n] == traj["cached"][:n] for k in traj),
        }
    print(json.dumps(doc, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
