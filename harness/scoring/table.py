"""Score tables on disk: parquet parts written as the scan goes, merged into one table, keyed by content hash.

Layout: `<root>/<key>/part-<start>-<end>.parquet` while scanning, then `<root>/<key>/table.parquet` and
`meta.json` once complete. Parts are written to a temporary name and renamed, so a killed scan leaves only
whole parts; a part that fails to read or has the wrong row count is treated as never written.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from harness.atomic import atomic_write_bytes, atomic_write_json
from harness.errors import UserError

SCHEMA_VERSION = 1
log = logging.getLogger(__name__)
_PART = re.compile(r"^part-(\d{10})-(\d{10})\.parquet$")


class TableStoreError(UserError, OSError):
    """The table folder cannot be used (e.g. not writable)."""


def table_key(parts: dict[str, Any]) -> str:
    """Hash of everything that determines the scores."""
    blob = json.dumps({"schema": SCHEMA_VERSION, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


@dataclass
class ScoreTable:
    df: pd.DataFrame
    meta: dict[str, Any]
    path: Path


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), sink)
    atomic_write_bytes(path, sink.getvalue().to_pybytes())


class TableStore:
    """A folder of score tables."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def check_writable(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / f".write-probe-{os.getpid()}"
            probe.write_text("ok")
            probe.unlink()
        except OSError as e:
            raise TableStoreError(
                f"cannot write score tables to {self.root} ({e.strerror or e}); "
                "choose a writable folder with --output-dir (or --cache-dir)"
            ) from e

    def folder(self, key: str) -> Path:
        return self.root / key

    def load(self, key: str) -> ScoreTable | None:
        """The finished table for `key`, or None (also when the files are damaged: they are rescanned)."""
        folder = self.folder(key)
        meta_path, table_path = folder / "meta.json", folder / "table.parquet"
        if not (meta_path.exists() and table_path.exists()):
            return None
        try:
            meta = json.loads(meta_path.read_text())
            df = pq.read_table(table_path).to_pandas()
        except Exception as e:  # damaged files: rescan rather than trust them
            log.warning("score table %s is unreadable (%s); it will be rescanned", folder, e)
            return None
        if meta.get("key") != key or len(df) != meta.get("n_rows"):
            log.warning("score table %s does not match its metadata; it will be rescanned", folder)
            return None
        return ScoreTable(df, meta, table_path)

    def done_parts(self, key: str) -> dict[tuple[int, int], Path]:
        """Whole, readable parts already on disk; damaged ones are deleted so they get rescanned."""
        folder = self.folder(key)
        out: dict[tuple[int, int], Path] = {}
        if not folder.exists():
            return out
        for path in sorted(folder.iterdir()):
            m = _PART.match(path.name)
            if not m:
                continue
            start, end = int(m.group(1)), int(m.group(2))
            try:
                ok = pq.ParquetFile(path).metadata.num_rows == end - start
            except Exception:
                ok = False
            if ok:
                out[(start, end)] = path
            else:
                log.warning("part %s is damaged; rescanning rows %d-%d", path, start, end)
                path.unlink(missing_ok=True)
        return out

    def write_part(self, key: str, start: int, end: int, df: pd.DataFrame) -> Path:
        folder = self.folder(key)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"part-{start:010d}-{end:010d}.parquet"
        _write_parquet(df, path)
        return path

    def finalize(self, key: str, n_rows: int, meta: dict[str, Any]) -> ScoreTable:
        """Merge the parts (all must be there) into one table and write meta.json last."""
        parts = self.done_parts(key)
        covered = sorted(parts)
        expected_start = 0
        for start, end in covered:
            if start != expected_start:
                raise RuntimeError(f"score table {key}: rows {expected_start}-{start} are missing")
            expected_start = end
        if expected_start != n_rows:
            raise RuntimeError(f"score table {key}: rows {expected_start}-{n_rows} are missing")
        df = pd.concat([pq.read_table(parts[c]).to_pandas() for c in covered], ignore_index=True)
        folder = self.folder(key)
        table_path = folder / "table.parquet"
        _write_parquet(df, table_path)
        finite = df["finite"]
        meta = {**meta, "key": key, "n_rows": len(df), "n_nonfinite": int((~finite).sum()), "schema": SCHEMA_VERSION}
        atomic_write_json(folder / "meta.json", meta)
        for path in parts.values():
            path.unlink(missing_ok=True)
        return ScoreTable(df, meta, table_path)
