"""Where the data lives: product data in the package (`package_data_dir`), and the reference data (the study's
EloEverything scores, the BNC list), found, never shipped.

The reference data sits in the project's `shared/data` folder beside a checkout. An installed package has no
checkout, so it is found, in this order, through: a `--shared-data` flag value (passed in as `flag`), the
environment variable `RM_HARNESS_SHARED_DATA`, or `<checkout>/../shared/data` when the package runs from a
source checkout. When none of them names an existing folder, `SharedDataNotFound` says which variable to set.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from harness.errors import UserError

SHARED_DATA_ENV = "RM_HARNESS_SHARED_DATA"
SHARED_DATA_FLAG = "--shared-data"

# The folder holding the `harness` package; a source checkout when it also holds setup.cfg.
_PACKAGE_PARENT = Path(__file__).resolve().parents[1]


# Where each reference-data folder comes from, for the reason a task is skipped without it (README, "Reference data").
REFERENCE_SOURCES = {
    "eloeverything": "the EloEverything snapshot released with the study, data/elo/ of "
                     "github.com/brchristian/reward_model_optimal_pessimal_tokens (MIT)",
    "bnc": "the BNC frequency list 1.1 (Leech, Rayson and Wilson 2001), 1_1_all_alpha.txt from "
           "ucrel.lancs.ac.uk/bncfreq",
}


def reference_source(path: str) -> str | None:
    """Where a reference-data file comes from, by its folder under the shared data (None for other files)."""
    parts = Path(str(path).replace("${SHARED_DATA}", "shared")).parts
    for part in parts:
        if part in REFERENCE_SOURCES:
            return REFERENCE_SOURCES[part]
    return None


def package_data_dir() -> Path:
    """The product data shipped inside the package (`harness/data/`: identity lists, sanity pairs, templates, the
    EloEverything item names with human Elo); task files name it `${PACKAGE_DATA}`."""
    return _PACKAGE_PARENT / "harness" / "data"


class SharedDataNotFound(UserError, FileNotFoundError):
    """No reference-data folder could be found; the message names the variable and the flag."""


def checkout_shared_data() -> Path | None:
    """`<checkout>/../shared/data` when the package runs from a source checkout, else None."""
    if not (_PACKAGE_PARENT / "setup.cfg").is_file():
        return None  # installed into site-packages: there is no checkout to look beside
    return _PACKAGE_PARENT.parent / "shared" / "data"


def shared_data_dir(flag: str | os.PathLike[str] | None = None) -> Path:
    """The reference-data folder: `flag`, else `$RM_HARNESS_SHARED_DATA`, else the checkout's `../shared/data`.

    An explicit choice (flag or variable) that is not a folder is an error rather than a silent fallback, so a typo
    never picks up some other copy of the data.
    """
    for value, name in ((flag, SHARED_DATA_FLAG), (os.environ.get(SHARED_DATA_ENV) or None, f"${SHARED_DATA_ENV}")):
        if value is None:
            continue
        path = Path(os.path.expanduser(os.fspath(value)))
        if not path.is_dir():
            raise SharedDataNotFound(
                f"reference data folder {path} (from {name}) does not exist; point {name} at the shared/data folder"
            )
        return path.resolve()
    beside = checkout_shared_data()
    if beside is not None and beside.is_dir():
        return beside.resolve()
    where = f" (looked in {beside})" if beside is not None else ""
    raise SharedDataNotFound(
        f"reference data not found{where}; set {SHARED_DATA_ENV} to the shared/data folder "
        f"or pass {SHARED_DATA_FLAG} DIR"
    )


def portable_path(path: str | os.PathLike[str] | None, shared: str | os.PathLike[str] | None = None) -> str | None:
    """A path as results may record it: `${SHARED_DATA}/...` inside the reference-data folder, `harness/...`
    inside the package (`harness/_tasks/...` for the built-in tasks), else the file's name. Results hold no path of the machine that made them (no user or
    host names), and two machines write the same text for the same file."""
    if path is None:
        return None
    p = Path(path)
    if not p.is_absolute():
        return p.as_posix()
    try:
        roots = [(Path(shared).resolve() if shared else shared_data_dir(), "${SHARED_DATA}")]
    except SharedDataNotFound:
        roots = []
    roots.append((_PACKAGE_PARENT / "harness", "harness"))
    # the built-in tasks: tasks/ in a source tree, harness/_tasks/ in an installed wheel; one name for both
    roots.append((_PACKAGE_PARENT / "tasks", "harness/_tasks"))
    for root, label in roots:
        try:
            return f"{label}/{p.resolve().relative_to(root).as_posix()}"
        except (ValueError, OSError):
            continue
    return p.name


def portable(value: Any, shared: str | os.PathLike[str] | None = None) -> Any:
    """`portable_path` applied to every absolute path string inside a JSON-like value."""
    if isinstance(value, dict):
        return {k: portable(v, shared) for k, v in value.items()}
    if isinstance(value, list):
        return [portable(v, shared) for v in value]
    if isinstance(value, str) and os.path.isabs(value):
        return portable_path(value, shared)
    return value
