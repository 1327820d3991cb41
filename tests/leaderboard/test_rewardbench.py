"""RewardBench v1 + v2 snapshot: the study's models join, ranks come from scores, user results stay unranked."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from harness.errors import UserError
from harness.leaderboard import rewardbench as rb
from harness.leaderboard import rewardbench_sources as sources
from harness.leaderboard.rewardbench_files import load_user_results
from repo_paths import REPO

# The ten models of Christian et al. (FAccT 2025), as the study spells their Hub ids.
STUDY_MODELS = [
    "nicolinho/QRM-Gemma-2-27B", "Skywork/Skywork-Reward-Gemma-2-27B-v0.2", "Skywork/Skywork-Reward-Gemma-2-27B",
    "Skywork/Skywork-Reward-Llama-3.1-8B-v0.2", "nicolinho/QRM-Llama3.1-8B", "LxzGordon/URM-LLaMa-3.1-8B",
    "Ray2333/GRM-Llama3-8B-rewardmodel-ft", "Ray2333/GRM-Llama3.2-3B-rewardmodel-ft",
    "RLHFlow/ArmoRM-Llama3-8B-v0.1", "Ray2333/GRM-gemma2-2B-rewardmodel-ft",
]
NOT_IN_V2 = {"nicolinho/QRM-Llama3.1-8B", "Ray2333/GRM-Llama3.2-3B-rewardmodel-ft"}


def _shared_rewardbench() -> Path | None:
    env = os.environ.get("RM_HARNESS_SHARED_DATA")
    for root in ([Path(env)] if env else []) + [REPO.parent / "shared" / "data"]:
        if (root / "rewardbench" / "rewardbench_v1.csv").exists():
            return root / "rewardbench"
    return None


def test_study_models_join_v1_and_v2():
    snap = rb.load_snapshot()
    assert snap.date == "2025-12-22" and "every_eval_ever" in snap.source
    assert len(snap.models("v1")) == 176 and len(snap.models("v2")) == 197
    for model in STUDY_MODELS:
        e = rb.lookup(model)
        assert e is not None and not e.self_reported, model
        assert e.v1 is not None and 1 <= e.v1.rank <= e.v1.of == 176 and 80 < e.v1.score < 100
        assert set(e.v1.sections) >= {"chat", "chat_hard", "safety", "reasoning"}
        assert e.v1.model_type in {"Seq. Classifier", "Custom Classifier"}
        if model in NOT_IN_V2:
            assert e.v2 is None and e.absence("v2") == "not in RewardBench 2"
        else:
            assert e.v2 is not None and e.v2.of == 197 and len(e.v2.sections) == 6
            assert e.v2.score < e.v1.score  # v2 is the harder board
    armo = rb.lookup("RLHFlow/ArmoRM-Llama3-8B-v0.1")
    assert armo.v1.model_type == "Custom Classifier" and armo.v1.sections["prior_sets"] == pytest.approx(74.29)
    assert armo.v1.score == pytest.approx(88.60)


def test_join_is_case_insensitive_and_hub_ids_only():
    e = rb.lookup("Ray2333/GRM-llama3.2-3B-rewardmodel-ft")  # v1's spelling
    assert e is not None and e.model_id == "Ray2333/GRM-llama3.2-3B-rewardmodel-ft"
    assert rb.lookup("RAY2333/grm-LLAMA3.2-3b-REWARDMODEL-FT") == e
    assert rb.lookup("  ray2333/grm-llama3.2-3b-rewardmodel-ft ") == e
    # Local folders and demo models never inherit a public rank, even when named like a ranked model.
    for model_id in ["local:GRM-llama3.2-3B-rewardmodel-ft@1a2b3c4d", "demo:gemma-3-270m-rm",
                     "/models/Ray2333/GRM-llama3.2-3B-rewardmodel-ft", "./Ray2333/GRM-llama3.2-3B-rewardmodel-ft",
                     "local:Ray2333/GRM-llama3.2-3B-rewardmodel-ft", "someone/else", "", None]:
        assert rb.lookup(model_id) is None, model_id


def test_ranks_are_computed_from_scores_with_shared_ties():
    assert rb.competition_ranks([90.0, 95.5, 90.0, 80.0, 95.5, 70.0]) == [3, 1, 3, 5, 1, 6]
    assert rb.competition_ranks([90.004, 90.0]) == [1, 1]  # equal to the published two decimals
    snap = rb.load_snapshot()
    for v in rb.VERSIONS:
        models = snap.models(v)
        assert models[0].rank == 1
        for a in models:  # a model's rank is one plus the number of models with a strictly higher score
            assert a.rank == 1 + sum(b.score > a.score for b in models)
    ties = [m for m in snap.models("v1") if m.score == 67.30]
    assert len(ties) == 2 and ties[0].rank == ties[1].rank


def test_bundled_snapshot_equals_the_shared_exports():
    folder = _shared_rewardbench()
    if folder is None:
        pytest.skip("shared RewardBench exports not found (set RM_HARNESS_SHARED_DATA)")
    bundled = json.loads(rb.bundled_path().read_text(encoding="utf-8"))
    rebuilt = sources.snapshot_from_csv(folder / "rewardbench_v1.csv", folder / "rewardbench_v2.csv",
                                        retrieved=bundled["retrieved"], source=bundled["source"],
                                        notes=bundled["notes"][:-1])
    assert rebuilt == bundled
    for v in rb.VERSIONS:  # the overall score is the board's function of its sections
        for row in bundled["versions"][v]["models"]:
            sec = {k: x for k, x in row["sections"].items() if x is not None}
            if set(rb.SECTIONS[v]) - {"prior_sets"} - set(sec):
                continue  # six early v1 entries lack Reasoning
            assert rb.overall_score(v, sec) == pytest.approx(row["score"], abs=0.011), row["model"]


# Public per-subset accuracies of RLHFlow/ArmoRM-Llama3-8B-v0.1 in allenai/reward-bench-results (eval-set).
ARMORM = {
    "alpacaeval-easy": 0.97, "alpacaeval-hard": 0.9473684210526315, "alpacaeval-length": 0.968421052631579,
    "donotanswer": 0.7941176470588235, "hep-cpp": 0.9512195121951219, "hep-go": 0.9695121951219512,
    "hep-java": 0.9817073170731707, "hep-js": 0.975609756097561, "hep-python": 0.9634146341463414,
    "hep-rust": 0.9207317073170732, "llmbar-adver-GPTInst": 0.7717391304347826,
    "llmbar-adver-GPTOut": 0.6595744680851063, "llmbar-adver-manual": 0.6956521739130435,
    "llmbar-adver-neighbor": 0.6791044776119403, "llmbar-natural": 0.93, "math-prm": 0.9865771812080537,
    "model": "RLHFlow/ArmoRM-Llama3-8B-v0.1", "model_type": "Custom Classifier", "mt-bench-easy": 1.0,
    "mt-bench-hard": 0.8648648648648649, "mt-bench-med": 1.0, "refusals-dangerous": 0.93,
    "refusals-offensive": 0.97, "xstest-should-refuse": 1.0, "xstest-should-respond": 0.872,
}


def test_v1_sections_from_subsets_reproduce_the_board():
    s = rb.v1_sections_from_subsets(ARMORM)
    board = rb.lookup("RLHFlow/ArmoRM-Llama3-8B-v0.1").v1.sections
    for k in ("chat", "chat_hard", "safety", "reasoning"):
        assert s[k] == pytest.approx(board[k], abs=0.01), k
    assert rb.v1_sections_from_subsets({"model": "x"}) is None


def test_user_results_are_self_reported_and_unranked(tmp_path):
    f = tmp_path / "mine.json"  # scripts/run_rm.py's form (tests/test_rewardbench_files.py has RewardBench's own)
    f.write_text(json.dumps(ARMORM | {"model": "me/private-rm", "model_type": "Seq. Classifier",
                                      "chat_template": "tokenizer"}))
    e = load_user_results(f)
    assert e.self_reported and e.model_id == "me/private-rm" and e.v2 is None
    assert e.v1.rank is None and e.v1.of is None and e.v1.model_type == "Seq. Classifier"
    assert e.v1.score == pytest.approx(90.39, abs=0.01)  # four sections, no Prior Sets
    assert e.absence("v2") == "not in the results file"
    assert rb.lookup("me/private-rm") is None


@pytest.mark.parametrize("content, match", [
    (None, "file not found"), ("{", "not readable JSON"), ("[1]", "not readable JSON"),
    (json.dumps({"Chat": 0.9, "Safety": 0.8}), "not a RewardBench results file"),
    (json.dumps({"v1": {"Chat": 90, "Chat Hard": 70, "Safety": 80, "Reasoning": 60}}), "expected the JSON"),
])
def test_user_results_errors_name_the_file(tmp_path, content, match):
    f = tmp_path / "r.json"
    if content is not None:
        f.write_text(content)
    with pytest.raises(UserError, match=match) as err:
        load_user_results(f)
    assert "--rewardbench-results" in str(err.value) and "\n" not in str(err.value)


def test_refresh_without_network(tmp_path, monkeypatch):
    import huggingface_hub

    hub = {}
    for v, repo in sources.RESULTS_REPOS.items():
        root = tmp_path / v
        (root / "eval-set" / "org").mkdir(parents=True)
        hub[repo] = root
        (root / "eval-set" / "org" / "broken.json").write_text("{")
    (hub["allenai/reward-bench-results"] / "eval-set" / "org" / "armo.json").write_text(json.dumps(ARMORM))
    perfect = {k: (1.0 if isinstance(x, float) else x) for k, x in ARMORM.items()} | {"model": "org/Perfect"}
    (hub["allenai/reward-bench-results"] / "eval-set" / "org" / "perfect.json").write_text(json.dumps(perfect))
    v2 = {"model": "org/Perfect", "model_type": "DPO", "Factuality": 0.5, "Precise IF": 0.5, "Math": 0.5,
          "Safety": 0.5, "Focus": 0.5, "Ties": 0.5}
    (hub["allenai/reward-bench-2-results"] / "eval-set" / "org" / "perfect.json").write_text(json.dumps(v2))
    calls = []

    def fake_download(**kw):
        calls.append(kw)
        return str(hub[kw["repo_id"]])

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_download)
    out = sources.refresh(tmp_path / "snap.json")
    assert {c["repo_id"] for c in calls} == set(sources.RESULTS_REPOS.values())
    assert all(c["repo_type"] == "dataset" for c in calls)
    snap = rb.load_snapshot(out)
    assert [(m.rank, round(m.score, 1)) for m in snap.models("v1")] == [(1, 100.0), (2, 90.4)]
    e = snap.lookup("org/perfect")
    assert e.v2.score == 50.0 and e.v2.model_type == "DPO" and e.v2.rank == 1
    assert snap.lookup("RLHFlow/ArmoRM-Llama3-8B-v0.1").v2 is None


def test_bad_snapshot_is_a_user_error(tmp_path):
    f = tmp_path / "old.json"
    f.write_text(json.dumps({"models": []}))
    with pytest.raises(UserError, match="not a RewardBench snapshot"):
        rb.load_snapshot(f)


def test_cli_prints_an_entry(capsys):
    assert rb.main(["ray2333/grm-llama3.2-3b-rewardmodel-ft"]) == 0
    out = capsys.readouterr().out
    assert "RewardBench: rank" in out and "RewardBench 2: not in RewardBench 2" in out
