"""`--model-name ORG/NAME`: checked like a Hub id, recorded in the audit and its submission record, and the key
`diff B` / `gate --baseline` use to find "the previous revision" — from the FINISHED records in attempt order, never
from a document's own timestamp. Plus the diff command's user errors through the console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.models.identity import short_revision, slug_of
from harness.results.layout import Layout
from harness.results.records import FAILED, FINISHED, SubmissionRecord, read_record, write_record

from repo_paths import REPO  # noqa: E402
NAME = "my-org/tiny-rm"


def write_audit(root: Path, source: str, revision: str, created: str, model_name: str | None = NAME,
                dtype: str = "float32") -> Path:
    """A local checkpoint's results folder (no tasks), its model block carrying `model_name`."""
    display = f"local:{source}@{short_revision(revision)[:8]}"
    model = {"id": display, "origin": "local", "source": f"/checkpoints/{source}", "revision": revision, "scorer": "reward",
             "dtype": dtype, **({} if model_name is None else {"model_name": model_name})}
    folder = root / slug_of("local", f"/checkpoints/{source}", display, revision) / short_revision(revision)
    folder.mkdir(parents=True)
    doc = {"schema_version": 2, "harness_version": "0", "model": model, "created": created, "configs": {},
           "results": {}}
    (folder / "results.json").write_text(json.dumps(doc))
    return folder


def write_record_of(root: Path, folder: Path, attempt: str, status: str = FINISHED,
                    model_name: str | None = NAME) -> Path:
    path = root / "requests" / folder.parent.name / folder.name / f"{attempt}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_record(path, SubmissionRecord(model=folder.parent.name, revision=None, precision="float32", status=status,
                                        attempt=attempt, model_name=model_name))
    return path


def two_revisions(root: Path, created_a: str = "2025-01-01T00:00:00Z", created_b: str = "2025-02-01T00:00:00Z"):
    a = write_audit(root, "ckpt-a", "sha256-" + "a" * 64, created_a)
    b = write_audit(root, "ckpt-b", "sha256-" + "b" * 64, created_b)
    write_record_of(root, a, "20250101T000000000000Z-1")
    write_record_of(root, b, "20250201T000000000000Z-1")
    return a, b


def previous_folder(root: Path, folder: Path) -> Path:
    from harness.diff.previous import previous_revision
    from harness.results.audit import open_audit

    return previous_revision(Layout(root), open_audit(folder, root)).folder


def test_previous_revision_is_the_earlier_finished_record_of_the_name(tmp_path):
    a, b = two_revisions(tmp_path)
    assert previous_folder(tmp_path, b) == a
    # a later FAILED attempt of another checkpoint, and a FINISHED one under another name, are not candidates
    c = write_audit(tmp_path, "ckpt-c", "sha256-" + "c" * 64, "2025-01-15T00:00:00Z")
    write_record_of(tmp_path, c, "20250115T000000000000Z-1", status=FAILED)
    d = write_audit(tmp_path, "ckpt-d", "sha256-" + "d" * 64, "2025-01-20T00:00:00Z", model_name="other-org/x")
    write_record_of(tmp_path, d, "20250120T000000000000Z-1", model_name="other-org/x")
    assert previous_folder(tmp_path, b) == a


def test_document_timestamps_do_not_change_the_order(tmp_path):
    # A's results.json claims to be newer than B's; the records say A was audited first, and they decide.
    a, b = two_revisions(tmp_path, created_a="2030-01-01T00:00:00Z", created_b="2020-01-01T00:00:00Z")
    assert previous_folder(tmp_path, b) == a
    from harness.diff.previous import NoPreviousRevision

    with pytest.raises(NoPreviousRevision, match="no earlier finished submission"):
        previous_folder(tmp_path, a)  # A is the first of its name on record, whatever B's document claims


def test_records_carry_the_name_and_refuse_a_non_string(tmp_path):
    a = write_audit(tmp_path, "ckpt-a", "sha256-" + "a" * 64, "2025-01-01T00:00:00Z")
    path = write_record_of(tmp_path, a, "20250101T000000000000Z-1")
    assert read_record(path).model_name == NAME
    obj = json.loads(path.read_text())
    obj["model_name"] = ["not", "a", "name"]
    path.write_text(json.dumps(obj))
    with pytest.raises(ValueError, match="model_name"):
        read_record(path)
    del obj["model_name"]  # records written before the field existed still read
    path.write_text(json.dumps(obj))
    assert read_record(path).model_name is None


