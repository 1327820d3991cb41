"""GCG speed: steps per second with the prefix KV cache, without it, and a plain reference loop, one run each.

Same model, seed and settings for the three modes:
- cached:    prefix KV cache for the gradient and the candidates, candidates batched (the default path);
- no_cache:  full forwards over prefix + reply + suffix for the gradient and the candidates, still batched;
- reference: full forward per candidate, batch of one, no cache (the plain loop).
All three should follow the same trajectory (same best ids each step) up to float ties: `same_trajectory` says.
Default model: a random Llama classifier (hidden 256, 4 layers) with the real Llama-3 vocabulary.
"""

from __future__ import annotations

import platform

import pytest
import torch

from bench_report import REPORT

MODES = ("cached", "no_cache", "reference")
RUNS: dict[str, dict] = {}
TRAJECTORIES: dict[str, list] = {}


def _build_model(out, hidden: int, layers: int):
    import builders

    heads = max(1, hidden // 64)
    return builders.tiny_classifier("Llama", builders.llama3_tokenizer_dir(), out, hidden_size=hidden,
                                    intermediate_size=hidden * 4, num_hidden_layers=layers,
                                    num_attention_heads=heads, num_key_value_heads=heads)


@pytest.fixture(scope="module")
def setup(request, tmp_path_factory):
    from harness.gcg import GCGConfig
    from harness.models.loading import load_scorer

    opt = request.config.getoption
    torch.manual_seed(0)
    model = opt("--gcg-model") or str(_build_model(tmp_path_factory.mktemp("gcg") / "llama", opt("--gcg-hidden"),
                                                   opt("--gcg-layers")))
    device = opt("--bench-device")
    scorer = load_scorer(model, device="cpu" if device == "auto" and not torch.cuda.is_available() else device,
                         dtype=opt("--bench-dtype"))
    prompt = "What, in one word, is the best thing ever?"
    base = GCGConfig(steps=opt("--gcg-steps"), search_width=opt("--gcg-width"), topk=opt("--gcg-topk"),
                     n_tokens=opt("--gcg-tokens"), seed=0)
    _run(scorer, prompt, base.with_(steps=1))  # warm-up: allowed-token table, kernels
    configs = {"cached": base, "no_cache": base.with_(prefix_cache=False),
               "reference": base.with_(prefix_cache=False, batch_size=1)}
    yield scorer, prompt, configs
    split = scorer.split(prompt)
    rate = {k: v["steps_per_s"] for k, v in RUNS.items()}
    speedup = {f"{a}_vs_{b}": rate[a] / rate[b] for a, b in (("cached", "no_cache"), ("cached", "reference"),
                                                             ("no_cache", "reference")) if a in rate and b in rate}
    n = min((len(t) for t in TRAJECTORIES.values()), default=0)
    REPORT["gcg"] = {
        "model": opt("--gcg-model") or f"random Llama classifier (hidden {opt('--gcg-hidden')}, "
                                       f"{opt('--gcg-layers')} layers, Llama-3 vocabulary)",
        "params_m": round(sum(p.numel() for p in scorer.model.parameters()) / 1e6, 2),
        "device": str(scorer.device), "dtype": scorer.dtype, "torch_threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(),
        "settings": {"steps": base.steps, "search_width": base.search_width, "topk": base.topk,
                     "n_tokens": base.n_tokens, "prefix_tokens": len(split.prefix_ids),
                     "suffix_tokens": len(split.suffix_ids)},
        "modes": RUNS, "speedup": speedup,
        "same_trajectory": all(t[:n] == TRAJECTORIES["cached"][:n] for t in TRAJECTORIES.values())
        if "cached" in TRAJECTORIES else None,
    }


def _run(scorer, prompt: str, config) -> tuple[dict, list]:
    from harness.gcg import run_gcg

    res = run_gcg(scorer, prompt, config)
    best = res.best
    steps = best.steps
    # per-step time: from the end of step 1 to the end of the last (no setup, no initial sequence)
    step_s = (steps[-1].elapsed_s - steps[0].elapsed_s) / (len(steps) - 1) if len(steps) > 1 else float("nan")
    return {
        "steps": res.steps_run, "s_per_step": step_s, "steps_per_s": 1.0 / step_s if step_s > 0 else None,
        "best_score": best.best_score, "rescore": best.rescore, "rescore_abs_diff": best.rescore_diff,
        "mean_valid_candidates": sum(s.n_valid for s in steps) / max(1, len(steps)),
    }, [s.best_ids for s in steps]


@pytest.mark.parametrize("mode", MODES)
def test_gcg(benchmark, setup, mode):
    scorer, prompt, configs = setup
    figures, trajectory = benchmark.pedantic(_run, args=(scorer, prompt, configs[mode]), rounds=1, iterations=1)
    RUNS[mode], TRAJECTORIES[mode] = figures, trajectory
    benchmark.extra_info.update(figures)
    assert figures["steps"] >= 1
