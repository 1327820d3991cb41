"""Reading bytes that may be hostile: files of a submitted audit, records, tables, and paths written inside them.

Every byte of a results folder may come from someone else (docs/security.md). So a file is read only when it is
a regular file (a FIFO would block the reader forever, a device could be endless, a symbolic link could point
anywhere), within a size cap, and JSON only in its strict form (no NaN or Infinity, no duplicate keys, bounded
nesting). A path read from data is a relative POSIX path that must resolve inside the folder that holds it,
through real folders only: no `..`, no absolute path, no symbolic link on the way. Each refusal is a UserError
of one line naming the file. This module imports nothing from the package but the error type, so every layer
(scoring, results, report, leaderboard) may use it.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path, PurePosixPath
from typing import Any

from harness.errors import UserError

MAX_JSON_BYTES = 64 << 20  # a full audit's results.json is a few MB
MAX_SMALL_JSON_BYTES = 4 << 20  # records, table metadata
_KINDS = {stat.S_IFIFO: "a FIFO", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a folder", stat.S_IFLNK: "a symbolic link"}


class UntrustedFileError(UserError, ValueError):
    """A file or path from data that the harness refuses to read or follow; the message names it."""


def _kind(mode: int) -> str:
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def read_bytes(path: str | os.PathLike[str], what: str, *, max_bytes: int) -> bytes:
    """The bytes of the regular file `path` (not through a symbolic link), at most `max_bytes` of them."""
    p = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(p, flags)
    except FileNotFoundError:
        raise
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise UntrustedFileError(f"{p}: the {what} is a symbolic link; an audit folder holds only regular "
                                     "files and folders") from None
        raise UntrustedFileError(f"{p}: cannot read the {what} ({e.strerror})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UntrustedFileError(f"{p}: the {what} is {_kind(st.st_mode)}, not a regular file; remove it")
        if st.st_size > max_bytes:
            raise UntrustedFileError(f"{p}: the {what} is {st.st_size:,} bytes, over the {max_bytes:,}-byte limit")
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > max_bytes:  # grew while being read
                raise UntrustedFileError(f"{p}: the {what} is over the {max_bytes:,}-byte limit")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def is_png(data: bytes) -> bool:
    """Whether `data` starts like a PNG file (figures are shown as images; nothing else may pass as one)."""
    return data[:8] == PNG_MAGIC


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (store a missing number as null)")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text} overflows to infinity (store a missing number as null)")
    return value


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def parse_json(data: bytes, where: str, what: str) -> Any:
    """Strict JSON from bytes: UTF-8, no NaN/Infinity (nor a literal that overflows to it), no duplicate keys,
    bounded nesting."""
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_no_constant, parse_float=_finite,
                          object_pairs_hook=_unique)
    except RecursionError:
        raise UntrustedFileError(f"{where}: the {what} nests too deeply to be a harness file") from None
    except (UnicodeDecodeError, ValueError) as e:
        raise UntrustedFileError(f"{where}: not a readable {what} ({e})") from None


def read_json(path: str | os.PathLike[str], what: str, *, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """The strict JSON document in the regular file `path` (FileNotFoundError when there is none)."""
    return parse_json(read_bytes(path, what, max_bytes=max_bytes), str(path), what)


def read_json_object(path: str | os.PathLike[str], what: str, *, max_bytes: int = MAX_JSON_BYTES) -> dict[str, Any]:
    doc = read_json(path, what, max_bytes=max_bytes)
    if not isinstance(doc, dict):
        raise UntrustedFileError(f"{path}: the {what} is not a JSON object")
    return doc


def is_inside(path: str | os.PathLike[str], folder: str | os.PathLike[str]) -> bool:
    """Whether `path` resolves to `folder` or somewhere below it (links followed)."""
    try:
        Path(path).resolve().relative_to(Path(folder).resolve())
        return True
    except (ValueError, OSError):
        return False


def relative_path(rel: Any, what: str, where: str) -> PurePosixPath:
    """A path written in data as a plain relative POSIX path, or an UntrustedFileError."""
    if not isinstance(rel, str) or not rel or "\x00" in rel or "\\" in rel or len(rel) > 1024:
        raise UntrustedFileError(f"{where}: {what} {rel!r} is not a relative path")
    p = PurePosixPath(rel)
    if p.is_absolute() or rel.startswith("~") or any(part in ("..", "") for part in rel.split("/")):
        raise UntrustedFileError(f"{where}: {what} {rel!r} leaves its folder; paths in an audit are relative and "
                                 "stay inside it")
    return p


def contained(root: str | os.PathLike[str], rel: Any, what: str, *, where: str | None = None,
              must_exist: bool = True) -> Path:
    """`root/rel` for a path `rel` read from data, walked through real folders only (no symbolic link, no `..`),
    ending at a regular file when `must_exist`."""
    base = Path(root)
    clean = relative_path(rel, what, where or str(base))
    cur = base
    parts = clean.parts
    for i, part in enumerate(parts):
        cur = cur / part
        try:
            st = os.lstat(cur)
        except FileNotFoundError:
            if must_exist:
                raise UntrustedFileError(f"{where or base}: {what} {rel!r} does not exist") from None
            return base.joinpath(*parts)
        except OSError as e:
            raise UntrustedFileError(f"{cur}: cannot be read ({e.strerror})") from None
        last = i == len(parts) - 1
        if stat.S_ISLNK(st.st_mode):
            raise UntrustedFileError(f"{cur}: {what} goes through a symbolic link; an audit folder holds only "
                                     "regular files and folders")
        if not last and not stat.S_ISDIR(st.st_mode):
            raise UntrustedFileError(f"{cur}: expected a folder on the way to {what} {rel!r}")
        if last and must_exist and not stat.S_ISREG(st.st_mode):
            raise UntrustedFileError(f"{cur}: {what} is {_kind(st.st_mode)}, not a regular file")
    return cur


def check_tree(root: str | os.PathLike[str], what: str = "audit folder") -> None:
    """Refuse a folder holding anything but regular files and real folders (symbolic links, FIFOs, devices,
    sockets anywhere below it): writing or reading through one could reach outside the folder or hang."""
    base = Path(root)
    try:
        st = os.lstat(base)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        raise UntrustedFileError(f"{base}: the {what} is {_kind(st.st_mode)}, not a folder")
    for top, dirs, files in os.walk(base, followlinks=False):
        for name in [*dirs, *files]:
            p = Path(top) / name
            try:
                mode = os.lstat(p).st_mode
            except FileNotFoundError:  # removed meanwhile (a temp file of a finished write)
                continue
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise UntrustedFileError(f"{p}: {_kind(mode)} inside the {what} {base}; an audit folder holds only "
                                         "regular files and folders: remove it")
