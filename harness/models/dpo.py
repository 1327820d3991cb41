"""DPO reward models: the implicit reward beta * (log pi(y|x) - log pi_ref(y|x)) of a policy against its reference.

A DPO-trained policy defines a reward without a reward head: how much more likely it makes a reply than the model
it was trained from. `DPOScorer` runs the policy and the reference as two LM log-prob scorers over the same exact
ids (`prefix_ids + reply_ids [+ eos]`, one BOS, from the chat template split) and subtracts. Two variants:

- `rewardbench` (default): RewardBench's convention. The reply is followed by the tokenizer's end-of-sequence
  token and its log-probability is counted; log-probs are summed, not averaged; the reward is the plain log
  ratio (beta = 1; RewardBench multiplies by no beta, and a positive beta does not change any ranking). Every
  candidate needs a forward of both models: for a one-token reply, one cached step per model to read the EOS.
- `next_token`: the log-probs of the reply tokens only. For one-token replies the whole vocabulary costs one
  cached forward per model per prompt (the prompt's own), like the LM log-prob scorer.

Reference-free (no reference model) scores beta * log pi(y|x), summed (RewardBench's `--ref_free_type sum`). That
is a log-probability, not a log-ratio: the model identity records it (`reference: none` in results.json's model
block) and the analyses that cannot read log-probabilities (frequency, identity, framing) refuse it with their
reason (harness/analyses/registry.py).
Where we differ from RewardBench on purpose: it prepends a BOS to a prompt whose template text already starts
with one (two BOS tokens for Llama-3); we score the exact template ids with one. The cost of each variant is in
docs/dpo.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import torch

from harness.errors import UserError
from harness.models.identity import REFERENCE_NONE
from harness.models.scorer import LMLogProbScorer, PrefixState, Scorer
from harness.models.templates import TemplateSplit

REWARDBENCH = "rewardbench"
NEXT_TOKEN = "next_token"
VARIANTS: dict[str, str] = {
    REWARDBENCH: "reply + end-of-sequence token, EOS log-prob counted (RewardBench's convention)",
    NEXT_TOKEN: "reply tokens only (one cached forward per model covers the whole vocabulary)",
}


class DPOError(UserError, ValueError):
    """A DPO scorer that cannot be built as asked (variant, beta, EOS token, mismatched tokenizers)."""


@dataclass(frozen=True)
class DPOSettings:
    """What makes a DPO score: it travels into the score-table key and the results' model block."""

    variant: str
    beta: float
    reference: str | None  # "<id>@<revision>" of the reference model; None = reference-free
    eos_token_id: int | None  # appended to every reply in the rewardbench variant

    @property
    def label(self) -> str:
        ref = self.reference or "none (reference-free)"
        eos = f", eos={self.eos_token_id}" if self.variant == REWARDBENCH else ""
        return f"dpo[{self.variant}] beta={self.beta!r}, ref={ref}{eos}"

    def to_json(self) -> dict[str, Any]:
        return {"variant": self.variant, "variant_definition": VARIANTS[self.variant], "beta": self.beta,
                "reference": self.reference or REFERENCE_NONE, "eos_token_id": self.eos_token_id}


def _model_name(scorer: LMLogProbScorer) -> str:
    source = getattr(scorer, "source", None)
    return f"{source.id if source else scorer.spec.id}@{scorer.revision}"


