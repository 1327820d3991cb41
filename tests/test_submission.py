"""Submission records (PENDING -> RUNNING -> FINISHED/FAILED), idempotence, locking, atomic writes under SIGKILL,
and push_to_hub against a fake HfApi (never the network)."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from harness import __version__
from harness import atomic
from harness import submission as sm
from harness.atomic import atomic_write_json, atomic_write_text, cleanup_temp_files, is_temp_file
from harness.submission import (FAILED, FINISHED, RUNNING, SubmissionError, load_records, push_to_hub, read_record,
                                request_path, run_submission, track_submission)

REPO_ROOT = Path(__file__).resolve().parents[1]
MODEL = "org/some-rm"
REV = "0123456789abcdef0123456789abcdef01234567"
TASKS = {"token_optimality": 1, "framing": 2}


def _write_results(sub: sm.Submission) -> Path:
    p = sub.output_dir / "org__some-rm" / "results.json"
    atomic_write_json(p, {"schema_version": 1, "model": {"id": MODEL}})
    return p


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


# ------------------------------------------------------------------------------------------------ records

def test_request_path_follows_the_convention(tmp_path):
    assert request_path(tmp_path, MODEL, REV) == tmp_path / "requests" / "org__some-rm__0123456789ab.json"
    assert request_path(tmp_path, "/models/My Model/", None).name == "local__My-Model__unknown.json"
    assert request_path(tmp_path, "../..", "x/y").name == "local__unnamed__x-y.json"
    assert sm.model_slug("Ray2333/GRM-Llama3.2-3B-rewardmodel-ft") == "Ray2333__GRM-Llama3.2-3B-rewardmodel-ft"


def test_success_goes_pending_running_finished(tmp_path):
    seen = {}
    with track_submission(tmp_path, MODEL, REV, "bfloat16", TASKS) as sub:
        assert not sub.skipped
        during = read_record(sub.path)
        seen["status"], seen["started"] = during.status, during.started_time
        _write_results(sub)
    assert seen["status"] == RUNNING and seen["started"]
    path = request_path(tmp_path, MODEL, REV)
    raw = json.loads(path.read_text())
    assert raw["status"] == FINISHED
    assert set(raw) >= {"model", "revision", "precision", "status", "submitted_time", "started_time",
                        "finished_time", "harness_version", "task_versions", "error", "verified", "results_path"}
    assert raw["model"] == MODEL and raw["revision"] == REV and raw["precision"] == "bfloat16"
    assert raw["verified"] is False and raw["error"] is None
    assert raw["task_versions"] == TASKS and raw["harness_version"] == __version__
    assert raw["results_path"] == "org__some-rm/results.json"
    for k in ("submitted_time", "started_time", "finished_time"):
        assert raw[k].endswith("Z") and len(raw[k]) == 20
    assert raw["submitted_time"] <= raw["started_time"] <= raw["finished_time"]
    assert [p.name for p in (tmp_path / "requests").iterdir() if not p.name.endswith(".lock")] == [path.name]


def test_failure_records_the_reason_and_reraises(tmp_path):
    def load_model(sub):
        raise OSError("org/some-rm does not appear to have a file named config.json")

    with pytest.raises(OSError, match="config.json"):
        run_submission(tmp_path, MODEL, REV, "bfloat16", TASKS, load_model)
    rec = read_record(request_path(tmp_path, MODEL, REV))
    assert rec.status == FAILED
    assert rec.error == "OSError: org/some-rm does not appear to have a file named config.json"
    assert rec.finished_time and rec.verified is False


def test_keyboard_interrupt_is_recorded_too(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with track_submission(tmp_path, MODEL, REV, "float32", TASKS):
            raise KeyboardInterrupt()
    assert read_record(request_path(tmp_path, MODEL, REV)).error == "KeyboardInterrupt"


def test_resubmitting_a_finished_model_is_a_no_op(tmp_path):
    calls = []

    def work(sub):
        calls.append(1)
        return _write_results(sub)

    first = run_submission(tmp_path, MODEL, REV, "bfloat16", TASKS, work)
    path = request_path(tmp_path, MODEL, REV)
    before = path.read_bytes()
    again = run_submission(tmp_path, MODEL, REV, "bfloat16", TASKS, work)
    assert calls == [1]
    assert again == first and path.read_bytes() == before
    with track_submission(tmp_path, MODEL, REV, "bfloat16", {"token_optimality": 1}) as sub:
        assert sub.skipped and sub.record.status == FINISHED  # a subset of the task versions is done too

    run_submission(tmp_path, MODEL, REV, "bfloat16", TASKS, work, force=True)
    assert calls == [1, 1]
    run_submission(tmp_path, MODEL, REV, "float32", TASKS, work)  # another precision is another run
    assert len(calls) == 3
    run_submission(tmp_path, MODEL, REV, "float32", {**TASKS, "framing": 3}, work)  # a new task version
    assert len(calls) == 4
    (tmp_path / "org__some-rm" / "results.json").unlink()  # results gone: run again
    run_submission(tmp_path, MODEL, REV, "float32", {**TASKS, "framing": 3}, work)
    assert len(calls) == 5


def test_failed_or_corrupt_records_are_rerun(tmp_path):
    def fail(sub):
        raise RuntimeError("CUDA out of memory")

    with pytest.raises(RuntimeError):
        run_submission(tmp_path, MODEL, REV, "bfloat16", TASKS, fail)
    rec = run_submission(tmp_path, MODEL, REV, "bfloat16", TASKS, _write_results)
    assert rec.status == FINISHED and rec.error is None
    request_path(tmp_path, MODEL, REV).write_text("{not json")
    assert run_submission(tmp_path, MODEL, REV, "bfloat16", TASKS, _write_results).status == FINISHED


def test_results_path_can_be_set_and_lives_outside_the_output_dir(tmp_path):
    elsewhere = tmp_path / "elsewhere" / "r.json"

    def work(sub):
        atomic_write_json(elsewhere, {})
        return elsewhere

    rec = run_submission(tmp_path / "out", MODEL, REV, "bfloat16", TASKS, work)
    assert rec.results_path == str(elsewhere.resolve())
    with track_submission(tmp_path / "out", MODEL, REV, "bfloat16", TASKS) as sub:
        assert sub.skipped


def test_concurrent_run_of_the_same_submission_is_refused(tmp_path):
    with track_submission(tmp_path, MODEL, REV, "bfloat16", TASKS):
        with pytest.raises(SubmissionError, match="another process"):
            with track_submission(tmp_path, MODEL, REV, "bfloat16", TASKS):
                pass
        # a different revision is a different submission
        with track_submission(tmp_path, MODEL, "f" * 40, "bfloat16", TASKS):
            pass


def test_invalid_arguments(tmp_path):
    with pytest.raises(ValueError):
        with track_submission(tmp_path, "", REV, "bfloat16", TASKS):
            pass
    with pytest.raises(ValueError):
        with track_submission(tmp_path, MODEL, REV, "", TASKS):
            pass
    with pytest.raises(ValueError):
        sm.SubmissionRecord(model=MODEL, revision=REV, precision="bf16", status="DONE")


def test_load_records_ignores_temp_and_broken_files(tmp_path):
    run_submission(tmp_path, MODEL, REV, "bfloat16", TASKS, _write_results)
    req = tmp_path / "requests"
    (req / ".org__some-rm__x.json.abc123.tmp").write_text('{"model": "half')
    (req / "broken.json").write_text("{")
    (req / "other.json").write_text("[]")
    recs = load_records(tmp_path)
    assert [r.model for _, r in recs] == [MODEL]


# ------------------------------------------------------------------------------------------------ atomic writes

def test_atomic_write_basics(tmp_path):
    p = tmp_path / "a" / "b.json"
    atomic_write_json(p, {"x": 1})
    assert json.loads(p.read_text()) == {"x": 1}
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~umask
    os.chmod(p, 0o600)
    atomic_write_text(p, "{}")
    assert stat.S_IMODE(p.stat().st_mode) == 0o600  # permissions of the replaced file are kept
    with pytest.raises(ValueError):
        atomic_write_json(p, {"x": float("nan")})
    with pytest.raises(TypeError):
        atomic_write_json(p, {"x": object()})
    assert p.read_text() == "{}"
    assert [q.name for q in p.parent.iterdir()] == ["b.json"]
    atomic_write_json(p, {"s": "\ud800<\u2028>"})  # lone surrogate: falls back to \u escapes, still valid JSON
    assert json.loads(p.read_text(encoding="utf-8")) == {"s": "\ud800<\u2028>"}
    with pytest.raises(IsADirectoryError):
        atomic_write_text(tmp_path / "a", "x")


def test_a_failing_write_leaves_no_temp_file(tmp_path, monkeypatch):
    p = tmp_path / "r.json"
    atomic_write_text(p, "old")

    def broken(fh, data):
        fh.write(data[:3])
        raise OSError("No space left on device")

    monkeypatch.setattr(atomic, "_write_all", broken)
    with pytest.raises(OSError, match="No space"):
        atomic_write_text(p, "new content")
    assert p.read_text() == "old"
    assert [q.name for q in tmp_path.iterdir()] == ["r.json"]


SLOW_WRITER = textwrap.dedent("""
    import sys, time
    from harness import atomic

    def slow(fh, data):
        step = 64 * 1024
        for i in range(0, len(data), step):
            fh.write(data[i:i + step])
            fh.flush()
            if i == 0:
                print("STARTED", flush=True)
            time.sleep(float(sys.argv[2]))

    atomic._write_all = slow
    target = sys.argv[1]
    record = {"model": "org/big", "precision": "bfloat16", "status": "FINISHED",
              "blob": ["x" * 1000 for _ in range(4000)]}
    atomic.atomic_write_json(target, record)
    print("DONE", flush=True)
