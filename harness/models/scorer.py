"""The one place that turns token ids into rewards: prefix KV cache, cached and plain forwards, embeddings.

The vocabulary scan, item lists, parity checks and GCG all call these methods, so every path scores the same
way. Rows of a batch always have equal length, so no padding token ever enters a forward.
"""

from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass
from typing import Any, Sequence

import torch

from harness.errors import UserError
from harness.models.kinds import KINDS
from harness.models.registry import ModelSpec
from harness.models.templates import TemplateError, TemplateSplit, check_fits, for_lm, split_template


class OutputError(UserError, ValueError):
    """The model's forward output has no scalar reward where the registry says."""


@dataclass
class PrefixState:
    """The prompt run once: its KV cache (batch 1) and, for LMs, next-token log-probs after it."""

    prefix_ids: tuple[int, ...]
    cache: Any
    next_logprobs: torch.Tensor | None = None


def _cache_kwarg(model) -> str:
    # transformers renamed `past_key_values` to `cache` (5.2x); remote code may use either.
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


def _output_cache(outputs) -> Any:
    for name in ("cache", "past_key_values"):
        value = getattr(outputs, name, None)
        if value is not None:
            return value
    return None


def expand_cache(cache: Any, batch: int) -> Any:
    """A fresh copy of a batch-1 cache that reads as `batch` rows without copying the prefix `batch` times."""
    if isinstance(cache, tuple):  # legacy format from older remote code
        return tuple(tuple(t.expand(batch, *t.shape[1:]) for t in layer) for layer in cache)
    fresh = copy.copy(cache)
    fresh.layers = []
    for layer in cache.layers:
        new = copy.copy(layer)
        if getattr(layer, "keys", None) is not None and layer.keys.numel():
            new.keys = layer.keys.expand(batch, *layer.keys.shape[1:])
            new.values = layer.values.expand(batch, *layer.values.shape[1:])
        fresh.layers.append(new)
    return fresh


SCORER_CLASSES: dict[str, type["Scorer"]] = {}  # kind name -> its Scorer class (each registers when defined)


