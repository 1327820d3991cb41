"""Greedy Coordinate Gradient (GCG) over the reply tokens of a reward model's chat template.

The user prompt is fixed; the reply (a sequence of token ids between the template's exact prefix and suffix) is
searched to MAXIMISE or MINIMISE the reward. Each step of a restart:

1. take the best sequence in the buffer;
2. gradient: the reply as a one-hot matrix [L, V] @ the input embedding matrix gives its embeddings; with the
   suffix embeddings they run after the cached prefix (`Scorer.score_embeds`); the gradient of sign * reward
   (sign = +1 maximise, -1 minimise) with respect to the one-hot matrix ranks, per position, the tokens that
   would move the reward the chosen way; the `topk` best allowed ones are the candidates there;
3. sample `search_width` sequences, each with `n_replace` random positions set to a random candidate token;
4. keep the distinct ones whose decoded text, rendered in the template and tokenised, gives back exactly the
   same ids (so the reported string really scores what is reported);
5. score them in batches after the prefix KV cache (`harness.scoring.scan.score_rows`, the vocabulary scan's own
   path; the batch halves on out-of-memory) and put the best in the buffer (in the chosen direction).

Allowed tokens: never special tokens or the pad id; by default only ASCII, printable ones. The final best of each
restart is re-scored by one plain full forward (`Scorer.score_full`) and must agree with the searched score.
"""

from __future__ import annotations

import logging
import math
import time
import weakref
from typing import Sequence

import numpy as np
import torch

from harness.gcg.config import GCGConfig, GCGError
from harness.gcg.result import GCGResult, RestartResult, StepRecord, within_tolerance
from harness.models.kinds import optimisable
from harness.models.quiet import unpadded_embeds
from harness.models.scorer import Scorer
from harness.models.templates import reply_ids_in_context
from harness.progress import progress_shown
from harness.models.tokens import decode_each
from harness.scoring.responses import _special_ids
from harness.scoring.scan import BatchSizer, score_rows

log = logging.getLogger(__name__)

RANDOM_INIT_TRIES = 50  # batches of 32 random sequences tried for one that round-trips


class RescoreMismatch(GCGError):
    """The final best's searched score and its plain full-forward score disagree; `.result` holds everything."""

    def __init__(self, message: str, result: GCGResult):
        super().__init__(message)
        self.result = result


# ------------------------------------------------------------------------------------------------ token filter

_ALLOWED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # tokenizer -> {settings: mask}


def allowed_tokens(tokenizer, vocab_size: int, allow_non_ascii: bool = False,
                   allow_non_printable: bool = False) -> torch.Tensor:
    """Bool mask [vocab_size]: ids GCG may put in a reply (never special tokens or ids without a string)."""
    key = (vocab_size, len(tokenizer), allow_non_ascii, allow_non_printable)
    try:
        per_tokenizer = _ALLOWED.setdefault(tokenizer, {})
    except TypeError:  # not weak-referenceable: no cache
        per_tokenizer = {}
    if key not in per_tokenizer:
        n = min(vocab_size, len(tokenizer))
        decoded = decode_each(tokenizer, [[i] for i in range(n)])
        special = _special_ids(tokenizer)
        ok = [
            bool(d) and i not in special
            and (allow_non_ascii or d.isascii())
            and (allow_non_printable or d.isprintable())
            for i, d in enumerate(decoded)
        ]
        mask = torch.zeros(vocab_size, dtype=torch.bool)
        mask[:n] = torch.tensor(ok, dtype=torch.bool)
        per_tokenizer[key] = mask
    return per_tokenizer[key].clone()


# ------------------------------------------------------------------------------------------------ the search


class _Buffer:
    """The best `size` distinct sequences seen, best first (in the search's direction)."""

    def __init__(self, size: int, sign: float):
        self.size, self.sign = size, sign
        self.items: list[tuple[float, tuple[int, ...]]] = []

    def add(self, score: float, ids: Sequence[int]) -> None:
        ids = tuple(ids)
        if not math.isfinite(score) or any(i == ids for _, i in self.items):
            return
        self.items.append((score, ids))
        self.items.sort(key=lambda x: -self.sign * x[0])
        del self.items[self.size:]

    @property
    def best(self) -> tuple[float, list[int]]:
        score, ids = self.items[0]
        return score, list(ids)


