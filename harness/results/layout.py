"""The results layout: the only module that builds a path under an output folder.

    <out>/<slug>/<revision12>/results.json        one audit of one model revision (+ report.html, figures/, tables/)
    <out>/requests/<slug>/<revision12>/<utc>-<pid>.json   one submission record per attempt
    <out>/_compare/compare.json                   between-model analyses

`slug` comes from the ModelRef (`org__name`, `local__<folder>__<hash8>`, `demo__<name>`): two local folders with
the same name but different bytes never share a folder, and every Hub revision keeps its own.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from harness.errors import UserError
from harness.models.identity import is_model_folder, local_folder_slug, short_revision
from harness.io.untrusted import is_inside
from harness.results.audit import RESULTS_FILE, Audit, AuditError, open_audit

__all__ = ["Audit", "AuditError", "Layout", "ResultsNotFound", "RESULTS_FILE", "REQUESTS_DIR", "COMPARE_DIR",
           "is_inside"]

REQUESTS_DIR = "requests"
COMPARE_DIR = "_compare"
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class ResultsNotFound(UserError, LookupError):
    """No audit matches what the user named; the message lists what there is."""


class Layout:
    """Paths under one output folder. Pass it a ModelRef (or anything with .slug and .revision)."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    # one model revision
    def audit_dir(self, ref) -> Path:
        return self.root / ref.slug / short_revision(ref.revision)

    def checked_audit_dir(self, ref) -> Path:
        """The audit folder of `ref`, after checking that it and the folders above it (inside the output folder)
        are real folders holding only regular files: a link planted there would send writes elsewhere."""
        from harness.io import untrusted

        folder = self.audit_dir(ref)
        cur = self.root
        for part in folder.relative_to(self.root).parts:
            cur = cur / part
            if cur.is_symlink() or (cur.exists() and not cur.is_dir()):
                raise AuditError(f"{cur}: not a real folder (a symbolic link or a file) inside the output folder; "
                                 "remove it")
        untrusted.check_tree(folder)
        return folder

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
        return self.requests_dir / ref.slug / short_revision(ref.revision)

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
    def survey(self) -> tuple[list[Audit], list[str]]:
        """Every audit of this layout that reads as what it claims to be, and one line per folder left out."""
        out, left_out = self._survey()
        return out, [line for _, line in left_out]

    def _survey(self) -> tuple[list[Audit], list[tuple[Path, str]]]:
        out: list[Audit] = []
        problems: list[tuple[Path, str]] = []
        if not self.root.is_dir():
            return out, problems
        for path in sorted(self.root.glob(f"*/*/{RESULTS_FILE}")):
            slug = path.parent.parent.name
            if slug.startswith(("_", ".")) or slug == REQUESTS_DIR or not _SAFE.match(path.parent.name):
                continue
            try:
                out.append(open_audit(path, self.root))
            except UserError as e:
                problems.append((path.parent, f"left out {self.relative(path.parent)}: {e.one_line()}"))
        return out, problems

    def audits(self) -> list[Audit]:
        """Every audit of this layout that reads as what it claims to be (see `survey` for the others)."""
        return self.survey()[0]

    def latest_audits(self, prefer=None, audits: list[Audit] | None = None) -> list[Audit]:
        """One Audit per model (by results folder), each listing its older revisions in `.others`. The one shown
        is the newest (by the document's `created`) among those `prefer(audit)` accepts, else the newest.
        `audits`: what `survey` found, when the caller has it already."""
        groups: dict[str, list[Audit]] = {}
        for a in self.audits() if audits is None else audits:
            groups.setdefault(a.slug, []).append(a)
        latest = []
        for items in groups.values():
            items.sort(key=lambda a: (bool(prefer(a)) if prefer else False, a.created), reverse=True)
            head = items[0]
            head.others = items[1:]
            latest.append(head)
        return sorted(latest, key=lambda a: a.display_id.lower())

    def open(self, model: str) -> Audit:
        """The audit the user named: a display id, a Hub id, a slug, a slug/revision, an audit folder or its
        results.json, or the local model folder that was audited (read as `run --model` reads it)."""
        direct = Path(model)
        for candidate in (direct / RESULTS_FILE, direct):
            if candidate.name == RESULTS_FILE and (candidate.is_file() or candidate.is_symlink()
                                                  or candidate.exists()):
                return open_audit(candidate)
        if is_model_folder(model):
            return self._open_model_folder(model)
        found, left_out = self._survey()
        audits = self.latest_audits(audits=found)
        for a in audits:
            if model in (a.display_id, a.slug, f"{a.slug}/{a.folder.name}", a.model.get("source")):
                return a
            for o in a.others:
                if model == f"{o.slug}/{o.folder.name}":
                    return o
        # an audit folder of this name that could not be read is the answer, not "no results"
        named = {model, model.replace("/", "__")}
        for folder, line in left_out:
            if folder.parent.name in named or f"{folder.parent.name}/{folder.name}" in named:
                raise ResultsNotFound(f"{model!r}: the audit {line.removeprefix('left out ')}")
        known = ", ".join(a.display_id for a in audits) or "none"
        raise ResultsNotFound(f"no results for {model!r} in {self.root} (audited: {known}); audit it first with "
                              f"`rm-harness run --model {model}`")

    def _open_model_folder(self, folder: str) -> Audit:
        """The audit of a local model folder as its bytes are now: the same identity `run --model` gives it
        (slug and content hash), so a folder changed since its audit names no audit rather than an older one."""
        slug, rev, display_id = local_folder_slug(folder)
        path = self.root / slug / short_revision(rev) / RESULTS_FILE
        if path.is_file() or path.is_symlink() or path.exists():
            return open_audit(path, self.root)
        source = str(Path(folder).expanduser().resolve())
        others = sorted(a.display_id for a in self.audits() if a.model.get("source") == source)
        before = (f"; this path was audited with other contents ({', '.join(others)}): the folder changed since"
                  if others else "")
        raise ResultsNotFound(f"no results for the model folder {folder} as it is now ({display_id}) in "
                              f"{self.root}{before}; audit it with `rm-harness run --model {folder}`")

    def find(self, model: str) -> Path:
        """results.json of the audit the user named (see `open`)."""
        return self.open(model).path
