"""results.json: build a document, record provenance and per-task settings, merge a run into what is on disk.

Merging never drops: a run adds or replaces only the tasks it ran, and only into a document of the same model
revision (another model's document in the folder is refused, never merged into). A block computed with different settings
(task version as written, dtype, prompt format, template hash, scorer, subset, limit) replaces the current one
and the old block's metrics move to `superseded`; a less complete block (a `--limit` run, or a vocabulary
subset where a full scan exists) never replaces a more complete one and is kept under `partial_results`,
which the board never publishes. A `verification` field means nothing (the badge is the maintainer's trust
record, harness/results/trust.py): merges drop it.
"""

from __future__ import annotations

import math
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from harness import __version__
from harness.io import untrusted
from harness.analyses.base import AnalysisResult
from harness.errors import UserError
from harness.io.atomic import atomic_write_json
from harness.locks import file_lock

SCHEMA_VERSION = 2
_PACKAGES = ("torch", "transformers", "tokenizers", "numpy", "pandas", "scipy", "statsmodels", "scikit-learn",
             "pyarrow")
SETTING_KEYS = ("task_version", "dtype", "prompt_format", "template_hash", "scorer", "subset", "limit")


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def git_commit() -> str | None:
    """The checkout's commit (with `+dirty` when it has local changes), or None outside a git checkout."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        sha = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return sha + ("+dirty" if dirty else "")


def provenance() -> dict[str, Any]:
    """What produced a results file: harness version and commit, Python, platform, library versions."""
    env: dict[str, Any] = {"harness_version": __version__, "git_commit": git_commit(),
                           "python": sys.version.split()[0], "platform": platform.platform()}
    for pkg in _PACKAGES:
        try:
            env[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return env


def task_block(result: AnalysisResult, metrics: dict, figures: list[str], tables: dict[str, str],
               settings: dict[str, Any], task_file_hash: str | None) -> dict[str, Any]:
    """One task's results.json block: metrics, data, figures, tables, and what it was computed with."""
    return {
        "metrics": {k: m.to_json() for k, m in metrics.items()},
        "data": result.data,
        "figures": figures,
        "tables": tables,
        "settings": {k: settings.get(k) for k in SETTING_KEYS},
        "computed": {"at": utc_now(), "harness_version": __version__, "task_file_hash": task_file_hash},
    }


def document(model: dict, tasks: dict[str, dict], versions: dict[str, Any], configs: dict[str, dict],
             wall_time_s: float, *, skipped: dict[str, str] | None = None, run: dict | None = None) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "harness_version": __version__,
        "model": model,
        "versions": versions,
        "configs": configs,
        "results": tasks,
        "skipped": dict(skipped or {}),
        "run": dict(run or {}),
        "provenance": provenance(),
        "wall_time_s": round(wall_time_s, 3),
        "created": utc_now(),
    }


def completeness(settings: dict[str, Any]) -> int:
    """2 full, 1 a declared vocabulary subset, 0 a `--limit` smoke run."""
    if settings.get("limit") is not None:
        return 0
    return 1 if settings.get("subset") else 2


def is_published(block: dict[str, Any]) -> bool:
    """Whether the board may show this block (never a limited run)."""
    return completeness(block.get("settings") or {}) > 0


def _summary(block: dict[str, Any]) -> dict[str, Any]:
    return {k: block.get(k) for k in ("settings", "computed", "metrics")}


class ForeignDocument(UserError, ValueError):
    """The results file to merge into describes another model or revision."""


IDENTITY_KEYS = ("id", "origin", "source", "revision")


