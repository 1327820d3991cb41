"""Judge scan beside the reward scan of the same backbone (CPU): tokens/s, and the suffix each re-runs per candidate.

    python benchmarks/judge_throughput.py [N_TOKENS]

Uses the offline demo models (built on first use): the demo reward model (Gemma-3-270M with a trained head, its
chat template) and the same backbone as a judge (plain format, the default rating template). Both score the same
N vocabulary ids after one cached prompt, in one process, alternating, so machine load affects both alike.
"""

from __future__ import annotations

import sys
import time

import torch

from harness.models.identity import resolve_model_ref
from harness.models.loading import load_ref
from harness.scoring.responses import VocabularySet
from harness.scoring.scan import BatchSizer, score_rows

PROMPT = "What, in one word, is the best thing ever?"


def rate(scorer, ids: list[int], repeats: int = 3) -> tuple[float, int]:
    split = scorer.split(PROMPT)
    state = scorer.prefix_state(split.prefix_ids)
    vocab = VocabularySet(scorer.tokenizer, split, scorer.vocab_size, ids=ids)
    conts = [scorer.continuation(split, r) for r in vocab.reply_ids(0, len(ids))]
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        score_rows(scorer, state, conts, BatchSizer(128, scorer.device))
        best = min(best, time.perf_counter() - t0)
    return len(ids) / best, len(split.suffix_ids)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2048
    torch.manual_seed(0)
    reward = load_ref(resolve_model_ref(None, demo="rm", device="cpu"))
    judge = load_ref(resolve_model_ref(None, demo="lm", scorer="judge", device="cpu"))
    ids = list(range(1000, 1000 + n))
    r_rate, r_suffix = rate(reward, ids)
    j_rate, j_suffix = rate(judge, ids)
    print(f"threads {torch.get_num_threads()}, {n} candidate tokens, best of 3")
    print(f"reward scan  {r_rate:8.0f} tok/s   suffix {r_suffix} tokens (chat template)")
    print(f"judge scan   {j_rate:8.0f} tok/s   suffix {j_suffix} tokens (default rating template, plain), "
          f"{len(judge.trie.sequences)} ratings, {len(judge.trie.steps)} extra cached step(s)")
    print(f"judge / reward throughput: {j_rate / r_rate:.2f}")


if __name__ == "__main__":
    main()
