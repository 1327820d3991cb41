"""Build the leaderboard: `leaderboard.md` and a static site from every `results/*/results.json`.

    python -m leaderboard.build --results results --out leaderboard/site

Writes into the output folder:

- `index.html`: one row per model, sortable (click a column header) and filterable (text box); RewardBench rank
  and score (v1) joined by model id from `leaderboard/data/rewardbench.json`, the first optimal and pessimal
  tokens, and one column per metric found in any results file (header: direction ↑/↓, definition as tooltip; a
  missing value is "—" with the reason as tooltip).
- `models/<org>__<name>.html`: everything about one model (metrics, token lists, figures copied beside it).
- `compare.html`: the cross-model report of `results/_compare/` (`rm-harness compare`) when there is one.
- `leaderboard.md` (GitHub table) and `leaderboard.json` (the same data, machine-readable).
- `static/` (one CSS and one JS file; no network, works from file:// and from any web host).

Every string that comes from a results file (token strings above all) is treated as hostile: it is shown with
`visible()` (leading/trailing spaces as ␣, control, format, bidi and other invisible characters as `\\uXXXX`) and
HTML-escaped; JSON inside <script> is escaped so it cannot close the element. Links are relative.

A results file that cannot be read is skipped with a `LeaderboardWarning`, never fatal. The site is built in a
temporary folder beside the output and swapped in at the end, so a failed build leaves the previous site intact;
an existing output folder is only replaced when it holds the marker file of an earlier build.

Comparison report (`results/_compare/compare.json`, written by `rm-harness compare`; the results.json layout with
`model.models` listing the ids compared): its figures are copied to `compare/figures/`; a metric whose key names a
compared model (`<prompt>/<model id>/<name>`, e.g. that model's mean Kendall tau with the others) becomes a board
column (task shown as "<task> (comparison)"); the other metrics describe the whole comparison and are listed on
`compare.html`.
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import math
import os
import re
import shutil
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping
from urllib.parse import quote

from harness import __version__
from harness.atomic import atomic_write_text
from harness.errors import UserError
from harness.report.text import safe_text, visible
from harness.submission import (
    SubmissionRecord,
    load_records,
    looks_like_hub_id,
    model_slug,
)
from leaderboard.rewardbench import RewardBenchEntry, Snapshot, VersionResult, load_snapshot

log = logging.getLogger(__name__)

SUPPORTED_SCHEMA = 1
SITE_MARKER = ".rm-harness-site"
STATIC_DIR = Path(__file__).with_name("static")
STATIC_FILES = ("style.css", "leaderboard.js")
COMPARE_DIRNAME = "_compare"
COMPARE_SUFFIX = " (comparison)"  # task label of board columns taken from the comparison report
N_BOARD_TOKENS = 5  # tokens per cell on the board
N_PAGE_TOKENS = 50  # tokens per list on a model page
MAX_TOKEN_CHARS = 80  # longer token strings are cut (the full string is in the cell's tooltip)
PROMPT_PREFERENCE = ("best", "greatest", "greatest_ever", "humans_most_prefer", "worst")
TOKEN_TASK = "token_optimality"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; base-uri 'none'; "
       "form-action 'none'")

# Known metric families, in board order: (group label, pattern over "task/key").
KNOWN_GROUPS: tuple[tuple[str, str], ...] = (
    ("framing asymmetry", r"framing|asymmetr|valence"),
    ("frequency bias", r"freq|exposure|zipf"),
    ("identity bias", r"identity"),
    ("human agreement", r"human|elo"),
    ("agreement with other models", r"agree|kendall|spearman|rbo|heterogen|compar"),
    ("token optimality", r"^token_optimality/"),
)


class LeaderboardWarning(UserWarning):
    """A results file (or the comparison report) was skipped or is partly unreadable."""


class LeaderboardError(UserError, RuntimeError):
    """The board cannot be built as asked (e.g. the output folder is not a site this tool built)."""


def h(s: Any) -> str:
    """Escaped for HTML text and for double- or single-quoted attributes."""
    return html.escape(safe_text(s), quote=True)


def finite_json(obj: Any) -> Any:
    """A copy of `obj` that JSON can hold: NaN/inf become None, keys become strings, tuples lists."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {str(k): finite_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_json(v) for v in obj]
    if obj is None or isinstance(obj, (str, int, bool)):
        return obj
    return str(obj)


