"""Submission records: one small JSON file per (model, revision) audit, in the shape of the Hugging Face Open LLM
leaderboard's request files, written atomically at every status change.

    <output_dir>/requests/<org>__<name>__<revision[:12]>.json

    {"model": "org/name", "revision": "<commit>", "precision": "bfloat16", "status": "FINISHED",
     "submitted_time": "2026-11-26T00:00:00Z", "started_time": "...", "finished_time": "...",
     "harness_version": "0.1.0", "task_versions": {"token_optimality": 1}, "error": null,
     "verified": false, "results_path": "org__name/results.json"}

Status goes PENDING -> RUNNING -> FINISHED, or -> FAILED with the exception text in `error`. Self-submitted
records are always `verified: false`; nothing here marks a record verified. `results_path` is relative to the
output folder (absolute when the results live elsewhere).

Use `track_submission` (a context manager) or `run_submission` (the same around a callable). Re-submitting a
model + revision whose record is FINISHED, with the same precision and task versions and whose results file still
exists, does nothing and hands back the existing record unless `force=True`. While a submission runs, an advisory
lock (`<record>.lock`, POSIX `flock`) makes a second concurrent run of the same model + revision fail fast; a
RUNNING record left behind by a killed process holds no lock and is simply taken over.

`push_to_hub` uploads records and results to a dataset repository the user names; it is never called implicitly.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

from harness import __version__
from harness.atomic import atomic_write_json, is_temp_file
from harness.errors import UserError

PENDING, RUNNING, FINISHED, FAILED = "PENDING", "RUNNING", "FINISHED", "FAILED"
STATUSES = (PENDING, RUNNING, FINISHED, FAILED)
REQUESTS_DIR = "requests"
_MAX_ERROR_CHARS = 4000
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")


class SubmissionError(UserError, RuntimeError):
    """A submission cannot start (e.g. the same model + revision is already running)."""


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _safe(part: str) -> str:
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", part).strip("-")
    s = s.lstrip(".")  # never a hidden file, never "." or ".."
    return s or "unnamed"


def looks_like_hub_id(model_id: str) -> bool:
    """ORG/NAME with Hub-safe characters (says nothing about whether the repository exists)."""
    return isinstance(model_id, str) and bool(_HUB_ID.match(model_id))


def model_slug(model_id: str) -> str:
    """File-system name for a model: `org__name` for a Hub id, `local__<folder name>` for a local path.

    Only [A-Za-z0-9._-] survive; the result is never hidden, empty, "." or "..".
    """
    mid = str(model_id).strip()
    if looks_like_hub_id(mid):
        org, name = mid.split("/")
        return f"{_safe(org)}__{_safe(name)}"
    name = Path(mid.rstrip("/\\")).name or "model"
    return f"local__{_safe(name)}"


def request_path(output_dir: str | os.PathLike[str], model_id: str, revision: str | None) -> Path:
    rev = _safe(revision)[:12] if revision else "unknown"
    return Path(output_dir) / REQUESTS_DIR / f"{model_slug(model_id)}__{rev}.json"


def default_results_path(output_dir: str | os.PathLike[str], model_id: str) -> Path:
    return Path(output_dir) / model_slug(model_id) / "results.json"


@dataclass
class SubmissionRecord:
    model: str
    revision: str | None
    precision: str
    status: str = PENDING
    submitted_time: str | None = None
    started_time: str | None = None
    finished_time: str | None = None
    harness_version: str = __version__
    task_versions: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    verified: bool = False
    results_path: str | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {self.status!r}")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> "SubmissionRecord":
        if not isinstance(obj, Mapping):
            raise ValueError("a submission record must be a JSON object")
        names = {f.name for f in fields(cls)}
        missing = {"model", "precision", "status"} - set(obj)
        if missing:
            raise ValueError(f"submission record lacks {', '.join(sorted(missing))}")
        rec = cls(**{k: v for k, v in obj.items() if k in names})
        if not isinstance(rec.task_versions, dict):
            raise ValueError("task_versions must be an object")
        rec.verified = bool(rec.verified)
        return rec


def read_record(path: str | os.PathLike[str]) -> SubmissionRecord | None:
    """The record at `path`, or None when there is none. A corrupt file raises ValueError."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return SubmissionRecord.from_json(json.loads(text))
    except (json.JSONDecodeError, TypeError, ValueError) as exc:
        raise ValueError(f"{p}: unreadable submission record: {exc}") from exc