class DPOScorer(Scorer):
    """Implicit DPO reward of a policy (and optional reference), both `LMLogProbScorer`s on one tokenizer."""

    kind = "dpo"
    uses_suffix = False  # the template's closing tokens are not part of the reply a DPO policy generates

    def __init__(self, policy: LMLogProbScorer, reference: LMLogProbScorer | None = None, *,
                 variant: str = REWARDBENCH, beta: float = 1.0, eos_token_id: int | None = None):
        if variant not in VARIANTS:
            raise DPOError(f"DPO variant {variant!r} is unknown; choose one of {', '.join(VARIANTS)}")
        if not (isinstance(beta, (int, float)) and math.isfinite(beta) and beta > 0):
            raise DPOError(f"DPO beta {beta!r} must be a positive number (RewardBench's convention is 1)")
        eos = eos_token_id if eos_token_id is not None else policy.tokenizer.eos_token_id
        if variant == REWARDBENCH and eos is None:
            raise DPOError(f"{policy.spec.id}: the tokenizer has no end-of-sequence token, which the rewardbench "
                           "variant appends to every reply; give one (eos_token_id) or use variant next_token")
        self.policy = policy
        self.reference = reference
        self.settings = DPOSettings(variant, float(beta), _model_name(reference) if reference else None,
                                    eos if variant == REWARDBENCH else None)
        # The policy's spec, relabelled: `output` names exactly what is scored, so cached tables of different
        # variants, betas or references never share a key.
        spec = replace(policy.spec, kind="dpo", output=self.settings.label, index=None, head=None)
        super().__init__(lambda: policy.model, policy.tokenizer, spec, chat_template=policy.chat_template,
                         revision=policy.revision, dtype=policy.dtype,
                         device=str(policy._device) if policy._device else None, vocab_size=policy._vocab_size)

    @property
    def variant(self) -> str:
        return self.settings.variant

    @property
    def beta(self) -> float:
        return self.settings.beta

    @property
    def loaded(self) -> bool:
        return self.policy.loaded and (self.reference is None or self.reference.loaded)

    def continuation(self, split: TemplateSplit, reply_ids: list[int]) -> list[int]:
        extra = [self.settings.eos_token_id] if self.variant == REWARDBENCH else []
        return list(reply_ids) + extra

    def _extra_tokens(self) -> int:
        return 1 if self.variant == REWARDBENCH else 0

    def _combine(self, policy: torch.Tensor, reference: torch.Tensor | None) -> torch.Tensor:
        ratio = policy if reference is None else policy - reference.to(policy.device)
        return self.beta * ratio

    @torch.inference_mode()
    def prefix_state(self, prefix_ids: tuple[int, ...] | list[int]) -> PrefixState:
        """The prompt run once through each model; `cache` holds the two models' own prefix states."""
        states = (self.policy.prefix_state(prefix_ids),
                  self.reference.prefix_state(prefix_ids) if self.reference is not None else None)
        return PrefixState(tuple(prefix_ids), states)

    @torch.inference_mode()
    def score_cached(self, state: PrefixState, cont_ids: torch.Tensor) -> torch.Tensor:
        policy_state, ref_state = state.cache
        ref = self.reference.score_cached(ref_state, cont_ids) if self.reference is not None else None
        return self._combine(self.policy.score_cached(policy_state, cont_ids), ref)

    @torch.inference_mode()
    def score_full(self, input_ids: torch.Tensor, n_reply: int = 1) -> torch.Tensor:
        """Reward of whole sequences from plain forwards; `n_reply` counts the reply's own tokens (the EOS of the
        rewardbench variant, already at the end of `input_ids`, is added here)."""
        n = n_reply + self._extra_tokens()
        ref = self.reference.score_full(input_ids, n) if self.reference is not None else None
        return self._combine(self.policy.score_full(input_ids, n), ref)

    def score_rows_full(self, rows, n_reply, batch: int = 8) -> list[float]:
        n = [k + self._extra_tokens() for k in n_reply]
        policy = torch.tensor(self.policy.score_rows_full(rows, n, batch))
        ref = torch.tensor(self.reference.score_rows_full(rows, n, batch)) if self.reference is not None else None
        return self._combine(policy, ref).tolist()

    def score_embeds(self, state: PrefixState, cont_embeds: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("GCG optimises reward-model heads; the DPO objective is not supported")

    def embedding_matrix(self) -> torch.Tensor:
        return self.policy.embedding_matrix()


def _same_vocabulary(a, b) -> bool:
    return len(a) == len(b) and a.get_vocab() == b.get_vocab()


def pair_scorers(policy: LMLogProbScorer, reference: LMLogProbScorer | None, *, variant: str = REWARDBENCH,
                 beta: float = 1.0, eos_token_id: int | None = None, ref_name: str | None = None) -> DPOScorer:
    """One DPO scorer from a loaded policy and reference (None: reference-free); they must share a vocabulary."""
    if reference is not None and not _same_vocabulary(policy.tokenizer, reference.tokenizer):
        raise DPOError(f"--ref-model {ref_name or 'reference'}: its tokenizer differs from the policy's; a DPO "
                       "reward compares the same token ids, so give the model the policy was trained from")
    return DPOScorer(policy, reference, variant=variant, beta=beta, eos_token_id=eos_token_id)
