"""Upload one audit to a Hub dataset the user names: score tables as parquet (one config per prompt), results.json,
the submission records and a dataset card. Private unless the user asks for public; never called implicitly.

`check_push_target` runs before any model loads, so a malformed repo id or missing credentials fail at once.
"""

from __future__ import annotations

import json
import re
from typing import Any

from harness import untrusted
from harness.errors import UserError
from harness.results.audit import open_audit
from harness.results.layout import Layout

_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")


class PushError(UserError, ValueError):
    """The push target or credentials are unusable; the message says what to fix."""


def check_push_target(repo_id: str, token: str | None = None) -> str:
    """The repo id if it is well formed and credentials exist (no network call)."""
    if not isinstance(repo_id, str) or not _REPO.match(repo_id) or "--" in repo_id or ".." in repo_id:
        raise PushError(f"--push {repo_id!r} is not a dataset id ORG/NAME (letters, digits, '.', '_', '-')")
    from huggingface_hub import get_token

    if not (token or get_token()):
        raise PushError("--push needs Hugging Face credentials: run `hf auth login` or set HF_TOKEN, then rerun")
    return repo_id


def dataset_card(doc: dict[str, Any], configs: dict[str, str]) -> str:
    """A dataset card: YAML metadata (configs → parquet files), what was audited, how to reproduce."""
    model = doc.get("model", {})
    lines = ["---", "tags: [rm-harness, reward-model-interpretability]", "configs:"]
    for name, path in configs.items():
        lines += [f"- config_name: {json.dumps(name)}", "  data_files:", "  - split: train", f"    path: {json.dumps(path)}"]
    lines += ["---", "", f"# rm-harness audit of {model.get('id')}", "",
              f"- source: `{model.get('source')}` at revision `{model.get('revision')}`",
              f"- scorer: {model.get('scorer')}, dtype {model.get('dtype')}, prompt format {model.get('prompt_format')}",
              f"- weights: {model.get('weights_note') or 'as published'}",
              f"- harness: {doc.get('harness_version')} (commit {doc.get('provenance', {}).get('git_commit')})",
              "- status: self-submitted, unverified (`rm-harness verify` rescoring has not been run by a maintainer)",
              "", "Reproduce:", "", "```", f"python submit.py --model {model.get('source')} --revision "
              f"{model.get('revision')} --dtype {model.get('dtype')}", "```", ""]
    return "\n".join(lines)


def push_audit(repo_id: str, layout: Layout, ref, *, private: bool = True, token: str | None = None,
               api: Any = None) -> str:
    """Upload the audit of `ref`; returns a one-line summary."""
    from huggingface_hub import CommitOperationAdd

    folder = layout.audit_dir(ref)
    doc = open_audit(layout.results_path(ref)).doc
    ops, configs = [], {}
    for meta_path in sorted((folder / "tables").glob("*/meta.json")):
        meta = untrusted.read_json_object(meta_path, "score table's meta.json", max_bytes=untrusted.MAX_SMALL_JSON_BYTES)
        name = f"{meta.get('response_set')}-{meta.get('prompt_key')}"
        target = f"data/{name}.parquet"
        configs[name] = target
        ops.append(CommitOperationAdd(target, str(meta_path.with_name("table.parquet"))))
    ops.append(CommitOperationAdd("results.json", str(layout.results_path(ref))))
    for rec in sorted(layout.records_dir(ref).glob("*.json")):
        ops.append(CommitOperationAdd(f"requests/{rec.name}", str(rec)))
    ops.append(CommitOperationAdd("README.md", dataset_card(doc, configs).encode()))
    if api is None:
        from huggingface_hub import HfApi

        api = HfApi(token=token)
    api.create_repo(repo_id=repo_id, repo_type="dataset", exist_ok=True, private=private)
    api.create_commit(repo_id=repo_id, repo_type="dataset", operations=ops,
                      commit_message=f"rm-harness: {ref.display_id} @ {ref.short_revision} (unverified)")
    return f"pushed {len(ops)} files to the {'private' if private else 'public'} dataset {repo_id} (unverified)"
