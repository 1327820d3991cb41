"""Load the model a ModelRef names (tokenizer and config now, weights on first use) and wrap it in a Scorer."""

from __future__ import annotations

import os
from dataclasses import replace

import torch

from harness.errors import UserError
from harness.models.identity import ModelRef, resolve_model_ref
from harness.models.kinds import kind
from harness.models import judge  # noqa: F401 - registers the judge's Scorer class
from harness.models.scorer import SCORER_CLASSES, Scorer
from harness.models.tokens import load_tokenizer  # noqa: F401 - the loader's tokenizer cache, shared

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


class ModelLoadError(UserError, RuntimeError):
    """The model could not be found or loaded; the message says what to do."""


def context_limit(config) -> int | None:
    """The longest sequence a model config accepts (None when it does not say)."""
    for name in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    text = getattr(config, "text_config", None)
    return context_limit(text) if text is not None else None


def load_scorer(model: str | ModelRef | None = None, **kwargs) -> Scorer:
    """A Scorer for a ModelRef, or for model arguments (resolved here once: the Python API's convenience)."""
    ref = model if isinstance(model, ModelRef) else resolve_model_ref(model, **kwargs)
    return load_ref(ref)


def load_ref(ref: ModelRef, attn_implementation: str | None = None) -> Scorer:
    """Load tokenizer and config now and the weights on first use, exactly as `ref` names them (the scorer kind's
    loader: harness/models/kinds.py)."""
    style = kind(ref.scorer).loads
    if style == "policy_and_reference":
        return load_dpo(ref)
    return load_single(ref, attn_implementation, causal_lm=style == "causal_lm")


def load_dpo(ref: ModelRef) -> Scorer:
    """A DPO scorer: the policy as an LM, its reference (if any) likewise, paired."""
    from harness.models.dpo import pair_scorers

    policy = load_ref(replace(ref, scorer="lm_logprob", spec=replace(ref.spec, kind="lm_logprob")))
    reference = load_ref(ref.ref_model) if ref.ref_model is not None else None
    scorer = pair_scorers(policy, reference, variant=ref.option("dpo_variant", "rewardbench"),
                          beta=ref.option("beta", 1.0),
                          ref_name=ref.ref_model.display_id if ref.ref_model else None)
    scorer.ref = ref
    limits = [s.max_length for s in (policy, reference) if s is not None and s.max_length]
    scorer.max_length = min(limits) if limits else None  # both models read every input
    return scorer


def load_single(ref: ModelRef, attn_implementation: str | None, causal_lm: bool) -> Scorer:
    """One transformers model: a causal LM (log-prob scorer) or a sequence classifier (reward scorer)."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSequenceClassification

    spec = ref.spec
    torch_dtype = DTYPES[ref.dtype]
    auto = AutoModelForCausalLM if causal_lm else AutoModelForSequenceClassification
    common = {"revision": ref.revision if ref.origin == "hub" and ref.load_path == ref.source else None,
              "trust_remote_code": ref.trust_remote_code}
    extra = {"attn_implementation": attn_implementation} if attn_implementation else {}
    if ref.device_map:
        extra["device_map"] = ref.device_map
    name = ref.display_id

    def guarded(fn):
        try:
            return fn()
        except ValueError as e:
            if "trust_remote_code" in str(e) and not ref.trust_remote_code:
                raise ModelLoadError(f"{name}: this model needs its own code; rerun with --trust-remote-code "
                                     "if you trust its authors") from e
            raise ModelLoadError(f"{name}: could not load ({e})") from e
        except OSError as e:
            raise ModelLoadError(f"{name}: could not load its files ({e})") from e
        except Exception as e:  # damaged weights, unknown architectures: say so instead of a library traceback
            raise ModelLoadError(f"{name}: could not load ({type(e).__name__}: {e})") from e

    def load_weights():
        net = guarded(lambda: auto.from_pretrained(ref.load_path, dtype=torch_dtype, **common, **extra))
        return net if ref.device_map else net.to(ref.device)

    tokenizer = guarded(lambda: load_tokenizer(ref.load_path, common["revision"], ref.trust_remote_code))
    config = guarded(lambda: AutoConfig.from_pretrained(ref.load_path, **common))
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    scorer = SCORER_CLASSES[ref.scorer](load_weights, tokenizer, spec, chat_template=ref.chat_template,
                                        revision=ref.revision, dtype=ref.dtype, device=ref.device,
                                        vocab_size=getattr(text, "vocab_size", None), options=dict(ref.extra))
    scorer.ref = ref
    scorer.max_length = context_limit(config)
    return scorer


def describe(scorer: Scorer) -> dict:
    """The model block of results.json."""
    ref = getattr(scorer, "ref", None)
    return {
        **(ref.to_json() if ref is not None else {"id": scorer.spec.id, "revision": scorer.revision,
                                                   "dtype": scorer.dtype, "scorer": scorer.kind}),
        "output": kind(scorer.kind).recorded_output(scorer),
        "attn_implementation": (getattr(scorer.model.config, "_attn_implementation", None) if scorer.loaded
                                else "not loaded: every score table was cached"),
        "device": str(scorer.device),
        "trust_remote_code": scorer.spec.trust_remote_code,
        "hub_offline": os.environ.get("HF_HUB_OFFLINE") == "1",
    }



def load_dpo_scorer(policy: str, reference: str | None, *, variant: str = "rewardbench", beta: float = 1.0,
                    **model_args):
    """A DPO scorer for a policy and its reference (Hub ids or folders; None: reference-free)."""
    options = {"dpo_variant": variant, "beta": beta}
    ref = resolve_model_ref(policy, scorer="dpo", ref_model=reference, scorer_options=options, **model_args)
    return load_ref(ref)