def test_a_hostile_name_in_the_document_is_not_a_key(tmp_path):
    from harness.diff.previous import NoPreviousRevision

    b = write_audit(tmp_path, "ckpt-b", "sha256-" + "b" * 64, "2025-01-01T00:00:00Z", model_name="../../etc")
    with pytest.raises(NoPreviousRevision, match="not ORG/NAME"):
        previous_folder(tmp_path, b)


def test_model_name_goes_into_the_submission_record(tmp_path):
    from types import SimpleNamespace

    from harness.results.records import attempts, track_submission

    ref = SimpleNamespace(display_id="ckpt-a", revision="sha256-" + "a" * 64, dtype="float32", origin="local",
                          source="/x/ckpt-a", scorer="reward", slug="ckpt-a", short_revision="a" * 12)
    layout = Layout(tmp_path)
    with track_submission(layout, ref, {}, model_name=NAME):
        pass
    ((_, rec),) = attempts(layout, ref)
    assert rec.status == FINISHED and rec.model_name == NAME


def run_cli(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    return subprocess.run([sys.executable, "-m", "harness.cli", *argv], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=300)


def error_line(proc: subprocess.CompletedProcess, *needles: str) -> str:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-3000:])
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr[-3000:]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.mark.parametrize("name, needle", [("tiny-rm", "ORG/NAME"), ("org/bad name", "not a valid Hub id"),
                                          ("org/../x", "not a valid Hub id")])
def test_a_name_that_is_not_org_name_is_one_error_line(tmp_path, name, needle):
    proc = run_cli("run", "--model", str(tmp_path / "nowhere"), "--model-name", name, "--output-dir",
                   str(tmp_path / "out"), cwd=tmp_path)
    error_line(proc, "--model-name", needle)
    assert not (tmp_path / "out").exists()


def test_diff_of_one_unnamed_audit_needs_an_explicit_a(tmp_path):
    b = write_audit(tmp_path, "ckpt-b", "sha256-" + "b" * 64, "2025-01-01T00:00:00Z", model_name=None)
    error_line(run_cli("diff", str(b), "--output-dir", str(tmp_path), cwd=tmp_path), "without --model-name",
               "diff A B")


# ------------------------------------------------------------------------------------------------ end to end


@pytest.mark.slow
def test_named_checkpoints_diff_and_the_settings_rule(tmp_path_factory, llama3_dir):
    """Two local checkpoints submitted under one --model-name: `diff B` finds A from the records; an audit with
    another --limit is refused by name (one error line) unless --allow-different-settings."""
    import builders
    from harness.cli import main as cli_main
    from harness.cli.submit import main as submit_main

    root = tmp_path_factory.mktemp("named")
    out, site = root / "results", root / "site"
    common = ["--tasks", "distribution_tails", "--output-dir", str(out), "--batch-size", "512", "--dtype", "float32"]
    folders = []
    for seed in (0, 1):
        model = builders.bag_of_tokens_rm(llama3_dir, root / f"ckpt{seed}", seed=seed)
        before = set(out.rglob("results.json"))
        assert submit_main(["--model", str(model), "--model-name", "my-org/bot", "--limit", "300",
                            "--leaderboard-out", str(site), *common]) in (0, 1)  # 1: sanity; the audit is kept
        (new,) = set(out.rglob("results.json")) - before
        assert json.loads(new.read_text())["model"]["model_name"] == "my-org/bot"
        folders.append(new.parent)
    a, b = folders
    (rec,) = (out / "requests" / b.parent.name / b.name).glob("*.json")
    assert read_record(rec).model_name == "my-org/bot" and read_record(rec).status == FINISHED

    proc = run_cli("diff", str(b), "--output-dir", str(out), cwd=root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (diff,) = (out / "_diff").rglob("diff.json")
    assert a.parent.name in diff.parent.name and b.parent.name in diff.parent.name
    assert diff.parent.name.index(a.parent.name) < diff.parent.name.index(b.parent.name)  # A before B

    # the same checkpoint B audited again with another --limit, in another results folder: limit differs
    other = root / "other"
    assert cli_main(["run", "--model", str(root / "ckpt1"), "--limit", "200", *common[:2], "--output-dir",
                     str(other), *common[4:]]) == 0
    (c,) = other.rglob("results.json")
    error_line(run_cli("diff", str(a), str(c.parent), "--output-dir", str(out), cwd=root), "limit",
               "--allow-different-settings")
    proc = run_cli("diff", str(a), str(c.parent), "--output-dir", str(out), "--allow-different-settings", cwd=root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "limit" in proc.stdout
