"""The dataset card of a `--push` dataset, built with huggingface_hub's card API, and the dataset's layout.

One dataset holds many audits (a public board's results dataset): each model revision has its own folder,
`<slug>/<revision12>/` (results.json, requests/, data/<table>.parquet), and its own configs, named
`<slug>-<revision12>-<table>`. The card's configs are rebuilt on every push from the dataset's current file list
plus the files being pushed, so a second model never replaces the first's configs, and a table deleted on the Hub
drops out of the card. The card holds what the Hub expects (licence, pretty name, task categories, size
category) and no local path: a local model is named by its display id.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from huggingface_hub import DatasetCard, DatasetCardData

TABLE_PATH = re.compile(r"^(?P<slug>[A-Za-z0-9][A-Za-z0-9._-]*)/(?P<rev>[0-9A-Za-z._-]{1,64})/data/"
                        r"(?P<table>[A-Za-z0-9][A-Za-z0-9._-]*)\.parquet$")
SIZE_BOUNDS = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
               (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"))
LICENSE_NOTE = ("The scores are computed from the audited models and the task files' item lists: the licences of "
                "those models and lists apply to them.")


def folder_of(slug: str, short_revision: str) -> str:
    """The dataset folder of one model revision."""
    return f"{slug}/{short_revision}"


def config_name(path: str) -> str | None:
    """The config of a table file in the dataset's layout (None for any other file)."""
    m = TABLE_PATH.match(path)
    return f"{m['slug']}-{m['rev']}-{m['table']}" if m else None


def configs_from_files(files: Iterable[str]) -> list[dict[str, Any]]:
    """One config per table file of the layout, sorted by name (the card's `configs`)."""
    out = {config_name(f): f for f in files if config_name(f)}
    return [{"config_name": name, "data_files": [{"split": "train", "path": out[name]}]} for name in sorted(out)]


def size_category(rows: int) -> str:
    for bound, label in SIZE_BOUNDS:
        if rows < bound:
            return label
    return "n>100M"


def _reproduce(model: Mapping[str, Any]) -> list[str]:
    if model.get("origin", "hub") == "hub" and model.get("source"):
        return ["With rm-harness installed:", "", "```", f"rm-harness submit --model {model['source']} --revision "
                f"{model.get('revision')} --dtype {model.get('dtype')}", "```"]
    return [f"`{model.get('id')}` is a local or demo model: rerun `rm-harness submit --model <its folder> --dtype "
            f"{model.get('dtype')}` where it is (its content hash is the revision above)."]


def build_card(repo_id: str, files: Iterable[str], doc: Mapping[str, Any], rows: int) -> DatasetCard:
    """The card for the dataset's files `files` (existing plus pushed), describing the audit `doc` just pushed."""
    files = sorted(set(files))
    configs = configs_from_files(files)
    models = sorted({m["slug"] + " @ " + m["rev"] for m in map(TABLE_PATH.match, files) if m})
    model = doc.get("model") if isinstance(doc.get("model"), Mapping) else {}
    commit = (doc.get("provenance") or {}).get("git_commit") if isinstance(doc.get("provenance"), Mapping) else None
    data = DatasetCardData(
        license="other", license_name="audited-models", pretty_name=f"rm-harness audits: {repo_id.split('/')[-1]}",
        task_categories=["text-classification"], size_categories=[size_category(rows)], language=["en"],
        tags=["rm-harness", "reward-model", "reward-model-interpretability"], configs=configs)
    lines = [f"# rm-harness audits in {repo_id}", "",
             "Reward-model score tables written by rm-harness: each "
             "model revision has its folder `<model>/<revision12>/` with `results.json`, its submission records "
             "and one parquet table per scored response set and prompt (one config each).", "",
             f"Model revisions here: {len(models)}.", "", *[f"- {m}" for m in models], "",
             f"## Last pushed: {model.get('id')}", "",
             f"- revision `{model.get('revision')}`; scorer {model.get('scorer')}, dtype {model.get('dtype')}, "
             f"prompt format {model.get('prompt_format')}",
             f"- weights: {model.get('weights_note') or 'as published'}",
             f"- harness {doc.get('harness_version')}" + (f" (commit {commit})" if commit else ""),
             "- status: self-submitted, unverified (a maintainer's `rm-harness verify` has not rescored it)", "",
             "Reproduce:", "", *_reproduce(model), "", "## Licence", "", LICENSE_NOTE, ""]
    return DatasetCard.from_template(data, template_str="---\n{{ card_data }}\n---\n\n" + "\n".join(lines))
