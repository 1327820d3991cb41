"""Task YAML loading and validation: every error names the file and the field; built-in tasks validate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from harness.analyses import registry
from harness.tasks import TaskSpec, TaskSpecError, discover, load_task, select_metrics, validate_paths
from harness.tasks.spec import BUILTIN_TASKS_DIR, declared_metrics, shared_data_dir

PROMPTS = {"best": "What, in one word, is the best thing ever?", "worst": "What, in one word, is the worst thing ever?"}


def base_task(**over) -> dict:
    d = {
        "task": "demo",
        "prompts": dict(PROMPTS),
        "responses": {"type": "vocabulary"},
        "analysis": {"name": "token_optimality", "args": {"k": 5}},
        "metric_list": [{"metric": "mean"}],
        "metadata": {"version": 2},
    }
    d.update(over)
    return {k: v for k, v in d.items() if v is not None}


def write(folder: Path, name: str, data) -> Path:
    p = folder / name
    p.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return p


def expect_error(path: Path, field: str, *words: str) -> TaskSpecError:
    with pytest.raises(TaskSpecError) as ei:
        load_task(path)
    msg = str(ei.value)
    assert str(path.name) in msg, msg
    assert field in msg, msg
    assert ei.value.field == field or ei.value.field.startswith(field), (ei.value.field, field)
    for w in words:
        assert w in msg, msg
    assert isinstance(ei.value, ValueError)
    return ei.value


def test_valid_task_loads(tmp_path):
    spec = load_task(write(tmp_path, "demo.yaml", base_task(tag="x")))
    assert isinstance(spec, TaskSpec)
    assert spec.task == "demo" and spec.version == 2 and spec.tag == ("x",)
    assert spec.scope == "model" and spec.scorer == "any" and spec.applies_to("reward")
    assert spec.metric_list == ("mean",)
    assert spec.analysis_args == {"k": 5}
    js = spec.to_json()
    json.dumps(js)
    assert js["analysis"] == {"name": "token_optimality", "args": {"k": 5}}
    assert js["metric_list"] == [{"metric": "mean"}]
    with pytest.raises(Exception):
        spec.task = "other"  # frozen


@pytest.mark.parametrize("key", ["task", "prompts", "responses", "analysis", "metadata"])
def test_missing_required_field(tmp_path, key):
    d = base_task()
    del d[key]
    expect_error(write(tmp_path, "t.yaml", d), key, "required")


@pytest.mark.parametrize(
    "over, field",
    [
        ({"bogus": 1}, "bogus"),
        ({"responses": {"type": "vocabulary", "path": "x.csv"}}, "responses.path"),
        ({"analysis": {"name": "token_optimality", "argz": {}}}, "analysis.argz"),
        ({"metadata": {"version": 1, "author": "me"}}, "metadata.author"),
        ({"metric_list": [{"metric": "mean", "aggregation": "mean"}]}, "metric_list[0].aggregation"),
    ],
)
def test_unknown_keys(tmp_path, over, field):
    expect_error(write(tmp_path, "t.yaml", base_task(**over)), field)


def test_unknown_analysis(tmp_path):
    expect_error(write(tmp_path, "t.yaml", base_task(analysis={"name": "no_such_analysis"}, metric_list=None)),
                 "analysis.name", "no_such_analysis", "token_optimality")


def test_unknown_metric(tmp_path):
    e = expect_error(write(tmp_path, "t.yaml", base_task(metric_list=[{"metric": "mean"}, {"metric": "meen"}])),
                     "metric_list[1].metric", "meen")
    assert "variance" in str(e)  # lists the declared names


def test_metric_with_prefix_is_checked_on_last_segment(tmp_path):
    spec = load_task(write(tmp_path, "t.yaml", base_task(metric_list=[{"metric": "best/mean"}])))
    assert spec.metric_list == ("best/mean",)
    expect_error(write(tmp_path, "u.yaml", base_task(metric_list=[{"metric": "best/nope"}])), "metric_list[0].metric")


def test_unknown_analysis_argument(tmp_path):
    expect_error(write(tmp_path, "t.yaml", base_task(analysis={"name": "token_optimality", "args": {"kk": 3}})),
                 "analysis.args.kk")


@pytest.mark.parametrize(
    "over, field",
    [
        ({"scope": "everything"}, "scope"),
        ({"scorer": "classifier"}, "scorer"),
        ({"metadata": {"version": "one"}}, "metadata.version"),
        ({"metadata": {}}, "metadata.version"),
        ({"responses": {"type": "sentences"}}, "responses.type"),
        ({"responses": {"type": "items", "column": "name"}}, "responses.path"),
        ({"responses": {"type": "items", "path": "x.csv"}}, "responses.column"),
        ({"prompts": {"best": ""}}, "prompts.best"),
        ({"prompts": {}}, "prompts"),
        ({"tag": [1, 2]}, "tag"),
        ({"task": "has space"}, "task"),
        ({"metric_list": "mean"}, "metric_list"),
        ({"metric_list": ["mean"]}, "metric_list[0]"),
        ({"analysis": {"args": {}}}, "analysis.name"),
    ],
)
def test_bad_values(tmp_path, over, field):
    expect_error(write(tmp_path, "t.yaml", base_task(**over)), field)


def test_not_a_mapping_and_bad_yaml(tmp_path):
    p = write(tmp_path, "list.yaml", "- a\n- b\n")
    with pytest.raises(TaskSpecError, match="list.yaml"):
        load_task(p)
    p = write(tmp_path, "broken.yaml", "task: [unclosed\n")
    with pytest.raises(TaskSpecError, match="broken.yaml.*invalid YAML"):
        load_task(p)


def test_include_merges_under_own_keys_and_selects_prompts(tmp_path):
    write(tmp_path, "_common.yaml", {"prompts": {**PROMPTS, "greatest": "G?"}, "tag": ["inc"], "scorer": "reward"})
    d = base_task(include="_common.yaml", prompts=["worst"], tag=["own"])
    spec = load_task(write(tmp_path, "t.yaml", d))
    assert spec.prompts == {"worst": PROMPTS["worst"]}
    assert spec.tag == ("own",)  # file's own key wins
    assert spec.scorer == "reward"  # inherited
    d = base_task(include="_common.yaml")
    d.pop("prompts")
    assert set(load_task(write(tmp_path, "u.yaml", d)).prompts) == {"best", "worst", "greatest"}


def test_include_errors(tmp_path):
    expect_error(write(tmp_path, "t.yaml", base_task(include="_missing.yaml")), "include", "not found")
    write(tmp_path, "_p.yaml", {"prompts": PROMPTS})
    expect_error(write(tmp_path, "u.yaml", base_task(include="_p.yaml", prompts=["best", "nope"])), "prompts[1]",
                 "nope")
    expect_error(write(tmp_path, "v.yaml", base_task(prompts=["best"])), "prompts")
    # cycle
    write(tmp_path, "_a.yaml", {"include": "_b.yaml"})
    write(tmp_path, "_b.yaml", {"include": "_a.yaml"})
    expect_error(write(tmp_path, "w.yaml", base_task(include="_a.yaml")), "include", "cycle")
    # unknown key inside an included fragment names the fragment
    write(tmp_path, "_bad.yaml", {"promts": PROMPTS})
    with pytest.raises(TaskSpecError) as ei:
        load_task(write(tmp_path, "x.yaml", base_task(include="_bad.yaml")))
    assert "_bad.yaml" in str(ei.value) and "promts" in str(ei.value)


def test_paths_relative_absolute_and_shared_data(tmp_path, monkeypatch):
    monkeypatch.setenv("RM_HARNESS_SHARED_DATA", str(tmp_path / "shared"))
    assert shared_data_dir() == tmp_path / "shared"
    sub = tmp_path / "sub"
    sub.mkdir()
    d = base_task(responses={"type": "items", "path": "../items.csv", "column": "name", "keep_columns": ["elo"]},
                  analysis={"name": "frequency_bias", "args": {"source": "bnc", "path": "${SHARED_DATA}/bnc/f.txt"}},
                  metric_list=None)
    spec = load_task(write(sub, "t.yaml", d))
    assert spec.responses["path"] == str(tmp_path / "items.csv")
    assert spec.responses["keep_columns"] == ["elo"]
    assert spec.analysis_args["path"] == str(tmp_path / "shared" / "bnc" / "f.txt")
    d["responses"]["path"] = str(tmp_path / "abs.csv")
    assert load_task(write(sub, "u.yaml", d)).responses["path"] == str(tmp_path / "abs.csv")
    d["responses"]["path"] = "${HOME}/x.csv"
    expect_error(write(sub, "v.yaml", d), "responses.path", "HOME")
    # data existence is only checked on request
    errs = validate_paths([sub / "t.yaml"], check_data=True)
    assert any("responses.path" in e and "t.yaml" in e for e in errs)
    assert any("analysis.args.path" in e for e in errs)
    assert validate_paths([sub / "t.yaml"]) == []


def test_shared_data_default(monkeypatch):
    monkeypatch.delenv("RM_HARNESS_SHARED_DATA", raising=False)
    assert shared_data_dir() == Path(__file__).resolve().parents[2] / "shared" / "data"


def test_discover_skips_fragments_and_rejects_duplicates(tmp_path):
    user = tmp_path / "user"
    user.mkdir()
    write(user, "_frag.yaml", {"prompts": PROMPTS})
    write(user, "mine.yaml", base_task(task="my_task", include="_frag.yaml"))
    found = discover([user])
    assert "my_task" in found and "token_optimality" in found
    assert not any(name.startswith("_") for name in found)
    write(user, "clash.yaml", base_task(task="token_optimality"))
    with pytest.raises(TaskSpecError) as ei:
        discover([user])
    assert "duplicate" in str(ei.value) and "clash.yaml" in str(ei.value)
    with pytest.raises(TaskSpecError, match="does not exist"):
        discover([tmp_path / "nowhere"])


def test_validate_paths_collects_errors(tmp_path):
    write(tmp_path, "good.yaml", base_task(task="good"))
    write(tmp_path, "bad.yaml", base_task(task="bad", scope="nope"))
    write(tmp_path, "dup.yaml", base_task(task="good"))
    write(tmp_path, "_frag.yaml", {"promts": 1})  # fragments alone are not validated as tasks
    errs = validate_paths([tmp_path, tmp_path / "missing.yaml"])
    assert len(errs) == 3, errs
    assert any("bad.yaml" in e and "scope" in e for e in errs)
    assert any("duplicate" in e for e in errs)
    assert any("missing.yaml" in e for e in errs)


def test_builtin_tasks_validate():
    assert validate_paths([BUILTIN_TASKS_DIR]) == []
    tasks = discover()
    for name in ("token_optimality", "framing_asymmetry", "frequency_bias", "distribution_tails",
                 "base_model_comparison"):
        assert name in tasks
        json.dumps(tasks[name].to_json())
    assert tasks["token_optimality"].prompts == {
        "best": "What, in one word, is the best thing ever?",
        "worst": "What, in one word, is the worst thing ever?",
        "greatest": "What, in one word, is the greatest thing ever?",
    }


def test_builtin_data_paths_exist_when_shared_data_present():
    if not shared_data_dir().is_dir():
        pytest.skip(f"shared data folder absent: {shared_data_dir()}")
    assert validate_paths([BUILTIN_TASKS_DIR], check_data=True) == []


def test_every_registered_analysis_of_mine_declares_metrics():
    for name in ("token_optimality", "framing_asymmetry", "frequency_bias", "distribution_tails",
                 "base_model_comparison"):
        assert name in registry.names()
        decl = declared_metrics(name)
        assert decl, name
        for metric_name, (hib, definition) in decl.items():
            assert "/" not in metric_name and hib in (True, False, None) and definition


def test_select_metrics():
    m = {"best/mean": 1, "worst/mean": 2, "best/variance": 3, "a/b/best/mean": 4}
    assert select_metrics(m, []) == m
    assert select_metrics(m, ["mean"]) == {"best/mean": 1, "worst/mean": 2, "a/b/best/mean": 4}
    assert select_metrics(m, ["best/mean"]) == {"best/mean": 1, "a/b/best/mean": 4}
