"""`rm-harness export --format lm-eval` read by lm-eval's own tooling (lm-eval 0.4.13, a test dependency): its
results-table renderer and its W&B logger's result handling (W&B in disabled mode, nothing leaves the machine)."""

from __future__ import annotations

import copy
import getpass
import json
import socket
from pathlib import Path

import pytest

import harness
from harness.report.lmeval import to_lm_eval
from harness.tasks.discovery import builtin_tasks_dir

lm_utils = pytest.importorskip("lm_eval.utils")
wandb_logger = pytest.importorskip("lm_eval.loggers.wandb_logger")
wandb = pytest.importorskip("wandb")


def audit_doc() -> dict:
    """A results.json with the shapes that broke lm-eval's tools: metric names holding `/`, a missing value,
    an `_se` metric, a 95% interval, an interval at another level, and local paths in the model and configs."""
    task_file = str(builtin_tasks_dir() / "frequency_bias.yaml")
    return {
        "model": {"id": "local:my-rm@1234abcd", "origin": "local", "source": "/home/alice/models/my-rm",
                  "revision": "sha256-" + "f" * 64, "dtype": "float32", "scorer": "reward",
                  "template_hash": "0123456789abcdef"},
        "configs": {"frequency_bias": {"task": "frequency_bias", "source": task_file},
                    "identity_bias": {"task": "identity_bias", "analysis": {"args": {"confidence_level": 0.9}}}},
        "results": {
            "frequency_bias": {"metrics": {
                "best/log_freq_coef": {"value": 0.5, "higher_is_better": None},
                "best/log_freq_se": {"value": 0.1},
                "best/log_freq_ci_low": {"value": 0.3}, "best/log_freq_ci_high": {"value": 0.7},
                "best/n_words": {"value": None, "missing_reason": "no words"},
            }, "settings": {"task_version": "2"}, "computed": {"at": "2026-01-02T03:04:05Z", "task_file_hash": "ab"}},
            "identity_bias": {"metrics": {
                "race/percentile_gap": {"value": -3.0, "higher_is_better": None},
                "race/gap_ci_low": {"value": -5.0}, "race/gap_ci_high": {"value": -1.0},
                "race/bottom_share": {"value": 0.25, "higher_is_better": False},
            }, "settings": {"task_version": "1"}},
        },
        "provenance": {"git_commit": "abc", "transformers": "5.24.0", "harness_version": "0.1.0"},
        "wall_time_s": 12.5, "created": "2026-01-02T03:04:05Z",
    }


def test_stderr_from_our_se_and_intervals():
    out = to_lm_eval(audit_doc())
    fb, ib = out["results"]["frequency_bias"], out["results"]["identity_bias"]
    assert fb["best/log_freq_coef_stderr,none"] == 0.1  # its own standard error
    # the 90% interval [-5, -1]: half-width 2 over z(0.95) = 1.6449
    assert ib["race/percentile_gap_stderr,none"] == pytest.approx(2 / 1.6448536, rel=1e-6)
    assert "best/n_words_stderr,none" not in fb and "race/bottom_share_stderr,none" not in ib
    assert not any(isinstance(v, str) for k, v in fb.items() if k != "alias")
    # no direction declared: no higher_is_better invented
    assert out["higher_is_better"] == {"frequency_bias": {}, "identity_bias": {"race/bottom_share": False}}


def test_keys_lm_eval_writes():
    out = to_lm_eval(audit_doc())
    for key in ("group_subtasks", "n-samples", "task_hashes", "model_name_sanitized", "start_time", "end_time",
                "total_evaluation_time_seconds", "chat_template", "chat_template_sha"):
        assert key in out, key
    assert out["model_name_sanitized"] == "local__my-rm__1234abcd"
    assert out["end_time"] - out["start_time"] == pytest.approx(12.5)
    assert out["task_hashes"]["frequency_bias"] == "ab" and out["chat_template_sha"] == "0123456789abcdef"


def test_no_local_path_user_or_host_name():
    text = json.dumps(to_lm_eval(audit_doc()))
    assert "/home/alice" not in text and str(Path(harness.__file__).parent) not in text
    assert "harness/_tasks/frequency_bias.yaml" in text  # the package-relative name instead
    for name in {getpass.getuser(), socket.gethostname()} - {"", "root"}:
        assert name not in text


def test_lm_eval_table_renders_values_and_stderr():
    out = to_lm_eval(audit_doc())
    table = lm_utils.make_table(copy.deepcopy(out))
    rows = {line.split("|")[5].strip(): [c.strip() for c in line.split("|")] for line in table.splitlines()[2:]}
    coef, gap = rows["best/log_freq_coef"], rows["race/percentile_gap"]
    assert float(coef[7]) == 0.5 and coef[8] == "±" and float(coef[9]) == 0.1
    assert float(gap[7]) == -3.0 and gap[8] == "±" and float(gap[9]) == pytest.approx(2 / 1.6448536, abs=1e-4)
    assert rows["race/bottom_share"][6] == "↓"  # lm-eval's arrow from the direction we declared
    assert rows["best/n_words"][7] in ("", "None") and rows["best/n_words"][9] == ""  # a null, no stderr


def test_lm_eval_wandb_logger_handles_the_results(monkeypatch, tmp_path):
    monkeypatch.setenv("WANDB_MODE", "disabled")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    run = wandb.init(mode="disabled", dir=str(tmp_path))
    try:
        logger = wandb_logger.WandbLogger()
        logger.post_init(to_lm_eval(audit_doc()))
        summary, flat = logger._sanitize_results_dict()
        assert flat["frequency_bias/best/log_freq_coef"] == 0.5
        assert flat["frequency_bias/best/log_freq_coef_stderr"] == 0.1
        assert summary == {"frequency_bias/alias": "frequency_bias", "identity_bias/alias": "identity_bias"}
        logger.log_eval_result()  # config, summary, metrics, the results table and artifact
        # the shape the old export wrote ("N/A" under a metric name holding `/`) breaks this same code
        bad = to_lm_eval(audit_doc())
        bad["results"]["frequency_bias"]["best/n_words_stderr,none"] = "N/A"
        logger.post_init(bad)
        with pytest.raises(ValueError):
            logger._sanitize_results_dict()
    finally:
        run.finish()
