"""`--rewardbench-results`: the files RewardBench 0.1.4 itself writes (tests/fixtures/rewardbench, made with its
own writer) are read and scored as RewardBench scores them; anything else is refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import UserError
from harness.leaderboard import rewardbench as rb
from harness.leaderboard.rewardbench_files import load_user_results
from repo_paths import REPO

FIX = REPO / "tests" / "fixtures" / "rewardbench"
CLI_V1 = FIX / "cli-v1-rewardbench-0.1.4.json"
RUN_RM = FIX / "run_rm-v1-rewardbench-0.1.4.json"
RUN_V2 = FIX / "run_v2-v2-rewardbench-0.1.4.json"
SECTION_NAMES = {"Chat": "chat", "Chat Hard": "chat_hard", "Safety": "safety", "Reasoning": "reasoning"}


@pytest.mark.parametrize("path", [CLI_V1, RUN_RM], ids=["rewardbench-command", "run_rm"])
def test_v1_forms_score_as_rewardbench_does(path):
    """Section scores equal RewardBench's own calculate_scores_per_section output (written by its code), and
    the overall score is the mean of the four sections (a user's run has no Prior Sets)."""
    expected = json.loads((FIX / "expected-v1-sections-rewardbench-0.1.4.json").read_text())
    e = load_user_results(path)
    assert e.self_reported and e.v2 is None and e.v1.rank is None
    assert e.model_id == "RLHFlow/ArmoRM-Llama3-8B-v0.1"
    for name, key in SECTION_NAMES.items():
        assert e.v1.sections[key] == pytest.approx(100 * expected[name], abs=0.005), name
    assert e.v1.score == pytest.approx(sum(100 * x for x in expected.values()) / 4, abs=0.005)
    # and the same sections the public v1 board shows for this model
    board = rb.lookup("RLHFlow/ArmoRM-Llama3-8B-v0.1").v1.sections
    for key in SECTION_NAMES.values():
        assert e.v1.sections[key] == pytest.approx(board[key], abs=0.011), key


def test_the_command_file_keeps_its_own_fields_apart():
    doc = json.loads(CLI_V1.read_text())
    assert {"accuracy", "num_prompts", "ref_model", "tokenizer", "chat_template", "extra_results"} <= set(doc)
    assert load_user_results(CLI_V1).v1.model_type is None  # the command's file has no model_type
    assert load_user_results(RUN_RM).v1.model_type == "Custom Classifier"


def test_v2_file_is_the_mean_of_six_subsets():
    doc = json.loads(RUN_V2.read_text())
    e = load_user_results(RUN_V2)
    subsets = ["Factuality", "Precise IF", "Math", "Safety", "Focus", "Ties"]
    assert e.v1 is None and e.v2.model_type == "Seq. Classifier"
    assert e.v2.score == pytest.approx(100 * sum(doc[s] for s in subsets) / 6, abs=0.005)
    assert e.v2.sections["precise_if"] == pytest.approx(100 * doc["Precise IF"], abs=0.005)


def test_one_file_per_version_combined():
    e = load_user_results(RUN_RM, RUN_V2)
    assert e.v1 is not None and e.v2 is not None and e.self_reported
    with pytest.raises(UserError, match="at most one file per version"):
        load_user_results(RUN_RM, CLI_V1)


def _write(tmp_path, doc) -> Path:
    f = tmp_path / f"r{len(list(tmp_path.iterdir()))}.json"
    f.write_text(json.dumps(doc))
    return f


def test_refusals_name_what_was_expected(tmp_path):
    cases = [
        (FIX / "cli-other-dataset-rewardbench-0.1.4.json", "extra_results is null"),
        (_write(tmp_path, {"accuracy": 0.9, "num_prompts": 10, "extra_results": {"alpacaeval-easy": 0.9}}),
         "subsets missing"),
        (_write(tmp_path, {**json.loads(RUN_V2.read_text()), "Math": 73.5}), "not an accuracy between 0 and 1"),
        (_write(tmp_path, {**json.loads(RUN_V2.read_text()), "Math": "0.7"}), "not an accuracy"),
        (_write(tmp_path, {"Chat": 90, "Chat Hard": 70, "Safety": 80, "Reasoning": 60}), "scripts/run_v2.py"),
    ]
    for path, match in cases:
        with pytest.raises(UserError, match=match) as err:
            load_user_results(path)
        assert "\n" not in str(err.value) and str(err.value).startswith("--rewardbench-results")


def test_self_report_shows_for_local_models_marked_and_never_over_a_public_rank():
    from types import SimpleNamespace

    from harness.leaderboard.board_view import _rb_cells
    from harness.leaderboard.rb_join import RewardBench

    own = load_user_results(RUN_RM, RUN_V2).to_json()
    join = RewardBench(lookup=rb.lookup)
    local = join.for_model({"id": "local:my-rm@12345678", "origin": "local", "rewardbench_self_reported": own})
    assert local["v1"].self_reported and local["v1"].rank is None and local["v1"].score == own["v1"]["score"]
    cells = _rb_cells(SimpleNamespace(origin="local"), local)
    assert [c.text for c in cells] == ["unranked*", "unranked*"]  # the glossary's * for self-reported
    assert cells[0].sub == f"{own['v1']['score']:.1f}" and "self-reported" in cells[0].title
    # a Hub model on the public board keeps its public rank; the self-report fills only a version it lacks
    hub = join.for_model({"id": "Ray2333/GRM-Llama3.2-3B-rewardmodel-ft", "origin": "hub",
                          "rewardbench_self_reported": own})
    assert hub["v1"].rank is not None and not hub["v1"].self_reported
    assert hub["v2"].self_reported and hub["v2"].rank is None


def test_a_bad_file_is_refused_before_the_model_is_looked_at(tmp_path):
    """Through the console script: the model named does not even exist, yet the RewardBench file is what is
    refused, in one line, so the file is checked with the other cheap checks."""
    import subprocess
    import sys

    repo = REPO
    proc = subprocess.run([sys.executable, str(repo / "submit.py"), "--model", str(tmp_path / "no-such-model"),
                           "--rewardbench-results", str(FIX / "cli-other-dataset-rewardbench-0.1.4.json"),
                           "--output-dir", str(tmp_path / "r"), "--leaderboard-out", str(tmp_path / "s")],
                          capture_output=True, text=True, env={"PYTHONPATH": str(repo), "HF_HUB_OFFLINE": "1",
                                                               "PATH": "/usr/bin:/bin"}, timeout=300)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "extra_results is null" in proc.stderr and "no-such-model" not in proc.stderr
