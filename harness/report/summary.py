"""A short text summary of a results.json, printed at the end of a run."""

from __future__ import annotations

import json
from pathlib import Path

from tabulate import tabulate

from harness.report.text import visible


def summary_rows(doc: dict) -> list[list[str]]:
    rows = []
    for task, block in doc.get("results", {}).items():
        for name, m in list(block.get("metrics", {}).items())[:8]:
            v = m.get("value")
            rows.append([task, name, "—" if v is None else (f"{int(v)}" if float(v).is_integer() else f"{v:.4g}")])
    return rows


def print_summary(path: str | Path) -> None:
    doc = json.loads(Path(path).read_text())
    print(f"\nmodel: {doc['model']['id']}  revision: {doc['model'].get('revision')}  "
          f"wall time: {doc.get('wall_time_s')} s")
    opt = doc.get("results", {}).get("token_optimality", {}).get("data", {})
    for side in ("top", "bottom"):
        for prompt, rows in (opt.get(side) or {}).items():
            toks = ", ".join(repr(visible(str(r.get("decoded", "")))) for r in rows[:10])
            print(f"{side:>6} [{prompt}]: {toks}")
    print(tabulate(summary_rows(doc), headers=["task", "metric", "value"]))
    for task, why in doc.get("skipped", {}).items():
        print(f"skipped {task}: {why}")
    print(f"results: {path}\nreport:  {Path(path).with_name('report.html')}")
