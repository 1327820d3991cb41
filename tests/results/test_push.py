"""--push: checked before the audit (repo id, credentials), private by default, nothing uploaded unless asked."""

from __future__ import annotations

import textwrap

import pytest

import builders
from harness.cli.submit import main
from harness.errors import UserError
from harness.results.push import check_push_target


class StandIn:
    """Records what would have reached the Hub."""

    made: list["StandIn"] = []

    def __init__(self, token=None):
        self.calls = []
        StandIn.made.append(self)

    def whoami(self):
        self.calls.append(("whoami", {}))
        return {"name": "me"}

    def create_repo(self, **kw):
        self.calls.append(("create_repo", kw))

    def create_commit(self, **kw):
        self.calls.append(("create_commit", kw))


@pytest.mark.parametrize("repo", ["not a repo", "a/b/c", "org/", "/name", "org/na..me"])
def test_malformed_repo_id_is_refused(repo):
    with pytest.raises(UserError, match="--push"):
        check_push_target(repo, token="x")


def test_missing_credentials_are_refused_before_any_model_loads(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    import harness.cli.args as cli_args

    monkeypatch.setattr(cli_args, "model_ref", lambda *a, **k: pytest.fail("the model must not be resolved"))
    assert main(["--model", "org/x", "--push", "me/audits", "--output-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "hf auth login" in err and err.count("\n") == 1


def test_nothing_is_uploaded_unless_asked(tmp_path, monkeypatch, mistral_dir):
    import huggingface_hub

    StandIn.made = []
    monkeypatch.setattr(huggingface_hub, "HfApi", StandIn)
    monkeypatch.setenv("HF_TOKEN", "hf_test_token")
    model = builders.tiny_classifier("Mistral", mistral_dir, tmp_path / "rm")
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    (tasks / "items.csv").write_text("name\nsunshine\ntaxes\nkindness\n")
    (tasks / "few_items.yaml").write_text(textwrap.dedent("""\
        task: few_items
        prompts: {best: "What, in one word, is the best thing ever?"}
        responses: {type: items, path: items.csv, column: name}
        analysis: {name: token_optimality, args: {k: 2}}
        metadata: {version: 1}
    """))
    args = ["--model", str(model), "--tasks", "few_items", "--include-path", str(tasks),
            "--output-dir", str(tmp_path / "results"), "--leaderboard-out", str(tmp_path / "site")]
    assert main(args) == 0
    assert [c for api in StandIn.made for c in api.calls] == []
    assert main(args + ["--push", "me/rm-audits"]) == 0  # already audited: this run only uploads
    calls = [c for api in StandIn.made for c in api.calls]
    assert [name for name, _ in calls] == ["whoami", "create_repo", "create_commit"], "the Hub is asked first"
    assert calls[1][1]["private"] is True and calls[1][1]["repo_type"] == "dataset"
    paths = {op.path_in_repo for op in calls[2][1]["operations"]}
    assert {"README.md", "results.json"} <= paths
    (table,) = [p for p in paths if p.startswith("data/")]
    assert table.startswith("data/items-best-") and table.endswith(".parquet"), "named by settings and table key"
    assert any(p.startswith("requests/") for p in paths)
