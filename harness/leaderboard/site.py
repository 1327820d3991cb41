"""Writing the site: a staging folder beside the output, swapped in at the end, so a failed or killed build
leaves the previous site intact.

- The staging folder is `.<out>.<host>.<pid>.<rand>.building` (harness.io.atomic), and so is the old site while
  it is swapped out: a later build removes such folders only when their writer is dead, never a live build's.
- The output folder is replaced only when it holds the marker file of an earlier build; a foreign folder is a
  UserError. A build with no results never replaces a board that lists models.
- Folders are created with the default mode (not mkdtemp's 0700): the site is readable by others.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from harness.errors import UserError
from harness.io.atomic import cleanup_temp_files, make_staging_dir, swap_in_dir
from harness.results.layout import is_inside

SITE_MARKER = ".rm-harness-site"


class LeaderboardError(UserError, RuntimeError):
    """The board cannot be built as asked."""


def remove_stale(out: Path) -> list[Path]:
    """Remove staging folders beside `out` left by builds whose process is dead; return them."""
    return cleanup_temp_files(out.parent) if out.parent.is_dir() else []


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
    if is_inside(results_dir, out):
        raise LeaderboardError(f"--out {out}: contains the results folder {results_dir}; choose another folder")
    if out.is_dir() and any(out.iterdir()) and not (out / SITE_MARKER).is_file():
        raise LeaderboardError(f"--out {out}: not empty and not a board built by rm-harness (no {SITE_MARKER}); "
                               "choose a new or empty folder")
    if n_models == 0 and board_size(out) > 0:
        raise LeaderboardError(f"--results-dir {results_dir}: holds no results, and the board in {out} lists "
                               f"{board_size(out)} model(s); point at the results folder the board was built from")


def staging_dir(out: Path) -> Path:
    """A fresh staging folder for this process beside `out`, readable by others."""
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(out)
    return make_staging_dir(out)


def finish(stage: Path) -> None:
    """Mark the staged site as ours and make it readable by others whatever the umask did to copies."""
    (stage / SITE_MARKER).write_text("built by rm-harness (leaderboard); replaced on every rebuild\n")
    for root, dirs, files in os.walk(stage):
        os.chmod(root, 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)


def swap_in(stage: Path, out: Path) -> None:
    """Replace `out` with `stage` (the atomic module's folder swap, with its kill points)."""
    swap_in_dir(stage, out)
