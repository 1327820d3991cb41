"""Find finished score tables in results folders by what they scored (prompt text, response set).

Used by everything that analyses without a model: `rm-harness analyse` (one model) and `compare` (many).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from harness.errors import UserError
from harness.submission import model_slug
from harness.tasks.spec import TaskSpec

log = logging.getLogger(__name__)


class CachedTablesError(UserError, ValueError):
    """No audited results (or not the tables a task needs); the message says what to run."""


def find_results(model: str, results_dir: Path) -> Path:
    for candidate in (results_dir / model / "results.json", results_dir / model_slug(model) / "results.json"):
        if candidate.exists():
            return candidate
    raise CachedTablesError(f"no results for {model!r} in {results_dir}; "
                            f"audit it first with `rm-harness run --model {model}`")


def table_index(model_dir: Path) -> dict[tuple[str, str], Path]:
    """(prompt text, response set) → finished table, from each table's meta.json."""
    index = {}
    for meta_path in sorted((model_dir / "tables").glob("*/meta.json")):
        meta = json.loads(meta_path.read_text())
        index[(meta.get("prompt"), meta.get("response_set"))] = meta_path.with_name("table.parquet")
    return index


def response_set(spec: TaskSpec) -> str:
    return "vocabulary" if spec.responses["type"] == "vocabulary" else Path(spec.responses["path"]).stem


def tables_for(spec: TaskSpec, model_id: str, kind: str, folder: Path) -> dict[str, tuple[pd.DataFrame, Path]] | None:
    """prompt key → (table, path) for one audited model, or None when a prompt was never scanned."""
    index = table_index(folder)
    wanted = {k: index.get((p, response_set(spec))) for k, p in spec.prompts.items()}
    missing = [k for k, path in wanted.items() if path is None]
    if missing:
        log.warning("%s: %s has no tables for prompts %s; run `rm-harness run` for it", spec.task, model_id, missing)
        return None
    out = {}
    for k, path in wanted.items():
        df = pd.read_parquet(path)
        df.attrs.update(scorer=kind, model=model_id, prompt_key=k)
        out[k] = (df, path)
    return out
