"""Upload one audit to a Hub dataset the user names: score tables as parquet (one config per table), results.json,
the submission records and a dataset card (`hub_card`), all under the model revision's own folder, so one dataset
holds many models. Private unless the user asks for public; never called implicitly. What is pushed holds no local
path (`data_paths.portable`).

`check_push_target` runs before any model loads, so a malformed repo id, missing credentials or an unreachable Hub
fail at once; a push that still fails at the end keeps the audit and says how to push it later (submit's job).
"""

from __future__ import annotations

import json
import re
from typing import Any

from harness.data_paths import portable
from harness.io import untrusted
from harness.errors import UserError
from harness.results.audit import open_audit
from harness.results.hub_card import build_card, folder_of
from harness.results.layout import Layout

_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")


class PushError(UserError, ValueError):
    """The push target or credentials are unusable; the message says what to fix."""


def check_push_target(repo_id: str, token: str | None = None, api: Any = None) -> str:
    """The repo id if it is well formed, credentials exist and the Hub answers with them; before any audit, so an
    unreachable Hub never costs a finished audit a traceback."""
    if not isinstance(repo_id, str) or not _REPO.match(repo_id) or "--" in repo_id or ".." in repo_id:
        raise PushError(f"--push {repo_id!r} is not a dataset id ORG/NAME (letters, digits, '.', '_', '-')")
    from huggingface_hub import get_token

    token = token or get_token()
    if not token:
        raise PushError("--push needs Hugging Face credentials: run `hf auth login` or set HF_TOKEN, then rerun")
    if api is None:
        from huggingface_hub import HfApi

        api = HfApi(token=token)
    try:
        api.whoami()
    except Exception as e:  # noqa: BLE001 - every failure here means: no upload is possible now
        raise PushError(f"--push {repo_id}: {hub_problem(e)}; nothing was audited yet: fix that and rerun, or "
                        "run without --push and push later (rerunning with --push only uploads)") from None
    return repo_id


def hub_problem(e: BaseException) -> str:
    """What went wrong talking to the Hub, in words: refused credentials, or no answer at all."""
    from huggingface_hub.errors import HfHubHTTPError

    status = getattr(getattr(e, "response", None), "status_code", None)
    if isinstance(e, HfHubHTTPError) and status in (401, 403):
        return f"the Hub refused the credentials (HTTP {status}); log in again with `hf auth login`"
    if isinstance(e, HfHubHTTPError) and status is not None:
        return f"the Hub answered HTTP {status}"
    if "offline mode" in str(e).lower():
        return "the Hub is unreachable: offline mode is on (HF_HUB_OFFLINE=1)"
    return f"the Hub is unreachable ({type(e).__name__})"


def table_name(meta: dict[str, Any], key: str) -> str:
    """A table's file and config name: what it scored, under which prompt, with the settings that tell two tables
    apart (subset, limit), and the table key's first 8 characters, so no table is ever pushed over another (a
    `--limit` table over a full one, a float32 table over a bfloat16 one, two prompts sharing a key)."""
    parts = [meta.get("response_set"), meta.get("prompt_key")]
    if meta.get("subset"):
        parts.append(f"subset-{meta['subset']}")
    if meta.get("limit") is not None:
        parts.append(f"limit{meta['limit']}")
    parts.append(key[:8])
    return re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(str(p) for p in parts if p not in (None, ""))).strip("-.")


def _portable_json(path, what: str) -> bytes:
    """A JSON file as pushed: every absolute path made portable (no local path, user or host name leaves)."""
    doc = untrusted.read_json_object(path, what)
    return (json.dumps(portable(doc), indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode()


def existing_files(api: Any, repo_id: str) -> list[str]:
    """The dataset's current files ([] for a dataset that does not exist yet)."""
    from huggingface_hub.errors import RepositoryNotFoundError

    try:
        return list(api.list_repo_files(repo_id=repo_id, repo_type="dataset"))
    except RepositoryNotFoundError:
        return []


def push_audit(repo_id: str, layout: Layout, ref, *, private: bool = True, token: str | None = None,
               api: Any = None) -> str:
    """Upload the audit of `ref` into its own folder of the dataset; returns a one-line summary."""
    from huggingface_hub import CommitOperationAdd

    folder = layout.audit_dir(ref)
    doc = open_audit(layout.results_path(ref)).doc
    base = folder_of(ref.slug, ref.short_revision)
    ops, rows = [], 0
    for meta_path in sorted((folder / "tables").glob("*/meta.json")):
        meta = untrusted.read_json_object(meta_path, "score table's meta.json", max_bytes=untrusted.MAX_SMALL_JSON_BYTES)
        name = table_name(meta, meta_path.parent.name)
        ops.append(CommitOperationAdd(f"{base}/data/{name}.parquet", str(meta_path.with_name("table.parquet"))))
        n = meta.get("n_rows")
        rows += n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 0
    ops.append(CommitOperationAdd(f"{base}/results.json", _portable_json(layout.results_path(ref), "results document")))
    for rec in sorted(layout.records_dir(ref).glob("*.json")):
        ops.append(CommitOperationAdd(f"{base}/requests/{rec.name}", _portable_json(rec, "submission record")))
    if api is None:
        from huggingface_hub import HfApi

        api = HfApi(token=token)
    api.create_repo(repo_id=repo_id, repo_type="dataset", exist_ok=True, private=private)
    files = existing_files(api, repo_id) + [op.path_in_repo for op in ops]
    card = build_card(repo_id, files, portable(doc), rows)
    ops.append(CommitOperationAdd("README.md", str(card).encode()))
    api.create_commit(repo_id=repo_id, repo_type="dataset", operations=ops,
                      commit_message=f"rm-harness: {ref.display_id} @ {ref.short_revision} (unverified)")
    return f"pushed {len(ops)} files to the {'private' if private else 'public'} dataset {repo_id} (unverified)"
