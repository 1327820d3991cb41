"""GPU check (run by benchmarks/gpu_check.sh): a whole-vocabulary scan of a Llama-3-8B-shaped reward model.

Builds a random-weight LlamaForSequenceClassification from a Llama-3-8B config directly on the device (bf16; no
download, no network), scores all 128,256 ids as one-token replies to the study's `best` prompt through the
harness's scan (`harness.scoring.scan.scan`: cached prompt, equal-length batches, OOM back-off, parquet parts),
then on a sample measures cached against plain full-sequence forwards and their parity (`harness.scoring.parity`),
the differences read against the spread of the scores. Prints one JSON document.

The input ids are those of the Llama-3 chat template around the prompt (computed once with Meta's vocabulary,
written below) so no tokenizer is needed on the device. `--tiny`: a tiny config on the CPU, few ids, for the test
suite, so the script cannot rot.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.models.registry import ModelSpec  # noqa: E402
from harness.models.scorer import RewardScorer  # noqa: E402
from harness.models.templates import TemplateSplit  # noqa: E402
from harness.scoring.parity import check, sample_ids  # noqa: E402
from harness.scoring.scan import BatchSizer, scan, score_rows  # noqa: E402
from harness.scoring.table import TableStore  # noqa: E402

PROMPT = "What, in one word, is the best thing ever?"
# Llama-3 chat template, user turn = PROMPT, assistant reply = the candidate: <|begin_of_text|> header "user"
# "\n\n" PROMPT <|eot_id|> header "assistant" "\n\n" | candidate | <|eot_id|>
PREFIX_IDS = (128000, 128006, 882, 128007, 271, 3923, 11, 304, 832, 3492, 11, 374, 279, 1888, 3245, 3596, 30,
              128009, 128006, 78191, 128007, 271)
SUFFIX_IDS = (128009,)
PAD_ID = 128255  # a reserved special id the template never emits (classifiers pool the last non-pad token)

LLAMA3_8B = dict(vocab_size=128256, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                 num_attention_heads=32, num_key_value_heads=8, max_position_embeddings=8192, rope_theta=500000.0,
                 rms_norm_eps=1e-5, bos_token_id=128000, eos_token_id=128009)
TINY = dict(vocab_size=128256, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=512, bos_token_id=128000, eos_token_id=128009)


@dataclass
class IdSet:
    """The vocabulary (or a part of it) as the scan's response set, described by id only (no tokenizer here)."""

    ids: np.ndarray
    name: str = "vocabulary"

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def fingerprint(self) -> str:
        return f"gpu-check-ids:{len(self.ids)}:{int(self.ids.sum())}"

    def reply_ids(self, start: int, end: int) -> list[list[int]]:
        return [[int(i)] for i in self.ids[start:end]]

    def describe(self, start: int, end: int) -> pd.DataFrame:
        return pd.DataFrame({"id": self.ids[start:end]})


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def build(config_kwargs: dict, dtype: torch.dtype, device: str) -> RewardScorer:
    """Random weights, made on the device in the target dtype (no float32 copy of 8B parameters on the host)."""
    from transformers import LlamaConfig, LlamaForSequenceClassification

    config = LlamaConfig(num_labels=1, pad_token_id=PAD_ID, **config_kwargs)
    torch.manual_seed(0)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            model = LlamaForSequenceClassification(config)
    finally:
        torch.set_default_dtype(previous)
    spec = ModelSpec(id="random/llama-3-8b-shaped-rm", kind="reward", output="logits", head="score")
    return RewardScorer(model.eval(), None, spec, revision="random-seed-0", dtype=str(dtype).replace("torch.", ""))


def timed(fn, device: torch.device):
    sync(device)
    t0 = time.perf_counter()
    out = fn()
    sync(device)
    return out, time.perf_counter() - t0


def plain_batched(scorer: RewardScorer, split: TemplateSplit, ids: list[int], batch: int) -> np.ndarray:
    """Full sequences (prefix + id + suffix), no cache, equal length so no padding: the fair plain baseline."""
    rows = torch.tensor([list(split.prefix_ids) + scorer.continuation(split, [i]) for i in ids])
    return torch.cat([scorer.score_full(rows[s:s + batch]).float().cpu() for s in range(0, len(rows), batch)]).numpy()