def same_model(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two model blocks name the same model revision."""
    ma, mb = a.get("model"), b.get("model")
    return isinstance(ma, dict) and isinstance(mb, dict) and all(ma.get(k) == mb.get(k) for k in IDENTITY_KEYS)


def merge(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """`new` (one run) merged into `old` (what is on disk): see the module docstring for the rules."""
    new = {k: v for k, v in new.items() if k != "verification"}
    if not old:
        return new
    if not same_model(old, new):
        m = old.get("model") if isinstance(old.get("model"), dict) else {}
        raise ForeignDocument(f"the results file to merge into describes {m.get('id')!r} @ {m.get('revision')!r}, "
                              f"not {(new.get('model') or {}).get('id')}; it was copied there: "
                              "move it aside and rerun")
    doc = dict(new)
    results = dict(old.get("results") or {})
    partial = dict(old.get("partial_results") or {})
    superseded = {k: list(v) for k, v in (old.get("superseded") or {}).items()}
    versions = {**(old.get("versions") or {})}
    configs = {**(old.get("configs") or {})}
    for task, block in (new.get("results") or {}).items():
        current = results.get(task)
        settings = block.get("settings") or {}
        if current is not None and completeness(settings) < completeness(current.get("settings") or {}):
            partial[task] = block
            continue
        if current is not None and (current.get("settings") or {}) != settings:
            superseded.setdefault(task, []).append(_summary(current))
        results[task] = block
        if completeness(settings) >= 1:  # a published block supersedes a partial one kept aside earlier
            partial.pop(task, None)
        versions[task] = (new.get("versions") or {}).get(task)
        configs[task] = (new.get("configs") or {}).get(task)
    skipped = {**(old.get("skipped") or {}), **(new.get("skipped") or {})}
    doc.update(results=results, versions=versions, configs=configs,
               skipped={k: v for k, v in skipped.items() if k not in results})
    if partial:
        doc["partial_results"] = partial
    if superseded:
        doc["superseded"] = superseded
    if "sanity" not in new and "sanity" in old:
        doc["sanity"] = old["sanity"]
    own, model = (old.get("model") or {}).get("rewardbench_self_reported"), doc.get("model")
    if own is not None and isinstance(model, dict) and "rewardbench_self_reported" not in model:
        doc["model"] = {**model, "rewardbench_self_reported": own}  # a later run without the flag keeps it
    doc["runs"] = (old.get("runs") or []) + [{"created": new.get("created"), "tasks": sorted(new.get("results") or {}),
                                              "wall_time_s": new.get("wall_time_s")}]
    return doc


def covers(doc: dict[str, Any] | None, wanted: dict[str, dict[str, Any]]) -> bool:
    """True when `doc` already holds, for every task in `wanted`, a block computed with exactly those settings."""
    if not doc:
        return False
    results = doc.get("results") or {}
    for task, settings in wanted.items():
        block = results.get(task)
        have = (block or {}).get("settings") or {}
        if block is None or any(have.get(k) != v for k, v in settings.items()):
            return False
    return True


def jsonable(obj: Any) -> Any:
    """numpy scalars and arrays to Python, NaN and inf to None (JSON has neither)."""
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def read(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The document at `path`, None when absent; a file that is not a strict JSON object raises
    UntrustedFileError naming it (a FIFO, link or device is refused without being opened for long)."""
    try:
        return untrusted.read_json_object(path, "results document")
    except FileNotFoundError:
        return None


def locked(path: Path):
    """The merge lock of one results.json: a second writer waits its turn."""
    return file_lock(path.with_name(".results.lock"))


def write(doc: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write `doc` as it is (atomically)."""
    return atomic_write_json(path, jsonable(doc))


def write_merged(new: dict[str, Any], path: str | os.PathLike[str]) -> dict[str, Any]:
    """Merge `new` into the results file at `path` under a lock and write it atomically; returns the merged doc.

    A damaged results file (a regular file that is not a JSON object, e.g. torn by a crash) is set aside as
    `results.json.damaged-<utc>` rather than overwritten; anything else in its place (a link, a FIFO) is refused."""
    p = Path(path)
    with locked(p):
        try:
            old = read(p)
        except untrusted.UntrustedFileError:
            if p.is_symlink() or not p.is_file():
                raise
            old = None
            p.rename(p.with_name(f"{p.name}.damaged-{utc_now().replace(':', '')}"))
        doc = jsonable(merge(old, new))
        atomic_write_json(p, doc)
    return doc
