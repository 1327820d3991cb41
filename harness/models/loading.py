"""Load the model a ModelRef names (tokenizer and config now, weights on first use) and wrap it in a Scorer."""

from __future__ import annotations

import os

import torch

from harness.errors import UserError
from harness.models.identity import ModelRef, resolve_model_ref
from harness.models.scorer import SCORERS, Scorer

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


class ModelLoadError(UserError, RuntimeError):
    """The model could not be found or loaded; the message says what to do."""


def load_scorer(model: str | ModelRef | None = None, **kwargs) -> Scorer:
    """A Scorer for a ModelRef, or for model arguments (resolved here once: the Python API's convenience)."""
    ref = model if isinstance(model, ModelRef) else resolve_model_ref(model, **kwargs)
    return load_ref(ref)


def load_ref(ref: ModelRef, attn_implementation: str | None = None) -> Scorer:
    """Load tokenizer and config now and the weights on first use, exactly as `ref` names them."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

    if ref.scorer == "dpo":
        from harness.models.dpo import load_dpo_scorer

        return load_dpo_scorer(ref)
    spec = ref.spec
    torch_dtype = DTYPES[ref.dtype]
    auto = AutoModelForCausalLM if ref.scorer == "lm_logprob" else AutoModelForSequenceClassification
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

    tokenizer = guarded(lambda: AutoTokenizer.from_pretrained(ref.load_path, **common))
    config = guarded(lambda: AutoConfig.from_pretrained(ref.load_path, **common))
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    scorer = SCORERS[ref.scorer](load_weights, tokenizer, spec, chat_template=ref.chat_template,
                                 revision=ref.revision, dtype=ref.dtype, device=ref.device,
                                 vocab_size=getattr(text, "vocab_size", None))
    scorer.ref = ref
    return scorer


def describe(scorer: Scorer) -> dict:
    """The model block of results.json."""
    ref = getattr(scorer, "ref", None)
    return {
        **(ref.to_json() if ref is not None else {"id": scorer.spec.id, "revision": scorer.revision,
                                                   "dtype": scorer.dtype, "scorer": scorer.kind}),
        "output": scorer.spec.output if scorer.kind == "reward" else "log_softmax(logits)",
        "attn_implementation": (getattr(scorer.model.config, "_attn_implementation", None) if scorer.loaded
                                else "not loaded: every score table was cached"),
        "device": str(scorer.device),
        "trust_remote_code": scorer.spec.trust_remote_code,
        "hub_offline": os.environ.get("HF_HUB_OFFLINE") == "1",
    }

