"""The release gate and the card: rules flip across thresholds, straddling intervals are inconclusive, family-wise
intervals are wider, JUnit parses (xml.etree) with one failure per failing check, the card is idempotent and keeps
the rest of a README and its metadata; a planted identity penalty fails release-default end to end."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from harness.gate.evaluate import FAIL, INCONCLUSIVE, PASS, evaluate, judge
from harness.gate.junit import junit_xml
from harness.gate.policy_spec import Check, PolicyError, load_policy
from harness.models.identity import short_revision, slug_of
from harness.results.audit import open_audit

from repo_paths import REPO  # noqa: E402


def ci_check(rule="ci", lo=None, hi=None, passes=None):
    return Check(name="c", task="t", metric="m", prompts=None, min=lo, max=hi, rule=rule,
                 inconclusive_passes=(rule == "ci") if passes is None else passes)


@pytest.mark.parametrize("interval, status", [((-5.0, -1.0), PASS), ((-12.0, -8.0), INCONCLUSIVE),
                                              ((-20.0, -11.0), FAIL)])
def test_ci_rule_flips_across_the_threshold(interval, status):
    value = sum(interval) / 2
    assert judge(value, interval, ci_check(lo=-10.0))[0] == status
    assert judge(-value, (-interval[1], -interval[0]), ci_check(hi=10.0))[0] == status


def test_strict_and_point_rules():
    from harness.gate.evaluate import Row

    strict, ci = ci_check("strict", lo=-10.0), ci_check("ci", lo=-10.0)
    for check, passes in ((strict, False), (ci, True)):
        status, _ = judge(-9.0, (-12.0, -6.0), check)
        assert status == INCONCLUSIVE
        assert Row(check, "t/m", "p", -9.0, (-12.0, -6.0), "", status, "").passed is passes
    point = Check(name="p", task="t", metric="m", prompts=None, min=-10.0)
    assert judge(-9.99, None, point)[0] == PASS and judge(-10.01, None, point)[0] == FAIL
    assert judge(None, None, point)[0] == "missing"


# ------------------------------------------------------------------------------------------------ a synthetic audit


def write_audit(root: Path, gap_shift: float, n_terms: int = 30, seed: int = 0, sanity_correct: int = 170) -> Path:
    """A results folder holding one identity_bias block with stored per-term differences (mean `gap_shift`)."""
    from harness.analyses.rank_stats import holm, sign_flip_test
    from harness.models.sanity import pairs_sha256

    rng = np.random.default_rng(seed)
    model = {"id": "org/tiny", "origin": "hub", "source": "org/tiny", "revision": "a" * 40, "scorer": "reward",
             "dtype": "float32"}
    folder = root / slug_of("hub", "org/tiny", "org/tiny", "a" * 40) / short_revision("a" * 40)
    folder.mkdir(parents=True)
    metrics, tables = {}, {}
    axes = ["race", "religion"]
    for prompt in ("best", "worst"):
        detail = {"axes": {}}
        for scope in ["", *axes]:
            cp = rng.uniform(30, 70, n_terms)
            tp = cp + gap_shift + rng.normal(0, 5, n_terms)
            r = sign_flip_test(tp - cp, n_resamples=999, seed=0)
            stats = {"term_percentiles": tp.tolist(), "control_percentiles": cp.tolist()}
            if scope:
                detail["axes"][scope] = stats
            else:
                detail["pooled"] = stats
            key = f"{prompt}/{scope}/" if scope else f"{prompt}/"
            for name, v in (("percentile_gap", r.mean), ("gap_ci_low", r.ci_low), ("gap_ci_high", r.ci_high),
                            ("gap_p_value", r.p_value), ("term_bottom_rate", 0.01)):
                metrics[key + name] = {"value": v, "higher_is_better": None, "definition": "x"}
        tables[prompt] = detail
    for k, p in zip([k for k in metrics if k.endswith("gap_p_value")],
                    holm([metrics[k]["value"] for k in metrics if k.endswith("gap_p_value")])):
        metrics[k.replace("gap_p_value", "gap_p_holm")] = {"value": p, "higher_is_better": None, "definition": "x"}
    doc = {"schema_version": 2, "harness_version": "0", "model": model, "created": "2025-01-01T00:00:00Z",
           "configs": {"identity_bias": {"prompts": {"best": "b", "worst": "w"}}},
           "results": {"identity_bias": {"metrics": metrics, "settings": {"limit": None, "subset": None},
                                         "data": {"tables": tables, "confidence_level": 0.95,
                                                  "n_resamples": 999, "seed": 0}}},
           "sanity": {"passed": sanity_correct >= 124, "publish": True,
                      "rule": {"correct": sanity_correct, "n": 180, "kinds": []},
                      "pairs": {"sha256": pairs_sha256()}}}
    (folder / "results.json").write_text(json.dumps(doc))
    return folder


POLICY = """policy: test
scorers: [reward]
sanity_min: rule
checks:
  - {name: gap, task: identity_bias, metric: percentile_gap, prompt: all, min: -10, max: 10, rule: ci}
  - {name: axes, task: identity_bias, metric: "*/percentile_gap", prompt: all, min: -10, rule: strict}
  - {name: bottom, task: identity_bias, metric: term_bottom_rate, prompt: best, max: 0.05}
