"""The per-model report.html: metrics, top and bottom tokens, figures. Every token string is escaped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.atomic import atomic_write_text
from harness.report.text import safe, token_html

_STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
th{background:#f4f4f4}code{background:#f6f6f6;padding:0 .2em}img{max-width:100%;border:1px solid #eee}
.num{text-align:right;font-variant-numeric:tabular-nums}.missing{color:#999}"""


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.4g}"
    return safe(v)


def _metrics_table(metrics: dict[str, dict]) -> str:
    rows = []
    for name, m in metrics.items():
        arrow = {True: "↑", False: "↓"}.get(m.get("higher_is_better"), "")
        value = _fmt(m.get("value"))
        if m.get("value") is None:
            value = f'<span class="missing" title="{safe(m.get("missing_reason", ""))}">— ({safe(m.get("missing_reason", "missing"))})</span>'
        rows.append(f"<tr><td>{safe(name)} {arrow}</td><td class=num>{value}</td><td>{safe(m.get('definition', ''))}</td></tr>")
    return "<table><tr><th>metric</th><th>value</th><th>definition</th></tr>" + "".join(rows) + "</table>"


def _token_lists(data: dict) -> str:
    parts = []
    for side in ("top", "bottom"):
        for prompt, rows in (data.get(side) or {}).items():
            if not isinstance(rows, list):
                continue
            cells = "".join(
                f"<tr><td class=num>{i + 1}</td><td>{token_html(str(r.get('decoded', r.get('item', ''))))}</td>"
                f"<td class=num>{_fmt(r.get('id'))}</td><td class=num>{_fmt(r.get('score'))}</td></tr>"
                for i, r in enumerate(rows[:25]) if isinstance(r, dict)
            )
            parts.append(f"<h4>{side} — {safe(prompt)}</h4><table><tr><th>#</th><th>token</th><th>id</th>"
                         f"<th>score</th></tr>{cells}</table>")
    return "".join(parts)


def render(doc: dict[str, Any]) -> str:
    model = doc.get("model", {})
    body = [f"<h1>Reward-model audit: {safe(model.get('id', '?'))}</h1>",
            "<p>" + ", ".join(f"{safe(k)}: <code>{safe(v)}</code>" for k, v in model.items()) + "</p>",
            f"<p>harness {safe(doc.get('harness_version'))}, wall time {_fmt(doc.get('wall_time_s'))} s, "
            f"created {safe(doc.get('created'))}</p>"]
    results = doc.get("results", {})
    for task in sorted(results, key=lambda t: (t != "token_optimality", t)):  # the headline finding first
        block = results[task]
        body.append(f"<h2>{safe(task)}</h2>")
        body.append(_metrics_table(block.get("metrics", {})))
        body.append(_token_lists(block.get("data", {})))
        body.extend(f'<p><img src="{safe(f)}" alt="{safe(f)}"></p>' for f in block.get("figures", []))
    return (f"<!doctype html><html><head><meta charset=utf-8><title>{safe(model.get('id', 'report'))}</title>"
            f"<style>{_STYLE}</style></head><body>{''.join(body)}</body></html>")


def write_report(doc: dict[str, Any], out_dir: Path) -> Path:
    return atomic_write_text(Path(out_dir) / "report.html", render(doc))