class Scorer:
    """Base: holds model, tokenizer and chat template; subclasses define what the scalar is."""

    kind = "base"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("kind") not in (None, "base"):
            SCORER_CLASSES[cls.kind] = cls
    uses_suffix = True
    pads_rows = False  # score_rows_full may batch unequal rows left-padded (subclasses that define _score_padded)
    max_length: int | None = None  # the model's context (from its config), when known  # reward models read the template's closing tokens; LM log-probs stop at the reply

    def __init__(self, model, tokenizer, spec: ModelSpec, chat_template: str | None = None,
                 revision: str | None = None, dtype: str | None = None, device: str | None = None,
                 vocab_size: int | None = None, options: dict[str, Any] | None = None):
        """`model` is a loaded module, or a zero-argument callable that loads it on first use: an audit whose
        score tables are all cached never loads the weights. `options`: the kind's own (harness/models/kinds.py)."""
        self.options = dict(options or {})
        self.tokenizer = tokenizer
        self.spec = spec
        self.chat_template = chat_template
        self.revision = revision
        self.dtype = dtype
        self._device = torch.device(device) if device else None
        self._vocab_size = vocab_size
        self._model, self._load = (model, None) if isinstance(model, torch.nn.Module) else (None, model)
        if self._model is not None:
            self._prepare()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def model(self):
        if self._model is None:
            # The first use may come from inside an inference_mode forward (a scan): weights loaded there would
            # be inference tensors, which GCG cannot differentiate through later.
            with torch.inference_mode(False):
                self._model = self._load()
                self._prepare()
        return self._model

    def _prepare(self) -> None:
        """Once, when the weights are in memory."""
        self._model.eval()
        self.dtype = self.dtype or str(next(self._model.parameters()).dtype).replace("torch.", "")
        self._cache_kw = _cache_kwarg(self._model)
        self._forward_params = frozenset(inspect.signature(self._model.forward).parameters)

    def _takes(self, name: str) -> bool:
        """Does the model's forward accept `name`? (Read once, when the weights load.)"""
        return self.model is not None and name in self._forward_params

    @property
    def device(self) -> torch.device:
        if self._model is None and self._device is not None:
            return self._device
        return self.model.get_input_embeddings().weight.device

    @property
    def vocab_size(self) -> int:
        if self._model is None and self._vocab_size is not None:
            return self._vocab_size
        return self.model.get_input_embeddings().weight.shape[0]

    def split(self, prompt: str) -> TemplateSplit:
        # Pretrained LMs get the study's plain `User: ...\nAssistant:` string, whatever template the folder has.
        fmt = "plain" if self.spec.pretrained else "chat"
        try:
            split = split_template(self.tokenizer, prompt, self.chat_template, prompt_format=fmt)
        except TemplateError as e:
            raise (for_lm(e) if self.kind == "lm_logprob" and fmt == "chat" else e) from e
        check_fits(split, self.max_length)  # a prompt is checked against the context as items are
        return split

    def continuation(self, split: TemplateSplit, reply_ids: list[int]) -> list[int]:
        """The ids that follow the cached prefix for one reply."""
        return list(reply_ids) + (list(split.suffix_ids) if self.uses_suffix else [])

    def _forward(self, **kwargs):
        return self.model(**kwargs, use_cache=True)

    def _run_with_prefix(self, state: PrefixState, batch: int, **inputs):
        return self._forward(**inputs, **{self._cache_kw: expand_cache(state.cache, batch)})

    def score_rows_full(self, rows: Sequence[Sequence[int]], n_reply: Sequence[int], batch: int = 8) -> list[float]:
        """Plain full forwards of whole rows of unequal length (e.g. the sanity pairs); `n_reply` per row.

        Rows go left-padded in batches, masked, each row's positions counted from its first real token, so a
        row scores as in a forward of its own (to float error). That is checked once, on the most padded row of
        the first batch: a model for which padding changes a score (first-token pooling, its own position
        handling), or whose forward takes no attention mask or position ids, gets one forward per row."""
        def alone(i: int) -> float:
            return float(self.score_full(torch.tensor([list(rows[i])]), n_reply=n_reply[i])[0])

        if not (self.pads_rows and self._takes("attention_mask") and self._takes("position_ids")):
            return [alone(i) for i in range(len(rows))]
        order = sorted(range(len(rows)), key=lambda i: len(rows[i]))  # similar lengths together: little padding
        out = [0.0] * len(rows)
        for start in range(0, len(order), batch):
            chunk = order[start : start + batch]
            width = max(len(rows[i]) for i in chunk)
            lead = torch.tensor([width - len(rows[i]) for i in chunk])
            ids = torch.tensor([[self._pad_for_batch()] * (width - len(rows[i])) + list(rows[i]) for i in chunk])
            mask = (torch.arange(width)[None, :] >= lead[:, None]).long()
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            with torch.inference_mode():
                values = self._score_padded(ids.to(self.device), mask.to(self.device), positions.to(self.device),
                                            [n_reply[i] for i in chunk])
            for i, v in zip(chunk, values.tolist()):
                out[i] = float(v)
            if start == 0 and int(lead.max()) > 0:
                probe = chunk[int(lead.argmax())]
                reference = alone(probe)
                if not abs(out[probe] - reference) <= self._padding_tolerance() * max(1.0, abs(reference)):
                    return [alone(i) for i in range(len(rows))]
        return out

    def _padding_tolerance(self) -> float:
        # Batched and single forwards differ by float error only: ~1e-6 relative in float32, ~1e-2 in half types.
        return 1e-4 if self.dtype in (None, "float32") else 2e-2

    def _pad_for_batch(self) -> int:
        pad = self.tokenizer.pad_token_id
        return pad if pad is not None else 0  # masked out: any id does

    def _score_padded(self, ids: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor,
                      n_reply: list[int]) -> torch.Tensor:
        raise NotImplementedError

    @torch.inference_mode()
    def prefix_state(self, prefix_ids: tuple[int, ...] | list[int]) -> PrefixState:
        ids = torch.tensor([list(prefix_ids)], device=self.device)
        out = self._forward(input_ids=ids)
        cache = _output_cache(out)
        if cache is None:
            raise OutputError(f"{self.spec.id}: the forward returned no KV cache, which the scan needs; this model's code does not support `use_cache`")
        return PrefixState(tuple(prefix_ids), cache, self._next_logprobs(out))

    def _next_logprobs(self, outputs) -> torch.Tensor | None:
        return None

    def embedding_matrix(self) -> torch.Tensor:
        return self.model.get_input_embeddings().weight

    @property
    def side_columns(self) -> tuple[str, ...]:
        """Per-row columns beside `score` that this kind writes into its tables (harness/models/kinds.py)."""
        row = KINDS.get(self.kind)
        return row.side_columns if row is not None else ()

    def score_cached_sides(self, state: PrefixState, cont_ids: torch.Tensor) -> torch.Tensor:
        """(rows, 1 + len(side_columns)): the score, then the kind's per-row side columns (none by default)."""
        return self.score_cached(state, cont_ids)[:, None]

    def table_notes(self, table) -> dict[str, Any]:
        """What a finished score table's meta.json should say about it beyond the scores (a kind's own checks)."""
        return {}


