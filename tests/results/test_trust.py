"""Issue "Trustworthy results": every row belongs to exactly the model, revision and settings it names."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import builders
from harness.cli.submit import main as submit_main
from harness.errors import UserError
from harness.models.identity import folder_content_hash, resolve_model_ref
from harness.results.layout import Layout

TASK_ARGS = ["--tasks", "token_optimality", "--batch-size", "512", "--limit", "3000"]


def _submit(model, out, *extra):
    return submit_main(["--model", str(model), "--output-dir", str(out), "--leaderboard-out",
                        str(out.parent / "site"), *TASK_ARGS, *extra])


def _records(out):
    return sorted((json.loads(p.read_text()) for p in (out / "requests").rglob("*.json")),
                  key=lambda r: r["attempt"])


def test_two_local_folders_with_one_name_get_two_audits(tmp_path, mistral_dir, capsys):
    a = builders.tiny_classifier("Mistral", mistral_dir, tmp_path / "a" / "plain", seed=0)
    b = builders.tiny_classifier("Mistral", mistral_dir, tmp_path / "b" / "plain", seed=1)
    out = tmp_path / "results"
    assert _submit(a, out) == 1 and _submit(b, out) == 1  # random models fail the sanity check: exit 1
    audits = Layout(out).audits()
    assert len(audits) == 2 and len({x.folder for x in audits}) == 2
    by_source = {x.doc["model"]["source"]: x for x in audits}
    assert set(by_source) == {str(a.resolve()), str(b.resolve())}
    for folder, audit in by_source.items():
        assert audit.doc["model"]["revision"] == folder_content_hash(folder)
        assert audit.display_id.startswith("local:plain@")
    capsys.readouterr()
    assert _submit(a, out) == 1  # resubmitting a names a's own audit, not b's
    said = capsys.readouterr().out
    ra = resolve_model_ref(str(a))
    assert "already audited" in said and str(Layout(out).results_path(ra)) in said
    mean_a = by_source[str(a.resolve())].doc["results"]["token_optimality"]["metrics"]["best/mean"]["value"]
    mean_b = by_source[str(b.resolve())].doc["results"]["token_optimality"]["metrics"]["best/mean"]["value"]
    assert mean_a != mean_b


def test_local_folder_at_a_registry_path_never_inherits_its_trust(tmp_path, llama3_dir, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    folder = builders.custom_code_model(llama3_dir, tmp_path / "nicolinho" / "QRM-Llama3.1-8B")
    marker = tmp_path / "code-ran"
    with open(folder / "modeling_toyrm.py", "a") as fh:  # the code would leave a marker if it ever ran
        fh.write(f"\nopen({str(marker)!r}, 'w').write('ran')\n")
    out = tmp_path / "results"
    capsys.readouterr()
    rc = submit_main(["--model", "nicolinho/QRM-Llama3.1-8B", "--output-dir", str(out),
                      "--leaderboard-out", str(tmp_path / "site"), "--tasks", "token_optimality"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and err.startswith("error: ") and "--trust-remote-code" in err
    assert not marker.exists(), "the folder's own code must not run"
    assert not Layout(out).audits() and not (tmp_path / "site" / "index.html").exists()
    ref = resolve_model_ref("nicolinho/QRM-Llama3.1-8B", trust_remote_code=True)
    assert ref.origin == "local" and ref.registry_entry is None and ref.spec.rewardbench_rank is None
    assert ref.display_id.startswith("local:QRM-Llama3.1-8B@")


def test_runs_merge_tasks_and_a_version_bump_replaces_only_its_task(tmp_path, mistral_dir):
    from harness.cli import main

    model = builders.tiny_classifier("Mistral", mistral_dir, tmp_path / "m")
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    from harness.tasks.discovery import BUILTIN_TASKS_DIR

    shutil.copy(BUILTIN_TASKS_DIR / "_prompts.yaml", tasks / "_prompts.yaml")
    for name in ("token_optimality", "distribution_tails"):
        text = (BUILTIN_TASKS_DIR / f"{name}.yaml").read_text()
        (tasks / f"my_{name}.yaml").write_text(text.replace(f"task: {name}", f"task: my_{name}"))
    out = tmp_path / "results"
    base = ["run", "--model", str(model), "--output-dir", str(out), "--include-path", str(tasks),
            "--batch-size", "512", "--limit", "2000"]
    assert main([*base, "--tasks", "my_token_optimality"]) == 0
    assert main([*base, "--tasks", "my_distribution_tails"]) == 0
    (audit,) = Layout(out).audits()
    doc = json.loads(audit.path.read_text())
    assert {"my_token_optimality", "my_distribution_tails"} <= set(doc["results"])
    tails_before = doc["results"]["my_distribution_tails"]
    p = tasks / "my_token_optimality.yaml"
    p.write_text(p.read_text().replace("version: 1", "version: 2"))
    assert main([*base, "--tasks", "my_token_optimality"]) == 0
    doc = json.loads(audit.path.read_text())
    assert doc["results"]["my_token_optimality"]["settings"]["task_version"] == "2"
    assert doc["results"]["my_distribution_tails"] == tails_before
    assert doc["superseded"]["my_token_optimality"][0]["settings"]["task_version"] == "1"


def test_limited_run_never_replaces_a_full_one():
    from harness.results.document import merge

    def block(limit, value):
        return {"settings": {"task_version": "1", "limit": limit, "subset": None}, "metrics": {"m": {"value": value}}}

    model = {"id": "org/rm", "origin": "hub", "source": "org/rm", "revision": "a" * 40}
    full = {"model": model, "results": {"t": block(None, 1.0)}}
    merged = merge(full, {"model": model, "results": {"t": block(10, 2.0)}, "created": "x"})
    assert merged["results"]["t"]["metrics"]["m"]["value"] == 1.0
    assert merged["partial_results"]["t"]["metrics"]["m"]["value"] == 2.0
    merged = merge(merged, {"model": model, "results": {"t": block(None, 3.0)}, "created": "y"})
    assert merged["results"]["t"]["metrics"]["m"]["value"] == 3.0 and "t" not in merged.get("partial_results", {})


def test_a_merge_never_goes_into_another_models_document():
    from harness.results.document import ForeignDocument, merge

    a = {"model": {"id": "org/a", "origin": "hub", "source": "org/a", "revision": "a" * 40}, "results": {}}
    for other in ({**a["model"], "id": "org/b", "source": "org/b"}, {**a["model"], "revision": "b" * 40}, None):
        with pytest.raises(ForeignDocument):
            merge({"model": other, "results": {}}, a)


def test_failed_force_rerun_keeps_the_finished_record_and_results(tmp_path, mistral_dir, monkeypatch):
    model = builders.tiny_classifier("Mistral", mistral_dir, tmp_path / "m")
    out = tmp_path / "results"
    assert _submit(model, out) == 1
    (audit,) = Layout(out).audits()
    before = audit.path.read_bytes()
    (first,) = _records(out)
    from harness.tasks import runner

    def boom(*a, **k):
        raise RuntimeError("simulated crash mid-audit")

    monkeypatch.setattr(runner, "run_tasks", boom)
    with pytest.raises(RuntimeError):
        _submit(model, out, "--force")
    records = _records(out)
    assert [r["status"] for r in records] == ["FINISHED", "FAILED"]
    assert records[0] == first and "simulated crash" in records[1]["error"]
    assert audit.path.read_bytes() == before


def test_identity_hashes_every_byte(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for folder, tail in ((a, b"\x01"), (b, b"\x02")):
        folder.mkdir()
        (folder / "config.json").write_text("{}")
        (folder / "model.safetensors").write_bytes(b"\0" * (5 << 20) + tail)
    assert folder_content_hash(a) != folder_content_hash(b)
    assert resolve_model_ref(str(a)).display_id != resolve_model_ref(str(b)).display_id
    before = folder_content_hash(a)
    os.utime(a / "model.safetensors", ns=(1, 1))
    (a / "model.safetensors").write_bytes(b"\0" * (5 << 20) + b"\x03")  # same size, new mtime: re-hashed
    assert folder_content_hash(a) != before


def test_revision_on_a_local_folder_is_refused(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(UserError, match="--revision"):
        resolve_model_ref(str(tmp_path), revision="main")


def test_hub_revision_keeps_its_own_folder(tmp_path):
    from harness.models.identity import ModelRef
    from harness.models.registry import ModelSpec

    def ref(rev):
        return ModelRef("org/m", "hub", "org/m", rev, "org/m", "float32", "cpu", "reward", False, ModelSpec("org/m"))

    lay = Layout(tmp_path)
    assert lay.audit_dir(ref("a" * 40)) != lay.audit_dir(ref("b" * 40))
    assert lay.audit_dir(ref("a" * 40)).parent == lay.audit_dir(ref("b" * 40)).parent
    assert ref("c" * 40).hub_url.endswith("/tree/" + "c" * 40)
