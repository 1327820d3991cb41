"""Score tables on disk: parquet parts written as the scan goes, merged into one table, keyed by content hash.

Layout: `<root>/<key>/part-<start>-<end>.<sha256>.parquet` while scanning, then `<root>/<key>/table.parquet` and
`meta.json` (which records the table's sha256) once complete. Every file is written atomically, and its checksum
is checked before use: a part or table that fails (torn, truncated, or garbage in the middle with an intact
footer) is deleted and rescanned, so damage costs a rescan of what it touched and never a rerun that dies again.
Temporary files of a killed writer are removed by the next run that touches the folder.

`meta.json` also holds `key_parts`, the exact mapping hashed into the key, so `read_table_dir` can check that a
table someone else wrote is what its folder name says (key, checksum, row count, columns) without trusting it,
and without deleting anything: that reader is for other people's audits, `TableStore.load` for one's own cache.
A `witness` (the maintainer's trust store) is told the checksum of every part and table this process writes, so
an audit can later show which of its tables were computed here.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from harness.io import untrusted
from harness.errors import UserError
from harness.io.atomic import (
    atomic_write_bytes,
    atomic_write_json,
    cleanup_temp_files,
    kill_point,
    writer_prefix,
)

SCHEMA_VERSION = 1
log = logging.getLogger(__name__)
_PART = re.compile(r"^part-(\d{10})-(\d{10})\.([0-9a-f]{64})\.parquet$")
_OLD_PART = re.compile(r"^part-(\d{10})-(\d{10})\.parquet$")  # before checksums: cannot be verified


class TableStoreError(UserError, OSError):
    """The table folder cannot be used (e.g. not writable)."""


class DamagedFile(Exception):
    """A part or table whose bytes do not match the checksum recorded when it was written."""


class TableCheckError(UserError, ValueError):
    """A score table that is not what its folder and meta.json say (checksum, key, rows, columns)."""


class Witness(Protocol):
    """Who is told the sha256 of each file this process writes (the trust store), and asked about others."""

    def attest(self, sha256: str) -> None: ...

    def attested(self, sha256: str) -> bool: ...


REQUIRED_COLUMNS = ("id", "score", "finite")
MAX_TABLE_BYTES = 4 << 30


def table_key(parts: dict[str, Any]) -> str:
    """Hash of everything that determines the scores."""
    blob = json.dumps({"schema": SCHEMA_VERSION, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class ScoreTable:
    df: pd.DataFrame
    meta: dict[str, Any]
    path: Path


def _parquet_bytes(df: pd.DataFrame) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), sink)
    return sink.getvalue().to_pybytes()


def read_verified(path: Path, sha256: str) -> pd.DataFrame:
    """The parquet file at `path`, after checking its bytes against `sha256`; DamagedFile if they differ."""
    data = path.read_bytes()
    if sha256_hex(data) != sha256:
        raise DamagedFile(f"{path}: checksum mismatch")
    return pq.read_table(io.BytesIO(data)).to_pandas()


def read_table_dir(folder: str | Path) -> ScoreTable:
    """The finished table in `folder`, after checking everything it claims: meta.json is a regular JSON file whose
    `key` is the folder's name and the hash of its `key_parts`, table.parquet's bytes match `table_sha256`, and
    the rows and columns are as recorded. TableCheckError names what is wrong; nothing is deleted."""
    folder = Path(folder)
    meta_path, table_path = folder / "meta.json", folder / "table.parquet"
    try:
        meta = untrusted.read_json_object(meta_path, "score table's meta.json", max_bytes=untrusted.MAX_SMALL_JSON_BYTES)
    except FileNotFoundError:
        raise TableCheckError(f"{folder}: no meta.json; not a finished score table") from None
    parts, key, digest = meta.get("key_parts"), meta.get("key"), meta.get("table_sha256")
    if not isinstance(parts, dict):
        raise TableCheckError(f"{meta_path}: no key_parts (written by an older harness, or not by the harness); "
                              "rescan the model to rebuild it")
    if key != folder.name or table_key(parts) != key:
        raise TableCheckError(f"{meta_path}: the table's key does not match its folder and settings (key {key!r}, "
                              f"folder {folder.name!r}); it was moved or edited")
    if not isinstance(digest, str):
        raise TableCheckError(f"{meta_path}: no table_sha256; the table cannot be checked")
    try:
        data = untrusted.read_bytes(table_path, "score table", max_bytes=MAX_TABLE_BYTES)
    except FileNotFoundError:
        raise TableCheckError(f"{folder}: no table.parquet") from None
    if sha256_hex(data) != digest:
        raise TableCheckError(f"{table_path}: its bytes do not match the checksum in meta.json; it was edited or "
                              "damaged")
    try:
        df = pq.read_table(io.BytesIO(data)).to_pandas()
    except Exception as e:  # noqa: BLE001 - any parse failure of hostile bytes is one message
        raise TableCheckError(f"{table_path}: not a readable parquet table ({type(e).__name__})") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing or len(df) != meta.get("n_rows"):
        raise TableCheckError(f"{table_path}: {'lacks columns ' + ', '.join(missing) if missing else 'row count'} "
                              f"differs from meta.json")
    return ScoreTable(df, meta, table_path)


class TableStore:
    """A folder of score tables (one's own: damaged files are deleted and rescanned)."""

    def __init__(self, root: str | Path, witness: Witness | None = None):
        self.root = Path(root)
        self.witness = witness

    def check_writable(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            # Named like a temp file, so a probe left by a killed run is cleaned up like one.
            probe = self.root / f"{writer_prefix(self.root / 'write-probe')}probe.tmp"
            probe.write_text("ok")
            probe.unlink()
        except OSError as e:
            raise TableStoreError(
                f"cannot write score tables to {self.root} ({e.strerror or e}); "
                "choose a writable folder with --output-dir"
            ) from e

    def folder(self, key: str) -> Path:
        return self.root / key

    def _parts(self, key: str) -> list[tuple[int, int, str | None, Path]]:
        folder = self.folder(key)
        if not folder.is_dir():
            return []
        out = []
        for path in sorted(folder.iterdir()):
            m = _PART.match(path.name) or _OLD_PART.match(path.name)
            if m:
                out.append((int(m.group(1)), int(m.group(2)), m.group(3) if m.re is _PART else None, path))
        return out

    def _discard(self, folder: Path, why: str) -> None:
        """A finished table that cannot be trusted: remove it (meta first) so the key reads as unfinished."""
        log.warning("score table %s %s; it will be rebuilt", folder, why)
        for name in ("meta.json", "table.parquet"):
            try:
                (folder / name).unlink()
            except OSError:
                pass

    def load(self, key: str) -> ScoreTable | None:
        """The finished table for `key`, or None (also when the files are damaged: they are then removed and the
        table is rebuilt by the next scan)."""
        folder = self.folder(key)
        meta_path, table_path = folder / "meta.json", folder / "table.parquet"
        if not (meta_path.exists() and table_path.exists()):
            return None
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            digest = meta.get("table_sha256")
            if digest is None:  # written before checksums: the footer check below is all there is
                df = pq.read_table(table_path).to_pandas()
            else:
                df = read_verified(table_path, digest)
        except DamagedFile:
            self._discard(folder, "does not match the checksum in its meta.json")
            return None
        except Exception as e:  # unreadable files: rescan rather than trust them
            self._discard(folder, f"is unreadable ({type(e).__name__}: {e})")
            return None
        parts = meta.get("key_parts")
        if meta.get("key") != key or len(df) != meta.get("n_rows") or not isinstance(parts, dict) \
                or table_key(parts) != key:
            self._discard(folder, "does not match its metadata (or predates key_parts)")
            return None
        self._tidy(key)
        return ScoreTable(df, meta, table_path)

    def _tidy(self, key: str) -> None:
        """A finished table makes its parts redundant: remove any a killed merge left behind, and dead temps."""
        for _, _, _, path in self._parts(key):
            path.unlink(missing_ok=True)
        cleanup_temp_files(self.folder(key))

    def done_parts(self, key: str) -> dict[tuple[int, int], Path]:
        """Parts already on disk whose bytes match their checksum; damaged or unverifiable ones are deleted so
        they get rescanned. Temporary files of dead writers are removed too."""
        cleanup_temp_files(self.folder(key))
        out: dict[tuple[int, int], Path] = {}
        for start, end, digest, path in self._parts(key):
            ok = digest is not None and (start, end) not in out
            if ok:
                try:
                    ok = sha256_hex(path.read_bytes()) == digest
                except OSError:
                    ok = False
            if ok:
                out[(start, end)] = path
            else:
                log.warning("part %s is damaged, unverifiable or a duplicate; rescanning rows %d-%d", path, start, end)
                path.unlink(missing_ok=True)
        return out

    def write_part(self, key: str, start: int, end: int, df: pd.DataFrame) -> Path:
        folder = self.folder(key)
        folder.mkdir(parents=True, exist_ok=True)
        data = _parquet_bytes(df)
        digest = sha256_hex(data)
        path = folder / f"part-{start:010d}-{end:010d}.{digest}.parquet"
        atomic_write_bytes(path, data)
        if self.witness is not None:
            self.witness.attest(digest)
        return path

    def finalize(self, key: str, n_rows: int, meta: dict[str, Any],
                 notes: Callable[[pd.DataFrame], dict[str, Any]] | None = None) -> ScoreTable:
        """Merge the parts (all must be there) into one table; meta.json, with the table's checksum, goes last.
        `notes(df)`: what the scorer kind says about the whole table (e.g. a judge's rating mass), into meta."""
        parts = self.done_parts(key)
        covered = sorted(parts)
        expected_start = 0
        for start, end in covered + [(n_rows, n_rows)]:
            if start != expected_start:
                done = self.load(key)  # a concurrent run may have merged them already
                if done is not None:
                    return done
                raise RuntimeError(f"score table {key}: rows {expected_start}-{start} are missing; "
                                   "rerun to rescan them")
            expected_start = end
        frames = []
        for c in covered:
            path = parts[c]
            try:
                frames.append(read_verified(path, _PART.match(path.name).group(3)))
            except (DamagedFile, OSError) as e:  # changed since done_parts checked it
                path.unlink(missing_ok=True)
                raise RuntimeError(f"score table {key}: part {path.name} is damaged ({e}); rerun to rescan it") from e
        df = pd.concat(frames, ignore_index=True)
        folder = self.folder(key)
        table_path = folder / "table.parquet"
        data = _parquet_bytes(df)
        atomic_write_bytes(table_path, data)
        finite = df["finite"]
        meta = {**meta, **(notes(df) if notes else {}), "key": key, "n_rows": len(df),
                "n_nonfinite": int((~finite).sum()),
                "table_sha256": sha256_hex(data), "schema": SCHEMA_VERSION}
        meta_path = atomic_write_json(folder / "meta.json", meta)
        if self.witness is not None and all(self.witness.attested(_PART.match(p.name).group(3))
                                            for p in parts.values()):
            # computed here only when every part was: a part left by someone else keeps the table unattested
            self.witness.attest(meta["table_sha256"])
            self.witness.attest(sha256_hex(meta_path.read_bytes()))
        for path in parts.values():
            path.unlink(missing_ok=True)
            kill_point("table.part_removed", path.name)
        return ScoreTable(df, meta, table_path)
