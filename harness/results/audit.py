"""The one reader of an audit folder: its results.json, the score tables it cites, and its content digest.

Every command that reads an audit (analyse, compare, export, verify, the report and the board) opens it here, so
every one refuses the same things (docs/security.md):

- results.json must be a regular file holding a strict JSON object with a well-formed model block, and it must
  describe the folder it sits in: the slug and revision folders are recomputed from the document's identity
  (origin, source, id, revision) and must be the ones it was found in. B's document copied into A's folder is
  not A's audit, whatever it says.
- No symbolic link, FIFO, device or socket anywhere in the audit folder or on the way to it.
- A table is read only through a path the document cites, of the form `tables/<key>/table.parquet`, contained
  in the folder, checked by `harness.scoring.table.read_table_dir` (key, checksum, rows) and bound: its key parts
  name this model, revision, dtype and scorer, and its meta.json names the prompt text, response set, template
  and vocabulary subset of the block that cites it.
- `content_files()` is the sha256 of results.json and of every cited table (parquet and meta.json); its digest
  keys the maintainer's trust records (harness/results/trust.py).
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from harness.io import untrusted
from harness.errors import UserError
from harness.models.identity import (
    DTYPE_NAMES,
    SCORER_KINDS,
    is_reference_free,
    looks_like_hub_id,
    short_revision,
    slug_of,
)
from harness.results.trust import content_digest

RESULTS_FILE = "results.json"
_TABLE_REL = re.compile(r"^tables/([0-9a-f]{24})/table\.parquet$")
_ORIGINS = ("hub", "local", "demo")


class AuditError(UserError, ValueError):
    """An audit folder that cannot be read as the audit it claims to be; the message names the file and why."""


def _hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_model_block(model: Any, where: str) -> dict[str, Any]:
    """The model block of a document, with the identity fields that name its folder checked for shape."""
    if not isinstance(model, dict):
        raise AuditError(f"{where}: no model block")
    for k in ("id", "origin", "source", "revision"):
        v = model.get(k)
        if not isinstance(v, str) or not v or len(v) > 1000 or "\x00" in v:
            raise AuditError(f"{where}: model.{k} is missing or not a string")
    if model["origin"] not in _ORIGINS:
        raise AuditError(f"{where}: model.origin {model['origin']!r} is not one of {', '.join(_ORIGINS)}")
    if model.get("scorer", "reward") not in SCORER_KINDS:
        raise AuditError(f"{where}: model.scorer {model.get('scorer')!r} is not a scorer kind")
    if model.get("dtype") is not None and model.get("dtype") not in DTYPE_NAMES:
        raise AuditError(f"{where}: model.dtype {model.get('dtype')!r} is not one of {', '.join(DTYPE_NAMES)}")
    if model["origin"] == "hub" and (model["source"] != model["id"] or not looks_like_hub_id(model["source"])):
        raise AuditError(f"{where}: a Hub model's id and source must be the same ORG/NAME")
    if model["origin"] == "local":
        want = f"local:{Path(model['source']).name}@{short_revision(model['revision'])[:8]}"
        if model["id"] != want:
            raise AuditError(f"{where}: model.id {model['id']!r} does not match its folder name and content hash "
                             f"({want!r})")
    if model["origin"] == "demo" and not model["id"].startswith("demo:"):
        raise AuditError(f"{where}: a demo model's id starts with demo:")
    return model


def expected_place(model: Mapping[str, Any]) -> tuple[str, str]:
    """(slug folder, revision folder) that the results layout gives this model block."""
    return (slug_of(model["origin"], model["source"], model["id"], model["revision"]),
            short_revision(model["revision"]))


def _real_dirs(folder: Path, root: Path | None) -> None:
    """Every folder from `root` (exclusive) down to `folder` is a real folder, not a symbolic link."""
    parts = [folder]
    if root is not None:
        try:
            rel = folder.relative_to(root)
        except ValueError:
            rel = None
        if rel is not None:
            parts = [root.joinpath(*rel.parts[: i + 1]) for i in range(len(rel.parts))]
    for p in parts:
        try:
            mode = os.lstat(p).st_mode
        except FileNotFoundError:
            raise AuditError(f"{p}: no such folder") from None
        if stat.S_ISLNK(mode) or not stat.S_ISDIR(mode):
            raise AuditError(f"{p}: not a real folder (a symbolic link or a file); an audit folder and the folders "
                             "above it inside the results folder are plain folders")


@dataclass
class Audit:
    """One audit folder: its results.json (checked and bound to the folder) and access to its cited tables."""

    path: Path  # results.json
    doc: dict[str, Any]
    others: list["Audit"] = field(default_factory=list)  # older revisions of the same model (latest_audits only)

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def model(self) -> dict[str, Any]:
        return self.doc["model"]

    @property
    def display_id(self) -> str:
        return str(self.model["id"])

    @property
    def slug(self) -> str:
        return self.folder.parent.name

    @property
    def revision(self) -> str:
        return str(self.model["revision"])

    @property
    def kind(self) -> str:
        return str(self.model.get("scorer") or "reward")

    @property
    def reference_free(self) -> bool:
        """A DPO audit scored without a reference model (its scores are summed log-probs)."""
        return is_reference_free(self.model)

    @property
    def created(self) -> str:
        c = self.doc.get("created")
        return c if isinstance(c, str) else ""

    # --- the tables it cites ------------------------------------------------------------------------------

    def blocks(self) -> dict[str, dict[str, Any]]:
        res = self.doc.get("results")
        return {str(t): b for t, b in res.items() if isinstance(b, dict)} if isinstance(res, dict) else {}

    def cited(self) -> dict[str, dict[str, str]]:
        """task -> prompt key -> table path as the document cites it (only the well-formed ones)."""
        out: dict[str, dict[str, str]] = {}
        for task, block in self.blocks().items():
            tables = block.get("tables")
            for prompt, rel in (tables.items() if isinstance(tables, dict) else []):
                if isinstance(rel, str) and _TABLE_REL.match(rel):
                    out.setdefault(task, {})[str(prompt)] = rel
        return out

    def expected(self, task: str | None = None, prompt: str | None = None) -> dict[str, Any]:
        """What a table of `task` under `prompt` must say to belong here: this model and revision, and the dtype,
        scorer, template, vocabulary and limit of the task's block (the model block's for a task not yet run),
        and the prompt's text as the document's config states it."""
        m = self.model
        block = self.blocks().get(task) if task else None
        s = block.get("settings") if isinstance(block, dict) and isinstance(block.get("settings"), dict) else None
        src = s if s is not None else m
        out = {"model": m["id"], "revision": m["revision"], "dtype": src.get("dtype", m.get("dtype")),
               "scorer": src.get("scorer", m.get("scorer", "reward")), "template": src.get("template_hash")}
        if s is not None:
            out["limit"] = s.get("limit")
            out["subset"] = s.get("subset")
        config = self.doc.get("configs", {}).get(task) if task and isinstance(self.doc.get("configs"), dict) else None
        if isinstance(config, dict):
            texts = config.get("prompts")
            if prompt is not None and isinstance(texts, dict) and isinstance(texts.get(prompt), str):
                out["prompt"] = texts[prompt]
            responses = config.get("responses")
            if isinstance(responses, dict) and responses.get("type") in ("vocabulary", "items"):
                out["responses"] = responses["type"]
        if prompt is not None and "prompt" not in out:
            out["prompt"] = None  # a cited table whose prompt text the document does not state binds to nothing
        return out

    def binding_problem(self, meta: Mapping[str, Any], expect: Mapping[str, Any]) -> str | None:
        """Why a table's meta.json does not belong where `expect` (see `expected`) says, or None."""
        parts = meta.get("key_parts") if isinstance(meta.get("key_parts"), Mapping) else {}
        responses = str(parts.get("responses") or "")
        have = {"model": parts.get("model"), "revision": parts.get("revision"), "dtype": parts.get("dtype"),
                "scorer": parts.get("kind"), "template": meta.get("chat_template_hash"), "prompt": meta.get("prompt"),
                "limit": meta.get("limit"), "response_set": meta.get("response_set"),
                "subset": meta.get("subset") if responses.startswith("vocabulary") else expect.get("subset"),
                "responses": "vocabulary" if responses.startswith("vocabulary") else "items"}
        for name, want in expect.items():
            if have.get(name) != want:
                return (f"this table's {name} is {have.get(name)!r}, but {want!r} was expected: it belongs to another "
                        "model, revision, prompt or setting")
        return None

    def table(self, rel: str, expect: Mapping[str, Any]):
        """The ScoreTable at `rel`, checked (harness.scoring.table.read_table_dir) and bound to `expect`."""
        from harness.scoring.table import read_table_dir

        where = f"{self.path}"
        if not isinstance(rel, str) or not _TABLE_REL.match(rel):
            raise AuditError(f"{where}: table path {rel!r} is not of the form tables/<key>/table.parquet")
        path = untrusted.contained(self.folder, rel, "score table", where=where)
        table = read_table_dir(path.parent)
        problem = self.binding_problem(table.meta, expect)
        if problem:
            raise AuditError(f"{path.parent}: {problem}")
        return table

    def cited_table(self, task: str, prompt: str):
        """The table that `task` cites for `prompt`, checked and bound to the block citing it."""
        rel = self.cited().get(task, {}).get(prompt)
        if rel is None:
            raise AuditError(f"{self.path}: task {task} cites no well-formed table for prompt {prompt!r}")
        return self.table(rel, self.expected(task, prompt))

    def candidates(self, expect: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """(relative table path, meta) of every finished table in tables/ whose meta.json binds to `expect`
        (read without checking the parquet bytes: `table()` does that for the one chosen)."""
        out = []
        tables = self.folder / "tables"
        if not tables.is_dir() or tables.is_symlink():
            return out
        for meta_path in sorted(tables.glob("*/meta.json")):
            rel = f"tables/{meta_path.parent.name}/table.parquet"
            if not _TABLE_REL.match(rel):
                continue
            try:
                meta = untrusted.read_json_object(meta_path, "score table's meta.json",
                                                  max_bytes=untrusted.MAX_SMALL_JSON_BYTES)
            except (OSError, untrusted.UntrustedFileError):
                continue
            if meta.get("key") == meta_path.parent.name and self.binding_problem(meta, expect) is None:
                out.append((rel, meta))
        return out

    # --- content -------------------------------------------------------------------------------------------

    def content_files(self) -> dict[str, str]:
        """sha256 of results.json and of every cited table that is there (parquet and meta.json), by relative
        path: what the maintainer's trust records are keyed by."""
        out = {RESULTS_FILE: _hash_file(self.path)}
        for prompts in self.cited().values():
            for rel in prompts.values():
                for name in (rel, rel.rsplit("/", 1)[0] + "/meta.json"):
                    if name in out:
                        continue
                    try:
                        p = untrusted.contained(self.folder, name, "score table", where=str(self.path))
                    except untrusted.UntrustedFileError:
                        continue
                    out[name] = _hash_file(p)
        return out

    @cached_property
    def digest(self) -> str:
        return content_digest(self.content_files())


def open_audit(path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> Audit:
    """The audit whose results.json is `path` (or the folder holding it), checked and bound to its folder.
    `root`: the results folder it was found in (every folder below it must be real)."""
    p = Path(path)
    if p.name != RESULTS_FILE:
        p = p / RESULTS_FILE
    folder = p.parent
    _real_dirs(folder, Path(root) if root is not None else None)
    untrusted.check_tree(folder)
    try:
        doc = untrusted.read_json_object(p, "results document")
    except FileNotFoundError:
        raise AuditError(f"{folder}: no results.json there") from None
    model = check_model_block(doc.get("model"), str(p))
    if not isinstance(doc.get("results", {}), dict):
        raise AuditError(f"{p}: `results` is not an object")
    slug, rev = expected_place(model)
    if folder.name != rev or folder.parent.name != slug:
        raise AuditError(f"{p}: the document describes {model['id']} @ {rev}, which belongs in {slug}/{rev}/, not in "
                         f"{folder.parent.name}/{folder.name}/; it was copied or moved here")
    return Audit(p, doc)