class RewardScorer(Scorer):
    """A sequence-classification reward model; the scalar is read from the output field the registry names."""

    kind = "reward"
    pads_rows = True

    def _prepare(self) -> None:
        super()._prepare()
        self._float32_head()
        self._safe_pad_id()

    def _float32_head(self) -> None:
        head = getattr(self._model, self.spec.head, None) if self.spec.head else None
        if isinstance(head, torch.nn.Module):
            head.float()
            head.register_forward_pre_hook(lambda _m, args: tuple(a.float() if torch.is_tensor(a) else a for a in args))

    def _safe_pad_id(self) -> None:
        # Classifiers pool the rightmost non-pad token: a pad id the template emits would shift the read-out.
        model = self._model
        config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
        split = None
        if self.chat_template or getattr(self.tokenizer, "chat_template", None):
            try:
                split = self.split("x")
            except ValueError:
                split = None
        emitted = set(split.prefix_ids + split.suffix_ids) if split else set()
        pad = config.pad_token_id
        if pad is None or pad in emitted:
            candidates = [self.tokenizer.unk_token_id, self.vocab_size - 1]
            pad = next(c for c in candidates + list(range(self.vocab_size)) if c is not None and c not in emitted)
            config.pad_token_id = pad
            model.config.pad_token_id = pad

    def reward(self, outputs) -> torch.Tensor:
        """The scalar per row, float32, from the registry's output field (and column)."""
        field = self.spec.output
        value = getattr(outputs, field, None)
        if value is None and isinstance(outputs, dict):
            value = outputs.get(field)
        if not torch.is_tensor(value):
            have = [k for k in (outputs.keys() if hasattr(outputs, "keys") else []) if torch.is_tensor(outputs[k])]
            raise OutputError(
                f"{self.spec.id}: the model output has no tensor field {field!r} (it has {have}). "
                "Set `output:` (and `index:` for multi-output heads) in the model registry or pass --output-field."
            )
        value = value.float()
        if self.spec.index is not None:
            if value.dim() != 2 or value.shape[-1] <= self.spec.index:
                raise OutputError(f"{self.spec.id}: output {field!r} has shape {tuple(value.shape)}; "
                                  f"cannot take column {self.spec.index}")
            return value[:, self.spec.index]
        if value.dim() == 2 and value.shape[-1] == 1:
            return value[:, 0]
        if value.dim() == 1:
            return value
        raise OutputError(
            f"{self.spec.id}: output {field!r} has shape {tuple(value.shape)}, not one scalar per row. "
            "If it is a multi-output head, say which column is the reward with `index:` in the registry (--output-index)."
        )

    @torch.inference_mode()
    def score_cached(self, state: PrefixState, cont_ids: torch.Tensor) -> torch.Tensor:
        cont_ids = cont_ids.to(self.device)
        return self.reward(self._run_with_prefix(state, cont_ids.shape[0], input_ids=cont_ids))

    @torch.inference_mode()
    def score_full(self, input_ids: torch.Tensor, n_reply: int = 1) -> torch.Tensor:
        """Reward of whole sequences from one plain forward (`n_reply` matters only to LM scorers)."""
        return self.reward(self._forward(input_ids=input_ids.to(self.device)))

    def _pad_for_batch(self) -> int:
        # The classifier pools the rightmost non-pad token: with left padding that is each row's last token,
        # provided the pad id is the config's (never one the template emits; see _safe_pad_id).
        return self.model.config.pad_token_id

    def _score_padded(self, ids, mask, positions, n_reply):
        return self.reward(self._forward(input_ids=ids, attention_mask=mask, position_ids=positions))

    def score_embeds(self, state: PrefixState, cont_embeds: torch.Tensor) -> torch.Tensor:
        """Differentiable reward of continuation embeddings after the cached prefix (for GCG)."""
        from harness.models.quiet import unpadded_embeds

        with unpadded_embeds():  # one row of continuation embeddings: no padding to detect
            return self.reward(self._run_with_prefix(state, cont_embeds.shape[0], inputs_embeds=cont_embeds))