def run(tiny: bool, n_sample: int, batch: int | None, out_dir: Path) -> dict:
    device = "cpu" if tiny else "cuda"
    dtype = torch.float32 if tiny else torch.bfloat16
    if not tiny and not torch.cuda.is_available():
        raise SystemExit("gpu_check: no CUDA device here; use --tiny for the CPU smoke run")
    t0 = time.perf_counter()
    scorer = build(TINY if tiny else LLAMA3_8B, dtype, device)
    dev = scorer.device
    sync(dev)
    build_s = time.perf_counter() - t0
    split = TemplateSplit(PROMPT, "", "", PREFIX_IDS, SUFFIX_IDS, True, "llama3-best-prompt")
    vocab = scorer.vocab_size
    ids = np.arange(vocab) if not tiny else np.array(sample_ids(vocab, 512))
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    table, scan_s = timed(lambda: scan(scorer, split, IdSet(ids), TableStore(out_dir), batch_size=batch or "auto",
                                       progress=False, prompt_key="best"), dev)
    scores = table.df["score"].to_numpy()
    peak = torch.cuda.max_memory_allocated() if dev.type == "cuda" else None

    sample = sample_ids(vocab, n_sample, seed=1)
    sb = batch or (256 if tiny else 1024)
    state = scorer.prefix_state(split.prefix_ids)
    cached, cached_s = timed(lambda: score_rows(scorer, state, [scorer.continuation(split, [i]) for i in sample],
                                                BatchSizer(sb, dev)), dev)
    plain, plain_s = timed(lambda: plain_batched(scorer, split, sample, min(sb, 256)), dev)
    parity = check(scorer, split, [[i] for i in sample[: min(len(sample), 128)]], batch_size=min(sb, 64))
    spread = float(np.std(scores))
    return {
        "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else platform.processor() or "cpu",
        "mode": "tiny" if tiny else "llama-3-8b-shaped",
        "python": platform.python_version(), "torch": torch.__version__,
        "transformers": __import__("transformers").__version__,
        "dtype": scorer.dtype, "params": sum(p.numel() for p in scorer.model.parameters()),
        "prefix_len": len(split.prefix_ids), "suffix_len": len(split.suffix_ids),
        "build_s": round(build_s, 2),
        "scan": {"n_ids": int(len(scores)), "wall_s": round(scan_s, 3), "ids_per_s": round(len(scores) / scan_s, 1),
                 "all_finite": bool(np.isfinite(scores).all()), "score_mean": float(np.mean(scores)),
                 "score_std": spread, "peak_gpu_memory_gib": None if peak is None else round(peak / 2**30, 2),
                 "top_ids": [int(i) for i in ids[np.argsort(-scores)[:5]]]},
        "cached_vs_plain": {
            "n": len(sample), "cached_s": round(cached_s, 3), "plain_batched_s": round(plain_s, 3),
            "speedup": round(plain_s / cached_s, 2),
            "ideal_speedup": round((len(split.prefix_ids) + 1 + len(split.suffix_ids)) / (1 + len(split.suffix_ids)),
                                   2),
            "max_abs_diff_vs_plain_batched": float(np.max(np.abs(cached - plain))),
        },
        "parity": {**parity.to_json(), "max_abs_diff_over_scan_std": float(parity.max_abs_diff / spread)
                   if spread > 0 else None},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tiny", action="store_true", help="tiny config on the CPU, 512 ids (the test suite's mode)")
    ap.add_argument("--sample", type=int, default=None, help="ids in the cached-vs-plain sample (default 2048; "
                    "tiny 64)")
    ap.add_argument("--batch", type=int, default=None, help="scan batch size (default: the scan's auto)")
    ap.add_argument("--out", default=None, help="score-table folder (default: a temporary one)")
    args = ap.parse_args(argv)
    n = args.sample or (64 if args.tiny else 2048)
    with tempfile.TemporaryDirectory() as tmp:
        report = run(args.tiny, n, args.batch, Path(args.out or tmp))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
