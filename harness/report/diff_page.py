"""The diff of two audits (harness/diff/audits.py) as an HTML page (templates/diff.html) and as markdown."""

from __future__ import annotations

from typing import Any

from harness.report.text import safe_text


def fmt(x: Any) -> str:
    return "-" if x is None else f"{x:.4g}"


def diff_html(d: dict[str, Any]) -> str:
    from harness.report.render import render

    return render("diff.html", d=d, fmt=fmt)


def _cell(text: Any) -> str:
    return safe_text(text).replace("|", "\\|").replace("\n", " ")[:300]


def diff_markdown(d: dict[str, Any]) -> str:
    """The same content as the page, as GitHub markdown (pasteable into a release note)."""
    a, b = d["a"], d["b"]
    out = [f"# What changed: {_cell(a['id'])} @ {a['revision'][:12]} → {_cell(b['id'])} @ {b['revision'][:12]}", "",
           f"Deltas are B − A with {d['level']:.0%} intervals from a paired resample over each metric's unit."]
    if not d["same_model"]:
        out.append("These are two different models.")
    if d["setting_differences"]:
        out += ["", "Settings that differ (allowed with --allow-different-settings):", ""]
        out += [f"- {s['task']}: {s['setting']} {_cell(s['a'])} → {_cell(s['b'])}" for s in d["setting_differences"]]
    for task, prompts in d["tasks"].items():
        for prompt, e in prompts.items():
            ag = e["agreement"]
            out += ["", f"## {task} · {prompt}", "",
                    f"Joined on {e['joined_on']}; {ag['n_shared']} shared; Kendall τ-b {fmt(ag['kendall_tau_b'])}, "
                    f"Spearman {fmt(ag['spearman'])}.", "",
                    "| metric | A | B | B − A [interval] | unit / why no interval |", "|---|---|---|---|---|"]
            for m in e["deltas"]:
                ci = f" [{fmt(m['ci_low'])}, {fmt(m['ci_high'])}]" if m["ci_low"] is not None else ""
                why = " ".join(x for x in (m["method"], _cell(m["reason"]) if m["reason"] else None) if x)
                out.append(f"| {m['metric']} | {fmt(m['a'])} | {fmt(m['b'])} | {fmt(m['delta'])}{ci} | {why} |")
            for way, title in (("up", "Moved up most"), ("down", "Moved down most")):
                rows = e["movers"][way]
                if rows:
                    out += ["", f"{title}: " + ", ".join(f"`{_cell(r['label'])}` {r['old_rank']:g} → {r['new_rank']:g}"
                                                         for r in rows)]
    for t, why in d["skipped"].items():
        out.append(f"\nNot compared: {t}: {_cell(why)}")
    return "\n".join(out) + "\n"
