"""The results layout: the only module that builds a path under an output folder.

    <out>/<slug>/<revision12>/results.json        one audit of one model revision (+ report.html, figures/, tables/)
    <out>/requests/<slug>/<revision12>/<utc>-<pid>.json   one submission record per attempt
    <out>/_compare/compare.json                   between-model analyses

`slug` comes from the ModelRef (`org__name`, `local__<folder>__<hash8>`, `demo__<name>`): two local folders with
the same name but different bytes never share a folder, and every Hub revision keeps its own.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from harness.errors import UserError

RESULTS_FILE = "results.json"
REQUESTS_DIR = "requests"
COMPARE_DIR = "_compare"
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class ResultsNotFound(UserError, LookupError):
    """No audit matches what the user named; the message lists what there is."""


@dataclass
class Audit:
    """One results.json on disk: one model revision."""

    path: Path
    display_id: str
    slug: str
    revision: str
    created: str
    others: list["Audit"] = field(default_factory=list)  # older revisions of the same model (latest_audits only)

    @cached_property
    def doc(self) -> dict[str, Any]:
        return json.loads(self.path.read_text(encoding="utf-8"))

    @property
    def folder(self) -> Path:
        return self.path.parent


def is_inside(path: str | os.PathLike[str], folder: str | os.PathLike[str]) -> bool:
    """Whether `path` resolves to `folder` or somewhere below it (links followed)."""
    try:
        Path(path).resolve().relative_to(Path(folder).resolve())
        return True
    except (ValueError, OSError):
        return False


def _short(revision: str) -> str:
    rev = revision.split("-", 1)[1] if revision.startswith("sha256-") else revision
    return re.sub(r"[^A-Za-z0-9._-]+", "-", rev).strip(".-")[:12] or "unknown"


class Layout:
    """Paths under one output folder. Pass it a ModelRef (or anything with .slug and .revision)."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    # one model revision
    def audit_dir(self, ref) -> Path:
        return self.root / ref.slug / _short(ref.revision)

    def results_path(self, ref) -> Path:
        return self.audit_dir(ref) / RESULTS_FILE

    def tables_dir(self, ref) -> Path:
        return self.audit_dir(ref) / "tables"

    def gcg_dir(self, ref) -> Path:
        return self.audit_dir(ref) / "gcg"

    # records
    @property
    def requests_dir(self) -> Path:
        return self.root / REQUESTS_DIR

    def records_dir(self, ref) -> Path:
        return self.requests_dir / ref.slug / _short(ref.revision)

    def record_path(self, ref, attempt: str) -> Path:
        return self.records_dir(ref) / f"{attempt}.json"

    def lock_path(self, ref) -> Path:
        return self.records_dir(ref) / ".lock"

    # between models
    @property
    def compare_dir(self) -> Path:
        return self.root / COMPARE_DIR

    def relative(self, path: str | os.PathLike[str]) -> str:
        """`path` relative to the output folder (absolute when it lies elsewhere)."""
        p = Path(path)
        try:
            return p.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(p.resolve())

    # discovery
    def audits(self) -> list[Audit]:
        """Every readable results.json of this layout (model folders only; hidden and `_` folders skipped)."""
        out = []
        if not self.root.is_dir():
            return out
        for path in sorted(self.root.glob(f"*/*/{RESULTS_FILE}")):
            slug = path.parent.parent.name
            if slug.startswith(("_", ".")) or slug == REQUESTS_DIR or not _SAFE.match(path.parent.name):
                continue
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
                model = doc["model"]
                audit = Audit(path, str(model["id"]), slug, str(model.get("revision")), str(doc.get("created", "")))
            except (OSError, ValueError, KeyError, TypeError):
                continue  # unreadable or foreign files are not audits
            audit.__dict__["doc"] = doc
            out.append(audit)
        return out

    def latest_audits(self) -> list[Audit]:
        """One Audit per model (the newest revision audited), each listing its older revisions in `.others`."""
        groups: dict[str, list[Audit]] = {}
        for a in self.audits():
            groups.setdefault(a.display_id, []).append(a)
        latest = []
        for items in groups.values():
            items.sort(key=lambda a: a.created, reverse=True)
            head = items[0]
            head.others = items[1:]
            latest.append(head)
        return sorted(latest, key=lambda a: a.display_id.lower())

    def find(self, model: str) -> Path:
        """results.json for what the user named: a display id, a Hub id, a slug, a slug/revision, or a folder."""
        direct = Path(model)
        for candidate in (direct / RESULTS_FILE, direct):
            if candidate.is_file() and candidate.name == RESULTS_FILE:
                return candidate
        audits = self.latest_audits()
        for a in audits:
            if model in (a.display_id, a.slug, f"{a.slug}/{a.folder.name}"):
                return a.path
            for o in a.others:
                if model == f"{o.slug}/{o.folder.name}":
                    return o.path
        known = ", ".join(a.display_id for a in audits) or "none"
        raise ResultsNotFound(f"no results for {model!r} in {self.root} (audited: {known}); audit it first with "
                              f"`rm-harness run --model {model}`")

