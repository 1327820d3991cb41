"""The end-of-run summary: what was audited, the headline numbers per prompt, the top and bottom replies, the
tasks that were skipped and why, and the paths written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tabulate import tabulate

from harness.report.model_view import (
    headline_rows,
    prompt_order,
    published,
    sanity_lines,
    token_lists,
)
from harness.report.text import visible

N_TOKENS = 8


def _value(v) -> str:
    if v.missing:
        return f"— ({v.missing})"
    return v.text + (f" {v.ci}" if v.ci else "")


def headline_table(doc: dict[str, Any]) -> str:
    """The headline metrics of a results document as a text table (measure × prompt)."""
    results = published(doc)
    top, bottom = token_lists(results)
    prompts = prompt_order([*top, *bottom]) or ["best"]
    rows = []
    for r in headline_rows(results, prompts):
        if r.fixed:
            rows.append([f"{r.label} {r.arrow}".strip(), f"{_value(r.values[0])} (prompt {r.fixed})"]
                        + [""] * (len(prompts) - 1))
        else:
            rows.append([f"{r.label} {r.arrow}".strip()] + [_value(v) for v in r.values])
    if not rows:
        return "no headline metrics in these results"
    return tabulate(rows, headers=["measure"] + [f"prompt {p}" for p in prompts], disable_numparse=True)


def summary_text(doc: dict[str, Any], path: str | Path) -> str:
    path = Path(path)
    model = doc.get("model") or {}
    lines = [(f"model: {visible(str(model.get('id')))}  revision: {model.get('revision')}  "
              f"scorer: {model.get('scorer')}  dtype: {model.get('dtype')}  wall time: {doc.get('wall_time_s')} s")]
    if isinstance(doc.get("sanity"), dict):
        lines += [f"sanity check {line}" if i == 0 else f"  {line}" for i, line in enumerate(sanity_lines(doc["sanity"]))]
    top, bottom = token_lists(published(doc))
    for side, lists in (("top", top), ("bottom", bottom)):
        for prompt in prompt_order(list(lists)):
            toks = ", ".join(visible(r["text"]) for r in lists[prompt][:N_TOKENS])
            lines.append(f"{side:>6} [{prompt}]: {toks}")
    lines += ["", headline_table(doc), ""]
    skipped = doc.get("skipped") or {}
    if skipped:
        lines.append(f"skipped {len(skipped)} task(s):")
        lines += [f"  {task}: {why}" for task, why in skipped.items()]
    partial = doc.get("partial_results") or {}
    if partial:
        lines.append(f"not published (smoke or subset runs): {', '.join(sorted(partial))}")
    folder = path.parent
    n_fig = sum(len(b.get("figures") or []) for b in published(doc).values())
    lines += ["written:", f"  results:   {path}"]
    if (folder / "report.html").exists():
        lines.append(f"  report:    {folder / 'report.html'}")
    lines.append(f"  figures:   {folder / 'figures'} ({n_fig})")
    if (folder / "tables").is_dir():
        lines.append(f"  tables:    {folder / 'tables'}")
    if (folder / "downloads").is_dir():
        lines.append(f"  downloads: {folder / 'downloads'}")
    return "\n".join(lines)


def print_summary(path: str | Path) -> None:
    """Print the summary of the results.json at `path`."""
    from harness.results.document import read

    doc = read(path) or {}
    print("\n" + summary_text(doc, path))
