"""The maintainer's trust store: what this installation's own processes established about audits, by content.

A results folder may hold audits from anyone, so nothing inside it can say "verified" (docs/security.md). The
store lives where the maintainer says (`--trust-store DIR`, else `$RM_HARNESS_TRUST_STORE`, else the user's data
folder), never where a document says, and it holds:

    computed/<sha[:2]>/<sha256>       a file this installation wrote itself (score-table parts, tables, meta.json)
    audits/<digest>.verify.json       the latest `rm-harness verify` outcome about one audit's exact bytes:
                                      `verified`, `mismatch` or `stale`
    audits/<digest>.computed.json     this installation's own run computed exactly these bytes
    blobs/<sha[:2]>/<sha256>          figures rendered by this installation for a trusted audit

`digest` is the sha256 of the audit's content: results.json and every score table it cites (parquet and
meta.json), each by its own sha256 (`harness.results.audit.AuditFolder.content_files`). Editing any of those
bytes changes the digest, so a record stops applying the moment its audit changes: the board shows a badge only
for a record about the bytes it is showing now.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

from harness.io import untrusted
from harness.errors import UserError
from harness.io.atomic import atomic_write_bytes, atomic_write_json

STORE_ENV = "RM_HARNESS_TRUST_STORE"
RECORD_SCHEMA = "rm-harness-trust-record/1"
TRUSTED = ("verified", "computed")  # statuses whose audits the board may badge and compare
_SHA = re.compile(r"^[0-9a-f]{64}$")


class TrustStoreError(UserError, OSError):
    """The trust store cannot be used where it was named."""


def default_root() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "rm-harness" / "trust"


def store_root(flag: str | os.PathLike[str] | None = None) -> Path:
    """The store's folder: the maintainer's flag, else the environment, else the user's data folder."""
    return Path(flag or os.environ.get(STORE_ENV) or default_root()).expanduser()


def content_digest(files: dict[str, str]) -> str:
    """One sha256 for an audit's content: its files' relative paths and sha256s, in path order."""
    h = hashlib.sha256()
    for rel in sorted(files):
        h.update(rel.encode("utf-8") + b"\0" + files[rel].encode("ascii") + b"\n")
    return h.hexdigest()


class TrustStore:
    """The store at `root` (created on first write)."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    @classmethod
    def at(cls, flag: str | os.PathLike[str] | None = None) -> "TrustStore":
        return cls(store_root(flag))

    def _sharded(self, kind: str, sha: str) -> Path:
        if not _SHA.match(sha):
            raise ValueError(f"not a sha256: {sha!r}")
        return self.root / kind / sha[:2] / sha

    def check_apart_from(self, results_dir: str | os.PathLike[str]) -> None:
        """Refuse a store inside a results folder: whoever can add an audit there could add records too."""
        if untrusted.is_inside(self.root, results_dir):
            raise TrustStoreError(f"--trust-store {self.root} lies inside the results folder {results_dir}; "
                                  "keep it where submitted files cannot reach (the default is your data folder)")

    # --- files this installation wrote ---------------------------------------------------------------------

    def attest(self, sha256: str) -> None:
        path = self._sharded("computed", sha256)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(exist_ok=True)
        except OSError as e:
            raise TrustStoreError(f"cannot write to the trust store {self.root} ({e.strerror}); name a writable "
                                  "folder with --trust-store") from e

    def attested(self, sha256: str) -> bool:
        try:
            return self._sharded("computed", sha256).is_file()
        except ValueError:
            return False

    # --- records about whole audits ------------------------------------------------------------------------

    def record_path(self, digest: str, kind: str = "verify") -> Path:
        """`audits/<digest>.<kind>.json`: kind `verify` (the latest `verify` outcome) or `computed`."""
        if not _SHA.match(digest) or kind not in ("verify", "computed"):
            raise ValueError(f"not a content digest and record kind: {digest!r}, {kind!r}")
        return self.root / "audits" / f"{digest}.{kind}.json"

    def record(self, digest: str, kind: str = "verify") -> dict[str, Any] | None:
        """The record of `kind` about exactly this content, or None."""
        try:
            rec = untrusted.read_json_object(self.record_path(digest, kind), "trust record")
        except FileNotFoundError:
            return None
        except untrusted.UntrustedFileError:
            return None  # a damaged record trusts nothing
        if rec.get("schema") != RECORD_SCHEMA or rec.get("digest") != digest:
            return None
        return rec

    def trusted(self, digest: str) -> dict[str, Any] | None:
        """The record that makes this content trusted: `verify` found it true, or (unless `verify` found it
        false) this installation computed it."""
        checked = self.record(digest, "verify")
        if checked is not None and checked.get("status") == "verified":
            return checked
        if checked is not None and checked.get("status") == "mismatch":
            return None
        computed = self.record(digest, "computed")
        return computed if computed is not None and computed.get("status") == "computed" else None

    def write_record(self, record: dict[str, Any]) -> Path:
        record = {"schema": RECORD_SCHEMA, **record}
        kind = "computed" if record.get("status") == "computed" else "verify"
        try:
            return atomic_write_json(self.record_path(record["digest"], kind), record)
        except OSError as e:
            raise TrustStoreError(f"cannot write to the trust store {self.root} ({e.strerror}); name a writable "
                                  "folder with --trust-store") from e

    # --- figures rendered here -----------------------------------------------------------------------------

    def put_blob(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        path = self._sharded("blobs", sha)
        if not path.is_file():
            atomic_write_bytes(path, data)
        return sha

    def blob(self, sha256: str) -> Path | None:
        try:
            path = self._sharded("blobs", sha256)
        except ValueError:
            return None
        return path if path.is_file() else None
