"""Files a model page links to, written beside it: figures (checked PNGs), CSVs of the top and bottom 1,000
replies per prompt, a copy of results.json, and the token-search data file.

Token search data (`search/tokens.js`): one script that sets `window.RMH_TOKENS` to
`{"prompts": [...], "first_id": 0, "ids": null or [...], "tokens": [visible form of each reply],
"scores": {prompt: [score or null, ...]}}`, aligned by row (`ids` only when the ids are not consecutive); scores
are the shortest decimals that read back as the same float32, so ranks computed from them are exact. A script, not JSON: pages opened from file:// cannot `fetch` local files under their CSP, but may add a
`<script src>` from their own folder. The page loads it on first use and computes ranks in the browser. Size
budget: `SEARCH_BUDGET_BYTES` (12 MB) per model: a 256k vocabulary costs about 3.5 MB of strings plus about
2.3 MB per prompt, so three prompts fit; prompts beyond the budget are left out and the page says so.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.io import untrusted
from harness.report.model_view import (
    TOKEN_TASK,
    Download,
    SearchInfo,
    prompt_order,
    published,
    slugify,
)
from harness.report.text import script_json, visible
from harness.io.untrusted import is_inside

N_CSV = 1000
SEARCH_BUDGET_BYTES = 12_000_000
SEARCH_FILE = "search/tokens.js"
SEARCH_META = "search/tokens.meta.json"
MAX_FIGURE_BYTES = 64 << 20


def checked_figures(doc: Mapping[str, Any], audit_dir: Path) -> dict[str, list[str]]:
    """task -> figure paths (relative to the audit folder) that are real PNG files inside it, reached through real
    folders only (paths written in the document are data)."""
    out: dict[str, list[str]] = {}
    for task, block in published(doc).items():
        for rel in block.get("figures") or []:
            try:
                src = untrusted.contained(audit_dir, rel, "figure")
                ok = untrusted.is_png(untrusted.read_bytes(src, "figure", max_bytes=MAX_FIGURE_BYTES))
            except (OSError, untrusted.UntrustedFileError):
                continue
            if ok:
                out.setdefault(task, []).append(Path(rel).as_posix())
    return out


def trusted_figures(doc: Mapping[str, Any], record: Mapping[str, Any], blob) -> dict[str, list[tuple[str, Path]]]:
    """task -> (relative path, file in the trust store) of the figures a trust record vouches for: the board
    shows these copies, never the audit folder's PNGs, for a trusted audit. `blob(sha)` finds a stored file."""
    vouched = record.get("figures") if isinstance(record.get("figures"), Mapping) else {}
    out: dict[str, list[tuple[str, Path]]] = {}
    for task, block in published(doc).items():
        for rel in block.get("figures") or []:
            sha = vouched.get(rel) if isinstance(rel, str) else None
            path = blob(sha) if isinstance(sha, str) else None
            if path is not None:
                out.setdefault(task, []).append((rel, path))
    return out


def _copy(src: Path, dst: Path) -> None:
    if dst.exists() and dst.resolve() == src.resolve():
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)


def copy_figures(figures: Mapping[str, list[tuple[str, Path]]], dest_dir: Path) -> None:
    for pairs in figures.values():
        for rel, src in pairs:
            _copy(src, dest_dir / rel)


def score_tables(doc: Mapping[str, Any], audit_dir: Path) -> dict[str, tuple[str, str]]:
    """prompt key -> (task, relative table path) of the published score tables the document cites
    (token_optimality first); each is read through `_read_table`, which checks and binds it."""
    from harness.results.audit import Audit, RESULTS_FILE

    cited = Audit(Path(audit_dir) / RESULTS_FILE, dict(doc)).cited()
    results = published(doc)
    out: dict[str, tuple[str, str]] = {}
    for task in [TOKEN_TASK] + sorted(t for t in results if t != TOKEN_TASK):
        for prompt, rel in cited.get(task, {}).items():
            out.setdefault(str(prompt), (str(task), rel))
    return out


def _read_table(doc: Mapping[str, Any], audit_dir: Path, task: str, prompt: str):
    import pandas as pd

    from harness.results.audit import Audit, RESULTS_FILE

    df = Audit(Path(audit_dir) / RESULTS_FILE, dict(doc)).cited_table(task, prompt).df
    text = df["decoded"] if "decoded" in df else df.get("item", df.get("token"))
    finite = df["finite"].astype(bool) if "finite" in df else df["score"].notna()
    return pd.DataFrame({"id": df["id"], "text": text.astype(str), "score": df["score"].astype(float),
                         "finite": finite})


