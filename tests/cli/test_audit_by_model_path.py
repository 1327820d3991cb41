"""`export --model PATH` and `analyse --model PATH` with the local folder that was audited find its audit as `run`
names it (the folder's content hash), through the console script."""

from __future__ import annotations

import json
import shutil

import pytest

import builders
from test_user_errors import error_line, run_cli

IDS = list(range(0, 300))


@pytest.fixture(scope="module")
def audited(tmp_path_factory, llama3_dir):
    """Two tiny models in two folders both named `m` (different bytes), audited into one results folder."""
    from harness.models.loading import load_scorer
    from harness.tasks.discovery import discover
    from harness.tasks.runner import RunOptions, run_tasks

    root = tmp_path_factory.mktemp("by-path")
    spec = discover()["token_optimality"]
    ids = {}
    for seed, where in ((0, "a"), (1, "b")):
        folder = builders.tiny_classifier("Llama", llama3_dir, root / where / "m", seed=seed)
        scorer = load_scorer(str(folder))
        run_tasks(scorer, [spec], root / "results", RunOptions(progress=False, vocab_ids=IDS, chunk_rows=512))
        ids[where] = scorer.ref.display_id
    assert ids["a"] != ids["b"] and ids["a"].startswith("local:m@")
    return root, ids


def test_export_by_the_audited_path_absolute_and_relative(audited):
    root, ids = audited
    for cwd, model in ((root, str(root / "a" / "m")), (root / "a", "m"), (root / "b", "./m")):
        done = run_cli("export", "--model", model, "--output-dir", str(root / "results"), cwd=cwd)
        assert done.returncode == 0, done.stderr[-2000:]
        want = ids["b" if cwd.name == "b" else "a"]
        assert json.loads(done.stdout)["model_name"] == want


def test_analyse_by_the_audited_path_merges_into_that_audit(audited):
    root, ids = audited

    def docs() -> dict[str, bytes]:
        return {json.loads(p.read_bytes())["model"]["id"]: p.read_bytes()
                for p in (root / "results").glob("*/*/results.json")}

    before = docs()
    done = run_cli("analyse", "--model", "m", "--tasks", "token_optimality", "--output-dir",
                   str(root / "results"), cwd=root / "b")
    assert done.returncode == 0, done.stderr[-2000:]
    after = docs()
    assert after[ids["a"]] == before[ids["a"]] and after[ids["b"]] != before[ids["b"]]


def test_a_folder_changed_since_its_audit_names_no_audit(audited, tmp_path):
    """Same path, other bytes: a different model, so no audit (never the one of the old bytes)."""
    root, ids = audited
    changed = tmp_path / "a" / "m"
    shutil.copytree(root / "a" / "m", changed)
    copy_out = tmp_path / "results"
    shutil.copytree(root / "results", copy_out)
    # the copy has the same bytes: its audit is found wherever the folder lies
    done = run_cli("export", "--model", str(changed), "--output-dir", str(copy_out))
    assert done.returncode == 0 and json.loads(done.stdout)["model_name"] == ids["a"], done.stderr[-2000:]
    (changed / "extra.txt").write_text("changed\n")
    before = sorted(p.read_bytes() for p in copy_out.rglob("results.json"))
    for command in ("export", "analyse"):
        line = error_line(run_cli(command, "--model", str(changed), "--output-dir", str(copy_out)),
                          "no results for the model folder", "rm-harness run --model")
        assert "local:m@" in line and ids["a"] not in line
    assert before == sorted(p.read_bytes() for p in copy_out.rglob("results.json"))