class GCG:
    """One prompt's fixed context (template split, prefix cache, allowed tokens, batch sizer) and the search."""

    def __init__(self, scorer: Scorer, prompt: str, config: GCGConfig):
        if scorer.kind not in optimisable() or not scorer.uses_suffix:
            raise GCGError(f"GCG optimises a score differentiable in the reply ({', '.join(sorted(optimisable()))} "
                           f"scorers); this scorer is {scorer.kind!r}")
        self.scorer, self.prompt, self.config = scorer, prompt, config
        self.tokenizer = scorer.tokenizer
        self.split = scorer.split(prompt)
        self.prefix = list(self.split.prefix_ids)
        self.suffix = scorer.continuation(self.split, [])
        self.state = scorer.prefix_state(self.prefix) if config.prefix_cache else None
        bs = config.batch_size
        self.sizer = BatchSizer(None if bs in (None, "auto") else bs, scorer.device)

        self.W = scorer.embedding_matrix().detach()
        self.allowed = allowed_tokens(self.tokenizer, self.W.shape[0], config.allow_non_ascii,
                                      config.allow_non_printable)
        pad = getattr(scorer.model.config, "pad_token_id", None)
        if isinstance(pad, int) and 0 <= pad < len(self.allowed):
            self.allowed[pad] = False  # classifiers read the reward at the last non-pad token
        self.allowed_ids = self.allowed.nonzero()[:, 0]
        if len(self.allowed_ids) == 0:
            raise GCGError("no vocabulary token passes the filters (special / ASCII / printable)")
        self.blocked = (~self.allowed).to(self.W.device)
        self._setup_embeddings()

    # -- embeddings and gradient

    def _setup_embeddings(self) -> None:
        """The reply's embeddings are one_hot @ W (times the module's scale, as Gemma-3's embedding applies);
        check that this equals what the embedding module gives for real ids."""
        emb = self.scorer.model.get_input_embeddings()
        scale = getattr(emb, "embed_scale", None)
        self.scale = None if scale is None else (scale.to(self.W.dtype) if torch.is_tensor(scale) else float(scale))
        probe = torch.arange(min(16, self.W.shape[0]), device=self.W.device)
        with torch.no_grad():
            ref = emb(probe)
            mine = self._embed(torch.nn.functional.one_hot(probe, self.W.shape[0]).to(self.W.dtype))
        if not torch.allclose(ref.float(), mine.float(), rtol=1e-2, atol=1e-3):
            raise GCGError(f"{type(emb).__name__} is not a plain lookup of embedding_matrix() (times embed_scale); "
                           "GCG cannot take a gradient through one-hot tokens for this model")
        with torch.no_grad():
            self.suffix_embeds = emb(torch.tensor(self.suffix, dtype=torch.long, device=self.W.device))
            self.prefix_embeds = None if self.state is not None else \
                emb(torch.tensor(self.prefix, dtype=torch.long, device=self.W.device))

    def _embed(self, one_hot: torch.Tensor) -> torch.Tensor:
        out = one_hot @ self.W
        return out if self.scale is None else out * self.scale

    def gradient(self, ids: list[int]) -> torch.Tensor:
        """d(sign * reward) / d(one-hot reply) as float32 [L, V]: large = the token moves the reward the chosen way."""
        ids_t = torch.tensor(ids, dtype=torch.long, device=self.W.device)
        one_hot = torch.zeros(len(ids), self.W.shape[0], dtype=self.W.dtype, device=self.W.device)
        one_hot.scatter_(1, ids_t[:, None], 1.0)
        one_hot.requires_grad_(True)
        with torch.enable_grad():
            cont = torch.cat([self._embed(one_hot), self.suffix_embeds], dim=0)[None]
            if self.state is not None:
                reward = self.scorer.score_embeds(self.state, cont)
            else:
                full = torch.cat([self.prefix_embeds[None], cont], dim=1)
                with unpadded_embeds():  # one whole sequence: no padding to detect
                    reward = self.scorer.reward(self.scorer.model(inputs_embeds=full, use_cache=False))
            (grad,) = torch.autograd.grad(self.config.sign * reward.sum(), one_hot)
        return grad.float()

    def top_candidates(self, ids: list[int]) -> torch.Tensor:
        """[L, k] allowed token ids with the largest gradient of the objective, per position (on the CPU)."""
        grad = self.gradient(ids).masked_fill(self.blocked[None], -math.inf)
        k = min(self.config.topk, len(self.allowed_ids))
        return grad.topk(k, dim=1).indices.cpu()

    # -- candidates

    def sample(self, ids: list[int], top: torch.Tensor, gen: torch.Generator) -> list[list[int]]:
        """`search_width` sequences with `n_replace` random positions set to a random top-k token; distinct and
        different from `ids`, in order of first appearance (deterministic under the generator)."""
        width, length = self.config.search_width, len(ids)
        n_rep = min(self.config.n_replace, length)
        positions = torch.rand(width, length, generator=gen).argsort(dim=1)[:, :n_rep]
        picks = torch.randint(0, top.shape[1], (width, n_rep), generator=gen)
        cands = torch.tensor(ids, dtype=torch.long).repeat(width, 1)
        cands.scatter_(1, positions, top[positions, picks])
        seen, out = {tuple(ids)}, []
        for row in cands.tolist():
            if tuple(row) not in seen:
                seen.add(tuple(row))
                out.append(row)
        return out

    def decode(self, seqs: Sequence[Sequence[int]]) -> list[str]:
        return decode_each(self.tokenizer, seqs)

    def roundtrips(self, seqs: Sequence[Sequence[int]]) -> list[bool]:
        """Does each sequence's decoded text, rendered in the template and tokenised, give back exactly its ids?"""
        if not seqs:
            return []
        enc = reply_ids_in_context(self.tokenizer, self.split, self.decode(seqs))
        return [clean and ids == list(s) for s, (ids, clean) in zip(seqs, enc)]

    # -- scoring (the vocabulary scan's path)

    def score(self, seqs: Sequence[Sequence[int]]) -> np.ndarray:
        conts = [self.scorer.continuation(self.split, list(s)) for s in seqs]
        if self.state is not None:
            return score_rows(self.scorer, self.state, conts, self.sizer)
        rows = torch.tensor([self.prefix + c for c in conts], dtype=torch.long)
        return self.sizer.run(lambda b: self.scorer.score_full(b), rows).double().numpy()

    def rescore(self, ids: list[int]) -> float:
        """The reference: one plain full forward over prefix + reply + suffix, no cache, batch of one."""
        full = torch.tensor([self.prefix + self.scorer.continuation(self.split, ids)], dtype=torch.long)
        return float(self.scorer.score_full(full, n_reply=len(ids))[0])

    # -- initial sequences

    def initial_ids(self, restart: int, gen: torch.Generator) -> list[int]:
        if restart < len(self.config.init):
            text = self.config.init[restart]
            ids, clean = reply_ids_in_context(self.tokenizer, self.split, [text])[0]
            if not clean or not self.roundtrips([ids])[0]:
                raise GCGError(f"initial reply {text!r} does not tokenise to the same ids in the template "
                               "(a merge at the template's seams, or trimmed whitespace); choose another string")
            return ids
        n = self.config.n_tokens
        for _ in range(RANDOM_INIT_TRIES):
            draws = self.allowed_ids[torch.randint(len(self.allowed_ids), (32, n), generator=gen)].tolist()
            for ids, ok in zip(draws, self.roundtrips(draws)):
                if ok:
                    return ids
        raise GCGError(f"no random sequence of {n} allowed tokens round-trips through the template; "
                       "give initial strings with `init`")

    # -- the search

    def run_restart(self, restart: int) -> RestartResult:
        cfg = self.config
        seed = cfg.seed + restart
        gen = torch.Generator().manual_seed(seed)
        t0 = time.perf_counter()
        init = self.initial_ids(restart, gen)
        init_score = float(self.score([init])[0])
        buffer = _Buffer(cfg.buffer_size, cfg.sign)
        buffer.add(init_score, init)
        if not buffer.items:
            raise GCGError(f"the initial reply scores {init_score}: not a finite reward")
        steps: list[StepRecord] = []
        stale, stopped = 0, "steps"
        bar = None
        if cfg.progress or progress_shown():
            from tqdm.auto import tqdm

            bar = tqdm(total=cfg.steps, desc=f"gcg {cfg.direction} · restart {restart + 1}/{cfg.restarts}",
                       unit="step", leave=False)
        if cfg.reached(init_score):
            stopped = "target"
        for step in range(1, cfg.steps + 1 if stopped == "steps" else 1):
            best_before, current = buffer.best
            cands = self.sample(current, self.top_candidates(current), gen)
            valid = [c for c, ok in zip(cands, self.roundtrips(cands)) if ok]
            step_ids, step_score = [], None
            if valid:
                scores = self.score(valid)
                objective = np.where(np.isfinite(scores), cfg.sign * scores, -np.inf)
                j = int(np.argmax(objective))
                step_ids, step_score = valid[j], float(scores[j])
                buffer.add(step_score, step_ids)
            best_score, best_ids = buffer.best
            stale = 0 if cfg.better(best_score, best_before) else stale + 1
            steps.append(StepRecord(
                step=step, ids=step_ids, text=self.decode([step_ids])[0] if step_ids else "", score=step_score,
                best_ids=best_ids, best_text=self.decode([best_ids])[0], best_score=best_score,
                n_sampled=len(cands), n_valid=len(valid), elapsed_s=round(time.perf_counter() - t0, 4),
            ))
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(f"best reward so far {best_score:.4g}")
            if step == 1 or step % max(1, cfg.steps // 10) == 0:
                log.info("gcg %s restart %d step %d: best %.4f %r (%d/%d candidates valid)", cfg.direction,
                         restart, step, best_score, steps[-1].best_text, len(valid), len(cands))
            if cfg.reached(best_score):
                stopped = "target"
                break
            if cfg.patience is not None and stale >= cfg.patience:
                stopped = "patience"
                break
        if bar is not None:
            bar.close()
        best_score, best_ids = buffer.best
        best_text = self.decode([best_ids])[0]
        text_ids, clean = reply_ids_in_context(self.tokenizer, self.split, [best_text])[0]
        return RestartResult(
            restart=restart, seed=seed, init_ids=init, init_text=self.decode([init])[0], init_score=init_score,
            best_ids=best_ids, best_text=best_text, best_score=best_score, rescore=self.rescore(best_ids),
            roundtrip=clean and text_ids == best_ids, stopped=stopped, wall_s=round(time.perf_counter() - t0, 4),
            steps=steps,
        )


def default_tolerance(dtype: str) -> float:
    """Relative tolerance of |searched - re-scored| (times max(1, |score|)): float32 is exact to ~1e-6;
    half precision differs between batched/cached and plain forwards at the 1e-2 level."""
    return 1e-3 if dtype in ("float32", "float64") else 2e-2


def run_gcg(scorer: Scorer, prompt: str, config: GCGConfig | None = None) -> GCGResult:
    """Search replies to `prompt` that maximise or minimise the reward; every restart, re-scored plainly.

    Raises RescoreMismatch (with `.result`) when a final best's searched and re-scored rewards disagree beyond
    the tolerance.
    """
    config = config or GCGConfig()
    t0 = time.perf_counter()
    gcg = GCG(scorer, prompt, config)
    restarts = [gcg.run_restart(r) for r in range(config.restarts)]
    source = getattr(scorer, "source", None)
    tol = config.rescore_tol if config.rescore_tol is not None else default_tolerance(scorer.dtype)
    result = GCGResult(
        prompt=prompt, direction=config.direction, config=config.to_dict(),
        model=source.id if source is not None else scorer.spec.id, template_hash=gcg.split.template_hash,
        prefix_ids=gcg.prefix, suffix_ids=gcg.suffix, restarts=restarts, wall_s=round(time.perf_counter() - t0, 4),
        device=str(scorer.device), dtype=scorer.dtype, rescore_tol=tol,
    )
    bad = [r for r in restarts if not within_tolerance(r.best_score, r.rescore, tol)]
    if bad:
        r = bad[0]
        raise RescoreMismatch(
            f"restart {r.restart}: searched reward {r.best_score:.6g} but a plain full forward gives "
            f"{r.rescore:.6g} (|diff| {r.rescore_diff:.3g} > {tol:g} x max(1, |score|))", result)
    return result
