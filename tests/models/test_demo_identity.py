"""The demo's identity is reproducible: a build writes the same bytes whatever the environment it runs in.

A tiny stand-in (a word-level tokenizer and a 2-layer model) goes through the demo's own save step in two
subprocesses whose environments differ the way two machines do (HF_HUB_OFFLINE set or not, another HOME, another
working folder). The plain transformers save leaks that environment (the control); the demo's save does not.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from harness.models.identity import folder_content_hash

from repo_paths import REPO as ROOT  # noqa: E402

SCRIPT = r"""
import sys
from pathlib import Path
import torch
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM
from harness.models.demo import save_reproducibly

src, out = Path(sys.argv[1]), Path(sys.argv[2])
tok = AutoTokenizer.from_pretrained(src)
torch.manual_seed(0)
config = LlamaConfig(vocab_size=len(tok), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                     num_attention_heads=2, num_key_value_heads=1)
model = LlamaForCausalLM(config).eval()
model.save_pretrained(out / "plain")
tok.save_pretrained(out / "plain")
save_reproducibly(out / "demo", model, tok)
"""


def _tiny_tokenizer(folder: Path) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {w: i for i, w in enumerate(["<pad>", "<bos>", "<eos>", "<unk>", "good", "bad", "word"])}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = PreTrainedTokenizerFast(tokenizer_object=core, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>",
                                  unk_token="<unk>")
    tok.save_pretrained(folder)
    return folder


def _build(src: Path, out: Path, home: Path, offline: bool) -> None:
    home.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(HOME=str(home), PYTHONPATH=str(ROOT), TOKENIZERS_PARALLELISM="false",
               RM_HARNESS_CACHE=str(home / "cache"), HF_HOME=str(home / "hf"))
    if offline:
        env["HF_HUB_OFFLINE"] = "1"
    subprocess.run([sys.executable, "-c", SCRIPT, str(src), str(out)], cwd=home, env=env, check=True,
                   capture_output=True, text=True)


def test_demo_save_is_the_same_bytes_in_any_environment(tmp_path):
    src = _tiny_tokenizer(tmp_path / "src")
    a, b = tmp_path / "a", tmp_path / "b"
    _build(src, a, tmp_path / "home-a", offline=True)
    _build(src, b, tmp_path / "home-b", offline=False)
    # The control: transformers' own save records the environment (so the test can fail).
    assert folder_content_hash(a / "plain") != folder_content_hash(b / "plain")
    assert json.loads((a / "plain" / "tokenizer_config.json").read_text())["local_files_only"] is True
    # The demo's save: one content hash, so one revision on every machine.
    assert folder_content_hash(a / "demo") == folder_content_hash(b / "demo")
    config = json.loads((a / "demo" / "tokenizer_config.json").read_text())
    assert "local_files_only" not in config and "is_local" not in config
    assert config["eos_token"] == "<eos>"  # what the tokenizer is stays

    # A folder saved before the rule (the plain save) converges on the same bytes when normalised.
    from harness.models.demo import normalise_tokenizer_config

    assert normalise_tokenizer_config(a / "plain") and normalise_tokenizer_config(b / "plain")
    assert not normalise_tokenizer_config(a / "plain")  # idempotent
    assert folder_content_hash(a / "plain") == folder_content_hash(b / "plain")
