"""An lm-eval user's habits, through the console script: task files with lm-eval's hooks and group keys (every
error in a file at once), `--model_args` mapped onto our flags with conflicts refused, lm-eval-only flags pointed
at what does their job, and no message naming a flag the user did not type."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from repo_paths import REPO  # noqa: E402


def cli(*argv: str) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "harness.cli", *argv], capture_output=True, text=True, env=env,
                          timeout=300)


BAD = """task: bad_one
dataset_path: foo/bar
aggregate_metric_list:
  - metric: acc
process_results: !function utils.process
colour: red
prompts:
  best: "What is best?"
responses: {type: vocabulary}
analysis: {name: token_optimality, args: {k: -3, nonsense: 1}}
metadata: {version: 1}
"""


def test_validate_reports_every_error_in_a_file(tmp_path):
    (tmp_path / "bad.yaml").write_text(BAD)
    proc = cli("tasks", "validate", str(tmp_path / "bad.yaml"))
    lines = proc.stderr.splitlines()
    assert proc.returncode == 2 and all(line.startswith("error: ") for line in lines)
    found = "\n".join(lines)
    for needle in ("line 5: lm-eval's `!function` tag", "Python hook", "dataset_path: lm-eval field",
                   "aggregate_metric_list: lm-eval group key", "process_results: lm-eval field",
                   "colour: unknown key", "analysis.args.nonsense: unknown argument", "analysis.args.k: must be"):
        assert needle in found, needle
    assert len(lines) == 7 and "7 error(s)" in proc.stdout
    assert "invalid YAML" not in found and "required field missing" not in found


def test_a_run_names_the_hook_not_a_yaml_error(tmp_path):
    (tmp_path / "bad.yaml").write_text(BAD)
    proc = cli("run", "--model", "x", "--include-path", str(tmp_path), "--tasks", "bad_one")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "`!function` tag" in proc.stderr and "ConstructorError" not in proc.stderr


def test_an_lm_eval_group_config(tmp_path):
    (tmp_path / "g.yaml").write_text("group: mmlu_like\ntask: [a, b]\naggregate_metric_list: [{metric: acc}]\n")
    proc = cli("tasks", "validate", str(tmp_path / "g.yaml"))
    assert proc.returncode == 2
    assert "task: a list of tasks is an lm-eval group config" in proc.stderr
    assert "lm-eval group key" in proc.stderr and "required field missing" not in proc.stderr


def test_a_valid_file_still_validates(tmp_path):
    proc = cli("tasks", "validate")
    assert proc.returncode in (0, 2)  # reference data may be absent; the built-in files themselves parse
    assert "unknown key" not in proc.stderr and "lm-eval" not in proc.stderr


@pytest.mark.parametrize("argv, needles", [
    (["--model_args", "pretrained=org/a,revision=main", "--model", "org/b"],
     ["--model_args pretrained=org/a conflicts with --model org/b"]),
    (["--model_args", "pretrained=org/a,revision=main", "--revision", "dev"], ["conflicts with --revision dev"]),
    (["--model_args", "pretrained=org/a,max_length=4096"], ["'max_length=4096'", "pretrained, revision, dtype"]),
    (["--model_args", "pretrained=org/a,trust_remote_code=maybe"], ["give True or False"]),
    (["--model_args", "pretrained=org/a,dtype=bfloat33"], ["--model_args dtype=: invalid choice"]),
    (["--log_samples", "--model", "org/a"], ["--log_samples is lm-eval's", "score tables"]),
    (["--model", "org/a", "--batch_size"], ["--batch_size: expected one argument"]),
    (["--model", "org/a", "--output_path"], ["--output_path: expected one argument"]),
])
def test_lm_eval_flags(argv, needles):
    proc = cli("run", *argv, "--tasks", "token_optimality")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    for needle in needles:
        assert needle in proc.stderr, (needle, proc.stderr)
    for respelled in ("--batch-size", "--output-dir", "--log-samples", "--model-args"):
        assert respelled not in proc.stderr, proc.stderr


def test_model_args_map_onto_our_flags():
    from harness.cli.lmeval_args import expand

    respelled: dict[str, str] = {}
    got = expand(["run", "--model-args", "pretrained=org/a,revision=r1,dtype=bfloat16,trust_remote_code=True",
                  "--tasks", "x", "--", "--model-args"], respelled)
    assert got == ["run", "--tasks", "x", "--model", "org/a", "--revision", "r1", "--dtype", "bfloat16",
                   "--trust-remote-code", "--", "--model-args"]
    assert expand(["--model", "org/a", "--model-args=pretrained=org/a"], {}) == ["--model", "org/a"]  # agrees
    assert respelled["--model"] == "--model-args pretrained="
