"""The one lock helper (harness/locks.py): exclusive across processes, refusing or waiting as asked."""

import subprocess
import sys

import pytest

from harness.locks import LockBusy, file_lock
from harness.results.records import SubmissionError

HOLD = """
import sys, time
from filelock import FileLock
lock = FileLock(sys.argv[1], thread_local=False)
lock.acquire()
print("held", flush=True)
sys.stdin.readline()
lock.release()
"""


@pytest.fixture
def held(tmp_path):
    """A lock file held by another process until the fixture ends."""
    path = tmp_path / "sub" / ".lock"
    path.parent.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "held"
    yield path
    proc.stdin.write("\n")
    proc.stdin.flush()
    proc.wait(timeout=60)


def test_refuses_when_another_process_holds_it(held):
    with pytest.raises(LockBusy, match="busy here"):
        with file_lock(held, wait=False, busy="busy here"):
            pytest.fail("entered a lock another process holds")
    with pytest.raises(SubmissionError):
        with file_lock(held, wait=False, error=SubmissionError):
            pass


def test_free_lock_is_taken_and_released(tmp_path):
    path = tmp_path / "new" / "folder" / ".lock"
    with file_lock(path, wait=False):
        assert path.exists()
        with pytest.raises(LockBusy):  # exclusive even against a second holder in this process
            with file_lock(path, wait=False):
                pass
    with file_lock(path, wait=False):  # released: free again
        pass


def test_no_fcntl_import_left():
    """Locks go through filelock only: the platform-specific helpers are gone."""
    from pathlib import Path

    import harness

    root = Path(harness.__file__).parent
    assert not [p for p in root.rglob("*.py") if "import fcntl" in p.read_text(encoding="utf-8")]
