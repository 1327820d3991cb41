"""Exact inputs: one BOS, prefix/suffix from the model's own template, the study's re-tokenised path differs."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from conftest import PROMPT
from harness.models.templates import TemplateError, retokenised_ids, split_template


def test_llama3_one_bos_and_eot_suffix(llama3_dir):
    tok = AutoTokenizer.from_pretrained(llama3_dir)
    split = split_template(tok, PROMPT)
    assert split.prefix_ids.count(128000) == 1 and split.prefix_ids[0] == 128000
    assert split.suffix_ids == (128009,)  # <|eot_id|>
    assert split.strips_reply
    # The assistant header is the last thing before the reply.
    assert tok.decode(split.prefix_ids[-4:]).endswith("<|end_header_id|>\n\n")


def test_study_path_double_bos_and_trimmed_space(llama3_dir):
    tok = AutoTokenizer.from_pretrained(llama3_dir)
    split = split_template(tok, PROMPT)
    love = tok(" love", add_special_tokens=False)["input_ids"]
    assert len(love) == 1
    exact = list(split.prefix_ids) + love + list(split.suffix_ids)
    study = retokenised_ids(tok, split, tok.decode(love))
    assert study[:2] == [128000, 128000], "the study's method adds a second BOS"
    assert study != exact
    # Without the extra BOS the template still trims the space: the study scored "love", not " love".
    assert study[1:] != exact
    assert tok("love", add_special_tokens=False)["input_ids"][0] in study


def test_gemma_and_mistral_one_bos(gemma_dir, mistral_dir):
    for folder in (gemma_dir, mistral_dir):
        tok = AutoTokenizer.from_pretrained(folder)
        split = split_template(tok, PROMPT)
        assert split.prefix_ids.count(tok.bos_token_id) == 1 and split.prefix_ids[0] == tok.bos_token_id


def test_no_chat_template_is_a_clear_error(llama3_dir, tmp_path):
    tok = AutoTokenizer.from_pretrained(llama3_dir)
    tok.chat_template = None
    with pytest.raises(TemplateError, match="--chat-template"):
        split_template(tok, PROMPT)
    # ...unless the user passes one, as a string or a file.
    template = "{{ bos_token }}{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}</s>{% endfor %}"
    assert split_template(tok, PROMPT, template).suffix_ids
    path = tmp_path / "t.jinja"
    path.write_text(template)
    assert split_template(tok, PROMPT, str(path)).prefix_ids == split_template(tok, PROMPT, template).prefix_ids


def test_template_that_rewrites_the_reply_is_rejected(llama3_dir):
    tok = AutoTokenizer.from_pretrained(llama3_dir)
    upper = "{% for m in messages %}{{ m['content'] | upper }}{% endfor %}"
    with pytest.raises(TemplateError, match="verbatim"):
        split_template(tok, PROMPT, upper)
    drops = "{% for m in messages %}{% if m['role'] == 'user' %}{{ m['content'] }}{% endif %}{% endfor %}"
    with pytest.raises(TemplateError, match="verbatim"):
        split_template(tok, PROMPT, drops)
