"""The LM log-prob scorer: one forward gives the whole vocabulary; multi-token replies sum log-probs exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import builders
from conftest import PROMPT
from harness.models.loading import load_scorer
from harness.scoring.parity import check, plain_scores
from harness.scoring.responses import VocabularySet
from harness.scoring.scan import BatchSizer, scan, score_rows
from harness.scoring.table import TableStore


def test_lm_vocab_and_items_equal_plain(tmp_path, mistral_dir):
    scorer = load_scorer(str(builders.tiny_lm(mistral_dir, tmp_path / "lm")), scorer="lm_logprob")
    split = scorer.split(PROMPT)
    assert scorer.continuation(split, [5]) == [5], "LM scores stop at the reply"
    report = check(scorer, split, [[i] for i in range(0, 32768, 997)], batch_size=8)
    assert report.max_abs_diff < 1e-5
    replies = [[1000], [1000, 2000], [300, 400, 500], [7, 8]]
    state = scorer.prefix_state(split.prefix_ids)
    cached = score_rows(scorer, state, replies, BatchSizer(3, scorer.device))
    assert np.max(np.abs(cached - plain_scores(scorer, split, replies))) < 1e-5
    # The whole vocabulary is a log-softmax: probabilities sum to one.
    table = scan(scorer, split, VocabularySet(scorer.tokenizer, split, scorer.vocab_size), TableStore(tmp_path / "t"),
                 progress=False)
    assert abs(np.exp(table.df["score"]).sum() - 1) < 1e-4
    full = torch.tensor([list(split.prefix_ids)])
    direct = torch.log_softmax(scorer.model(input_ids=full).logits[0, -1].float(), -1).detach().numpy()
    assert np.max(np.abs(table.df["score"].to_numpy() - direct)) < 1e-5


# --- the prompt format of a causal LM, decided without a flag ---------------------------------------------------

def _lm_without_template(mistral_dir, out):
    from transformers import AutoTokenizer

    folder = builders.tiny_lm(mistral_dir, out)
    tok = AutoTokenizer.from_pretrained(folder)
    tok.chat_template = None
    tok.save_pretrained(folder)
    for f in folder.glob("chat_template*"):  # a template saved beside the tokenizer config counts too
        f.unlink()
    assert not AutoTokenizer.from_pretrained(folder).chat_template
    return folder


@pytest.mark.parametrize("kind, flag, spec, given, has, expected", [
    ("lm_logprob", None, False, None, False, ("plain", None)),  # no template: the study's format, automatically
    ("lm_logprob", None, False, None, True, ("chat", "warning")),  # a template, maybe a base LM's: warned
    ("lm_logprob", True, True, None, True, ("plain", None)),  # --pretrained stays the explicit switch
    ("lm_logprob", None, True, None, True, ("plain", None)),  # a registry entry (or the demo) says pretrained
    ("lm_logprob", None, False, "{{ x }}", None, ("chat", None)),  # the user's template is an explicit choice
    ("lm_logprob", False, False, None, None, ("chat", None)),  # pretrained=False from the API: explicit too
    ("lm_logprob", None, False, None, None, ("chat", None)),  # the tokenizer could not be read here
    ("reward", None, False, None, False, ("chat", None)),  # a reward model reads a chat template, or errs
    ("dpo", None, False, None, False, ("chat", None)),
])
def test_decide_prompt_format(kind, flag, spec, given, has, expected):
    from harness.models.identity import decide_prompt_format

    fmt, reason, warning = decide_prompt_format(kind, pretrained_flag=flag, spec_pretrained=spec,
                                                chat_template=given, has_template=has)
    assert (fmt, "warning" if warning else None) == expected and reason
    if warning:
        assert "--pretrained" in warning


def test_a_causal_lm_without_template_gets_the_plain_format_recorded(tmp_path, mistral_dir):
    from harness.models.identity import resolve_model_ref
    from harness.models.templates import PLAIN_FORMAT

    folder = _lm_without_template(mistral_dir, tmp_path / "base")
    ref = resolve_model_ref(str(folder), scorer="lm_logprob", device="cpu")
    assert ref.prompt_format == "plain" and "no chat template" in ref.prompt_format_reason and not ref.warnings
    block = ref.to_json()
    assert block["prompt_format"] == "plain" and block["prompt_format_reason"] == ref.prompt_format_reason
    split = load_scorer(ref).split(PROMPT)
    assert split.prompt_format == "plain" and split.prefix_text == PLAIN_FORMAT.format(prompt=PROMPT)
    # The same folder as a reward model has no format to fall back on: the error says --chat-template.
    from harness.models.templates import TemplateError

    rm = load_scorer(str(folder), scorer="reward", device="cpu")
    with pytest.raises(TemplateError) as e:
        rm.split(PROMPT)
    assert "--chat-template" in e.value.one_line() and "--pretrained" not in e.value.one_line()


def test_an_lm_whose_tokenizer_ships_a_template_is_scored_in_it_with_a_recorded_warning(tmp_path, mistral_dir):
    from harness.models.identity import resolve_model_ref

    folder = builders.tiny_lm(mistral_dir, tmp_path / "lm")  # the Mistral tokenizer carries a chat template
    ref = resolve_model_ref(str(folder), scorer="lm_logprob", device="cpu")
    assert ref.prompt_format == "chat" and len(ref.warnings) == 1 and "--pretrained" in ref.warnings[0]
    assert ref.to_json()["warnings"] == list(ref.warnings)
    assert load_scorer(ref).split(PROMPT).prompt_format == "chat"
    explicit = resolve_model_ref(str(folder), scorer="lm_logprob", device="cpu", pretrained=True)
    assert explicit.prompt_format == "plain" and not explicit.warnings and "--pretrained" in \
        explicit.prompt_format_reason
    # A DPO scorer's reference reads its policy's chat template: no automatic plain format there.
    base = _lm_without_template(mistral_dir, tmp_path / "base")
    dpo = resolve_model_ref(str(folder), scorer="dpo", ref_model=str(base), device="cpu")
    assert dpo.ref_model.prompt_format == "chat" and dpo.prompt_format == "chat"


def test_an_lm_template_error_points_to_pretrained(tmp_path, mistral_dir):
    from harness.models.templates import TemplateError

    folder = builders.tiny_lm(mistral_dir, tmp_path / "lm")
    no_reply = "{% for m in messages %}{% if m['role'] == 'user' %}{{ m['content'] }}{% endif %}{% endfor %}"
    lm = load_scorer(str(folder), scorer="lm_logprob", device="cpu", chat_template=no_reply)
    with pytest.raises(TemplateError) as e:
        lm.split(PROMPT)
    line = e.value.one_line()
    assert "verbatim" in line and "--pretrained" in line and "\n" not in line
    rm = load_scorer(str(folder), scorer="reward", device="cpu", chat_template=no_reply)
    with pytest.raises(TemplateError) as e:
        rm.split(PROMPT)
    assert "--chat-template" in e.value.one_line() and "--pretrained" not in e.value.one_line()


def test_cli_says_the_format_in_the_plan_line_and_records_it(tmp_path, mistral_dir):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    from repo_paths import REPO as repo
    env = {**os.environ, "PYTHONPATH": str(repo), "HF_HUB_OFFLINE": "1"}
    base = _lm_without_template(mistral_dir, tmp_path / "base")
    chat = builders.tiny_lm(mistral_dir, tmp_path / "chat")
    out = {}
    for name, folder in (("base", base), ("chat", chat)):
        proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", "--model", str(folder), "--scorer",
                               "lm_logprob", "--tasks", "token_optimality", "--limit", "50", "--output-dir",
                               str(tmp_path / "results")], capture_output=True, text=True, env=env, cwd=repo,
                              timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        plan = next(ln for ln in proc.stdout.splitlines() if ln.startswith("plan:"))
        doc = json.loads(next((tmp_path / "results").rglob("results.json")).read_text()) if name == "base" else \
            json.loads(sorted((tmp_path / "results").rglob("results.json"), key=os.path.getmtime)[-1].read_text())
        out[name] = (plan, proc.stderr, doc["model"])
    plan, err, model = out["base"]
    assert "prompt format plain (a causal LM with no chat template" in plan and "warning" not in err
    assert model["prompt_format"] == "plain" and "no chat template" in model["prompt_format_reason"]
    plan, err, model = out["chat"]
    assert "prompt format chat (the tokenizer's chat template)" in plan
    assert "warning:" in err and "--pretrained" in err
    assert model["prompt_format"] == "chat" and "--pretrained" in model["warnings"][0]