""")


def _start_slow_writer(tmp_path: Path, target: Path, pause_s: float) -> subprocess.Popen:
    script = tmp_path / "slow_writer.py"
    script.write_text(SLOW_WRITER)
    proc = subprocess.Popen([sys.executable, str(script), str(target), str(pause_s)], stdout=subprocess.PIPE, text=True,
                            env=_env(), cwd=tmp_path)
    line = proc.stdout.readline()
    assert line.strip() == "STARTED", line
    return proc


def test_sigkill_mid_write_leaves_the_complete_old_file(tmp_path):
    out = tmp_path / "results"
    run_submission(out, MODEL, REV, "bfloat16", TASKS, _write_results)
    target = request_path(out, MODEL, REV)
    old = target.read_bytes()
    proc = _start_slow_writer(tmp_path, target, pause_s=0.05)
    time.sleep(0.2)
    temps = [p for p in target.parent.iterdir() if is_temp_file(p)]
    assert len(temps) == 1 and temps[0].stat().st_size > 0  # the write really is in progress
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    assert target.read_bytes() == old  # complete old file, untouched
    assert read_record(target).status == FINISHED
    # the stray temp file is never taken for a record or a results file
    assert sorted(p.name for p in target.parent.glob("*.json")) == [target.name]
    assert [r.model for _, r in load_records(out)] == [MODEL]
    assert not list(out.glob("*/results.json.*"))
    # ...and is cleaned up by the next run, however recent, since its writer (pid in its name) is dead
    assert cleanup_temp_files(target.parent, older_than_s=3600) == temps
    assert not any(is_temp_file(p) for p in target.parent.iterdir())


def test_slow_writer_completes_with_the_complete_new_file(tmp_path):
    target = tmp_path / "requests" / "org__big__abc.json"
    atomic_write_json(target, {"model": "org/big", "status": "PENDING"})
    proc = _start_slow_writer(tmp_path, target, pause_s=0.002)
    assert proc.stdout.readline().strip() == "DONE"
    proc.wait(timeout=60)
    data = json.loads(target.read_text())
    assert data["status"] == "FINISHED" and len(data["blob"]) == 4000
    assert [p.name for p in target.parent.iterdir()] == [target.name]


KILLED_RUN = textwrap.dedent("""
    import sys, time
    from harness.submission import track_submission

    with track_submission(sys.argv[1], "org/some-rm", "0123456789abcdef0123456789abcdef01234567", "bfloat16",
                          {"token_optimality": 1}) as sub:
        print("RUNNING", flush=True)
        time.sleep(60)
