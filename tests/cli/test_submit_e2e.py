"""submit.py as a user runs it: FINISHED with results and a board, idempotent, FAILED records with the reason."""

from __future__ import annotations

import json

import builders
from harness.cli.submit import main


def _records(out):
    return [json.loads(p.read_text()) for p in sorted((out / "requests").rglob("*.json"))]


def test_submit_finishes_then_is_idempotent(tmp_path, mistral_dir, capsys):
    model = builders.tiny_classifier("Mistral", mistral_dir, tmp_path / "rm")
    out, site = tmp_path / "results", tmp_path / "site"
    args = ["--model", str(model), "--tasks", "token_optimality", "--output-dir", str(out),
            "--leaderboard-out", str(site), "--batch-size", "512"]
    assert main(args) == 1  # the random model fails the sanity check: off the board, exit 1 (docs/errors.md)
    (record,) = _records(out)
    assert record["status"] == "FINISHED" and record["verified"] is False and record["revision"].startswith("sha256-")
    results = out / record["results_path"]
    doc = json.loads(results.read_text())
    assert doc["results"]["token_optimality"]["metrics"]["best/n"]["value"] == 32768
    captured = capsys.readouterr()
    printed = captured.out
    assert "not on the board (exit 1)" in captured.err
    assert (site / "index.html").exists() and "leaderboard" in printed
    # The random tiny model fails the sanity rule: the summary and results.json say so, with intervals.
    sanity = doc["sanity"]
    assert sanity["passed"] is False and sanity["publish"] is False and sanity["n"] == 180
    assert sanity["rule"]["min_correct"] == 124 and sanity["rule"]["p_pass_at_null"] <= 0.01
    assert set(sanity["by_kind"]) == {"insult", "absurd", "factual", "refusal", "harmful"}
    assert all(len(v["ci"]) == 2 for v in sanity["by_kind"].values())
    assert "sanity check FAILED: accuracy" in printed and "124 needed" in printed and "CI" in printed
    page = (results.parent / "report.html").read_text()
    assert "FAILED: accuracy" in page and "Clopper-Pearson" in page
    before = results.stat().st_mtime_ns
    assert main(args) == 1  # same model, same revision: nothing rerun, still off the board
    assert "already audited" in capsys.readouterr().out
    assert results.stat().st_mtime_ns == before and len(_records(out)) == 1


def test_model_that_fails_to_load_leaves_a_failed_record(tmp_path, mistral_dir, capsys):
    model = builders.tiny_classifier("Mistral", mistral_dir, tmp_path / "broken")
    (model / "model.safetensors").write_bytes(b"not weights")
    out = tmp_path / "results"
    assert main(["--model", str(model), "--tasks", "token_optimality", "--output-dir", str(out),
                 "--leaderboard-out", str(tmp_path / "site")]) == 2
    assert "error:" in capsys.readouterr().err
    (record,) = _records(out)
    assert record["status"] == "FAILED" and record["error"]
    assert not list(out.rglob("results.json")), "no results file for a failed audit"


def test_unknown_model_is_one_line_and_no_record(tmp_path, capsys):
    out = tmp_path / "results"
    assert main(["--model", "./does/not/exist", "--output-dir", str(out),
                 "--leaderboard-out", str(tmp_path / "site")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "local folder" in err
    assert not _records(out), "nothing identifies a model that does not exist: no record"


def test_second_model_refreshes_the_comparison_page(tmp_path, mistral_dir):
    out, site = tmp_path / "results", tmp_path / "site"
    for seed in (0, 1):
        model = builders.tiny_classifier("Mistral", mistral_dir, tmp_path / f"rm{seed}", seed=seed)
        assert main(["--model", str(model), "--tasks", "token_optimality", "--output-dir", str(out),
                     "--leaderboard-out", str(site), "--batch-size", "512", "--allow-failed-sanity"]) == 0
    # both audits were computed here (trusted), so the board compares them; submit writes no _compare/ of its own
    assert not (out / "_compare").exists()
    page = (site / "compare.html").read_text()
    assert "heterogeneity" in page.lower() and page.count('class="id"') >= 2
