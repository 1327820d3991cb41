"""Where a diff of two audits is kept: <out>/_diff/<A slug>@<rev>__<B slug>@<rev>/diff.json (+ diff.md, diff.html),
written atomically. The folder name is made from the two audits' own (checked) folder names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.io.atomic import atomic_write_json, atomic_write_text
from harness.results.layout import Layout

DIFF_DIR = "_diff"


def diff_dir(layout: Layout, d: dict[str, Any]) -> Path:
    a, b = d["a"], d["b"]
    return layout.root / DIFF_DIR / f"{a['slug']}@{a['folder']}__{b['slug']}@{b['folder']}"


def write_diff(layout: Layout, d: dict[str, Any], markdown: str, html: str) -> Path:
    folder = diff_dir(layout, d)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / "diff.md", markdown)
    atomic_write_text(folder / "diff.html", html)
    return atomic_write_json(folder / "diff.json", d)