def write_record(path: str | os.PathLike[str], record: SubmissionRecord) -> Path:
    return atomic_write_json(path, record.to_json())


def load_records(output_dir: str | os.PathLike[str]) -> list[tuple[Path, SubmissionRecord]]:
    """Every readable record under <output_dir>/requests (temporary files of interrupted writes are ignored)."""
    folder = Path(output_dir) / REQUESTS_DIR
    out = []
    for p in sorted(folder.glob("*.json")):
        if is_temp_file(p) or not p.is_file():
            continue
        try:
            rec = read_record(p)
        except ValueError:
            continue
        if rec is not None:
            out.append((p, rec))
    return out


def _resolve_results(output_dir: Path, results_path: str | None) -> Path | None:
    if not results_path:
        return None
    p = Path(results_path)
    return p if p.is_absolute() else output_dir / p


def _relative_results(output_dir: Path, path: str | os.PathLike[str]) -> str:
    p = Path(path)
    try:
        return p.resolve().relative_to(output_dir.resolve()).as_posix()
    except ValueError:
        return str(p.resolve())


def _error_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    if text.endswith(":"):
        text = text[:-1]
    return text if len(text) <= _MAX_ERROR_CHARS else text[: _MAX_ERROR_CHARS - 1] + "…"


def _same_submission(rec: SubmissionRecord, model_id: str, revision: str | None, precision: str,
                     task_versions: Mapping[str, int]) -> bool:
    if rec.model != model_id or rec.revision != revision or rec.precision != precision:
        return False
    return all(rec.task_versions.get(t) == v for t, v in task_versions.items())


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """Advisory exclusive lock beside the record; released by the OS when the process dies."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no cross-process lock
        yield
        return
    lock_path = path.with_name(path.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise SubmissionError(
                f"{path.name}: this model and revision are being audited by another process right now"
            ) from exc
        yield
    finally:
        os.close(fd)  # closing releases the lock; the lock file stays (removing it would race)


@dataclass
class Submission:
    """Handle given to the body of `track_submission`."""

    path: Path
    record: SubmissionRecord
    output_dir: Path
    skipped: bool = False

    def set_results_path(self, path: str | os.PathLike[str]) -> None:
        """Where the results of this run are (default: <output_dir>/<org>__<name>/results.json)."""
        self.record.results_path = _relative_results(self.output_dir, path)


def existing_finished(output_dir: str | os.PathLike[str], model_id: str, revision: str | None, precision: str,
                      task_versions: Mapping[str, int]) -> SubmissionRecord | None:
    """The FINISHED record for this exact submission whose results file exists, if there is one."""
    out = Path(output_dir)
    try:
        rec = read_record(request_path(out, model_id, revision))
    except ValueError:
        return None
    if rec is None or rec.status != FINISHED or not _same_submission(rec, model_id, revision, precision, task_versions):
        return None
    results = _resolve_results(out, rec.results_path)
    return rec if results is not None and results.is_file() else None


@contextlib.contextmanager
def track_submission(
    output_dir: str | os.PathLike[str],
    model_id: str,
    revision: str | None,
    precision: str,
    task_versions: Mapping[str, int],
    *,
    force: bool = False,
    results_path: str | os.PathLike[str] | None = None,
) -> Iterator[Submission]:
    """Record one audit: PENDING then RUNNING on entry, FINISHED on a clean exit, FAILED (and re-raise) otherwise.

        with track_submission("results", "org/name", sha, "bfloat16", {"token_optimality": 1}) as sub:
            if not sub.skipped:
                ...  # run the tasks; optionally sub.set_results_path(path)

    `sub.skipped` is True (and nothing is written) when an identical FINISHED submission with existing results is
    on disk and `force` is False; `sub.record` is then that record.
    """
    if not model_id or not isinstance(model_id, str):
        raise ValueError("model_id must be a non-empty string")
    if not precision or not isinstance(precision, str):
        raise ValueError("precision must be a non-empty string such as 'bfloat16'")
    versions = {str(k): int(v) for k, v in dict(task_versions).items()}
    out = Path(output_dir)
    path = request_path(out, model_id, revision)

    if not force:
        done = existing_finished(out, model_id, revision, precision, versions)
        if done is not None:
            yield Submission(path, done, out, skipped=True)
            return

    with _lock(path):
        try:
            previous = read_record(path)
        except ValueError:
            previous = None  # a corrupt record is replaced
        submitted = previous.submitted_time if previous is not None and previous.status == PENDING else None
        record = SubmissionRecord(
            model=model_id, revision=revision, precision=precision, status=PENDING,
            submitted_time=submitted or utc_now(), harness_version=__version__, task_versions=versions,
            verified=False,
            results_path=_relative_results(out, results_path or default_results_path(out, model_id)),
        )
        write_record(path, record)
        record.status, record.started_time = RUNNING, utc_now()
        write_record(path, record)
        sub = Submission(path, record, out)
        try:
            yield sub
        except BaseException as exc:
            record.status, record.finished_time, record.error = FAILED, utc_now(), _error_text(exc)
            write_record(path, record)
            raise
        record.status, record.finished_time, record.error = FINISHED, utc_now(), None
        write_record(path, record)


def run_submission(
    output_dir: str | os.PathLike[str],
    model_id: str,
    revision: str | None,
    precision: str,
    task_versions: Mapping[str, int],
    work: Callable[[Submission], str | os.PathLike[str] | None],
    *,
    force: bool = False,
) -> SubmissionRecord:
    """`track_submission` around `work(sub)`; a path returned by `work` becomes the record's results_path."""
    with track_submission(output_dir, model_id, revision, precision, task_versions, force=force) as sub:
        if sub.skipped:
            return sub.record
        produced = work(sub)
        if produced is not None:
            sub.set_results_path(produced)
    return sub.record


