"""Output locations, checked up front: every option that names where a command writes goes through `check_output`
before any model loads, and every operating-system error on the way (a symbolic link loop, permission denied, a
read-only or virtual file system, a file where a folder is needed) becomes one line through `os_error_advice`.

A command declares its output options with `set_defaults(outputs=(("output_dir", "--output-dir", "dir"), ...))`;
`check_declared` checks each one that was given. The check resolves the path (links followed), refuses a
location inside a folder that must not change (the model folder, a results folder), and proves the nearest
existing folder writable by making and removing an empty probe folder in it, so nothing is left on disk.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import Iterable

from harness.errors import UserError

# errno -> what to do; the errors a user fixes by writing elsewhere (the rest are bugs and keep their traceback)
_ADVICE = {
    errno.ELOOP: "a symbolic link loop: point it at a real folder",
    errno.EACCES: "it is not writable: choose a folder you can write",
    errno.EPERM: "it is not writable: choose a folder you can write",
    errno.EROFS: "a read-only file system: choose a writable folder",
    errno.ENOENT: "folders cannot be made there (a missing or virtual folder): choose a folder you can write",
    errno.ENOTDIR: "a file stands where a folder is needed: name a folder",
    errno.ENOSPC: "free space there or write elsewhere",
    errno.EDQUOT: "free space there or write elsewhere",
    errno.ENAMETOOLONG: "a name is too long: choose a shorter path",
}
# the errors a late write (after the up-front check) may still meet that are the place's fault, not the code's
LATE_WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.ELOOP,
                               errno.ENAMETOOLONG})


class OutputLocationError(UserError, ValueError):
    """An output option names a place that cannot be written, or must not be."""


def os_error_advice(e: OSError) -> str:
    """`<strerror>; <what to do>` for an operating-system error met while writing (one mapping for every command)."""
    reason = e.strerror or os.strerror(e.errno or 0) or type(e).__name__
    return f"{reason}; {_ADVICE.get(e.errno, 'choose another place to write')}"


def _loop_error(path: Path) -> OSError:
    return OSError(errno.ELOOP, os.strerror(errno.ELOOP), str(path))


def _resolve(path: Path) -> Path:
    """The absolute path with every existing link followed; a link loop is an OSError(ELOOP), as on newer Pythons."""
    try:
        return path.expanduser().resolve()
    except RuntimeError:  # Python 3.11's pathlib reports a loop as RuntimeError("Symlink loop from ...")
        raise _loop_error(path) from None


def _nearest_existing(path: Path) -> Path:
    p = path
    while True:
        try:
            os.lstat(p)
            return p
        except (FileNotFoundError, NotADirectoryError):  # missing, or below a file
            if p.parent == p:
                return p
            p = p.parent


def _probe(folder: Path) -> None:
    """Make and remove an empty folder in `folder`: the real test of whether we may write there."""
    probe = tempfile.mkdtemp(prefix=".rm-harness-probe-", dir=folder)
    os.rmdir(probe)


def check_output(path: str | os.PathLike[str], flag: str, kind: str = "dir",
                 not_inside: Iterable[tuple[str | os.PathLike[str], str]] = ()) -> Path:
    """The resolved output location, or an OutputLocationError naming `flag` and saying what to do.

    `kind` is "dir" (a folder, made when missing) or "file" (a regular file, replaced whole). `not_inside` pairs a
    folder with the reason no output may resolve into it.
    """
    shown = f"{flag} {path}"
    target = Path(path)
    existing: Path | None = None
    try:
        resolved = _resolve(target)
        for folder, why in not_inside:
            try:
                inner = _resolve(Path(folder))
            except OSError:
                continue
            if resolved == inner or inner in resolved.parents:
                raise OutputLocationError(f"{shown}: inside {inner}, {why}")
        existing = _nearest_existing(resolved)
        st = os.stat(existing)  # follows links: a dangling or looping last link fails here
        if existing == resolved:
            if kind == "dir" and not stat.S_ISDIR(st.st_mode):
                raise OutputLocationError(f"{shown} is a file; name a folder")
            if kind == "file" and stat.S_ISDIR(st.st_mode):
                raise OutputLocationError(f"{shown} is a folder; name a file to write")
            if kind == "file" and not stat.S_ISREG(st.st_mode):
                raise OutputLocationError(f"{shown} is not a regular file (a device, pipe or socket); name a file "
                                          "to write")
        elif not stat.S_ISDIR(st.st_mode):
            raise OutputLocationError(f"{shown}: {existing} is a file, so the folder cannot be made; name a folder")
        _probe(existing if stat.S_ISDIR(st.st_mode) else existing.parent)
    except OutputLocationError:
        raise
    except OSError as e:
        where = e.filename if e.errno == errno.ELOOP and e.filename else None
        where = where or str(existing if existing is not None else target)
        raise OutputLocationError(f"{shown}: cannot write in {where}: {os_error_advice(e)}") from None
    return resolved


def check_declared(args, not_inside: Iterable[tuple[str | os.PathLike[str], str]] = ()) -> None:
    """Check every output option the subcommand declared (`args.outputs`) that has a value."""
    for attr, flag, kind in getattr(args, "outputs", ()):
        value = getattr(args, attr, None)
        if value is not None:
            check_output(value, flag, kind, not_inside)


def model_folders(ref) -> list[tuple[str, str]]:
    """The folders of a local or demo model (and of its DPO reference): output written inside one would change
    the folder's content hash, its revision, on every run (two board rows for the same weights)."""
    out = []
    while ref is not None:
        if ref.origin in ("local", "demo"):
            out.append((ref.source, "the model folder, whose content hash is the model's revision: output there "
                                    "would change it on every run; write outside the model folder"))
        ref = ref.ref_model
    return out
