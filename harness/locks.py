"""One cross-process file lock for the whole package, built on `filelock` (POSIX and Windows alike).

Two jobs use it: the submission lock of one model revision (`results/records.py`: a second process is refused at
once with a message) and the results.json merge lock (`results/document.py`: a second writer waits its turn).
`fcntl` alone silently did nothing where it is absent; `filelock` locks everywhere it runs.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

from filelock import FileLock, Timeout

from harness.errors import UserError


class LockBusy(UserError, RuntimeError):
    """Another process holds the lock and the caller asked not to wait."""


@contextlib.contextmanager
def file_lock(path: str | os.PathLike[str], *, wait: bool = True, busy: str | None = None,
              error: type[Exception] = LockBusy) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created with its folder) for the `with` body.

    `wait=False` refuses at once with `error(busy)` (default `LockBusy`) when another process holds it. The lock file stays after
    release: removing it while another process waits on it would let two holders in."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(p), timeout=-1 if wait else 0, thread_local=False, preserve_lock_file=True)
    try:
        lock.acquire()
    except Timeout:
        raise error(busy or f"{p}: locked by another process; wait for it to finish") from None
    try:
        yield
    finally:
        lock.release()
