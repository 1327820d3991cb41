"""Load a reward model or LM from a Hub id (pinned to a commit) or a local folder, and wrap it in a Scorer."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from harness.errors import UserError
from harness.models.registry import ModelSpec, lookup
from harness.models.scorer import SCORERS, Scorer

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


class ModelLoadError(UserError, RuntimeError):
    """The model could not be found or loaded; the message says what to do."""


@dataclass(frozen=True)
class ResolvedModel:
    id: str
    path_or_id: str  # what from_pretrained gets
    revision: str  # a Hub commit, or a content hash for a local folder
    local: bool


def _local_revision(folder: Path) -> str:
    """A content hash of a local folder: small files in full, weight files by name, size and header."""
    h = hashlib.sha256()
    for f in sorted(p for p in folder.rglob("*") if p.is_file() and ".cache" not in p.relative_to(folder).parts):
        h.update(str(f.relative_to(folder)).encode())
        size = f.stat().st_size
        h.update(str(size).encode())
        with f.open("rb") as fh:
            h.update(fh.read(1 << 20) if size > (1 << 22) else fh.read())
    return "local-" + h.hexdigest()[:16]


def resolve(model: str, revision: str | None = None) -> ResolvedModel:
    """Turn a Hub id or folder into something loadable with a pinned revision; clear errors otherwise."""
    path = Path(model).expanduser()
    if path.exists():
        if not path.is_dir() or not (path / "config.json").exists():
            raise ModelLoadError(f"{model}: a local model must be a folder with config.json (as save_pretrained writes)")
        return ResolvedModel(str(path), str(path.resolve()), _local_revision(path), True)
    if model.count("/") != 1 or model.startswith((".", "/")):
        raise ModelLoadError(
            f"{model!r} is neither an existing local folder nor a Hub id of the form ORG/NAME. "
            "Point --model at a folder holding config.json and weights, or give a Hub id."
        )
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

    try:
        info = HfApi().model_info(model, revision=revision)
        return ResolvedModel(model, model, info.sha, False)
    except RevisionNotFoundError as e:
        raise ModelLoadError(f"{model}: revision {revision!r} not found on the Hub. "
                             "Give a branch, tag or full commit that exists.") from e
    except RepositoryNotFoundError as e:
        raise ModelLoadError(
            f"{model}: no such model on the Hugging Face Hub (or it is private: log in with `hf auth login`). "
            "To audit a local copy, pass its folder: --model ./path/to/model"
        ) from e
    except Exception as e:  # offline, DNS, proxy: fall back to what is cached
        try:
            folder = snapshot_download(model, revision=revision, local_files_only=True)
        except Exception:
            raise ModelLoadError(
                f"{model}: the Hub is unreachable ({type(e).__name__}) and no cached copy exists. "
                "Connect, or download the model elsewhere and pass its folder: --model ./path/to/model"
            ) from e
        return ResolvedModel(model, folder, Path(folder).name, False)


def pick_device(device: str = "auto") -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelLoadError(f"--device {device}: CUDA is not available here; use --device cpu")
    return device


def pick_dtype(dtype: str | None, spec: ModelSpec, device: str) -> torch.dtype:
    name = dtype if dtype and dtype != "auto" else (spec.dtype if device != "cpu" and spec.dtype else None)
    if name is None:  # bf16 matmuls are slow on most CPUs; float32 is exact and fast enough for small models
        name = "float32" if device == "cpu" else "bfloat16"
    if name not in DTYPES:
        raise ModelLoadError(f"--dtype {name}: choose one of {', '.join(DTYPES)} or auto")
    return DTYPES[name]


def load_scorer(
    model: str,
    revision: str | None = None,
    dtype: str | None = "auto",
    device: str = "auto",
    trust_remote_code: bool | None = None,
    chat_template: str | None = None,
    kind: str | None = None,
    output_field: str | None = None,
    output_index: int | None = None,
    device_map: str | None = None,
    attn_implementation: str | None = None,
) -> Scorer:
    """Load `model` (Hub id or folder) as a Scorer; registry entries fill what the caller leaves unset."""
    from transformers import (
        AutoConfig,
        AutoModelForCausalLM,
        AutoModelForSequenceClassification,
        AutoTokenizer,
    )

    spec = lookup(model, kind=kind, output=output_field, index=output_index, trust_remote_code=trust_remote_code)
    resolved = resolve(model, revision or spec.revision)
    device = pick_device(device)
    torch_dtype = pick_dtype(dtype, spec, device)
    auto = AutoModelForCausalLM if spec.kind == "lm_logprob" else AutoModelForSequenceClassification
    common = {"revision": None if resolved.local else resolved.revision, "trust_remote_code": spec.trust_remote_code}
    extra = {"attn_implementation": attn_implementation} if attn_implementation else {}
    if device_map:
        extra["device_map"] = device_map

    def guarded(fn):
        try:
            return fn()
        except ValueError as e:
            if "trust_remote_code" in str(e) and not spec.trust_remote_code:
                raise ModelLoadError(f"{model}: this model needs its own code; rerun with --trust-remote-code "
                                     "if you trust its authors") from e
            raise ModelLoadError(f"{model}: could not load ({e})") from e
        except OSError as e:
            raise ModelLoadError(f"{model}: could not load its files ({e})") from e
        except Exception as e:  # damaged weights, unknown architectures: say so instead of a library traceback
            raise ModelLoadError(f"{model}: could not load ({type(e).__name__}: {e})") from e

    def load_weights():
        net = guarded(lambda: auto.from_pretrained(resolved.path_or_id, dtype=torch_dtype, **common, **extra))
        return net if device_map else net.to(device)

    tokenizer = guarded(lambda: AutoTokenizer.from_pretrained(resolved.path_or_id, **common))
    config = guarded(lambda: AutoConfig.from_pretrained(resolved.path_or_id, **common))
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    scorer = SCORERS[spec.kind](load_weights, tokenizer, spec, chat_template=chat_template, revision=resolved.revision,
                                dtype=str(torch_dtype).replace("torch.", ""), device=device,
                                vocab_size=getattr(text, "vocab_size", None))
    scorer.source = resolved
    return scorer


def describe(scorer: Scorer) -> dict:
    """The model block of results.json."""
    source = getattr(scorer, "source", None)
    return {
        "id": source.id if source else scorer.spec.id,
        "revision": scorer.revision,
        "dtype": scorer.dtype,
        "scorer": scorer.kind,
        "output": scorer.spec.output if scorer.kind == "reward" else "log_softmax(logits)",
        "attn_implementation": (getattr(scorer.model.config, "_attn_implementation", None) if scorer.loaded
                                else "not loaded: every score table was cached"),
        "device": str(scorer.device),
        "trust_remote_code": scorer.spec.trust_remote_code,
        "hub_offline": os.environ.get("HF_HUB_OFFLINE") == "1",
    }

