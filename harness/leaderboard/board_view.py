"""The board's view model: one table per scorer kind and prompt, headline columns shared only by comparable
results, a glossary, RewardBench cells. Plain dataclasses; the template renders them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from harness.models.kinds import KINDS, board_order
from harness.report.headline import Headline, load_headlines, prompts_of
from harness.report.model_view import headline_value, prompt_order, token_lists, trust_words
from harness.report.text import visible
from harness.leaderboard.rb_join import VERSIONS, RBScore
from harness.leaderboard.read import ModelEntry

N_BOARD_TOKENS = 3
NONE_ARROW = "○"  # the header mark of a descriptive column (its title gives the reason)
KIND_LABELS = {k.name: k.board_label for k in KINDS.values()}
KIND_NOTES = {k.name: k.board_note for k in KINDS.values()}
KIND_ORDER = board_order()


@dataclass
class ColumnView:
    id: str
    label: str
    note: str  # prompt or comparability qualifier in words, shown under the label
    arrow: str
    hib: str  # "1", "-1" or "0" for the sorter; "t" sorts by distance to `target`
    scale_free: bool
    direction: str = "none"  # higher | lower | target | none
    target: float | None = None
    direction_words: str = ""  # the header's title: which value is better, or why none is


@dataclass
class CellView:
    label: str
    text: str = "—"
    sort: str = ""
    ci: str | None = None
    missing: str | None = None
    raw: bool = False
    marks: list[str] = field(default_factory=list)  # adjusted-p significance, low n
    value: float | None = None  # the number behind `text`
    lo: float | None = None  # the interval's ends behind `ci`
    hi: float | None = None
    rank_mark: str = ""  # "best" | "worst" | "tie-best" | "tie-worst" (see mark_extremes)
    rank_title: str = ""


@dataclass
class RBCell:
    label: str
    text: str
    sort: str
    sub: str | None = None
    title: str | None = None
    missing: bool = False
    rank: int | None = None
    score: float | None = None
    self_reported: bool = False


@dataclass
class RowView:
    model_id: str
    href: str
    sort: str
    badges: list[str]
    rb: list[RBCell]
    optimal: list[str]
    pessimal: list[str]
    cells: list[CellView]
    run: list[tuple[str, str]] = field(default_factory=list)  # (label, words): subset, dtype, limit, sanity


@dataclass
class PromptTable:
    prompt: str
    prompt_text: str | None
    columns: list[ColumnView]
    rows: list[RowView]
    sorted_by: str = "model"  # data-col of the column the initial order follows (ascending)


@dataclass
class KindView:
    kind: str
    anchor: str
    label: str
    note: str
    n_models: int
    tables: list[PromptTable]


@dataclass
class GlossaryItem:
    label: str
    definition: str
    direction: str
    range: str = ""
    raw: bool = False


@dataclass
class PromptChoice:
    key: str


@dataclass
class BoardView:
    kinds: list[KindView]
    prompts: list[PromptChoice]
    default_prompt: str
    glossary: list[GlossaryItem]
    rb_versions: tuple[str, ...]
    rb_note: str
    n_models: int
    has_compare: bool
    problems: list[str] = field(default_factory=list)
    marks: Mapping[str, tuple[str, str]] = field(default_factory=lambda: MARKS)


def dtype_class(dtype: Any) -> str:
    d = str(dtype or "").lower().replace("torch.", "")
    if d in ("float32", "fp32", "float", "float64", "fp64", "tf32"):
        return "32-bit"
    if d in ("bfloat16", "bf16", "float16", "fp16", "half"):
        return "16-bit"
    return d or "unknown dtype"


def _prompt_texts(doc: Mapping[str, Any], task: str) -> dict[str, str]:
    cfg = (doc.get("configs") or {}).get(task)
    prompts = cfg.get("prompts") if isinstance(cfg, Mapping) else None
    return {str(k): str(v) for k, v in prompts.items()} if isinstance(prompts, Mapping) else {}


def signature(entry: ModelEntry, task: str, block: Mapping[str, Any], prompt: str) -> tuple:
    """What must match for two models' numbers to share a column: task version, the prompt's text, dtype class
    and vocabulary (full or a named subset)."""
    s = block.get("settings") if isinstance(block.get("settings"), Mapping) else {}
    text = _prompt_texts(entry.doc, task).get(prompt)
    return (str(s.get("task_version")), text, dtype_class(s.get("dtype") or entry.model.get("dtype")),
            f"subset {s['subset']}" if s.get("subset") else "full vocabulary")


def row_group(entry: ModelEntry) -> tuple[str, str, str]:
    """Rows that may share a table: same scorer kind, dtype class and vocabulary (full or a named subset)."""
    block = entry.results.get("token_optimality") or {}
    subset = (block.get("settings") or {}).get("subset") if isinstance(block, Mapping) else None
    return (entry.kind, dtype_class(entry.model.get("dtype")), f"subset {subset}" if subset else "full vocabulary")


def slug_part(s: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in s).strip("-").lower()


PROMPT_WORDS = {"best_vs_worst": "“best” vs “worst” prompts"}


def prompt_words(key: str) -> str:
    """A prompt key as words for a sub-header (e.g. best_vs_worst -> “best” vs “worst” prompts)."""
    return PROMPT_WORDS.get(key) or f"“{key.replace('_', ' ')}” prompt"


def _qualifier(sig: tuple, ref: tuple) -> str:
    parts = []
    if sig[0] != ref[0]:
        parts.append(f"task version {sig[0]}")
    if sig[1] != ref[1]:
        parts.append("other prompt text")
    if sig[2] != ref[2]:
        parts.append(sig[2])
    if sig[3] != ref[3]:
        parts.append(sig[3])
    return ", ".join(parts)


def _block(entry: ModelEntry, hl: Headline) -> Mapping[str, Any] | None:
    return entry.compare_blocks.get(hl.task) if hl.source == "compare" else entry.results.get(hl.task)


def _columns_for(entries: Sequence[ModelEntry], prompt: str, headlines: Sequence[Headline]
                 ) -> list[tuple[ColumnView, Headline, dict[str, tuple[str, Mapping]]]]:
    """Columns of one kind table under `prompt`: per headline metric, one column per comparability signature
    (the most common signature unqualified). Each column maps model id -> (metric key, block)."""
    out = []
    for hl in headlines:
        groups: dict[tuple, dict[str, tuple[str, Mapping]]] = {}
        used_prompt = None
        for e in entries:
            block = _block(e, hl)
            if not block:
                continue
            p = hl.prompt_for(prompt, prompts_of(block))
            if p is None or f"{p}/{hl.metric}" not in (block.get("metrics") or {}):
                continue
            used_prompt = used_prompt or p
            groups.setdefault(signature(e, hl.task, block, p), {})[e.model_id] = (f"{p}/{hl.metric}", block)
        if not groups:
            continue
        order = sorted(groups, key=lambda s: -len(groups[s]))
        ref = order[0]
        for i, sig in enumerate(order):
            note = [] if used_prompt == prompt or used_prompt is None else [f"under the {prompt_words(used_prompt)}"]
            if i:
                note.append(_qualifier(sig, ref))
            col = ColumnView(hl.id if not i else f"{hl.id}~{i}", hl.label, "; ".join(note), hl.arrow or NONE_ARROW,
                             {"higher": "1", "lower": "-1", "target": "t"}.get(hl.direction, "0"), hl.scale_free,
                             hl.direction if hl.direction in ("higher", "lower", "target") else "none",
                             hl.target, hl.direction_words)
            out.append((col, hl, groups[sig]))
    return out


def _rb_cells(entry: ModelEntry, rb: Mapping[str, RBScore]) -> list[RBCell]:
    cells = []
    for v in VERSIONS:
        s = rb.get(v)
        if s is not None and s.self_reported and s.rank is None and s.score is not None:  # the submitter's own run
            cells.append(RBCell(f"RewardBench {v}", "unranked*", "", f"{s.score:.1f}",
                                ", ".join(x for x in (s.model_type, "self-reported, never ranked") if x),
                                score=s.score, self_reported=True))
        elif entry.origin != "hub":
            cells.append(RBCell(f"RewardBench {v}", "—", "", f"{entry.origin} model", "only Hub models join "
                                "RewardBench", True))
        elif s is None or (s.rank is None and s.score is None):
            cells.append(RBCell(f"RewardBench {v}", "—", "", "not listed", f"not on the RewardBench {v} snapshot",
                                True))
        else:
            star = "*" if s.self_reported else ""
            cells.append(RBCell(f"RewardBench {v}", f"#{s.rank}{star}" if s.rank is not None else "unranked",
                                "" if s.rank is None else str(s.rank),
                                f"{s.score:.1f}" if s.score is not None else None,
                                ", ".join(x for x in (f"rank {s.rank} of {s.of}" if s.of and s.rank else "",
                                                      s.model_type, "self-reported" if s.self_reported else "") if x)
                                or None, rank=s.rank, score=s.score, self_reported=bool(s.self_reported)))
    return cells


def _badges(entry: ModelEntry) -> list[str]:
    out = []
    if entry.origin != "hub":
        out.append(entry.origin)
    if entry.trust is not None:  # the maintainer's record about these bytes; a field in the document means nothing
        out.append(trust_words(entry.trust)[0])
    sanity = entry.doc.get("sanity") if isinstance(entry.doc.get("sanity"), Mapping) else None
    if sanity and sanity.get("passed") is False:
        out.append("failed sanity check")
    return out


def run_info(entry: ModelEntry) -> list[tuple[str, str]]:
    """What the row's run was, in words: vocabulary subset, dtype, --limit and the scorer sanity check."""
    # from the document as written (entry.results may hide a smoke or subset run's blocks): the run record, else
    # the token scan's settings, else the model record
    raw = entry.doc.get("results") if isinstance(entry.doc.get("results"), Mapping) else {}
    block = raw.get("token_optimality")
    s = block.get("settings") if isinstance(block, Mapping) and isinstance(block.get("settings"), Mapping) else {}
    run = entry.doc.get("run") if isinstance(entry.doc.get("run"), Mapping) else {}

    def pick(name: str) -> Any:
        return next((src[name] for src in (run, s, entry.model) if src.get(name) is not None), None)

    subset, limit = pick("subset"), pick("limit")
    dtype = s.get("dtype") or entry.model.get("dtype")
    sanity = entry.doc.get("sanity") if isinstance(entry.doc.get("sanity"), Mapping) else None
    if sanity is None:
        check = "not run"
    else:
        acc = sanity.get("accuracy")
        acc = f" ({acc:.2f})" if isinstance(acc, (int, float)) and not isinstance(acc, bool) else ""
        check = ("passed" if sanity.get("passed") is True else "FAILED" if sanity.get("passed") is False
                 else "no verdict") + acc
    return [("vocabulary", f"subset {visible(str(subset))[:60]}" if subset else "full"),
            ("dtype", visible(str(dtype or "unknown")).replace("torch.", "")[:20]),
            ("limit", visible(str(limit))[:20] if limit is not None else "none"),
            ("sanity", check)]


