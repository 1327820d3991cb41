"""Trust records about whole audits: `computed` by this installation's own run, and the figures a trusted record
vouches for (copied into the trust store, so a later edit of the audit's PNGs cannot change what is shown).

A run may record its audit as computed here only when every byte it cites came from this installation: the
results.json it merged into was absent or itself trusted, and every cited table (parquet and meta.json) was
written by this installation's scans (attested in the store) or belongs to the earlier trusted record. A table
left in the folder by someone else keeps the audit untrusted until `rm-harness verify` checks it.
"""

from __future__ import annotations

from typing import Any

from harness import __version__
from harness.io import untrusted
from harness.results.audit import RESULTS_FILE, Audit
from harness.results.trust import TrustStore


def record_of(store: TrustStore | None, audit: Audit) -> dict[str, Any] | None:
    """The trust record about this audit's exact bytes that makes it trusted, or None."""
    return None if store is None else store.trusted(audit.digest)


def figure_blobs(store: TrustStore, audit: Audit, blocks: dict[str, dict[str, Any]] | None = None,
                 folder=None) -> dict[str, str]:
    """Copy the figures of `blocks` (default: the audit's) that are real PNGs in `folder` (default: the audit
    folder) into the store; relative path -> sha256."""
    base = folder or audit.folder
    out: dict[str, str] = {}
    for block in (blocks if blocks is not None else audit.blocks()).values():
        for rel in block.get("figures") or []:
            try:
                path = untrusted.contained(base, rel, "figure")
                data = untrusted.read_bytes(path, "figure", max_bytes=64 << 20)
            except (OSError, untrusted.UntrustedFileError):
                continue
            if untrusted.is_png(data):
                out[rel] = store.put_blob(data)
    return out


def record_computed(store: TrustStore, audit: Audit, prior: dict[str, Any] | None, existed: bool) -> dict | None:
    """Write a `computed` record about `audit` when every byte it cites came from this installation (see the
    module docstring); return it, or None when the audit stays untrusted."""
    if existed and prior is None:
        return None  # merged into a document of unknown origin
    files = audit.content_files()
    known = set((prior or {}).get("files", {}).values())
    if any(rel != RESULTS_FILE and not (sha in known or store.attested(sha)) for rel, sha in files.items()):
        return None
    record = {"status": "computed", "digest": audit.digest, "files": files,
              "model": {"id": audit.display_id, "revision": audit.revision, "slug": audit.slug},
              "figures": figure_blobs(store, audit), "at": _now(), "harness_version": __version__,
              "note": "computed by this installation's own run"}
    store.write_record(record)
    return record


def _now() -> str:
    from harness.results.document import utc_now

    return utc_now()
