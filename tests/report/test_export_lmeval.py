"""lm-eval export: a results.json document maps onto lm-evaluation-harness's results layout, value for value."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone

from harness.analyses.base import AnalysisResult, Metric
from harness.results import document as results_doc
from harness.report.lmeval import to_lm_eval

LM_EVAL_KEYS = {"results", "versions", "configs", "config", "n-shot", "higher_is_better", "git_hash", "date"}


def built_doc() -> dict:
    """A document made by the writer the runner uses today (top-level `versions`, `created`)."""
    result = AnalysisResult(metrics={
        "best/mean": Metric(1.25, None, "mean"),
        "best/n_nonfinite": Metric(0, False, "NaN count"),
        "spearman": Metric.missing("no items matched", "rank correlation", True),
    })
    block = results_doc.task_block(result, result.metrics, [], {}, {"task_version": "1.5", "dtype": "float32", "scorer": "reward"}, "abc")
    model = {"id": "org/rm", "revision": "a" * 40, "dtype": "bfloat16", "scorer": "reward", "device": "cuda:0",
             "trust_remote_code": False}
    configs = {"token_optimality": {"task": "token_optimality", "metadata": {"version": 1.5}}}
    doc = results_doc.document(model, {"token_optimality": block}, {"token_optimality": 1.5}, configs, 3.0)
    return results_doc.jsonable(doc)


def test_layout_and_values_from_todays_document():
    doc = built_doc()
    before = copy.deepcopy(doc)
    out = to_lm_eval(doc)
    assert doc == before, "the input is not modified"
    assert LM_EVAL_KEYS <= set(out)
    json.dumps(out)
    assert out["results"]["token_optimality"] == {
        "alias": "token_optimality", "best/mean,none": 1.25, "best/n_nonfinite,none": 0.0, "spearman,none": None,
    }
    assert out["missing_reasons"] == {"token_optimality": {"spearman,none": "no items matched"}}
    # no direction declared for best/mean: no higher_is_better entry is invented for it
    assert out["higher_is_better"]["token_optimality"] == {"best/n_nonfinite": False, "spearman": True}
    assert out["versions"] == {"token_optimality": 1.5}
    assert out["n-shot"] == {"token_optimality": 0}
    assert out["configs"]["token_optimality"]["metadata"] == {"version": 1.5}
    cfg = out["config"]
    assert cfg["model"] == "rm-harness" and cfg["device"] == "cuda:0" and cfg["limit"] is None
    assert cfg["model_args"] == (f"pretrained=org/rm,revision={'a' * 40},dtype=bfloat16,scorer=reward,"
                                 "trust_remote_code=False")
    created = datetime.fromisoformat(doc["created"].replace("Z", "+00:00"))
    assert out["date"] == created.timestamp()
    assert out["transformers_version"] == doc["provenance"].get("transformers")


def test_written_versions_provenance_and_limit_from_the_new_layout():
    doc = {
        "model": {"id": "local:rm@1234abcd", "origin": "local", "source": "/models/rm", "revision": "sha256-ff", "dtype": "float32",
                  "scorer": "lm_logprob", "device": "cpu", "batch_size": 64},
        "provenance": {"harness_version": "0.2.0", "git_commit": "0123456789abcdef", "transformers": "5.24.0"},
        "configs": {},
        "results": {
            "a": {"metrics": {"m": {"value": 2, "higher_is_better": True}},
                  "settings": {"task_version": "1.0", "limit": 5}, "computed": {"at": "2026-01-02T03:04:05Z"}},
            "b": {"metrics": {}, "settings": {"task_version": "1", "limit": None}},
            "c": {"metrics": {}, "settings": {"task_version": "v2"}},
        },
    }
    out = to_lm_eval(doc)
    assert out["versions"] == {"a": 1.0, "b": 1, "c": None}, "a version that is not a number is null"
    assert out["missing_reasons"]["c"] == {"version": "task version 'v2' is not a number"}
    assert isinstance(out["versions"]["a"], float) and isinstance(out["versions"]["b"], int), "1.0 is not 1"
    assert out["git_hash"] == "0123456789abcdef" and out["rm_harness_version"] == "0.2.0"
    assert out["date"] == datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc).timestamp()
    assert out["config"]["limit"] == 5, "a limited run says so"
    # a local model is named by its display id, never by the folder it was read from
    assert out["config"]["batch_size"] == 64 and out["config"]["model_args"].startswith("pretrained=local:rm@1234abcd,")
    assert "/models/rm" not in json.dumps(out)
    assert out["configs"]["b"] == {"task": "b"} and out["results"]["b"] == {"alias": "b"}


def test_non_numbers_become_null_with_the_reason_apart():
    """A results.json is untrusted: NaN, Infinity, strings, booleans or lists where lm-eval has numbers become null,
    the reason goes under missing_reasons, and the whole export is strict JSON."""
    doc = {"model": {"id": "org/rm"}, "created": "not a date",
           "results": {"t": {"metrics": {"a": {"value": float("nan")}, "b": {"value": float("inf")},
                                         "c": {"value": "0.5"}, "d": {"value": True}, "e": {"value": [1]},
                                         "f": {"value": 3, "higher_is_better": "yes"}},
                             "settings": {"task_version": float("nan"), "limit": "all"}}},
           "configs": {"t": {"task": "t", "analysis": {"args": {"p": float("-inf")}}}}}
    out = to_lm_eval(doc)
    json.dumps(out, allow_nan=False)
    assert out["results"]["t"] == {"alias": "t", "a,none": None, "b,none": None, "c,none": None, "d,none": None,
                                   "e,none": None, "f,none": 3}
    why = out["missing_reasons"]["t"]
    assert why["a,none"] == "not finite (nan)" and why["b,none"] == "not finite (inf)"
    assert why["c,none"].startswith("not a number") and "version" in why and "f,none" not in why
    assert "f" not in out["higher_is_better"]["t"] and out["versions"]["t"] is None
    assert out["date"] is None and out["config"]["limit"] is None
    assert out["configs"]["t"]["analysis"]["args"]["p"] is None
