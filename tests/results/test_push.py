"""--push: checked before the audit (repo id, credentials), private by default, nothing uploaded unless asked."""

from __future__ import annotations

import json
import textwrap

import pytest

import builders
from harness.cli.submit import main
from harness.errors import UserError
from harness.results.push import check_push_target


class StandIn:
    """Records what would have reached the Hub."""

    made: list["StandIn"] = []
    listing: list[str] = []  # the dataset's files as the Hub would list them

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

    def list_repo_files(self, **kw):
        self.calls.append(("list_repo_files", kw))
        return list(StandIn.listing)


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
            "--output-dir", str(tmp_path / "results"), "--leaderboard-out", str(tmp_path / "site"),
            "--allow-failed-sanity"]  # a random tiny model fails the sanity check; this test is about uploads
    assert main(args) == 0
    assert [c for api in StandIn.made for c in api.calls] == []
    # a self-reported RewardBench run attached to the finished audit without scoring it again
    from pathlib import Path

    fix = Path(__file__).resolve().parents[1] / "fixtures" / "rewardbench"
    (doc_path,) = (tmp_path / "results").glob("local__*/*/results.json")
    before = json.loads(doc_path.read_text())
    assert main(args + ["--rewardbench-results", str(fix / "run_rm-v1-rewardbench-0.1.4.json"),
                        str(fix / "run_v2-v2-rewardbench-0.1.4.json")]) == 0
    after = json.loads(doc_path.read_text())
    own = after["model"]["rewardbench_self_reported"]
    assert own["self_reported"] and own["v1"]["score"] == 90.39 and own["v2"]["rank"] is None
    assert after["results"] == before["results"] and after.get("runs") == before.get("runs"), "nothing rescored"
    other = "org__other-rm/0123456789ab/data/vocab-best-abcdef12.parquet"  # another model already in the dataset
    StandIn.listing = [other, "org__other-rm/0123456789ab/results.json", "README.md"]
    assert main(args + ["--push", "me/rm-audits"]) == 0  # already audited: this run only uploads
    calls = [c for api in StandIn.made for c in api.calls]
    assert [name for name, _ in calls] == ["whoami", "create_repo", "list_repo_files", "create_commit"], \
        "the Hub is asked first"
    assert calls[1][1]["private"] is True and calls[1][1]["repo_type"] == "dataset"
    ops = {op.path_in_repo: op for op in calls[3][1]["operations"]}
    (base,) = {p.rsplit("/data/", 1)[0] for p in ops if "/data/" in p}
    assert base.startswith("local__rm__") and len(base.split("/")[1]) == 12, "the model revision's own folder"
    assert {"README.md", f"{base}/results.json"} <= set(ops)
    (table,) = [p for p in ops if "/data/" in p]
    assert table.startswith(f"{base}/data/items-best-") and table.endswith(".parquet"), "named by settings and key"
    assert any(p.startswith(f"{base}/requests/") for p in ops)
    assert not any(p.startswith(("data/", "requests/")) or p == "results.json" for p in ops), "nothing at the root"
    # nothing pushed holds a local path, the user's or the host's name
    import getpass
    import socket

    for path, op in ops.items():
        if path.endswith((".json", ".md")):
            text = op.path_or_fileobj.decode() if isinstance(op.path_or_fileobj, bytes) else open(op.path_or_fileobj).read()
            assert str(tmp_path) not in text and "/home/" not in text, path
            for name in {getpass.getuser(), socket.gethostname()} - {"", "root"}:
                assert name not in text, (path, name)
    # the card, read by huggingface_hub's own loader: Hub metadata, and configs for both models
    from huggingface_hub import DatasetCard

    readme = tmp_path / "README.md"
    readme.write_bytes(ops["README.md"].path_or_fileobj)
    card = DatasetCard.load(readme)
    meta = card.data.to_dict()
    assert meta["license"] == "other" and meta["pretty_name"] and meta["task_categories"] and meta["size_categories"]
    paths = {c["config_name"]: c["data_files"][0]["path"] for c in meta["configs"]}
    assert paths == {"org__other-rm-0123456789ab-vocab-best-abcdef12": other,
                     f"{base.replace('/', '-')}-{table.rsplit('/', 1)[1][:-8]}": table}
    pushed = json.loads(ops[f"{base}/results.json"].path_or_fileobj)
    assert pushed["model"]["rewardbench_self_reported"]["self_reported"] is True
    assert "commit None" not in card.text and "python submit.py" not in card.text and "rm-harness submit" in card.text


def test_card_configs_follow_the_file_list():
    """Configs are rebuilt from the dataset's files: a table deleted on the Hub drops out, others' stay, files
    outside the layout (or a path trying to leave it) are no configs."""
    from huggingface_hub import DatasetCard

    from harness.results.hub_card import build_card, configs_from_files, size_category

    files = ["a__b/0123456789ab/data/vocab-best-1234abcd.parquet", "c__d/ba9876543210/data/items-worst-99.parquet",
             "c__d/ba9876543210/results.json", "data/old.parquet", "../x/0123456789ab/data/t.parquet"]
    assert [c["config_name"] for c in configs_from_files(files)] == ["a__b-0123456789ab-vocab-best-1234abcd",
                                                                     "c__d-ba9876543210-items-worst-99"]
    card = DatasetCard(str(build_card("me/ds", files[:1], {"model": {"id": "a/b", "source": "a/b"}}, 262_144)))
    assert [c["config_name"] for c in card.data.configs] == ["a__b-0123456789ab-vocab-best-1234abcd"]
    assert card.data.size_categories == ["100K<n<1M"]
    assert (size_category(999), size_category(1000), size_category(10**9)) == ("n<1K", "1K<n<10K", "n>100M")
