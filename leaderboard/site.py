"""Writing the site: a staging folder beside the output, swapped in at the end, so a failed or killed build
leaves the previous site intact.

- The staging folder is `.<out>.<pid>.building` (the old site is moved aside as `.<out>.<pid>.old`): a later
  build removes such folders only when the process that wrote them is dead, never a live concurrent build's.
- The output folder is replaced only when it holds the marker file of an earlier build; a foreign folder is a
  UserError. A build with no results never replaces a board that lists models.
- Folders are created with the default mode (not mkdtemp's 0700): the site is readable by others.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from harness.errors import UserError

SITE_MARKER = ".rm-harness-site"
_STAGE = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.(building|old)$")


class LeaderboardError(UserError, RuntimeError):
    """The board cannot be built as asked."""


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except (ValueError, OSError):
        return False


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale(out: Path) -> list[Path]:
    """Remove `.<out>.<pid>.building` / `.old` folders beside `out` whose writer is dead; return them."""
    removed = []
    if not out.parent.is_dir():
        return removed
    for p in out.parent.iterdir():
        m = _STAGE.match(p.name)
        if not m or m.group("name") != out.name or not p.is_dir() or p.is_symlink():
            continue
        if pid_alive(int(m.group("pid"))):
            continue
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p)
    return removed


def board_size(out: Path) -> int:
    """How many models the board in `out` lists (0 when there is none or it cannot be read)."""
    try:
        data = json.loads((out / "leaderboard.json").read_text(encoding="utf-8"))
        return len(data.get("models") or data.get("rows") or [])
    except (OSError, ValueError, AttributeError):
        return 0


def check_out_dir(out: Path, results_dir: Path, n_models: int) -> None:
    """Refuse what would destroy something: a file, a folder we did not build, the results themselves, or a
    board with models replaced by an empty one."""
    if out.exists() and not out.is_dir():
        raise LeaderboardError(f"--out {out}: exists and is not a folder; choose a folder for the site")
    if _inside(results_dir, out):
        raise LeaderboardError(f"--out {out}: contains the results folder {results_dir}; choose another folder")
    if out.is_dir() and any(out.iterdir()) and not (out / SITE_MARKER).is_file():
        raise LeaderboardError(f"--out {out}: not empty and not a board built by rm-harness (no {SITE_MARKER}); "
                               "choose a new or empty folder")
    if n_models == 0 and board_size(out) > 0:
        raise LeaderboardError(f"--results-dir {results_dir}: holds no results, and the board in {out} lists "
                               f"{board_size(out)} model(s); point at the results folder the board was built from")


def staging_dir(out: Path) -> Path:
    """A fresh staging folder for this process, readable by others."""
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(out)
    stage = out.parent / f".{out.name}.{os.getpid()}.building"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir()
    return stage


def finish(stage: Path) -> None:
    """Mark the staged site as ours and make it readable by others whatever the umask did to copies."""
    (stage / SITE_MARKER).write_text("built by rm-harness (leaderboard); replaced on every rebuild\n")
    for root, dirs, files in os.walk(stage):
        os.chmod(root, 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)


def swap_in(stage: Path, out: Path) -> None:
    """Replace `out` with `stage` (two renames; the old site is removed after)."""
    if out.exists():
        old = out.parent / f".{out.name}.{os.getpid()}.old"
        if old.exists():
            shutil.rmtree(old)
        os.rename(out, old)
        try:
            os.rename(stage, out)
        except OSError:
            os.rename(old, out)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(stage, out)