def script_json(obj: Any) -> str:
    """JSON safe inside <script type="application/json">: ASCII only, and <, >, & as \\u escapes, so no
    `</script>` or `<!--` can appear; U+2028/2029 are escaped too (ensure_ascii)."""
    text = json.dumps(finite_json(obj), ensure_ascii=True, allow_nan=False, sort_keys=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def md_escape(s: str) -> str:
    """For a GitHub markdown table cell: invisible characters escaped (`safe_text`), HTML-escaped, markdown
    punctuation and pipes backslash-escaped."""
    s = safe_text(s).replace("\\", "\\\\")
    s = html.escape(s, quote=False)
    return re.sub(r"([|`*_\[\]~#])", r"\\\1", s)


def _cut(s: str, limit: int = MAX_TOKEN_CHARS) -> tuple[str, bool]:
    return (s, False) if len(s) <= limit else (s[: limit - 1] + "…", True)


def token_html(text: Any) -> str:
    """One token string as a <code> chip: visible(), cut when very long (full string in the tooltip), escaped."""
    vis = visible("" if text is None else str(text))
    if vis == "":
        return '<code class="tok empty" title="empty string">∅</code>'
    shown, cut = _cut(vis)
    title = f' title="{html.escape(vis, quote=True)}"' if cut else ""
    return f'<code class="tok"{title}>{html.escape(shown, quote=True)}</code>'


def fmt_value(v: float | None) -> str:
    if v is None:
        return "—"
    if float(v).is_integer() and abs(v) < 1e12:
        return str(int(v))
    a = abs(v)
    if a != 0 and (a < 1e-3 or a >= 1e5):
        return f"{v:.3e}"
    return f"{v:.4g}"


def _arrow(hib: bool | None) -> str:
    return {True: "↑", False: "↓"}.get(hib, "")


def _direction_words(hib: bool | None) -> str:
    return {True: "higher is better", False: "lower is better"}.get(hib, "no better direction (descriptive)")


# --------------------------------------------------------------------------------------------------------------
# Reading results


@dataclass
class Cell:
    value: float | None
    reason: str | None = None  # why value is None


@dataclass
class Column:
    id: str  # "task/key"
    task: str
    key: str
    definition: str = ""
    higher_is_better: bool | None = None
    versions: set = field(default_factory=set)
    conflicting_direction: bool = False
    source: str = "results"  # or "compare": a per-model metric of the comparison report

    @property
    def group(self) -> int:
        for i, (_, pattern) in enumerate(KNOWN_GROUPS):
            if re.search(pattern, self.id, flags=re.I):
                return i
        return len(KNOWN_GROUPS)

    @property
    def group_label(self) -> str:
        g = self.group
        return KNOWN_GROUPS[g][0] if g < len(KNOWN_GROUPS) else "other"


@dataclass
class Figure:
    source: Path
    name: str  # file name in the site
    task: str | None
    label: str


@dataclass
class Entry:
    model_id: str
    results_dir: Path
    doc: dict[str, Any]
    metrics: dict[str, Cell] = field(default_factory=dict)
    meta: dict[str, dict[str, Any]] = field(default_factory=dict)  # col id -> {definition, higher_is_better}
    task_versions: dict[str, Any] = field(default_factory=dict)
    top: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    bottom: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    slug: str = ""
    rb: RewardBenchEntry | None = None
    request: SubmissionRecord | None = None

    @property
    def model(self) -> dict[str, Any]:
        m = self.doc.get("model")
        return m if isinstance(m, dict) else {}

    @property
    def tasks(self) -> set[str]:
        r = self.doc.get("results")
        return set(r) if isinstance(r, dict) else set()


def _warn(msg: str) -> None:
    log.warning(msg)
    warnings.warn(msg, LeaderboardWarning, stacklevel=3)


def _number(v: Any) -> Cell:
    if v is None:
        return Cell(None, "not computed")
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return Cell(None, f"not a number in the results file ({type(v).__name__})")
    f = float(v)
    if not math.isfinite(f):
        return Cell(None, f"not finite ({f})")
    return Cell(f)


def _metric(raw: Any) -> tuple[Cell, dict[str, Any]]:
    if isinstance(raw, Mapping):
        cell = _number(raw.get("value"))
        if cell.value is None and raw.get("value") is None:
            reason = raw.get("missing_reason")
            cell.reason = str(reason) if reason else "not computed (no reason given)"
        hib = raw.get("higher_is_better")
        meta = {
            "definition": str(raw.get("definition") or ""),
            "higher_is_better": hib if isinstance(hib, bool) else None,
        }
        return cell, meta
    return _number(raw), {"definition": "", "higher_is_better": None}


def _token_rows(rows: Any) -> list[dict[str, Any]]:
    out = []
    if not isinstance(rows, list):
        return out
    for r in rows:
        if not isinstance(r, Mapping):
            continue
        text = next((r[k] for k in ("decoded", "item", "token") if isinstance(r.get(k), str)), "")
        score = _number(r.get("score")).value
        tid = r.get("id") if isinstance(r.get("id"), int) and not isinstance(r.get("id"), bool) else None
        raw = r.get("token") if isinstance(r.get("token"), str) else None
        out.append({"text": text, "score": score, "id": tid, "token": raw})
    return out


def _token_lists(results: Mapping[str, Any]) -> tuple[dict[str, list], dict[str, list]]:
    order = [TOKEN_TASK] + sorted(t for t in results if t != TOKEN_TASK)
    for task in order:
        block = results.get(task)
        data = block.get("data") if isinstance(block, Mapping) else None
        if not isinstance(data, Mapping):
            continue
        top, bottom = data.get("top"), data.get("bottom")
        if isinstance(top, Mapping) or isinstance(bottom, Mapping):
            t = {str(k): _token_rows(v) for k, v in (top or {}).items()} if isinstance(top, Mapping) else {}
            b = {str(k): _token_rows(v) for k, v in (bottom or {}).items()} if isinstance(bottom, Mapping) else {}
            return t, b
    return {}, {}


def _is_png(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(8) == PNG_MAGIC
    except OSError:
        return False


def _safe_filename(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, "png"
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.") or "figure"
    return f"{stem[:100]}.{ext.lower()}"


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except (ValueError, OSError):
        return False


def _collect_figures(results_dir: Path, results: Mapping[str, Any]) -> list[Figure]:
    """PNG figures of one results folder: those each task lists (labelled with the task), then any other PNG in
    figures/. Only regular files inside the folder (no symlinks, no ../) that really are PNGs are taken."""
    fig_dir = results_dir / "figures"
    seen: set[Path] = set()
    used: set[str] = set()
    out: list[Figure] = []

    def add(src: Path, task: str | None) -> None:
        if src.is_symlink() or not src.is_file() or not _inside(src, results_dir):
            return
        real = src.resolve()
        if real in seen or src.suffix.lower() != ".png" or not _is_png(src):
            return
        seen.add(real)
        name = _safe_filename(src.name)
        base, i = name, 2
        while name in used:
            name = f"{base[:-4]}-{i}.png"
            i += 1
        used.add(name)
        label = src.stem
        if task and label.startswith(f"{task}__"):
            label = label[len(task) + 2:]
        out.append(Figure(src, name, task, label))

    for task in sorted(results, key=lambda t: (t != TOKEN_TASK, str(t))):
        block = results[task]
        figs = block.get("figures") if isinstance(block, Mapping) else None
        for rel in figs if isinstance(figs, list) else []:
            if isinstance(rel, str) and rel and not os.path.isabs(rel):
                add(results_dir / rel, str(task))
    if fig_dir.is_dir() and not fig_dir.is_symlink():
        for src in sorted(fig_dir.glob("*.png")):
            add(src, None)
    return out


def read_entry(path: Path) -> Entry:
    """Parse one results.json into an Entry; raises ValueError (or OSError) when it cannot be used."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict):
        raise ValueError("not a JSON object")
    sv = doc.get("schema_version")
    if sv != SUPPORTED_SCHEMA:
        raise ValueError(f"unsupported schema_version {sv!r} (this builder reads {SUPPORTED_SCHEMA})")
    model = doc.get("model")
    if not isinstance(model, dict) or not isinstance(model.get("id"), str) or not model["id"].strip():
        raise ValueError("model.id is missing")
    results = doc.get("results", {})
    if not isinstance(results, dict):
        raise ValueError("'results' is not an object")
    versions = doc.get("versions") if isinstance(doc.get("versions"), dict) else {}
    entry = Entry(model_id=model["id"].strip(), results_dir=path.parent, doc=doc)
    entry.task_versions = {str(k): v for k, v in versions.items()}
    for task, block in results.items():
        metrics = block.get("metrics") if isinstance(block, Mapping) else None
        if not isinstance(metrics, Mapping):
            continue
        for key, raw in metrics.items():
            cid = f"{task}/{key}"
            entry.metrics[cid], entry.meta[cid] = _metric(raw)
    entry.top, entry.bottom = _token_lists(results)
    entry.figures = _collect_figures(path.parent, results)
    return entry


def load_results(results_dir: str | os.PathLike[str]) -> tuple[list[Entry], list[str]]:
    """Every readable `results_dir/*/results.json` (folders starting with "." or "_" are not models), and one
    message per file skipped. Two files for the same model id: the newer `created` wins."""
    root = Path(results_dir)
    problems: list[str] = []
    by_model: dict[str, Entry] = {}
    if not root.is_dir():
        _warn(f"{root}: no results folder; the board is empty")
        return [], [f"{root}: no results folder"]
    for d in sorted(root.iterdir()):
        if d.name.startswith((".", "_")) or not d.is_dir():
            continue
        f = d / "results.json"
        if not f.is_file():
            continue
        try:
            entry = read_entry(f)
        except Exception as exc:  # one bad file never stops the board
            msg = f"{f}: skipped: {type(exc).__name__}: {exc}"
            _warn(msg)
            problems.append(msg)
            continue
        key = entry.model_id.lower()
        if key in by_model:
            old = by_model[key]
            newer = str(entry.doc.get("created") or "") > str(old.doc.get("created") or "")
            keep, drop = (entry, old) if newer else (old, entry)
            msg = (f"{drop.results_dir / 'results.json'}: skipped: same model as "
                   f"{keep.results_dir / 'results.json'}, which is newer")
            _warn(msg)
            problems.append(msg)
            by_model[key] = keep
        else:
            by_model[key] = entry
    return list(by_model.values()), problems


# --------------------------------------------------------------------------------------------------------------
# Cross-model comparison report


@dataclass
class CompareInfo:
    folder: Path
    doc: dict[str, Any]
    figures: list[Figure]
    models: list[str]
    # lower-cased model id -> column id ("<task> (comparison)/<prompt>/<name>") -> (cell, meta)
    per_model: dict[str, dict[str, tuple[Cell, dict[str, Any]]]]
    # whole-comparison metrics: task -> key -> (cell, meta)
    overall: dict[str, dict[str, tuple[Cell, dict[str, Any]]]]


def _split_model_key(key: str, models: list[str]) -> tuple[str, str, str] | None:
    """`<prompt>/<model id>/<name>` -> (model id, prompt, name) for one of `models` (longest id first)."""
    for m in sorted(models, key=len, reverse=True):
        i = key.find(f"/{m}/")
        if i > 0:
            return m, key[:i], key[i + len(m) + 2:]
    return None


def load_compare(folder: str | os.PathLike[str]) -> CompareInfo | None:
    """The comparison report in `folder` (None when there is no such folder). Unreadable parts are warned about
    and left out; its figures are shown whatever compare.json holds."""
    root = Path(folder)
    if not root.is_dir():
        return None
    doc: dict[str, Any] = {}
    cj = root / "compare.json"
    if cj.is_file():
        try:
            loaded = json.loads(cj.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                doc = loaded
            else:
                _warn(f"{cj}: not a JSON object; only its figures are shown")
        except (OSError, ValueError) as exc:
            _warn(f"{cj}: unreadable ({type(exc).__name__}: {exc}); only its figures are shown")
    model = doc.get("model") if isinstance(doc.get("model"), dict) else {}
    listed = model.get("models", doc.get("models"))
    models = [m for m in listed if isinstance(m, str) and m] if isinstance(listed, list) else []
    results = doc.get("results") if isinstance(doc.get("results"), dict) else {}
    figures = _collect_figures(root, results)
    versions = doc.get("versions") if isinstance(doc.get("versions"), dict) else {}

    per_model: dict[str, dict[str, tuple[Cell, dict[str, Any]]]] = {}
    overall: dict[str, dict[str, tuple[Cell, dict[str, Any]]]] = {}
    for task, block in results.items():
        metrics = block.get("metrics") if isinstance(block, Mapping) else None
        if not isinstance(metrics, Mapping):
            continue
        for key, raw in metrics.items():
            cell, meta = _metric(raw)
            meta["source"] = "compare"
            meta["version"] = versions.get(task)
            hit = _split_model_key(str(key), models)
            if hit is None:
                overall.setdefault(str(task), {})[str(key)] = (cell, meta)
            else:
                mid, prompt, name = hit
                per_model.setdefault(mid.lower(), {})[f"{task}{COMPARE_SUFFIX}/{prompt}/{name}"] = (cell, meta)
    return CompareInfo(root, doc, figures, models, per_model, overall)


# --------------------------------------------------------------------------------------------------------------
# Board model


def _columns(entries: list[Entry]) -> list[Column]:
    cols: dict[str, Column] = {}
    for e in entries:
        for cid, meta in e.meta.items():
            task, _, key = cid.partition("/")
            col = cols.get(cid)
            if col is None:
                col = cols[cid] = Column(cid, task, key, meta["definition"], meta["higher_is_better"],
                                         source=meta.get("source", "results"))
            else:
                if not col.definition and meta["definition"]:
                    col.definition = meta["definition"]
                if meta["higher_is_better"] != col.higher_is_better:
                    if col.higher_is_better is None and not col.conflicting_direction:
                        col.higher_is_better = meta["higher_is_better"]
                    elif meta["higher_is_better"] is not None:
                        col.conflicting_direction = True
                        col.higher_is_better = None
            v = meta.get("version") if col.source == "compare" else e.task_versions.get(task)
            if v is not None:
                col.versions.add(str(v))

    def natural(s: str) -> list:
        return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]

    return sorted(cols.values(), key=lambda c: (c.group, c.source, natural(c.task), natural(c.key)))


HEADLINE_PATH = Path(__file__).with_name("headline.yaml")


def _headline(cols: list[Column], path: Path = HEADLINE_PATH) -> list[Column]:
    """The main table's columns: those the headline list names, in its order; all of them if it names none."""
    import yaml

    patterns = (yaml.safe_load(path.read_text()) or {}).get("columns", []) if path.exists() else []
    chosen: list[Column] = []
    for pattern in patterns:
        chosen += [c for c in cols if re.search(pattern, c.id) and c not in chosen]
    return chosen or cols


def _missing_reason(e: Entry, col: Column) -> str:
    cell = e.metrics.get(col.id)
    if cell is not None:
        return cell.reason or "not computed"
    if col.source == "compare":
        return "not part of the comparison report (rm-harness compare)"
    if col.task not in e.tasks:
        return f"task {col.task!r} was not run for this model"
    v = e.task_versions.get(col.task)
    return f"task {col.task!r}{f' (version {v})' if v is not None else ''} did not report this metric"


def _pick_prompt(lists: Mapping[str, list]) -> str | None:
    for p in PROMPT_PREFERENCE:
        if lists.get(p):
            return p
    nonempty = sorted(k for k, v in lists.items() if v)
    return nonempty[0] if nonempty else None


def _assign_slugs(entries: list[Entry]) -> None:
    """Page name of each model: its results folder's name (`<org>__<name>`, unique by construction), reduced to
    [A-Za-z0-9._-]; a clash after that reduction gets a short hash of the model id."""
    import hashlib

    used: set[str] = set()
    for e in sorted(entries, key=lambda e: e.results_dir.name):
        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", e.results_dir.name).lstrip(".-") or model_slug(e.model_id)
        if slug.lower() in used:
            slug = f"{slug}-{hashlib.sha1(e.model_id.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"
        used.add(slug.lower())
        e.slug = slug


def _latest_requests(results_dir: Path) -> dict[str, SubmissionRecord]:
    out: dict[str, SubmissionRecord] = {}
    try:
        records = load_records(results_dir)
    except OSError:
        return out
    for _, rec in records:
        key = str(rec.model).lower()
        stamp = rec.finished_time or rec.started_time or rec.submitted_time or ""
        old = out.get(key)
        if old is None or stamp >= (old.finished_time or old.started_time or old.submitted_time or ""):
            out[key] = rec
    return out


def _rb_v1(e: Entry) -> VersionResult | None:
    """The RewardBench v1 result the board's columns show (None when the model is not on v1)."""
    return e.rb.v1 if e.rb else None


def _sort_key(e: Entry) -> tuple:
    rank = _rb_v1(e).rank if _rb_v1(e) else None
    ranked = isinstance(rank, (int, float)) and not isinstance(rank, bool)
    return (0 if ranked else 1, rank if ranked else 0, e.model_id.lower())


# --------------------------------------------------------------------------------------------------------------
# HTML


def _page(title: str, body: str, *, root: str, extra_head: str = "", scripts: str = "") -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n"
        "<meta name=\"referrer\" content=\"no-referrer\">\n"
        f"<title>{h(title)}</title>\n<link rel=\"stylesheet\" href=\"{root}static/style.css\">\n{extra_head}</head>\n"
        "<body>\n<header class=\"site\"><nav>"
        f"<a href=\"{root}index.html\">Leaderboard</a> <a href=\"{root}compare.html\">Compare models</a> "
        f"<a href=\"{root}leaderboard.md\">Markdown</a></nav></header>\n<main>\n{body}\n</main>\n"
        f"<footer>Built {h(_now())} by rm-harness {h(__version__)}. Token strings are shown with invisible "
        "characters made visible: ␣ is a space, \\uXXXX an invisible or control character, \\\\ a backslash."
        f"</footer>\n{scripts}</body>\n</html>\n"
    )


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _title_attr(*lines: str) -> str:
    return "&#10;".join(h(x) for x in lines if x)


def _rb_cells(e: Entry, snap: Snapshot) -> tuple[str, str]:
    src = f"source: {snap.source}" + (f" (compiled {snap.date})" if snap.date else "")
    v1 = _rb_v1(e)
    if not v1:
        rank = (f'<td class="num unranked" data-sort="" title="{_title_attr("not on the RewardBench snapshot", src)}">'
                "unranked</td>")
        score = f'<td class="num missing" data-sort="" title="{_title_attr("unranked on RewardBench", src)}">—</td>'
        return rank, score
    r = v1.rank
    rank = (f'<td class="num" data-sort="{h(r)}" title="{_title_attr("RewardBench rank", src)}">{h(r)}</td>'
            if isinstance(r, int) else
            f'<td class="num missing" data-sort="" title="{_title_attr("rank not in the snapshot", src)}">—</td>')
    s = v1.score
    score = (f'<td class="num" data-sort="{s!r}" title="{_title_attr("RewardBench score", src)}">'
             f"{s:.1f}</td>")
    return rank, score


def _board_prompt(e: Entry, side: str) -> str | None:
    """The prompt whose list the board shows: the preferred one with a top list; the bottom list uses the same
    prompt when it has one."""
    top = _pick_prompt(e.top)
    if side == "top":
        return top
    return top if top is not None and e.bottom.get(top) else _pick_prompt(e.bottom)


def _tokens_cell(e: Entry, side: str) -> str:
    lists = e.top if side == "top" else e.bottom
    prompt = _board_prompt(e, side)
    rows = lists.get(prompt or "", [])[:N_BOARD_TOKENS]
    if not rows:
        why = ("no token lists in the results (token_optimality not run)" if not (e.top or e.bottom)
               else f"no {side} list")
        return f'<td class="tokens missing" data-sort="" title="{h(why)}">—</td>'
    items = "".join(f"<li>{token_html(r['text'])}</li>" for r in rows)
    sort = visible(rows[0]["text"]).lower()
    label = "highest" if side == "top" else "lowest"
    tip = _title_attr(f"{label}-scoring replies to prompt {prompt!r}")
    return f'<td class="tokens" data-sort="{h(sort)}" title="{tip}"><ol class="toks">{items}</ol></td>'


def _metric_cell(e: Entry, col: Column) -> str:
    cell = e.metrics.get(col.id)
    if cell is None or cell.value is None:
        return f'<td class="num missing" data-sort="" title="{_title_attr(_missing_reason(e, col))}">—</td>'
    v = e.task_versions.get(col.task)
    tip = _title_attr(f"{cell.value!r}", f"task {col.task} version {v}" if v is not None else "")
    return f'<td class="num" data-sort="{cell.value!r}" title="{tip}">{h(fmt_value(cell.value))}</td>'


def _header(col: Column) -> str:
    lines = [col.definition or "(no definition given)", _direction_words(col.higher_is_better),
             f"task: {col.task}" + (f" (version {', '.join(sorted(col.versions))})" if col.versions else "")]
    if col.conflicting_direction:
        lines.append("results files disagree on the direction of this metric")
    if len(col.versions) > 1:
        lines.append("models were run with different task versions: compare with care")
    arrow = _arrow(col.higher_is_better)
    arrow_html = (f' <span class="dir" aria-label="{h(_direction_words(col.higher_is_better))}">{arrow}</span>'
                  if arrow else "")
    hib = {True: "1", False: "-1"}.get(col.higher_is_better, "0")
    return (f'<th scope="col" data-type="num" data-hib="{hib}" data-col="{h(col.id)}" '
            f'class="metric g{col.group}" title="{_title_attr(*lines)}">'
            f'<button type="button" class="sort"><span class="task">{h(col.task)}</span>'
            f'<span class="key">{h(col.key)}</span>{arrow_html}</button></th>')


def _fixed_header(col: str, label: str, kind: str, hib: bool | None, *tip: str, css: str = "") -> str:
    arrow = _arrow(hib)
    arrow_html = (f' <span class="dir" aria-label="{h(_direction_words(hib))}">{arrow}</span>' if arrow else "")
    lines = [*tip] + ([_direction_words(hib)] if hib is not None else [])
    data_hib = {True: "1", False: "-1"}.get(hib, "0")
    cls = f' class="{css}"' if css else ""
    return (f'<th scope="col" data-type="{kind}" data-hib="{data_hib}" data-col="{col}"{cls} '
            f'title="{_title_attr(*lines)}"><button type="button" class="sort">{h(label)}{arrow_html}</button></th>')


def _board_html(entries: list[Entry], cols: list[Column], snap: Snapshot, problems: list[str],
                compare: CompareInfo | None) -> str:
    tokens_tip = f"first {N_BOARD_TOKENS} single-token replies; the prompt is in each cell's tooltip"
    fixed = [
        _fixed_header("model", "Model", "text", None, "model id (Hub id or local folder); click to open its page",
                      css="model-col"),
        _fixed_header("rb_rank", "RewardBench rank", "num", False, "RewardBench rank", snap.source),
        _fixed_header("rb_score", "RewardBench score", "num", True, "RewardBench overall score", snap.source),
        _fixed_header("optimal", "Optimal tokens", "text", None, "highest-scoring replies", tokens_tip),
        _fixed_header("pessimal", "Pessimal tokens", "text", None, "lowest-scoring replies", tokens_tip),
    ]
    head = "<tr>" + "".join(fixed) + "".join(_header(c) for c in cols) + "</tr>"
    body_rows = []
    for e in entries:
        rank, score = _rb_cells(e, snap)
        model = (f'<th scope="row" class="model-col" data-sort="{h(e.model_id.lower())}">'
                 f'<a href="models/{quote(e.slug)}.html">{h(e.model_id)}</a></th>')
        cells = [model, rank, score, _tokens_cell(e, "top"), _tokens_cell(e, "bottom")]
        cells += [_metric_cell(e, c) for c in cols]
        body_rows.append(f'<tr data-model="{h(e.model_id)}">' + "".join(cells) + "</tr>")
    n = len(entries)
    if n:
        table = (f'<div class="table-wrap"><table id="board" class="board"><thead>{head}</thead>'
                 f'<tbody>{"".join(body_rows)}</tbody></table></div>')
    else:
        table = ('<p class="empty">No results yet. Audit a model with <code>python submit.py --model ORG/NAME</code> '
                 "and rebuild the board.</p>")
    groups = sorted({c.group_label for c in cols}, key=lambda g: [k for k, _ in KNOWN_GROUPS].index(g)
                    if g in [k for k, _ in KNOWN_GROUPS] else 99)
    skipped = ""
    if problems:
        items = "".join(f"<li>{h(p)}</li>" for p in problems)
        skipped = (f'<details class="problems"><summary>{len(problems)} results file(s) skipped</summary>'
                   f"<ul>{items}</ul></details>")
    compare_note = ('<a href="compare.html">Cross-model comparison</a>' if compare is not None else
                    'No cross-model comparison yet (<a href="compare.html">why</a>)')
    return (
        "<h1>Reward-model interpretability leaderboard</h1>\n"
        '<p class="lede">Each reward model is scored on its whole vocabulary as the reply to value-laden prompts '
        "(optimal and pessimal tokens), then audited for framing asymmetry, frequency bias, identity bias and "
        "agreement with human and other models' preferences. RewardBench rank and score are joined by model id "
        f"from a snapshot ({h(snap.source)}{', compiled ' + h(snap.date) if snap.date else ''}). "
        "Hover a column header for its definition; ↑ higher is better, ↓ lower is better, no arrow: descriptive. "
        "— marks a missing value (hover for the reason). The table shows the headline metrics; every metric is "
        "on each model's page and in <a href=\"leaderboard.json\">leaderboard.json</a>.</p>\n"
        f"<p>{compare_note}. Metric families on this board: {h(', '.join(groups) or 'none')}.</p>\n"
        '<div class="controls"><label for="filter">Filter</label> '
        '<input id="filter" type="search" placeholder="model id, token…" autocomplete="off" spellcheck="false"> '
        f'<span id="count" aria-live="polite">{n} of {n} models</span></div>\n'
        f"{table}\n{skipped}"
    )


def _board_data(entries: list[Entry], cols: list[Column]) -> dict[str, Any]:
    columns = [{"id": "model", "type": "text", "default_dir": 1},
               {"id": "rb_rank", "type": "num", "default_dir": 1},
               {"id": "rb_score", "type": "num", "default_dir": -1},
               {"id": "optimal", "type": "text", "default_dir": 1},
               {"id": "pessimal", "type": "text", "default_dir": 1}]
    columns += [{"id": c.id, "type": "num", "default_dir": {True: -1, False: 1}.get(c.higher_is_better, -1),
                 "higher_is_better": c.higher_is_better, "definition": c.definition} for c in cols]
    rows = []
    for e in entries:
        tp, bp = _board_prompt(e, "top"), _board_prompt(e, "bottom")
        rows.append({
            "model": e.model_id, "page": f"models/{e.slug}.html",
            "revision": e.model.get("revision"),
            "rewardbench": {"rank": _rb_v1(e).rank, "score": _rb_v1(e).score} if _rb_v1(e) else None,
            "optimal": {"prompt": tp, "tokens": [r["text"] for r in e.top.get(tp or "", [])[:N_BOARD_TOKENS]]},
            "pessimal": {"prompt": bp, "tokens": [r["text"] for r in e.bottom.get(bp or "", [])[:N_BOARD_TOKENS]]},
            "metrics": {c.id: (e.metrics[c.id].value if c.id in e.metrics else None) for c in cols},
            "missing": {c.id: _missing_reason(e, c) for c in cols
                        if c.id not in e.metrics or e.metrics[c.id].value is None},
        })
    return {"schema": "rm-harness-leaderboard/1", "built": _now(), "columns": columns, "rows": rows}


def _kv_table(pairs: Iterable[tuple[str, Any]]) -> str:
    rows = "".join(f"<tr><th scope=\"row\">{h(k)}</th><td>{h(v)}</td></tr>" for k, v in pairs
                   if v is not None and v != "")
    return f'<table class="kv">{rows}</table>'


def _token_table(rows: list[dict[str, Any]], caption: str) -> str:
    if not rows:
        return f'<table class="toklist"><caption>{h(caption)}</caption><tr><td class="missing">—</td></tr></table>'
    body = "".join(
        f'<tr><td class="num">{i}</td><td>{token_html(r["text"])}</td>'
        f'<td class="num">{"" if r["id"] is None else h(r["id"])}</td>'
        f'<td class="num">{h(fmt_value(r["score"]))}</td></tr>'
        for i, r in enumerate(rows[:N_PAGE_TOKENS], start=1))
    return (f'<table class="toklist"><caption>{h(caption)}</caption><thead><tr><th>#</th><th>token</th><th>id</th>'
            f"<th>score</th></tr></thead><tbody>{body}</tbody></table>")


def _prompt_order(keys: Iterable[str]) -> list[str]:
    keys = list(dict.fromkeys(keys))
    pref = [p for p in PROMPT_PREFERENCE if p in keys]
    return pref + sorted(k for k in keys if k not in pref)


def _model_page(e: Entry, snap: Snapshot, compare: CompareInfo | None) -> str:
    m = e.model
    parts = ['<p class="crumbs"><a href="../index.html">← leaderboard</a></p>', f"<h1>{h(e.model_id)}</h1>"]
    if looks_like_hub_id(e.model_id):
        parts.append(f'<p><a href="https://huggingface.co/{quote(e.model_id)}" rel="noopener noreferrer nofollow">'
                     "model on the Hugging Face Hub</a></p>")
    if _rb_v1(e):
        rb = f"rank {_rb_v1(e).rank}, score {_rb_v1(e).score:.1f}"
    else:
        rb = "unranked (not on the RewardBench snapshot)"
    sub = None
    if e.request is not None:
        r = e.request
        sub = f"{r.status}, {'verified' if r.verified else 'self-submitted (unverified)'}" + (
            f", submitted {r.submitted_time}" if r.submitted_time else "")
    parts.append(_kv_table([
        ("revision", m.get("revision")), ("dtype", m.get("dtype")), ("scorer", m.get("scorer")),
        ("attention", m.get("attn_implementation")), ("chat template hash", m.get("template_hash")),
        ("device", m.get("device")), ("RewardBench", f"{rb} ({snap.source})"), ("submission", sub),
        ("harness version", e.doc.get("harness_version")), ("created", e.doc.get("created")),
        ("wall time (s)", e.doc.get("wall_time_s") if not isinstance(e.doc.get("wall_time_s"), dict) else None),
    ]))

    # metrics grouped by task
    parts.append("<h2>Metrics</h2>")
    by_task: dict[str, list[str]] = {}
    for cid in e.meta:
        by_task.setdefault(cid.partition("/")[0], []).append(cid)
    if not by_task:
        parts.append('<p class="missing">No metrics in this results file.</p>')
    for task in sorted(by_task):
        v = e.task_versions.get(task)
        rows = []
        for cid in by_task[task]:
            cell, meta = e.metrics[cid], e.meta[cid]
            hib = meta["higher_is_better"]
            if cell.value is None:
                value = f'<td class="num missing" title="{h(cell.reason)}">—</td>'
                note = f'<span class="reason">missing: {h(cell.reason)}</span>'
            else:
                value = f'<td class="num" title="{h(repr(cell.value))}">{h(fmt_value(cell.value))}</td>'
                note = ""
            rows.append(f'<tr><th scope="row">{h(cid.partition("/")[2])}</th>{value}'
                        f'<td class="dir" title="{h(_direction_words(hib))}">{_arrow(hib)}</td>'
                        f"<td>{h(meta['definition'])} {note}</td></tr>")
        link = ' (<a href="../compare.html">comparison report</a>)' if task.endswith(COMPARE_SUFFIX) else ""
        parts.append(f'<table class="metrics"><caption>{h(task)}{f" (version {h(v)})" if v is not None else ""}'
                     f"{link}</caption><thead><tr><th>metric</th><th>value</th><th>dir.</th><th>definition</th>"
                     f"</tr></thead><tbody>{''.join(rows)}</tbody></table>")
    # token lists
    parts.append("<h2>Optimal and pessimal tokens</h2>")
    prompts = _prompt_order([*e.top, *e.bottom])
    if not prompts:
        parts.append('<p class="missing">No token lists in this results file (token_optimality was not run).</p>')
    for p in prompts:
        parts.append(f'<section class="prompt"><h3>prompt: <code>{h(p)}</code></h3><div class="pair">'
                     f"{_token_table(e.top.get(p, []), 'optimal (highest score first)')}"
                     f"{_token_table(e.bottom.get(p, []), 'pessimal (lowest score first)')}</div></section>")

    # figures
    parts.append("<h2>Figures</h2>")
    if not e.figures:
        parts.append('<p class="missing">No figures in this results folder.</p>')
    for f in e.figures:
        src = f"{quote(e.slug)}/figures/{quote(f.name)}"
        cap = f"{f.task}: {f.label}" if f.task else f.label
        parts.append(f'<figure><img src="{h(src)}" alt="{h(cap)}"><figcaption>{h(cap)}</figcaption></figure>')

    env = e.doc.get("environment")
    if isinstance(env, dict) and env:
        parts.append(f"<details><summary>Environment</summary>{_kv_table(sorted(env.items()))}</details>")
    return _page(f"{e.model_id} · RM leaderboard", "\n".join(parts), root="../")


def _compare_page(compare: CompareInfo | None, entries: list[Entry]) -> str:
    parts = ['<p class="crumbs"><a href="index.html">← leaderboard</a></p>', "<h1>Comparison across models</h1>"]
    if compare is None:
        parts.append('<p class="empty">No cross-model comparison has been run yet. Run <code>rm-harness compare</code> '
                     "over the audited models (it writes <code>results/_compare/</code>: heatmaps of rank "
                     "agreement, MDS, similarity analyses), then rebuild the board.</p>")
        return _page("Comparison · RM leaderboard", "\n".join(parts), root="")
    on_board = {e.model_id.lower(): e for e in entries}
    if compare.doc.get("created"):
        parts.append(f"<p>Comparison run {h(compare.doc.get('created'))}.</p>")
    if compare.models:
        items = []
        for mid in compare.models:
            e = on_board.get(mid.lower())
            items.append(f'<li><a href="models/{quote(e.slug)}.html">{h(mid)}</a></li>' if e else
                         f"<li>{h(mid)} <span class=\"missing\">(not on the board)</span></li>")
        parts.append(f"<h2>Models compared ({len(compare.models)})</h2><ul>{''.join(items)}</ul>")
        missing = [e.model_id for e in entries if e.model_id.lower() not in {m.lower() for m in compare.models}]
        if missing:
            parts.append("<p class=\"missing\">On the board but not in this comparison: "
                         f"{h(', '.join(missing))}. Re-run <code>rm-harness compare</code> to include them.</p>")
    if compare.overall:
        parts.append("<h2>Metrics of the whole comparison</h2>")
        versions = compare.doc.get("versions") if isinstance(compare.doc.get("versions"), dict) else {}
        for task in sorted(compare.overall):
            rows = []
            for key, (cell, meta) in compare.overall[task].items():
                hib = meta["higher_is_better"]
                value = (f'<td class="num missing" title="{h(cell.reason)}">—</td>' if cell.value is None else
                         f'<td class="num" title="{h(repr(cell.value))}">{h(fmt_value(cell.value))}</td>')
                note = f' <span class="reason">missing: {h(cell.reason)}</span>' if cell.value is None else ""
                rows.append(f'<tr><th scope="row">{h(key)}</th>{value}<td class="dir" '
                            f'title="{h(_direction_words(hib))}">{_arrow(hib)}</td><td>{h(meta["definition"])}{note}'
                            "</td></tr>")
            v = versions.get(task)
            parts.append(f'<table class="metrics"><caption>{h(task)}{f" (version {h(v)})" if v is not None else ""}'
                         "</caption><thead><tr><th>metric</th><th>value</th><th>dir.</th><th>definition</th></tr>"
                         f"</thead><tbody>{''.join(rows)}</tbody></table>")
    if compare.per_model:
        parts.append("<p>Each model's own figures (e.g. its mean agreement with the others) are columns of the "
                     '<a href="index.html">leaderboard</a> marked “(comparison)”.</p>')
    parts.append("<h2>Figures</h2>")
    if not compare.figures:
        parts.append('<p class="missing">The comparison report has no figures.</p>')
    for f in compare.figures:
        src = f"compare/figures/{quote(f.name)}"
        parts.append(f'<figure><img src="{h(src)}" alt="{h(f.label)}"><figcaption>{h(f.label)}</figcaption></figure>')
    return _page("Comparison · RM leaderboard", "\n".join(parts), root="")


# --------------------------------------------------------------------------------------------------------------
# Markdown


def _markdown(entries: list[Entry], cols: list[Column], snap: Snapshot) -> str:
    from tabulate import tabulate

    headers = ["Model", "RewardBench rank", "RewardBench score", "Optimal tokens", "Pessimal tokens"]
    headers += [md_escape(f"{c.key} ({c.task})") + (f" {_arrow(c.higher_is_better)}" if c.higher_is_better is not None
                                                     else "") for c in cols]
    rows = []
    for e in entries:
        rank = str(_rb_v1(e).rank) if _rb_v1(e) else "unranked"
        s = _rb_v1(e).score if _rb_v1(e) else None
        row = [f"[{md_escape(safe_text(e.model_id))}](models/{quote(e.slug)}.html)", rank,
               "—" if s is None else f"{s:.1f}"]
        for side, lists in (("top", e.top), ("bottom", e.bottom)):
            p = _board_prompt(e, side)
            toks = [md_escape(visible(r["text"])) or "∅" for r in lists.get(p or "", [])[:N_BOARD_TOKENS]]
            row.append(f"{md_escape(p)}: " + ", ".join(toks) if toks else "—")
        row += ["—" if e.metrics.get(c.id) is None or e.metrics[c.id].value is None
                else fmt_value(e.metrics[c.id].value) for c in cols]
        rows.append(row)
    table = tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True) if rows else "_No results yet._"
    return (
        "# Reward-model interpretability leaderboard\n\n"
        f"{table}\n\n"
        f"RewardBench: {md_escape(snap.source)}" + (f", compiled {md_escape(snap.date)}" if snap.date else "") + ". "
        "↑ higher is better, ↓ lower is better, no arrow: descriptive. — = not available (the site gives the reason). "
        "Tokens: ␣ is a space, \\\\uXXXX an invisible or control character.\n\n"
        f"Built {_now()} by rm-harness {__version__}.\n"
    )


# --------------------------------------------------------------------------------------------------------------
# Site assembly


def _check_out_dir(out: Path, results_dir: Path) -> None:
    if out.exists() and not out.is_dir():
        raise LeaderboardError(f"{out}: exists and is not a folder")
    if _inside(results_dir, out):
        raise LeaderboardError(f"{out}: the output folder must not contain the results folder {results_dir}")
    if out.is_dir() and any(out.iterdir()) and not (out / SITE_MARKER).is_file():
        raise LeaderboardError(
            f"refusing to replace {out}: it is not empty and was not built by this tool (no {SITE_MARKER} marker); "
            "choose a new or empty folder")


def _swap_in(staging: Path, out: Path) -> None:
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        old.rmdir()
        os.rename(out, old)
        try:
            os.rename(staging, out)
        except OSError:
            os.rename(old, out)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(staging, out)


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)