class LMLogProbScorer(Scorer):
    """A causal LM: the score of a reply is the sum of its tokens' log-probabilities after the prompt."""

    kind = "lm_logprob"
    uses_suffix = False
    pads_rows = True

    def _next_logprobs(self, outputs) -> torch.Tensor:
        return torch.log_softmax(outputs.logits[0, -1].float(), dim=-1)

    def _logprob_of(self, first: torch.Tensor, logits: torch.Tensor | None, cont_ids: torch.Tensor) -> torch.Tensor:
        total = first
        if logits is not None:
            logp = torch.log_softmax(logits.float(), dim=-1)
            total = total + logp.gather(-1, cont_ids[:, 1:, None])[..., 0].sum(-1)
        return total

    @torch.inference_mode()
    def score_cached(self, state: PrefixState, cont_ids: torch.Tensor) -> torch.Tensor:
        cont_ids = cont_ids.to(self.device)
        first = state.next_logprobs[cont_ids[:, 0]]
        if cont_ids.shape[1] == 1:  # the whole vocabulary costs one forward: the prompt's
            return first
        out = self._run_with_prefix(state, cont_ids.shape[0], input_ids=cont_ids[:, :-1])
        return self._logprob_of(first, out.logits, cont_ids)

    @torch.inference_mode()
    def score_full(self, input_ids: torch.Tensor, n_reply: int = 1) -> torch.Tensor:
        """Log-prob of the last `n_reply` tokens given everything before them, from one plain forward."""
        input_ids = input_ids.to(self.device)
        return self._reply_logprobs(input_ids, [n_reply] * input_ids.shape[0])

    def _score_padded(self, ids, mask, positions, n_reply):
        return self._reply_logprobs(ids, n_reply, attention_mask=mask, position_ids=positions)

    def _reply_logprobs(self, ids: torch.Tensor, n_reply: list[int], **inputs) -> torch.Tensor:
        """Per row, the summed log-prob of its last `n_reply[j]` tokens, from one forward over `ids`."""
        last = max(n_reply) + 1
        # Only the positions that predict a reply need the vocabulary projection (a 262k-row head costs more
        # than the rest of a small model); models whose forward lacks `logits_to_keep` project every position.
        keep = {"logits_to_keep": last} if self._takes("logits_to_keep") else {}
        logits = self._forward(input_ids=ids, **inputs, **keep).logits[:, -last:-1].float()
        picked = torch.log_softmax(logits, dim=-1).gather(-1, ids[:, -last + 1 :, None])[..., 0]
        first = last - 1 - torch.tensor(n_reply, device=ids.device)  # where each row's reply starts in `picked`
        in_reply = torch.arange(last - 1, device=ids.device) >= first[:, None]
        return torch.where(in_reply, picked, 0.0).sum(-1)  # not a product: a pad's NaN must not reach the sum

    def score_embeds(self, state: PrefixState, cont_embeds: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("GCG optimises reward models; an LM log-prob objective is not supported")

