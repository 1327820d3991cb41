"""Task YAML loading and validation: every error names the file and the field; built-in tasks validate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from harness.analyses import registry
from harness.tasks import TaskSpec, TaskSpecError, discover, load_task, select_metrics, validate_paths
from harness import data_paths
from harness.data_paths import SharedDataNotFound
from harness.errors import UserError
from harness.tasks.items_source import ItemSourceError, item_source_name, load_item_frame, load_item_texts
from harness.data_paths import shared_data_dir
from harness.tasks.catalog import declared_metrics
from harness.tasks.checks import missing_data
from harness.tasks.discovery import BUILTIN_TASKS_DIR, select_tasks
from harness.tasks.spec import same_version

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
        ({"metric_list": [{"metric": "mean", "weight": 2}]}, "metric_list[0].weight"),
        ({"responses": {"type": "items", "path": "x.csv", "column": "n", "split": "train"}}, "responses.split"),
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
    (tmp_path / "shared").mkdir()
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


def test_shared_data_default_is_beside_a_checkout_only(tmp_path, monkeypatch):
    monkeypatch.delenv("RM_HARNESS_SHARED_DATA", raising=False)
    repo, data = tmp_path / "repo", tmp_path / "shared" / "data"
    repo.mkdir()
    data.mkdir(parents=True)
    monkeypatch.setattr(data_paths, "_PACKAGE_PARENT", repo)
    with pytest.raises(SharedDataNotFound, match="RM_HARNESS_SHARED_DATA"):
        shared_data_dir()  # no setup.cfg: an installed package, which never guesses a folder
    (repo / "setup.cfg").write_text("[metadata]\n")
    assert shared_data_dir() == data
    flag = tmp_path / "flagged"
    flag.mkdir()
    assert shared_data_dir(flag) == flag, "the flag wins over the checkout"
    monkeypatch.setenv("RM_HARNESS_SHARED_DATA", str(tmp_path / "typo"))
    with pytest.raises(SharedDataNotFound, match="RM_HARNESS_SHARED_DATA") as ei:
        shared_data_dir()  # an explicit variable naming no folder never falls back to another copy
    assert isinstance(ei.value, UserError) and "typo" in str(ei.value)
    assert shared_data_dir(flag) == flag, "the flag wins over the variable"
    with pytest.raises(SharedDataNotFound, match="--shared-data"):
        shared_data_dir(tmp_path / "nope")


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


# ---------------------------------------------------------------------------------------------- lm-eval conventions


@pytest.mark.parametrize("written, value", [("1", 1), ("1.0", 1.0), ("1.5", 1.5), ("1.50", 1.5), ("0", 0)])
def test_version_int_or_float_kept_as_written(tmp_path, written, value):
    text = yaml.safe_dump(base_task(metadata=None), sort_keys=False) + f"metadata:\n  version: {written}\n"
    spec = load_task(write(tmp_path, "t.yaml", text))
    assert spec.version == value and type(spec.version) is type(value)
    assert spec.version_text == written
    assert same_version(spec.version_text, written)
    assert not same_version(spec.version_text, "2")


def test_versions_compare_as_written():
    assert not same_version("1.5", "1") and not same_version("1.0", "1") and same_version("1.5", "1.5")


@pytest.mark.parametrize("version", ["true", "-1", "'1.5'", ".nan", "[1]"])
def test_bad_versions(tmp_path, version):
    text = yaml.safe_dump(base_task(metadata=None), sort_keys=False) + f"metadata:\n  version: {version}\n"
    expect_error(write(tmp_path, "t.yaml", text), "metadata.version", "number")


def test_metadata_keeps_free_form_keys_and_version_comes_from_the_file_that_sets_it(tmp_path):
    write(tmp_path, "_base.yaml", "metadata:\n  version: 2.0\n  author: me\n")
    text = yaml.safe_dump(base_task(metadata=None, include="_base.yaml"), sort_keys=False)
    spec = load_task(write(tmp_path, "t.yaml", text))
    assert spec.version_text == "2.0" and spec.metadata == {"version": 2.0, "author": "me"}
    assert spec.to_json()["metadata"] == {"version": 2.0, "author": "me"}


def test_metric_list_takes_aggregation_and_higher_is_better(tmp_path):
    ml = [{"metric": "mean", "aggregation": "mean", "higher_is_better": True},
          {"metric": "n_nonfinite", "higher_is_better": False}]
    spec = load_task(write(tmp_path, "t.yaml", base_task(metric_list=ml)))
    assert spec.metric_list == ("mean", "n_nonfinite")
    assert spec.metric_options == {"mean": {"aggregation": "mean", "higher_is_better": True},
                                   "n_nonfinite": {"higher_is_better": False}}
    assert spec.to_json()["metric_list"] == ml
    # a direction that contradicts the analysis' declaration is an error, as is a non-boolean one
    e = expect_error(write(tmp_path, "u.yaml", base_task(metric_list=[{"metric": "n_nonfinite",
                                                                        "higher_is_better": True}])),
                     "metric_list[0].higher_is_better", "contradicts")
    assert "False" in str(e)
    expect_error(write(tmp_path, "v.yaml", base_task(metric_list=[{"metric": "mean", "higher_is_better": "yes"}])),
                 "metric_list[0].higher_is_better")


@pytest.mark.parametrize("key, hint", [("dataset_path", "responses"), ("num_fewshot", "zero-shot"),
                                       ("output_type", "scorer"), ("doc_to_text", "prompts"),
                                       ("generation_kwargs", "generated")])
def test_lm_eval_fields_that_do_not_apply_are_errors_naming_the_field(tmp_path, key, hint):
    e = expect_error(write(tmp_path, "t.yaml", base_task(**{key: "x"})), key, "lm-eval", hint)
    assert isinstance(e, UserError)


def test_lm_eval_field_in_an_include_names_the_fragment(tmp_path):
    write(tmp_path, "_frag.yaml", {"prompts": PROMPTS, "test_split": "test"})
    with pytest.raises(TaskSpecError) as ei:
        load_task(write(tmp_path, "t.yaml", base_task(include="_frag.yaml")))
    assert "_frag.yaml" in str(ei.value) and ei.value.field == "test_split"


# ---------------------------------------------------------------------------------------------- selection


def _specs(tmp_path) -> dict[str, TaskSpec]:
    folder = tmp_path / "sel"
    folder.mkdir()
    write(folder, "a.yaml", base_task(task="a", tag=["paper", "vocab"], group="g1"))
    write(folder, "b.yaml", base_task(task="b", tag="vocab", group="g2"))
    write(folder, "c.yaml", base_task(task="c", group="g1"))
    return {n: load_task(folder / f"{n}.yaml") for n in "abc"}


def test_select_tasks_by_task_tag_group_and_all(tmp_path):
    tasks = _specs(tmp_path)

    def names(sel):
        return [t.task for t in select_tasks(tasks, sel)]

    assert names("b") == ["b"]
    assert names("vocab") == ["a", "b"]
    assert names("g1") == ["a", "c"]
    assert names("c, vocab") == ["c", "a", "b"], "order follows the names; a tag expands in discovery order"
    assert names(["g1", "a", "paper"]) == ["a", "c"], "each task once"
    assert names("all") == ["a", "b", "c"]
    with pytest.raises(TaskSpecError) as ei:
        select_tasks(tasks, "a,nope")
    msg = str(ei.value)
    assert isinstance(ei.value, UserError) and "'nope'" in msg
    assert "tasks: a, b, c" in msg and "tags: paper, vocab" in msg and "groups: g1, g2" in msg
    with pytest.raises(TaskSpecError, match="no task named"):
        select_tasks(tasks, " , ")


def test_builtin_tags_and_group_select(tmp_path):
    tasks = discover()
    paper = [t.task for t in select_tasks(tasks, "paper")]
    assert "token_optimality" in paper and "human_agreement" in paper
    assert len(select_tasks(tasks, "rm_interpretability")) == len(tasks), "the group holds every built-in task"


def test_validate_and_discover_report_missing_or_empty_include_paths(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    write(empty, "_only_a_fragment.yaml", {"prompts": PROMPTS})
    errs = validate_paths([empty, tmp_path / "missing"])
    assert len(errs) == 2 and "no task files" in errs[0] and "not found" in errs[1], errs
    with pytest.raises(TaskSpecError, match="no task files"):
        discover([empty])


# ---------------------------------------------------------------------------------------------- provenance


def test_file_hash_covers_the_task_file_and_its_includes(tmp_path):
    write(tmp_path, "_frag.yaml", {"prompts": PROMPTS})
    d = base_task(include="_frag.yaml", prompts=["best"])
    first = load_task(write(tmp_path, "t.yaml", d)).file_hash
    assert len(first) == 64 and first == load_task(tmp_path / "t.yaml").file_hash
    other = tmp_path / "copy"
    other.mkdir()
    write(other, "_frag.yaml", {"prompts": PROMPTS})
    assert load_task(write(other, "t.yaml", d)).file_hash == first, "content, not location"
    write(tmp_path, "_frag.yaml", {"prompts": {**PROMPTS, "worst": "What is worst?"}})
    assert load_task(tmp_path / "t.yaml").file_hash != first, "an edited include changes the hash"
    write(tmp_path, "t.yaml", {**d, "description": "edited"})
    assert len({first, load_task(tmp_path / "t.yaml").file_hash}) == 2


# ---------------------------------------------------------------------------------------------- reference data


def test_missing_shared_data_keeps_the_variable_and_names_it(tmp_path, monkeypatch):
    monkeypatch.setenv("RM_HARNESS_SHARED_DATA", str(tmp_path / "absent"))
    d = base_task(analysis={"name": "frequency_bias", "args": {"source": "bnc", "path": "${SHARED_DATA}/bnc/f.txt"}},
                  metric_list=None)
    spec = load_task(write(tmp_path, "t.yaml", d))  # still loads: only running it needs the data
    assert spec.analysis_args["path"] == "${SHARED_DATA}/bnc/f.txt"
    (msg,) = missing_data(spec)
    assert "analysis.args.path" in msg and "RM_HARNESS_SHARED_DATA" in msg
    flagged = tmp_path / "flagged"
    (flagged / "bnc").mkdir(parents=True)
    (flagged / "bnc" / "f.txt").write_text("x")
    spec = load_task(tmp_path / "t.yaml", shared_data=flagged)
    assert spec.analysis_args["path"] == str(flagged / "bnc" / "f.txt") and missing_data(spec) == []
    with pytest.raises(SharedDataNotFound, match="--shared-data"):
        discover(shared_data=tmp_path / "nope")  # an explicit flag naming no folder fails at once


# ---------------------------------------------------------------------------------------------- dataset items


def _parquet_folder(tmp_path) -> Path:
    import pandas as pd

    folder = tmp_path / "ds"
    folder.mkdir()
    pd.DataFrame({"name": ["NA", "None", "", " spaced ", "Black people"], "elo": [5, 4, 3, 2, 1],
                  "n": [1, 2, 3, 4, 5]}).to_parquet(folder / "train.parquet")
    pd.DataFrame({"name": ["held out"], "elo": [0], "n": [0]}).to_parquet(folder / "test.parquet")
    return folder


def test_items_from_a_dataset_spec(tmp_path):
    _parquet_folder(tmp_path)
    d = base_task(responses={"type": "items", "dataset": "./ds", "split": "test", "column": "name"})
    spec = load_task(write(tmp_path, "t.yaml", d))
    assert spec.responses["dataset"] == str(tmp_path / "ds") and spec.responses["keep_columns"] == []
    hub = load_task(write(tmp_path, "h.yaml", base_task(responses={"type": "items", "dataset": "org/name",
                                                                   "column": "text"})))
    assert hub.responses["dataset"] == "org/name" and hub.responses["split"] == "train"
    assert missing_data(hub) == [], "a Hub dataset cannot be checked offline"
    d["responses"]["dataset"] = "./absent"
    (msg,) = missing_data(load_task(write(tmp_path, "m.yaml", d)))
    assert "responses.dataset" in msg
    d["responses"]["path"] = "x.csv"
    expect_error(write(tmp_path, "both.yaml", d), "responses.path", "exactly one")


def test_load_item_texts_from_a_parquet_folder_is_verbatim(tmp_path):
    _parquet_folder(tmp_path)
    responses = {"type": "items", "dataset": "./ds", "split": "train", "column": "name", "keep_columns": ["elo"]}
    assert load_item_texts(responses, tmp_path) == ["NA", "None", "", " spaced ", "Black people"]
    frame = load_item_frame(responses, tmp_path)
    assert list(frame.columns) == ["name", "elo"] and frame["elo"].tolist() == [5, 4, 3, 2, 1]
    assert load_item_texts({**responses, "split": "test"}, tmp_path) == ["held out"]
    single = {"dataset": str(tmp_path / "ds" / "train.parquet"), "split": "train", "column": "name"}
    assert load_item_texts(single, None)[-1] == "Black people"
    assert item_source_name(responses) == "ds-train"


def test_load_item_texts_from_csv_backed_dataset_keeps_na_strings(tmp_path):
    folder = tmp_path / "csvds"
    folder.mkdir()
    (folder / "train.csv").write_text('name,elo\nNA,1\nNone,2\n"",3\nnull,4\n', encoding="utf-8")
    assert load_item_texts({"dataset": str(folder), "split": "train", "column": "name"}) == ["NA", "None", "", "null"]


def test_load_item_texts_errors_name_the_column(tmp_path):
    import pandas as pd

    _parquet_folder(tmp_path)
    with pytest.raises(ItemSourceError, match="no column 'title'"):
        load_item_texts({"dataset": "./ds", "split": "train", "column": "title"}, tmp_path)
    with pytest.raises(ItemSourceError, match="not strings"):
        load_item_texts({"dataset": "./ds", "split": "train", "column": "n"}, tmp_path)
    with pytest.raises(ItemSourceError, match="does not exist"):
        load_item_texts({"dataset": "./nowhere", "column": "name"}, tmp_path)
    nulls = tmp_path / "nulls"
    nulls.mkdir()
    pd.DataFrame({"name": ["a", None]}).to_parquet(nulls / "train.parquet")
    with pytest.raises(ItemSourceError, match="1 missing"):
        load_item_texts({"dataset": str(nulls), "column": "name"})