def _row(entry: ModelEntry, prompt: str, cols, tops, rb) -> RowView:
    top, bottom = tops
    cells = []
    for col, hl, members in cols:
        hit = members.get(entry.model_id)
        if hit is None:
            skipped = entry.doc.get("skipped") if isinstance(entry.doc.get("skipped"), Mapping) else {}
            not_run = f"not run: {skipped[hl.task]}" if isinstance(skipped.get(hl.task), str) else "not run"
            why = "not compared: not verified" if hl.source == "compare" and entry.trust is None else \
                not_run if _block(entry, hl) is None else (
                "see the other column" if any(entry.model_id in m for c2, h2, m in cols if h2 is hl) else
                "not reported")
            cells.append(CellView(col.label, missing=why, raw=not col.scale_free))
            continue
        key, block = hit
        v = headline_value(block, key, hl)
        cells.append(CellView(col.label, v.text, "" if v.value is None else repr(v.value), v.ci, v.missing,
                              not col.scale_free, v.marks, v.value, v.lo, v.hi))
    return RowView(entry.model_id, f"models/{quote(entry.slug)}/index.html", visible(entry.model_id).lower(),
                   _badges(entry), rb, [r["text"] for r in top.get(prompt, [])[:N_BOARD_TOKENS]],
                   [r["text"] for r in bottom.get(prompt, [])[:N_BOARD_TOKENS]], cells, run_info(entry))


