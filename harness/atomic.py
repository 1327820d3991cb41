"""Atomic file writes: a reader sees the complete old file or the complete new one, never a half-written file.

The data goes to a temporary file in the target's own folder (same filesystem), is flushed and fsynced, and is
then moved over the target with `os.replace` (atomic on POSIX and Windows); the folder is fsynced afterwards so
the rename itself survives a power cut. A process killed mid-write (even with SIGKILL) leaves the target
untouched and at most a stray temporary file named `.<target name>.<random>.tmp`: it starts with a dot and ends
in `.tmp`, so globs such as `*.json` or `*/results.json` never pick it up. `cleanup_temp_files` removes such
leftovers.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = [
    "TEMP_SUFFIX",
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_write_json",
    "cleanup_temp_files",
    "is_temp_file",
]

TEMP_SUFFIX = ".tmp"
_CHUNK = 1 << 20


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


def _default_mode(target: Path) -> int:
    """Keep an existing file's permissions; new files get the usual 0o666 minus the umask (mkstemp uses 0o600)."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, mode: int | None = None) -> Path:
    """Write `data` to `path` atomically (creating parent folders); returns the target path."""
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(f"{target}: is a folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    file_mode = _default_mode(target) if mode is None else mode
    # Keep the temporary name within the usual 255-byte limit whatever the target's name.
    prefix = "." + target.name[:100] + "."
    fd, tmp_name = tempfile.mkstemp(prefix=prefix, suffix=TEMP_SUFFIX, dir=target.parent)
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
        os.replace(tmp, target)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
    _fsync_dir(target.parent)
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


def is_temp_file(path: str | os.PathLike[str]) -> bool:
    """True for a temporary file this module creates (`.<name>.<random>.tmp`)."""
    name = Path(path).name
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def cleanup_temp_files(folder: str | os.PathLike[str], *, older_than_s: float = 3600.0,
                       recursive: bool = False) -> list[Path]:
    """Delete leftover temporary files of interrupted writes in `folder`; returns what was removed.

    Only files older than `older_than_s` seconds are removed, so a write in progress in another process is left
    alone (pass 0 to remove all).
    """
    root = Path(folder)
    if not root.is_dir():
        return []
    now = time.time()
    removed: list[Path] = []
    candidates = root.rglob(f".*{TEMP_SUFFIX}") if recursive else root.glob(f".*{TEMP_SUFFIX}")
    for p in candidates:
        try:
            if p.is_file() and not p.is_symlink() and now - p.stat().st_mtime >= older_than_s:
                p.unlink()
                removed.append(p)
        except OSError:
            continue
    return removed
