"""The batched encode/decode path gives exactly what the tokenizer's own calls give, on real vocabularies."""

from __future__ import annotations

import random

import pytest
from conftest import PROMPT
from transformers import AutoTokenizer

from harness.models.templates import split_template
from harness.models.tokens import _backend, decode_each, encode_texts


@pytest.fixture(params=["llama3", "gemma", "mistral"])
def tokenizer(request):
    return AutoTokenizer.from_pretrained(request.getfixturevalue(f"{request.param}_dir"))


def _sample(tok, n=3000):
    ids = random.Random(0).sample(range(len(tok)), n)
    return sorted(set(ids) | set(tok.all_special_ids))


def test_decode_and_encode_match_the_tokenizer_calls(tokenizer):
    ids = _sample(tokenizer)
    assert _backend(tokenizer) is not None  # the fast path is the one under test
    decoded = decode_each(tokenizer, [[i] for i in ids])
    assert decoded == [tokenizer.decode([i]) for i in ids]
    pairs = [[a, b] for a, b in zip(ids, reversed(ids))]
    assert decode_each(tokenizer, pairs) == [tokenizer.decode(p) for p in pairs]
    split = split_template(tokenizer, PROMPT) if tokenizer.chat_template else None
    texts = [split.render(d) if split else "User: hi\nAssistant:" + d for d in decoded] + ["", "  x  ", "\u200b"]
    assert encode_texts(tokenizer, texts) == [list(x) for x in tokenizer(texts, add_special_tokens=False)["input_ids"]]


def test_configured_truncation_or_clean_up_take_the_tokenizer_calls(llama3_dir):
    tok = AutoTokenizer.from_pretrained(llama3_dir)
    tok.backend_tokenizer.enable_truncation(max_length=3)
    assert _backend(tok) is None
    texts = ["one two three four five six", "a"]
    # The case matters: the backend alone cuts at 3 tokens; the tokenizer's call (which resets it) does not.
    assert len(tok.backend_tokenizer.encode(texts[0], add_special_tokens=False).ids) == 3
    assert [len(x) for x in encode_texts(tok, texts)] == [6, 1]
    assert encode_texts(tok, texts) == [list(x) for x in tok(texts, add_special_tokens=False)["input_ids"]]
    tok = AutoTokenizer.from_pretrained(llama3_dir)
    tok.clean_up_tokenization_spaces = True
    seqs = [tok(" a , b .", add_special_tokens=False)["input_ids"]]
    assert decode_each(tok, seqs) == [tok.decode(seqs[0])]