def _sort_key(entry: ModelEntry, rb: Mapping[str, RBScore]) -> tuple:
    """The initial order, which the page states: rank on the first RewardBench version, unranked last, then id."""
    s = rb.get(VERSIONS[0])
    rank = s.rank if s is not None and entry.origin == "hub" else None
    return (0, rank, entry.model_id.lower()) if rank is not None else (1, 0, entry.model_id.lower())


MARKS = {"best": ("★", "best in this column: its 95% interval excludes the runner-up's value"),
         "worst": ("▼", "worst in this column: its 95% interval excludes the next-worst value"),
         "tie-best": ("≈", "best value, but not separated from the runner-up ({why})"),
         "tie-worst": ("≈", "worst value, but not separated from the next-worst ({why})")}


def _goodness(col: ColumnView, x: float) -> float:
    return x if col.direction == "higher" else -x if col.direction == "lower" else -abs(x - (col.target or 0.0))


def mark_extremes(col: ColumnView, cells: Sequence[CellView]) -> None:
    """Mark the best and the worst value of a column that has a better direction. A value is marked best (worst)
    only when its whole 95% interval is better (worse) than the runner-up's value; otherwise, or when the column
    has no interval, it gets a tie mark saying why. Needs at least two values."""
    if col.direction not in ("higher", "lower", "target"):
        return
    have = [c for c in cells if c.value is not None]
    if len(have) < 2:
        return
    ranked = sorted(have, key=lambda c: -_goodness(col, c.value))
    for kind, top, runner, pick in (("best", ranked[0], ranked[1], min), ("worst", ranked[-1], ranked[-2], max)):
        g_runner = _goodness(col, runner.value)
        if top.lo is None or top.hi is None:
            separated, why = False, "this column has no interval to test the gap"
        else:
            # the interval's end nearest the runner-up (in goodness) must still be on the far side of its value
            ends = [_goodness(col, top.lo), _goodness(col, top.hi)]
            if col.direction == "target" and top.lo <= (col.target or 0.0) <= top.hi:
                ends.append(0.0)
            separated = pick(ends) > g_runner if kind == "best" else pick(ends) < g_runner
            why = "its 95% interval includes the runner-up's value" if kind == "best" else \
                "its 95% interval includes the next-worst value"
        if separated and top.value != runner.value:
            top.rank_mark, top.rank_title = kind, MARKS[kind][1]
        else:
            key = f"tie-{kind}"
            top.rank_mark, top.rank_title = key, MARKS[key][1].format(why=why)


