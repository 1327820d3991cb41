"""Fake results folders for the leaderboard and submission tests (results.json schema 1, real PNG figures)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HOSTILE_TOKENS = [
    "<script>window.__pwned=1</script>",
    '"><img src=x onerror="window.__pwned=1">',
    "'><svg onload=window.__pwned=1>",
    "</td></tr></table><script>window.__pwned=1</script>",
    "?>\"><",
    "</script><script>window.__pwned=1</script>",
    "<!--",
    "\u202eevil\u202c",
    "zero\u200bwidth",
    "\x00\x07bell",
    " leading",
    "line\nbreak",
    "\ud800lone",
    "&amp;&lt;",
    "\u2028sep",
]


def make_png(path: Path, color: str = "C0", label: str = "") -> Path:
    """A small real PNG drawn with matplotlib's Agg backend."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(2, 1.5), dpi=50)
    ax.bar([0, 1, 2], [1, 3, 2], color=color)
    ax.set_title(label or path.stem, fontsize=6)
    fig.savefig(path, format="png")
    plt.close(fig)
    return path


def metric(value: float | None, hib: bool | None, definition: str, reason: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"value": value, "higher_is_better": hib, "definition": definition}
    if reason:
        out["missing_reason"] = reason
    return out


def tok(i: int, text: str, score: float) -> dict[str, Any]:
    return {"id": i, "token": text.replace(" ", "Ġ"), "decoded": text, "score": score}


def results_doc(model_id: str, *, metrics: dict[str, dict[str, dict]] | None = None,
                top: dict[str, list] | None = None, bottom: dict[str, list] | None = None,
                figures: dict[str, list[str]] | None = None, created: str = "2026-11-26T00:00:00Z",
                versions: dict[str, int] | None = None) -> dict[str, Any]:
    metrics = metrics or {}
    figures = figures or {}
    tasks = set(metrics) | set(figures) | ({"token_optimality"} if top or bottom else set())
    results: dict[str, Any] = {}
    for task in sorted(tasks):
        block: dict[str, Any] = {"metrics": metrics.get(task, {}), "data": {}, "figures": figures.get(task, []),
                                 "tables": {}}
        if task == "token_optimality":
            block["data"] = {"k": 20, "top": top or {}, "bottom": bottom or {}}
        results[task] = block
    return {
        "schema_version": 1,
        "harness_version": "0.1.0",
        "model": {"id": model_id, "revision": "0123456789abcdef0123456789abcdef01234567", "dtype": "bfloat16",
                  "scorer": "reward", "attn_implementation": "sdpa", "template_hash": "abcd1234abcd1234",
                  "device": "cpu"},
        "versions": versions or {t: 1 for t in tasks},
        "configs": {t: {} for t in tasks},
        "results": results,
        "environment": {"python": "3.11.7", "platform": "test"},
        "wall_time_s": 1.5,
        "created": created,
    }


def write_results(results_dir: Path, doc: dict[str, Any], folder: str | None = None,
                  pngs: list[str] | None = None) -> Path:
    """Write doc as results_dir/<folder>/results.json (folder defaults to org__name) plus real PNGs."""
    mid = doc["model"]["id"]
    folder = folder or mid.replace("/", "__")
    d = results_dir / folder
    d.mkdir(parents=True, exist_ok=True)
    (d / "results.json").write_text(json.dumps(doc, indent=1), encoding="utf-8")
    for i, name in enumerate(pngs or []):
        make_png(d / "figures" / name, color=f"C{i % 10}")
    return d


def standard_board(results_dir: Path, *, hostile: bool = False) -> dict[str, Path]:
    """Three models: two ranked on RewardBench (one with a figure per task), one unranked local model missing
    metrics; with `hostile`, token lists full of HTML/script fragments and invisible characters."""
    best_a = [tok(1, " LOVE", 9.5), tok(2, " Love", 9.1), tok(3, "love", 8.7), tok(4, " Peace", 8.0),
              tok(5, " joy", 7.5), tok(6, " hope", 7.0)]
    worst_a = [tok(11, " blacks", -9.0), tok(12, " violence", -8.5), tok(13, " hate", -8.0)]
    if hostile:
        best_a = [tok(100 + i, s, 10.0 - i) for i, s in enumerate(HOSTILE_TOKENS)]
        worst_a = [tok(200 + i, s, -10.0 + i) for i, s in enumerate(reversed(HOSTILE_TOKENS))]
    a = results_doc(
        "Skywork/Skywork-Reward-Gemma-2-27B-v0.2",
        metrics={
            "token_optimality": {
                "best/mean": metric(1.25, None, "mean of the finite scores (after flag filters)"),
                "best/skewness": metric(-0.5, None, "skewness of the finite scores"),
            },
            "framing_asymmetry": {
                "best/asymmetry": metric(0.42, True, "slope difference: positive words under best minus "
                                                           "negative words under worst"),
            },
            "frequency_bias": {"best/log_freq_coef": metric(0.8, False, "coefficient of log frequency (mere exposure)")},
            "identity_bias": {"best/percentile_gap": metric(-15.0, True, "identity terms' mean percentile minus the controls'")},
        },
        top={"best": best_a, "worst": best_a[:2]},
        bottom={"best": worst_a, "worst": worst_a[:2]},
        figures={"token_optimality": ["figures/token_optimality__distribution.png"],
                 "framing_asymmetry": ["figures/framing_asymmetry__slopes.png"]},
    )
    b = results_doc(
        "Ray2333/GRM-gemma2-2B-rewardmodel-ft",
        metrics={
            "token_optimality": {
                "best/mean": metric(-3.5, None, "mean of the finite scores (after flag filters)"),
                "best/skewness": metric(0.25, None, "skewness of the finite scores"),
            },
            "framing_asymmetry": {"best/asymmetry": metric(0.10, True, "slope difference")},
            "frequency_bias": {"best/log_freq_coef": metric(None, False, "coefficient of log frequency",
                                                       "fewer than 10 AFINN words matched")},
        },
        top={"best": [tok(7, " Excellent", 4.0), tok(8, " GOOD", 3.0)]},
        bottom={"best": [tok(9, " terrible", -4.0)]},
        figures={"token_optimality": ["figures/token_optimality__distribution.png"]},
    )
    c = results_doc(
        "/home/user/models/my-local-rm",
        metrics={"token_optimality": {"best/mean": metric(7.0, None, "mean of the finite scores")}},
        top={"greatest": [tok(1, " Everything", 2.0)]},
        bottom={"greatest": [tok(2, " Nothing", -2.0)]},
    )
    return {
        "a": write_results(results_dir, a, pngs=["token_optimality__distribution.png", "framing_asymmetry__slopes.png"]),
        "b": write_results(results_dir, b, pngs=["token_optimality__distribution.png"]),
        "c": write_results(results_dir, c, folder="local__my-local-rm"),
    }
