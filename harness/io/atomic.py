"""Atomic file writes: a reader sees the complete old file or the complete new one, never a half-written file.

The data goes to a temporary file in the target's own folder (same filesystem), is flushed and fsynced, and is
then moved over the target with `os.replace` (atomic on POSIX and Windows); the folder is fsynced afterwards so
the rename itself survives a power cut. A process killed mid-write (even with SIGKILL) leaves the target
untouched and at most a stray temporary file `.<target name>.<host>.<pid>.<random>.tmp`: it starts with a dot and
ends in `.tmp`, so globs such as `*.json` or `*/results.json` never pick it up. Staging folders made by
`make_staging_dir` are named the same way with `.building` in place of `.tmp`. `cleanup_temp_files` removes
such leftovers once their writer is dead, and never a live writer's.

Fault injection: `kill_point(name, detail)` marks a write boundary (`before_rename` / `after_rename` of every
atomic write, plus points other modules name, e.g. `scan.part_written`). With `RM_HARNESS_KILL_AT` unset (the
normal case) it is a single global lookup. Set to `<point>[@<glob on detail>]:<n>[,...]`, it SIGKILLs the process
the n-th time the point is reached; `RM_HARNESS_KILL_TRACE=<file>` appends every point reached to that file.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import signal
import socket
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

__all__ = [
    "TEMP_SUFFIX",
    "STAGING_SUFFIX",
    "KILL_ENV",
    "TRACE_ENV",
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_write_json",
    "cleanup_temp_files",
    "is_temp_file",
    "make_staging_dir",
    "writer_of",
    "writer_prefix",
    "kill_point",
    "KillSwitch",
    "set_kill_hook",
]

TEMP_SUFFIX = ".tmp"
STAGING_SUFFIX = ".building"
KILL_ENV = "RM_HARNESS_KILL_AT"
TRACE_ENV = "RM_HARNESS_KILL_TRACE"
_CHUNK = 1 << 20
# `.<name>.<host>.<pid>.<random><suffix>`: host is sanitised to [A-Za-z0-9-], random is mkstemp's [a-z0-9_].
_WRITER = re.compile(r"^\..+\.(?P<host>[A-Za-z0-9-]{1,32})\.(?P<pid>\d{1,10})\.[a-z0-9_]+(?:\.tmp|\.building)$")


# --- fault injection -------------------------------------------------------------------------------------------

class KillSwitch:
    """Kills the process (SIGKILL) the n-th time a named point is reached; optionally records every point.

    `specs` is `<point>[@<glob>]:<n>` strings: the glob, if any, must match the point's detail (for atomic
    writes, the target's file name). Each spec counts on its own.
    """

    def __init__(self, specs: list[str] | str = (), trace: str | os.PathLike[str] | list | None = None):
        if isinstance(specs, str):
            specs = [s for s in specs.split(",") if s.strip()]
        self.rules: list[tuple[str, str | None, int]] = []
        for spec in specs:
            point, _, count = spec.strip().rpartition(":")
            name, _, glob = point.partition("@")
            if not name or not count.isdigit() or int(count) < 1:
                raise ValueError(f"{KILL_ENV}: {spec!r} is not <point>[@<glob>]:<n> with n >= 1")
            self.rules.append((name, glob or None, int(count)))
        self.counts = [0] * len(self.rules)
        self.trace = trace

    def __call__(self, name: str, detail: str) -> None:
        if self.trace is not None:
            if isinstance(self.trace, list):
                self.trace.append((name, detail))
            else:
                with open(self.trace, "a", encoding="utf-8") as fh:
                    fh.write(f"{name}\t{detail}\n")
        for i, (point, glob, n) in enumerate(self.rules):
            if point == name and (glob is None or fnmatch.fnmatchcase(detail, glob)):
                self.counts[i] += 1
                if self.counts[i] == n:
                    _die(f"{name}@{detail}:{n}")

    @classmethod
    def from_env(cls) -> KillSwitch | None:
        specs, trace = os.environ.get(KILL_ENV, ""), os.environ.get(TRACE_ENV) or None
        return cls(specs, trace) if specs.strip() or trace else None


def _die(where: str) -> None:
    # One line on stderr so a test can tell a reached kill point from a crash, then no cleanup at all.
    os.write(2, f"kill point reached: {where}\n".encode("utf-8", "backslashreplace"))
    kill = getattr(signal, "SIGKILL", None)
    if kill is None:  # Windows
        os._exit(137)
    os.kill(os.getpid(), kill)
    time.sleep(10)  # the signal is delivered before this returns


_hook: Callable[[str, str], None] | None = KillSwitch.from_env()


def kill_point(name: str, detail: str = "") -> None:
    """A named write boundary; free unless a kill hook is set (by the environment or `set_kill_hook`)."""
    if _hook is not None:
        _hook(name, detail)


def set_kill_hook(hook: Callable[[str, str], None] | None) -> Callable[[str, str], None] | None:
    """Install a hook called at every kill point (tests); returns the previous one."""
    global _hook
    previous, _hook = _hook, hook
    return previous


# --- writer identity in temporary names ------------------------------------------------------------------------

def _host() -> str:
    return (re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "host")[:32]


def writer_prefix(target: Path) -> str:
    """`.<target name>.<host>.<pid>.`: the start of every temporary name this process makes for `target`."""
    # Keep the temporary name within the usual 255-byte limit whatever the target's name.
    return f".{target.name[:100]}.{_host()}.{os.getpid()}."


def writer_of(path: str | os.PathLike[str]) -> tuple[str, int] | None:
    """(host, pid) of the process that made a temporary file or staging folder, or None for an old-style name."""
    m = _WRITER.match(Path(path).name)
    return (m.group("host"), int(m.group("pid"))) if m else None


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return True


def _writer_dead(path: Path, older_than_s: float, now: float) -> bool:
    """True when nobody can still be writing `path`: its writer's pid is dead on this host. A name without a
    writer (older harness versions) or from another host cannot be checked and counts as dead once old."""
    writer = writer_of(path)
    if writer is not None and writer[0] == _host():
        return not _pid_alive(writer[1])
    try:
        return now - path.lstat().st_mtime >= older_than_s
    except OSError:
        return False


# --- writes ----------------------------------------------------------------------------------------------------

def _write_all(fh, data: bytes) -> None:
    """Write `data` to an open binary file (a seam the kill test slows down to interrupt a write)."""
    view = memoryview(data)
    for start in range(0, len(view), _CHUNK):
        fh.write(view[start : start + _CHUNK])


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open folders; the rename is still atomic there
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _default_mode(target: Path) -> int:
    """Keep an existing file's permissions; new files get the usual 0o666 minus the umask (mkstemp uses 0o600)."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, mode: int | None = None) -> Path:
    """Write `data` to `path` atomically (creating parent folders); returns the target path."""
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(f"{target}: is a folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    file_mode = _default_mode(target) if mode is None else mode
    fd, tmp_name = tempfile.mkstemp(prefix=writer_prefix(target), suffix=TEMP_SUFFIX, dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            _write_all(fh, data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.chmod(tmp, file_mode)
        except OSError:
            pass
        kill_point("before_rename", target.name)
        os.replace(tmp, target)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
    _fsync_dir(target.parent)
    kill_point("after_rename", target.name)
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8",
                      mode: int | None = None) -> Path:
    """Write `text` atomically. Lone surrogates cannot be encoded and raise UnicodeEncodeError before any write."""
    return atomic_write_bytes(path, text.encode(encoding), mode=mode)


def atomic_write_json(
    path: str | os.PathLike[str],
    obj: Any,
    *,
    indent: int | None = 2,
    sort_keys: bool = False,
    allow_nan: bool = False,
    ensure_ascii: bool = False,
    default: Any = None,
    mode: int | None = None,
) -> Path:
    """Serialise `obj` as JSON and write it atomically, with a trailing newline.

    Text is UTF-8 (`ensure_ascii=False`) unless the object holds lone surrogates, which have no UTF-8 form and
    are then written as JSON `\\u` escapes. `allow_nan=False` (the default) raises ValueError on NaN/inf rather
    than writing `NaN`, which is not JSON and which browsers' `JSON.parse` rejects: store missing numbers as null.
    Serialisation happens before the file is touched, so an unserialisable object leaves the old file as it was.
    """
    kw = dict(indent=indent, sort_keys=sort_keys, allow_nan=allow_nan, default=default)
    text = json.dumps(obj, ensure_ascii=ensure_ascii, **kw)
    try:
        data = (text + "\n").encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates (e.g. read from a JSON "\ud800" escape) cannot be UTF-8 encoded: fall back to ASCII
        # JSON escapes, which are valid JSON and read back to the same string.
        data = (json.dumps(obj, ensure_ascii=True, **kw) + "\n").encode("ascii")
    return atomic_write_bytes(path, data, mode=mode)


def make_staging_dir(target: str | os.PathLike[str]) -> Path:
    """An empty folder beside `target` to build into and then rename over it: `.<name>.<host>.<pid>.<rand>.building`.

    Unlike `tempfile.mkdtemp` (mode 0700) it gets the usual 0777-minus-umask mode, so what is built there is
    readable by others once renamed into place. `cleanup_temp_files` removes it if its builder dies.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=writer_prefix(target), suffix=STAGING_SUFFIX, dir=target.parent))
    os.chmod(path, 0o777 & ~_umask())
    return path


def swap_in_dir(stage: str | os.PathLike[str], target: str | os.PathLike[str]) -> Path:
    """Replace the folder `target` with the built folder `stage` (two renames, kill points around each).

    The old folder is first renamed to a staging name of this process, so a kill at any point leaves either the
    old or the new folder at `target` (or, between the renames, none, with both beside it under names that
    `cleanup_temp_files` removes once this process is dead; the caller's next build starts afresh)."""
    stage, target = Path(stage), Path(target)
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=writer_prefix(target), suffix=STAGING_SUFFIX, dir=target.parent))
        os.rmdir(old)
        kill_point("before_rename", f"{target.name}:aside")
        os.rename(target, old)
        kill_point("after_rename", f"{target.name}:aside")
        try:
            os.rename(stage, target)
        except OSError:
            os.rename(old, target)
            raise
        kill_point("after_rename", target.name)
        shutil.rmtree(old, ignore_errors=True)
    else:
        kill_point("before_rename", target.name)
        os.rename(stage, target)
        kill_point("after_rename", target.name)
    _fsync_dir(target.parent)
    return target


def is_temp_file(path: str | os.PathLike[str]) -> bool:
    """True for a temporary file this module creates (`.<name>.<host>.<pid>.<random>.tmp`, or the older
    `.<name>.<random>.tmp`)."""
    name = Path(path).name
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def _is_staging_dir(path: Path) -> bool:
    return path.name.startswith(".") and path.name.endswith(STAGING_SUFFIX) and path.is_dir() \
        and not path.is_symlink()


def cleanup_temp_files(folder: str | os.PathLike[str], *, older_than_s: float = 3600.0,
                       recursive: bool = False) -> list[Path]:
    """Delete temporary files and staging folders of interrupted writes in `folder`; returns what was removed.

    One is removed only when its writer is dead: the pid in its name no longer runs on this host. Names without
    a pid (older versions) or from another host cannot be checked and are removed once older than
    `older_than_s` seconds (pass 0 to remove them all). A live writer's files are never touched.
    """
    root = Path(folder)
    if not root.is_dir():
        return []
    now = time.time()
    removed: list[Path] = []
    found = root.rglob(".*") if recursive else root.glob(".*")
    stale = []
    for p in found:
        if any(_is_staging_dir(Path(*p.parts[: i + 1])) for i in range(len(root.parts), len(p.parts) - 1)):
            continue  # inside a staging folder: goes with it
        try:
            if (is_temp_file(p) and p.is_file() and not p.is_symlink()) or _is_staging_dir(p):
                if _writer_dead(p, older_than_s, now):
                    stale.append(p)
        except OSError:
            continue
    for p in stale:
        try:
            if p.is_dir():
                shutil.rmtree(p)
            else:
                p.unlink()
            removed.append(p)
        except OSError:
            continue
    return removed
