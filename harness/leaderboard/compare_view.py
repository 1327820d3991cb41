"""The comparison page's view model (the between-model tasks over the board's trusted audits), or why there is
none yet."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

from harness.report.model_view import (
    TASK_TITLES,
    FigureView,
    Section,
    _groups,
    figure_caption,
    task_order,
)
from harness.leaderboard.read import CompareReport, ModelEntry


@dataclass
class ComparedModel:
    model_id: str
    href: str | None


@dataclass
class CompareView:
    present: bool
    empty_reason: str = ""
    created: str | None = None
    models: list[ComparedModel] = field(default_factory=list)
    not_compared: list[str] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    figures: list[FigureView] = field(default_factory=list)


def build_compare(report: CompareReport | None, entries: Sequence[ModelEntry],
                  figures: dict[str, list[str]]) -> CompareView:
    """`figures`: task -> figure paths relative to the site root (already copied)."""
    if report is None:
        n, trusted = len(entries), sum(e.trust is not None for e in entries)
        if trusted < 2:
            why = (f"A comparison needs at least two trusted audits (verified with rm-harness verify, or computed by "
                   f"this board's own runs); the board has {n} model(s), {trusted} of them trusted. Audit or verify "
                   "another model, then rebuild the board.")
        else:
            why = (f"No between-model task could run over the {trusted} trusted audits (their score tables do not "
                   "share the prompts the comparison needs).")
        return CompareView(False, why)
    on_board = {e.model_id: e for e in entries}
    models = [ComparedModel(m, f"models/{quote(on_board[m].slug)}/index.html" if m in on_board else None)
              for m in report.models]
    missing = [e.model_id for e in entries if e.model_id not in set(report.models)]
    sections = []
    for task in task_order(list(report.overall)):
        groups, n = _groups(report.overall[task])
        sections.append(Section(f"task-{task}", task, TASK_TITLES.get(task, task),
                                str((report.overall[task].get("settings") or {}).get("task_version") or "") or None,
                                "", groups, [], True, n))
    figs = [FigureView(src, figure_caption(task, src)) for task, srcs in figures.items() for src in srcs]
    return CompareView(True, "", str(report.doc.get("created") or "") or None, models, missing, sections, figs)