""")


def test_a_killed_run_leaves_a_readable_running_record_that_a_new_run_takes_over(tmp_path):
    out = tmp_path / "results"
    script = tmp_path / "killed_run.py"
    script.write_text(KILLED_RUN)
    proc = subprocess.Popen([sys.executable, str(script), str(out)], stdout=subprocess.PIPE, text=True, env=_env())
    assert proc.stdout.readline().strip() == "RUNNING"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    rec = read_record(request_path(out, MODEL, REV))
    assert rec.status == RUNNING  # stale but complete
    # the lock died with the process: a new run proceeds
    rec = run_submission(out, MODEL, REV, "bfloat16", {"token_optimality": 1}, _write_results)
    assert rec.status == FINISHED


# ------------------------------------------------------------------------------------------------ push_to_hub

class FakeApi:
    def __init__(self, token=None):
        self.token = token
        self.calls: list[tuple[str, dict]] = []

    def create_repo(self, **kw):
        self.calls.append(("create_repo", kw))

    def upload_file(self, **kw):
        self.calls.append(("upload_file", kw))

    def upload_folder(self, **kw):
        self.calls.append(("upload_folder", kw))


def test_push_to_hub_uploads_to_a_dataset_repo_and_marks_records(tmp_path, monkeypatch):
    out = tmp_path / "results"
    run_submission(out, MODEL, REV, "bfloat16", TASKS, _write_results)
    record = request_path(out, MODEL, REV)
    created = []

    def make_api(token=None):
        api = FakeApi(token)
        created.append(api)
        return api

    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "HfApi", make_api)
    written = push_to_hub("me/rm-audits", [record, out / "org__some-rm"], token="hf_x", base_dir=out)
    assert written == ["requests/" + record.name, "org__some-rm"]
    (api,) = created
    assert api.token == "hf_x"
    kinds = [c[0] for c in api.calls]
    assert kinds == ["create_repo", "upload_file", "upload_folder"]
    for _, kw in api.calls:
        assert kw["repo_id"] == "me/rm-audits" and kw["repo_type"] == "dataset"
    assert api.calls[1][1]["path_in_repo"] == "requests/" + record.name
    assert api.calls[2][1]["folder_path"] == str(out / "org__some-rm")
    raw = json.loads(record.read_text())
    assert raw["verified"] is False and raw["pushed_to"] == "me/rm-audits" and raw["pushed_time"].endswith("Z")
    assert read_record(record).status == FINISHED


def test_push_to_hub_refuses_verified_claims_and_bad_input(tmp_path):
    out = tmp_path / "results"
    run_submission(out, MODEL, REV, "bfloat16", TASKS, _write_results)
    record = request_path(out, MODEL, REV)
    data = json.loads(record.read_text())
    data["verified"] = True
    record.write_text(json.dumps(data))
    api = FakeApi()
    with pytest.raises(ValueError, match="verified: false"):
        push_to_hub("me/rm-audits", [out / "requests"], api=api)
    assert api.calls == []
    with pytest.raises(ValueError):
        push_to_hub("not a repo id", [record], api=api)
    with pytest.raises(ValueError):
        push_to_hub("me/x", [], api=api)
    with pytest.raises(FileNotFoundError):
        push_to_hub("me/x", [tmp_path / "missing"], api=api)
    assert api.calls == []


def test_nothing_is_uploaded_unless_asked(tmp_path, monkeypatch):
    import huggingface_hub

    def forbidden(*a, **k):
        raise AssertionError("HfApi must not be created")

    monkeypatch.setattr(huggingface_hub, "HfApi", forbidden)
    run_submission(tmp_path, MODEL, REV, "bfloat16", TASKS, _write_results)
