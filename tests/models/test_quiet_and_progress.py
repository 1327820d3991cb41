"""Progress and warnings: the transformers messages that cannot apply to the harness's own calls are dropped in
exactly those calls, a genuine warning still shows, and every scan's progress bar names its place in the run."""

from __future__ import annotations

import logging

import pytest
import torch

from harness.models.quiet import new_head_load, only_missing, unpadded_embeds


@pytest.fixture(scope="module")
def tiny_gemma_lm(tmp_path_factory):
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    config = Gemma3TextConfig(vocab_size=50, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                              num_attention_heads=2, num_key_value_heads=1, head_dim=8, pad_token_id=0)
    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("gemma-lm")
    Gemma3ForCausalLM(config).save_pretrained(out)
    return out


def _load_classifier(folder):
    from transformers import Gemma3TextForSequenceClassification

    return Gemma3TextForSequenceClassification.from_pretrained(folder, num_labels=1).eval()


def _logged(caplog) -> str:
    text = caplog.text
    caplog.clear()
    return text


def test_the_demo_head_missing_report_is_dropped_only_where_it_applies(tiny_gemma_lm, caplog):
    caplog.set_level(logging.WARNING)
    _load_classifier(tiny_gemma_lm)  # the control: transformers reports the new head
    assert "MISSING" in _logged(caplog)
    with new_head_load():
        model = _load_classifier(tiny_gemma_lm)
    text = _logged(caplog)
    assert "MISSING" not in text and "Consider training" not in text
    with new_head_load(frozenset({"some.other.weight"})):  # a head the caller does not set: still reported
        _load_classifier(tiny_gemma_lm)
    assert "MISSING" in _logged(caplog)

    # A report that also lists a backbone key, or a mismatch, is a real problem: it is kept.
    head_only = ("Gemma3TextForSequenceClassification LOAD REPORT from: x\nKey | Status | \n---+---+-\n"
                 "score.weight | MISSING | \n\nNotes:\n- MISSING:\tthose params were newly initialized")
    assert only_missing(head_only, frozenset({"score.weight"}))
    assert not only_missing(head_only.replace("score.weight | MISSING | ",
                                              "score.weight | MISSING | \nmodel.norm.weight | MISSING | "),
                            frozenset({"score.weight"}))
    assert not only_missing(head_only.replace("| MISSING |", "| MISMATCH |"), frozenset({"score.weight"}))

    # The padding note is dropped in an unpadded embeddings forward; another warning of that logger still shows.
    with unpadded_embeds():
        model(inputs_embeds=torch.zeros(2, 3, 16))
        logging.getLogger("transformers.modeling_layers").warning("a genuine warning")
    text = _logged(caplog)
    assert "will not detect padding tokens" not in text
    assert "a genuine warning" in text


def test_each_scan_names_its_place(tiny_llama, tmp_path, capfd):
    from harness.models.loading import load_scorer
    from harness.scoring.table import TableStore
    from harness.tasks.runner import RunOptions, score_task
    from harness.tasks.checks import load_task
    from harness.tasks.discovery import BUILTIN_TASKS_DIR

    spec = load_task(BUILTIN_TASKS_DIR / "token_optimality.yaml")
    scorer = load_scorer(str(tiny_llama), device="cpu")
    capfd.readouterr()
    score_task(scorer, spec, TableStore(tmp_path), RunOptions(limit=40, progress=True), "t")
    err = capfd.readouterr().err
    n = len(spec.prompts)
    for i, key in enumerate(spec.prompts, 1):
        assert f"token_optimality · scan {i}/{n} · prompt {key}" in err