def write_csvs(doc: Mapping[str, Any], audit_dir: Path, dest_dir: Path, n: int = N_CSV) -> list[Download]:
    """downloads/<task>__<prompt>__{top,bottom}<n>.csv for every score table: rank, id, reply (as stored and as
    shown), score."""
    out = []
    tables = score_tables(doc, audit_dir)
    for prompt in prompt_order(list(tables)):
        task, _ = tables[prompt]
        try:
            df = _read_table(doc, audit_dir, task, prompt)
        except Exception as exc:  # noqa: BLE001  a damaged or foreign table costs its download, not the page
            out.append(Download(f"{prompt}: score table", "", f"left out ({' '.join(str(exc).split())[:200]})"))
            continue
        ranked = df[df["finite"]].sort_values(["score", "id"], ascending=[False, True]).reset_index(drop=True)
        ranked.insert(0, "rank", range(1, len(ranked) + 1))
        for side, part in (("top", ranked.head(n).copy()), ("bottom", ranked.tail(n).iloc[::-1].copy())):
            part["shown_as"] = part["text"].map(visible)
            rel = f"downloads/{slugify(task)}__{slugify(prompt)}__{side}{n}.csv"
            (dest_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            part[["rank", "id", "text", "shown_as", "score"]].to_csv(dest_dir / rel, index=False)
            out.append(Download(f"{prompt}: {side} {min(n, len(ranked))} ({side} scores first)", rel, "CSV"))
    return out


def write_search(doc: Mapping[str, Any], audit_dir: Path, dest_dir: Path,
                 budget: int = SEARCH_BUDGET_BYTES) -> SearchInfo:
    """The token-search data file of the vocabulary tables (see the module docstring)."""
    import numpy as np

    tables = {p: rel for p, (task, rel) in score_tables(doc, audit_dir).items() if task == TOKEN_TASK}
    if not tables:
        return SearchInfo(None, [], 0, "no vocabulary score table beside results.json")
    cached = _cached_search(audit_dir, [audit_dir / rel for rel in tables.values()], budget)
    if cached is not None:  # report.html wrote it after the tables last changed: reuse it
        if (dest_dir / SEARCH_FILE).resolve() != (audit_dir / SEARCH_FILE).resolve():
            for name in (SEARCH_FILE, SEARCH_META):
                _copy(audit_dir / name, dest_dir / name)
        return cached
    base = None
    scores: dict[str, list] = {}
    size, left_out = 0, []
    for prompt in prompt_order(list(tables)):
        try:
            df = _read_table(doc, audit_dir, TOKEN_TASK, prompt).sort_values("id").reset_index(drop=True)
        except Exception:  # noqa: BLE001  an unreadable or foreign table costs its prompt
            left_out.append(prompt)
            continue
        if base is None:
            base = df[["id", "text"]]
            shown = [visible(t) for t in base["text"]]
            size += len(script_json(shown).encode("utf-8")) + 200  # the bytes written, plus the frame and keys
        elif len(df) != len(base) or not (df["id"].to_numpy() == base["id"].to_numpy()).all():
            left_out.append(prompt)
            continue
        vals = df["score"].to_numpy(np.float64)
        finite = df["finite"].to_numpy(bool) & np.isfinite(vals)
        # the shortest decimal that reads back as the same float32: ties and order (so ranks) are kept exactly
        col = [float(str(v)) if ok else None for v, ok in zip(vals.astype(np.float32), finite)]
        cost = len(script_json({prompt: col}).encode("utf-8"))  # bytes as written (escapes included)
        if size + cost > budget:
            left_out.append(prompt)
            continue
        size += cost
        scores[prompt] = col
    if base is None or not scores:
        return SearchInfo(None, [], 0, "the score tables could not be read within the size budget")
    ids = base["id"].astype(int).tolist()
    contiguous = ids == list(range(ids[0], ids[0] + len(ids))) if ids else True
    payload = {"prompts": list(scores), "first_id": ids[0] if ids else 0, "ids": None if contiguous else ids,
               "tokens": shown, "scores": scores}
    text = f"window.RMH_TOKENS = {script_json(payload)};\n".encode("ascii")
    while len(text) > budget and len(scores) > 1:  # the estimate is exact per part; this guards the whole file
        left_out.append(scores.popitem()[0])
        payload["prompts"] = list(scores)
        text = f"window.RMH_TOKENS = {script_json(payload)};\n".encode("ascii")
    if len(text) > budget:
        return SearchInfo(None, [], 0, "the score tables could not be read within the size budget")
    dest = dest_dir / SEARCH_FILE
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(text)
    reason = f"left out (over the {budget // 1_000_000} MB budget or unreadable): {', '.join(left_out)}" if left_out else None
    info = SearchInfo(SEARCH_FILE, list(scores), len(base), reason)
    write_json(dest_dir / SEARCH_META, {"prompts": info.prompts, "n_tokens": info.n_tokens, "reason": reason,
                                        "budget": budget, "measure": "bytes"})
    return info


def _cached_search(audit_dir: Path, tables, budget: int) -> SearchInfo | None:
    """The search data already written beside results.json, when it is newer than every table it was made from
    and was made under the same budget."""
    data, meta = audit_dir / SEARCH_FILE, audit_dir / SEARCH_META
    try:
        untrusted.contained(audit_dir, SEARCH_FILE, "token-search file")
        info = untrusted.read_json_object(untrusted.contained(audit_dir, SEARCH_META, "token-search metadata"),
                                          "token-search metadata", max_bytes=untrusted.MAX_SMALL_JSON_BYTES)
        newest = max(Path(t).stat().st_mtime for t in tables)
        if data.stat().st_mtime < newest or meta.stat().st_mtime < newest or info.get("budget") != budget \
                or info.get("measure") != "bytes" or data.stat().st_size > budget:  # older files measured characters
            return None
        return SearchInfo(SEARCH_FILE, list(info["prompts"]), int(info["n_tokens"]), info.get("reason"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


SLIM_DROPS = ("data", "tables")  # per-task blocks a page copy leaves out: row-level lists and table pointers


def slim_results(raw: bytes) -> dict[str, Any]:
    """The page copy of a results document: every metric, setting, figure and provenance, without each task's
    row-level `data` and `tables`, and `source` recording the sha256 and size of the bytes it came from (the
    bytes a trust record and `rm-harness verify` speak about)."""
    doc = json.loads(raw)
    if not isinstance(doc, dict):
        raise ValueError("results document is not an object")
    results = doc.get("results")
    if isinstance(results, dict):
        doc["results"] = {task: {k: v for k, v in block.items() if k not in SLIM_DROPS}
                          if isinstance(block, dict) else block for task, block in results.items()}
    doc["source"] = {"file": "results.json", "sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw),
                     "slimmed": f"each task's {' and '.join(SLIM_DROPS)} left out; the full document is the "
                                "audit folder's results.json with this sha256"}
    return doc


def copy_results(audit_dir: Path, dest_dir: Path) -> Download:
    """results.json beside the page: the document itself for report.html, a slimmed copy (see `slim_results`)
    on the board."""
    src = audit_dir / "results.json"
    if (dest_dir / "results.json").resolve() != src.resolve():
        data = untrusted.read_bytes(src, "results document", max_bytes=untrusted.MAX_JSON_BYTES)
        dest_dir.mkdir(parents=True, exist_ok=True)
        (dest_dir / "results.json").write_text(json.dumps(slim_results(data), ensure_ascii=True,
                                                          separators=(",", ":")) + "\n", encoding="utf-8")
        return Download("results.json (every metric, setting and provenance; slimmed, with the sha256 of the "
                        "full document)", "results.json", "JSON")
    return Download("results.json (every metric, settings and provenance)", "results.json", "JSON")


def figure_downloads(figures: Mapping[str, list[str]]) -> list[Download]:
    return [Download(rel.rsplit("/", 1)[-1], rel, "PNG") for rels in figures.values() for rel in rels]


def parquet_downloads(doc: Mapping[str, Any], audit_dir: Path, dest_dir: Path) -> list[Download]:
    """Full score tables: linked only where they are reachable from the page (report.html beside them, or a
    dataset URL recorded in results.json); the board never copies them."""
    out = []
    for prompt, (task, rel) in score_tables(doc, audit_dir).items():
        path = audit_dir / rel
        if is_inside(path, dest_dir):
            out.append(Download(f"{prompt}: full score table", os.path.relpath(path, dest_dir).replace(os.sep, "/"),
                                "parquet"))
    url = (doc.get("push") or {}).get("url") if isinstance(doc.get("push"), Mapping) else None
    if isinstance(url, str) and url.startswith("https://"):
        out.append(Download("full score tables (dataset)", url, "external"))
    return out


def write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=True, indent=1) + "\n", encoding="utf-8")