def build_board(entries: Sequence[ModelEntry], rb: Mapping[str, Mapping[str, RBScore]], *, rb_note: str,
                has_compare: bool, problems: Sequence[str] = (),
                headlines: Sequence[Headline] | None = None) -> BoardView:
    """The board of `entries` (rb: model id -> RewardBench scores by version)."""
    headlines = list(headlines if headlines is not None else load_headlines())
    lists = {e.model_id: token_lists(e.results) for e in entries}
    prompts = prompt_order([p for t, b in lists.values() for p in [*t, *b]]) or ["best"]
    default = "best" if "best" in prompts else prompts[0]
    kinds = []
    shown: dict[str, Headline] = {}
    groups: dict[tuple[str, str, str], list[ModelEntry]] = {}
    for e in entries:
        groups.setdefault(row_group(e), []).append(e)
    order = sorted(groups, key=lambda g: (KIND_ORDER.index(g[0]) if g[0] in KIND_ORDER else 9, g[0],
                                          -len(groups[g]), g))
    for key in order:
        kind = key[0]
        several = sum(1 for g in groups if g[0] == kind) > 1
        members = sorted(groups[key], key=lambda e: _sort_key(e, rb.get(e.model_id, {})))
        tables = []
        for prompt in prompts:
            cols = _columns_for(members, prompt, headlines)
            shown.update({hl.id: hl for _, hl, _ in cols})
            texts = next((t for e in members for t in [_prompt_texts(e.doc, "token_optimality").get(prompt)] if t),
                         None)
            rows = [_row(e, prompt, cols, lists[e.model_id], _rb_cells(e, rb.get(e.model_id, {}))) for e in members]
            for i, (col, _, _) in enumerate(cols):
                mark_extremes(col, [r.cells[i] for r in rows])
            ranked = any(_sort_key(e, rb.get(e.model_id, {}))[0] == 0 for e in members)
            tables.append(PromptTable(prompt, texts, [c for c, _, _ in cols], rows,
                                      f"rb_{VERSIONS[0]}" if ranked else "model"))
        label = KIND_LABELS.get(kind, kind) + (f" — {key[1]} weights, {key[2]}" if several else "")
        kinds.append(KindView(kind, "-".join(slug_part(k) for k in key), label, KIND_NOTES.get(kind, ""),
                              len(members), tables))
    glossary = [
        GlossaryItem("Model", "The audited model: a Hub id, a local folder (local:<name>@<hash>) or the demo model. "
                     "Its page has every number, the figures and downloads.", "text"),
        GlossaryItem("RewardBench v1 / RewardBench v2", "Today's RewardBench leaderboard rank (#) and overall score for the same "
                     "Hub id; * marks a self-reported entry. Local and demo models are never matched.",
                     "lower rank is better", "rank 1 upwards; score 0 to 100"),
        GlossaryItem("Liked most / Liked least", f"The {N_BOARD_TOKENS} single-token replies with the highest and "
                     "lowest scores under the chosen prompt; ␣ is a space.", "text"),
    ]
    glossary += [GlossaryItem(hl.label, hl.definition, hl.direction_words, hl.range, not hl.scale_free)
                 for hl in headlines if hl.id in shown]
    return BoardView(kinds, [PromptChoice(p) for p in prompts], default, glossary, VERSIONS, rb_note,
                     len(entries), has_compare, list(problems))