def push_to_hub(
    repo_id: str,
    paths: Iterable[str | os.PathLike[str]],
    token: str | None = None,
    *,
    base_dir: str | os.PathLike[str] | None = None,
    commit_message: str = "rm-harness: self-submitted (unverified) results",
    create: bool = True,
    api: Any = None,
) -> list[str]:
    """Upload files and folders to the dataset repository `repo_id`; returns the paths written in the repo.

    Only ever called on the user's explicit request (`submit.py --push`). Each path lands at its path relative to
    `base_dir` (default: its own name). Submission records among the files must say `verified: false` (a record
    claiming otherwise is refused); after the upload each record is updated locally with `pushed_to` and
    `pushed_time`. `api` defaults to `huggingface_hub.HfApi(token=token)`.
    """
    if not isinstance(repo_id, str) or not _HUB_ID.match(repo_id):
        raise ValueError(f"repo_id must look like ORG/NAME, got {repo_id!r}")
    items = [Path(p) for p in paths]
    if not items:
        raise ValueError("nothing to upload")
    base = Path(base_dir).resolve() if base_dir is not None else None

    def in_repo(p: Path) -> str:
        if base is not None:
            try:
                return p.resolve().relative_to(base).as_posix()
            except ValueError:
                pass
        return p.name

    records: list[Path] = []
    for p in items:
        if not p.exists():
            raise FileNotFoundError(f"{p}: nothing to upload")
        candidates = p.rglob("*.json") if p.is_dir() else [p]
        for f in candidates:
            if f.suffix != ".json" or is_temp_file(f) or f.parent.name != REQUESTS_DIR:
                continue
            rec = read_record(f)
            if rec is None:
                continue
            if rec.verified:
                raise ValueError(f"{f}: a self-submitted record must say verified: false")
            records.append(f)

    if api is None:
        from huggingface_hub import HfApi

        api = HfApi(token=token)
    if create:
        api.create_repo(repo_id=repo_id, repo_type="dataset", exist_ok=True, token=token)
    written: list[str] = []
    for p in items:
        target = in_repo(p)
        if p.is_dir():
            api.upload_folder(
                folder_path=str(p), path_in_repo=target, repo_id=repo_id, repo_type="dataset",
                commit_message=commit_message, token=token,
                ignore_patterns=[".*.tmp", "*.lock", "**/.*.tmp", "**/*.lock"],
            )
        else:
            api.upload_file(
                path_or_fileobj=str(p), path_in_repo=target, repo_id=repo_id, repo_type="dataset",
                commit_message=commit_message, token=token,
            )
        written.append(target)
    pushed = utc_now()
    for f in records:
        data = json.loads(f.read_text(encoding="utf-8"))
        data.update({"verified": False, "pushed_to": repo_id, "pushed_time": pushed})
        atomic_write_json(f, data)
    return written