def build(results_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str], *,
          snapshot: Snapshot | str | os.PathLike[str] | None = None,
          compare_dir: str | os.PathLike[str] | None = None) -> Path:
    """Build the board from `results_dir/*/results.json` into `out_dir`; returns the path of `index.html`.

    `snapshot`: a RewardBench Snapshot or a path to one (default: the bundled `leaderboard/data/rewardbench.json`,
    see `leaderboard.rewardbench`).
    `compare_dir`: the comparison report folder (default: `results_dir/_compare`).
    """
    results = Path(results_dir)
    out = Path(out_dir)
    snap = snapshot if isinstance(snapshot, Snapshot) else load_snapshot(snapshot)
    _check_out_dir(out, results)

    entries, problems = load_results(results)
    compare = load_compare(Path(compare_dir) if compare_dir is not None else results / COMPARE_DIRNAME)
    requests = _latest_requests(results) if results.is_dir() else {}
    for e in entries:
        e.rb = snap.lookup(e.model_id)
        e.request = requests.get(e.model_id.lower())
        if compare is not None:
            for cid, (cell, meta) in compare.per_model.get(e.model_id.lower(), {}).items():
                e.metrics[cid], e.meta[cid] = cell, meta
    _assign_slugs(entries)
    entries.sort(key=_sort_key)
    cols = _columns(entries)
    shown = _headline(cols)  # the main table; leaderboard.json and the model pages keep every metric

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".building", dir=out.parent))
    try:
        for name in STATIC_FILES:
            _copy(STATIC_DIR / name, staging / "static" / name)
        data = _board_data(entries, cols)
        scripts = (f'<script type="application/json" id="board-data">{script_json(data)}</script>\n'
                   '<script src="static/leaderboard.js"></script>\n')
        board = _board_html(entries, shown, snap, problems, compare)
        atomic_write_text(staging / "index.html", _page("Reward-model interpretability leaderboard", board, root="",
                                                        scripts=scripts))
        atomic_write_text(staging / "leaderboard.md", _markdown(entries, shown, snap))
        atomic_write_text(staging / "leaderboard.json",
                          json.dumps(finite_json(data), ensure_ascii=True, allow_nan=False, indent=1) + "\n")
        for e in entries:
            for f in e.figures:
                _copy(f.source, staging / "models" / e.slug / "figures" / f.name)
            atomic_write_text(staging / "models" / f"{e.slug}.html", _model_page(e, snap, compare))
        if compare is not None:
            for f in compare.figures:
                _copy(f.source, staging / "compare" / "figures" / f.name)
        atomic_write_text(staging / "compare.html", _compare_page(compare, entries))
        (staging / SITE_MARKER).write_text("built by rm-harness (leaderboard.build); replaced on every rebuild\n")
        _swap_in(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.info("leaderboard: %d model(s), %d column(s), %d skipped -> %s", len(entries), len(cols), len(problems), out)
    return out / "index.html"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m leaderboard.build",
                                 description="Build leaderboard.md and a static site from results/*/results.json.")
    ap.add_argument("--results", default="results", help="folder holding <org>__<name>/results.json (default: results)")
    ap.add_argument("--out", default="leaderboard/site", help="site folder to (re)write (default: leaderboard/site)")
    ap.add_argument("--snapshot", default=None, help="RewardBench snapshot JSON (default: the bundled one)")
    ap.add_argument("--compare", default=None, help="comparison report folder (default: <results>/_compare)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LeaderboardWarning)  # already logged
        try:
            index = build(args.results, args.out, snapshot=args.snapshot, compare_dir=args.compare)
        except LeaderboardError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    print(f"leaderboard: {index}")
    print(f"markdown:    {index.parent / 'leaderboard.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