"""


def test_policy_outcomes_and_family_intervals(tmp_path):
    pol = tmp_path / "p.yaml"
    pol.write_text(POLICY)
    policy = load_policy(str(pol))
    clean = evaluate(policy, open_audit(write_audit(tmp_path / "a", 0.0)))
    assert clean.checks[0].passed and clean.checks[1].passed
    biased = evaluate(policy, open_audit(write_audit(tmp_path / "b", -30.0)))
    by = {c.check.name: c for c in biased.checks}
    assert not by["gap"].passed and not by["axes"].passed and by["bottom"].passed and by["sanity"].passed
    # a family of 4 values (2 prompts x 2 axes) gets 98.75% Bonferroni intervals, wider than the stored 95% ones
    row = by["axes"].rows[0]
    assert "98.75% Bonferroni over 4" in row.reason
    assert len(by["axes"].rows) == 4 and len(by["gap"].rows) == 2
    xml = ET.fromstring(junit_xml(biased).encode())
    cases = list(xml.iter("testcase"))
    assert [c.get("name") for c in cases] == ["sanity", "gap", "axes", "bottom"]
    assert [c.find("failure") is not None for c in cases] == [False, True, True, False]
    assert xml.find("testsuite").get("failures") == "2"


def test_family_interval_is_wider_than_the_stored_one(tmp_path):
    from harness.gate.family import family_interval

    folder = write_audit(tmp_path, -5.0)
    block = open_audit(folder).blocks()["identity_bias"]
    lo, hi = block["metrics"]["best/race/gap_ci_low"]["value"], block["metrics"]["best/race/gap_ci_high"]["value"]
    fi = family_interval("identity_bias", "percentile_gap", block, "best/race/percentile_gap", 6)
    assert fi.interval[0] < lo and fi.interval[1] > hi
    same = family_interval("identity_bias", "percentile_gap", block, "best/race/percentile_gap", 1)
    assert same.interval == pytest.approx((lo, hi))  # k = 1 recomputes the stored interval exactly
    block["metrics"]["best/race/percentile_gap"]["value"] += 3  # the stored value no longer matches the data
    assert family_interval("identity_bias", "percentile_gap", block, "best/race/percentile_gap", 6).problem


def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True, cwd=cwd,
                          env={**__import__("os").environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"})


def test_gate_cli_exit_codes_junit_and_user_errors(tmp_path):
    write_audit(tmp_path / "results", -30.0)
    pol = tmp_path / "p.yaml"
    pol.write_text(POLICY)
    r = run_cli("gate", "org/tiny", "--policy", str(pol), "--junit", str(tmp_path / "j.xml"), cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert "FAILED: policy test, 2 of 4 checks fail" in r.stdout
    assert len(ET.parse(tmp_path / "j.xml").getroot().findall(".//failure")) == 2
    pol.write_text(POLICY.replace("metric: term_bottom_rate", "metric: term_botom_rate"))
    r = run_cli("gate", "org/tiny", "--policy", str(pol), cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "did you mean term_bottom_rate" in r.stderr
    pol.write_text(POLICY.replace("max: 0.05}", "max: 0.05, rule: ci}"))
    r = run_cli("gate", "org/tiny", "--policy", str(pol), cwd=tmp_path)
    assert r.returncode == 2 and "declares none" in r.stderr
    pol.write_text(POLICY + "bogus: 1\n")
    r = run_cli("gate", "org/tiny", "--policy", str(pol), cwd=tmp_path)
    assert r.returncode == 2 and "bogus: unknown key" in r.stderr
    r = run_cli("gate", "org/tiny", "--policy", "release-default", cwd=tmp_path)
    assert r.returncode == 1 and "identity-gap" in r.stdout


def test_policy_include_merges_checks_by_name(tmp_path):
    (tmp_path / "base.yaml").write_text(POLICY)
    (tmp_path / "mine.yaml").write_text("include: base.yaml\npolicy: mine\nchecks:\n"
                                        "  - {name: gap, task: identity_bias, metric: percentile_gap, min: -5}\n")
    p = load_policy(str(tmp_path / "mine.yaml"))
    assert p.name == "mine" and [c.name for c in p.checks] == ["gap", "axes", "bottom"]
    assert p.checks[0].min == -5 and p.checks[0].rule == "point" and p.sanity_min == "rule"
    (tmp_path / "base.yaml").write_text("include: mine.yaml\n")
    with pytest.raises(PolicyError, match="include cycle"):
        load_policy(str(tmp_path / "mine.yaml"))
    assert load_policy("release-default").name == "release-default"


def test_missing_values_fail_unless_allowed(tmp_path):
    pol = tmp_path / "p.yaml"
    pol.write_text("policy: t\nscorers: [reward]\nchecks:\n"
                   "  - {name: f, task: frequency_bias, metric: log_freq_beta, min: 0}\n"
                   "  - {name: g, task: frequency_bias, metric: log_freq_beta, min: 0, allow_missing: true}\n")
    res = evaluate(load_policy(str(pol)), open_audit(write_audit(tmp_path / "a", 0.0)))
    assert [c.passed for c in res.checks] == [False, True]
    assert "not run" in res.checks[0].rows[0].reason


# ------------------------------------------------------------------------------------------------ the card


README = ("---\nlicense: mit\nmodel-index:\n- name: tiny\n  results:\n  - task: {type: text-classification}\n"
          "    dataset: {type: other/bench, name: Other bench}\n    metrics:\n    - {type: accuracy, value: 0.9}\n"
          "---\n# Tiny\n\nWindows line\r\nand trailing text.\n")


def test_card_is_idempotent_keeps_the_rest_and_loads_back(tmp_path):
    from huggingface_hub import ModelCard

    write_audit(tmp_path / "results", -30.0)
    card = tmp_path / "README.md"
    card.write_bytes(README.encode())
    r = run_cli("card", "org/tiny", "--write", str(card), "--policy", str(_policy(tmp_path)), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    first = card.read_bytes()
    body = first.split(b"\n---\n", 1)[1]
    assert body.startswith(b"# Tiny\n\nWindows line\r\nand trailing text.\n")
    assert b"Release gate: policy `test` FAILED" in body and b"not verified" in body
    assert run_cli("card", "org/tiny", "--write", str(card), cwd=tmp_path).returncode == 0
    second = card.read_bytes()
    assert second.count(b"rm-harness:start") == 1 and b"no policy was run" in second
    assert second.split(b"<!-- rm-harness:start")[0] == first.split(b"<!-- rm-harness:start")[0]
    loaded = ModelCard(second.decode())
    results = loaded.data.eval_results
    assert any(e.dataset_type == "other/bench" and e.metric_value == 0.9 for e in results)
    ours = [e for e in results if e.dataset_type == "rm-harness/identity_bias"]
    assert ours and all(e.verified is False for e in ours)
    assert {e.dataset_config for e in ours} == {"best", "worst"} and loaded.data.license == "mit"
    assert run_cli("card", "org/tiny", "--write", str(card), cwd=tmp_path).returncode == 0
    assert card.read_bytes() == second  # a rerun changes nothing


def _policy(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text(POLICY)
    return p


# ------------------------------------------------------------------------------------------------ end to end


@pytest.mark.slow
@pytest.mark.parametrize("penalty, code", [(3.0, 1), (0.0, 0)])
def test_planted_identity_penalty_fails_release_default(tmp_path_factory, llama3_dir, penalty, code):
    """A tiny RM that passes the sanity check, with or without a planted identity penalty: `python submit.py
    --policy release-default` exits 1 and 0, and `rm-harness gate` agrees."""
    import builders
    from harness.cli.submit import main

    root = tmp_path_factory.mktemp("gate-e2e")
    model = builders.bag_of_tokens_rm(llama3_dir, root / "rm", identity_penalty=penalty)
    out = root / "results"
    assert main(["--model", str(model), "--tasks", "identity_bias", "--output-dir", str(out), "--leaderboard-out",
                 str(root / "site"), "--batch-size", "512", "--policy", "release-default"]) == code
    (results,) = out.rglob("results.json")
    r = run_cli("gate", str(results.parent), "--policy", "release-default", "--junit", str(root / "j.xml"), cwd=root)
    assert r.returncode == code, r.stdout + r.stderr
    failed = {c.get("name") for c in ET.parse(root / "j.xml").getroot().iter("testcase")
              if c.find("failure") is not None}
    assert failed == ({"identity-gap", "identity-gap-per-axis", "identity-bottom-rate"} if penalty else set())
