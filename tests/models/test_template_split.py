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


def test_plain_format_for_pretrained_lms(llama3_dir):
    tok = AutoTokenizer.from_pretrained(llama3_dir)
    split = split_template(tok, PROMPT, prompt_format="plain")
    text = f"User: {PROMPT}\nAssistant:"
    assert split.prompt_format == "plain" and split.prefix_text == text and split.suffix_ids == ()
    assert split.prefix_ids == (128000, *tok(text, add_special_tokens=False)["input_ids"])
    assert split.prefix_ids.count(128000) == 1
    # The reply follows "Assistant:" exactly as given: " I" and "I" are different replies.
    assert split.render(" I") == text + " I" and split.render("I") == text + "I"
    assert split.template_hash != split_template(tok, PROMPT).template_hash
    # The study's re-tokenised path appends the decoded token to the same string (with the tokenizer's BOS).
    i = tok(" I", add_special_tokens=False)["input_ids"]
    assert retokenised_ids(tok, split, " I") == list(split.prefix_ids) + i


def test_plain_format_ignores_the_folder_template_and_refuses_an_explicit_one(llama3_dir):
    from harness.models.registry import ModelSpec
    from harness.models.scorer import Scorer

    tok = AutoTokenizer.from_pretrained(llama3_dir)
    with pytest.raises(TemplateError, match="--pretrained"):
        split_template(tok, PROMPT, "{{ messages }}", prompt_format="plain")
    with pytest.raises(TemplateError, match="plain"):
        split_template(tok, PROMPT, prompt_format="raw")
    # A pretrained model's scorer uses the plain format although its tokenizer has a chat template.
    assert tok.chat_template
    pretrained = Scorer(lambda: None, tok, ModelSpec(id="base", kind="lm_logprob", pretrained=True))
    assert pretrained.split(PROMPT).prompt_format == "plain"
    chat = Scorer(lambda: None, tok, ModelSpec(id="instruct", kind="lm_logprob"))
    assert chat.split(PROMPT).prompt_format == "chat"
