"""Submission records: one small JSON file per attempt to audit one model revision, written atomically.

    <out>/requests/<slug>/<revision12>/<utc>-<pid>.json

in the shape of the Hugging Face Open LLM leaderboard's request files (model, revision, precision, status, times)
plus what identifies the model exactly (origin, source) and which results it produced. Status goes PENDING ->
RUNNING -> FINISHED, or FAILED with the error. A new attempt never rewrites an earlier attempt's file, so a failed
`--force` rerun leaves the earlier FINISHED record (and its results) as they were. Self-submitted records always
say `verified: false`, and `results_path` is informational: no reader follows a path written in a record (the
audit of a record is found from where the record lies, through the results layout).

While an attempt runs, an advisory lock beside the records (POSIX flock, released by the OS when the process
dies) makes a second concurrent attempt at the same model revision fail at once with a SubmissionError.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Mapping

from harness import __version__
from harness.errors import UserError
from harness.io import untrusted
from harness.io.atomic import atomic_write_json, is_temp_file
from harness.locks import file_lock
from harness.results.layout import Layout

PENDING, RUNNING, FINISHED, FAILED = "PENDING", "RUNNING", "FINISHED", "FAILED"
STATUSES = (PENDING, RUNNING, FINISHED, FAILED)
_MAX_ERROR_CHARS = 4000


class SubmissionError(UserError, RuntimeError):
    """A submission cannot start (e.g. the same model revision is being audited right now)."""


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def attempt_id() -> str:
    """Sortable by time, unique per process: `<utc with microseconds>-<pid>`."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ") + f"-{os.getpid()}"


@dataclass
class SubmissionRecord:
    model: str  # display id
    revision: str | None
    precision: str
    status: str = PENDING
    origin: str | None = None
    source: str | None = None
    scorer: str | None = None
    attempt: str | None = None
    submitted_time: str | None = None
    started_time: str | None = None
    finished_time: str | None = None
    harness_version: str = __version__
    task_versions: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    verified: bool = False
    results_path: str | None = None
    skipped_as_done: bool = False
    model_name: str | None = None  # --model-name: the group "the previous revision" is looked up in

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {self.status!r}")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> "SubmissionRecord":
        if not isinstance(obj, Mapping):
            raise ValueError("a submission record must be a JSON object")
        missing = {"model", "precision", "status"} - set(obj)
        if missing:
            raise ValueError(f"submission record lacks {', '.join(sorted(missing))}")
        names = {f.name for f in fields(cls)}
        rec = cls(**{k: v for k, v in obj.items() if k in names})
        if not isinstance(rec.task_versions, dict):
            raise ValueError("task_versions must be an object")
        if rec.model_name is not None and not isinstance(rec.model_name, str):
            raise ValueError("model_name must be a string")
        rec.verified = bool(rec.verified)
        return rec


def read_record(path: str | os.PathLike[str]) -> SubmissionRecord | None:
    """The record at `path`, or None when there is none. A corrupt file raises ValueError."""
    try:
        obj = untrusted.read_json(path, "submission record", max_bytes=untrusted.MAX_SMALL_JSON_BYTES)
    except FileNotFoundError:
        return None
    try:
        return None if obj is None else SubmissionRecord.from_json(obj)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: unreadable submission record: {exc}") from exc


def write_record(path: str | os.PathLike[str], record: SubmissionRecord) -> Path:
    return atomic_write_json(path, record.to_json())


def attempts(layout: Layout, ref) -> list[tuple[Path, SubmissionRecord]]:
    """This model revision's records, oldest first."""
    folder = layout.records_dir(ref)
    return _readable(sorted(folder.glob("*.json")) if folder.is_dir() else [])


def all_attempts(layout: Layout) -> list[tuple[Path, SubmissionRecord]]:
    """Every model revision's records under the output folder (unreadable ones left out)."""
    root = layout.requests_dir
    return _readable(sorted(root.glob("*/*/*.json")) if root.is_dir() else [])


def _readable(paths: list[Path]) -> list[tuple[Path, SubmissionRecord]]:
    out = []
    for p in paths:
        if is_temp_file(p):
            continue
        try:
            rec = read_record(p)
        except ValueError:
            continue
        if rec is not None:
            out.append((p, rec))
    return out


def last_finished(layout: Layout, ref) -> SubmissionRecord | None:
    done = [r for _, r in attempts(layout, ref) if r.status == FINISHED and r.source == ref.source
            and r.revision == ref.revision]
    return done[-1] if done else None


def _error_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
    return text if len(text) <= _MAX_ERROR_CHARS else text[: _MAX_ERROR_CHARS - 1] + "…"


def _lock(path: Path):
    """The submission lock of one model revision: a second process is refused at once, never queued."""
    return file_lock(path, wait=False, busy=f"{path.parent}: this model revision is being audited by another "
                     "process right now; wait for it to finish", error=SubmissionError)


def close_dead_attempts(layout: Layout, ref) -> list[Path]:
    """Mark PENDING/RUNNING records of this model revision FAILED: under the lock, no live process owns them."""
    closed = []
    for path, rec in attempts(layout, ref):
        if rec.status in (PENDING, RUNNING):
            rec.status, rec.finished_time = FAILED, utc_now()
            rec.error = "the process running this attempt died before it finished (killed or crashed)"
            write_record(path, rec)
            closed.append(path)
    return closed


@dataclass
class Submission:
    """Handle given to the body of `track_submission`."""

    path: Path
    record: SubmissionRecord
    layout: Layout

    def set_results_path(self, path: str | os.PathLike[str]) -> None:
        self.record.results_path = self.layout.relative(path)


@contextlib.contextmanager
def track_submission(layout: Layout, ref, task_versions: Mapping[str, Any],
                     model_name: str | None = None) -> Iterator[Submission]:
    """Record one attempt: PENDING then RUNNING on entry, FINISHED on a clean exit, FAILED (and re-raise) otherwise.

    Each attempt writes its own file; earlier attempts are never touched."""
    with _lock(layout.lock_path(ref)):
        close_dead_attempts(layout, ref)
        attempt = attempt_id()
        path = layout.record_path(ref, attempt)
        record = SubmissionRecord(
            model=ref.display_id, revision=ref.revision, precision=ref.dtype, status=PENDING, origin=ref.origin,
            source=ref.source, scorer=ref.scorer, attempt=attempt, submitted_time=utc_now(),
            task_versions={str(k): v for k, v in task_versions.items()},
            results_path=layout.relative(layout.results_path(ref)), model_name=model_name,
        )
        write_record(path, record)
        record.status, record.started_time = RUNNING, utc_now()
        write_record(path, record)
        sub = Submission(path, record, layout)
        try:
            yield sub
        except BaseException as exc:
            record.status, record.finished_time, record.error = FAILED, utc_now(), _error_text(exc)
            write_record(path, record)
            raise
        record.status, record.finished_time, record.error = FINISHED, utc_now(), None
        write_record(path, record)


