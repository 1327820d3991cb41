"""Build the leaderboard: a static site (and leaderboard.md, leaderboard.json) from a results folder.

    rm-harness leaderboard --results-dir results --out leaderboard/site [--trust-store DIR]
    python -m harness.leaderboard.build --results results --out leaderboard/site

Steps, one module each: read the newest audit of every model and the maintainer's trust record about its bytes
(`read`), compute the cross-model comparison from trusted audits only (`read.trusted_comparison`; a submitted
`_compare/` is never read), join RewardBench (`rb_join`), build the board's view model (`board_view`), render
the templates of `harness/report/templates` (`harness.report.render`), write and swap the site (`site`). A
trusted audit's figures come from the trust store, not from its folder. Site layout:

- `index.html`: one table per scorer kind and prompt (prompt switch), headline columns from
  harness/report/headline.yaml, a glossary; `static/` holds the CSS and JS (no network, works from file://).
- `models/<slug>/index.html`: the model page (the template of report.html) with results.json, figures/,
  downloads/ (CSV of the top and bottom 1,000 replies per prompt) and search/tokens.js beside it.
- `compare.html` (+ `compare/figures/`): the cross-model report over the trusted audits, or why there is none.
- `leaderboard.md` and `leaderboard.json`.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import warnings
from datetime import UTC, datetime
from pathlib import Path

from harness import __version__
from harness.errors import UserError
from harness.report import assets
from harness.report.html import STATIC, model_page, render_model_page
from harness.report.model_view import Pair, Revision
from harness.report.render import render
from harness.report.text import finite_json, visible  # noqa: F401  (visible: re-exported for callers)
from harness.results.trust import TrustStore
from harness.leaderboard import site
from harness.leaderboard.board_view import BoardView, build_board
from harness.leaderboard.compare_view import build_compare
from harness.leaderboard.markdown import render_markdown
from harness.leaderboard.rb_join import RBScore, RewardBench
from harness.leaderboard.read import LeaderboardWarning, ModelEntry, read_models, trusted_comparison
from harness.leaderboard.site import SITE_MARKER, LeaderboardError  # noqa: F401

log = logging.getLogger(__name__)
STATIC_FILES = ("style.css", "board.js", "model.js")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _rb_pairs(scores: dict[str, RBScore]) -> list[Pair]:
    return [Pair(f"RewardBench {v}", (f"rank {s.rank}" if s.rank is not None else "unranked")
                 + (f", score {s.score:.1f}" if s.score is not None else "")
                 + (" (self-reported)" if s.self_reported else "")) for v, s in scores.items()]


def _others(entry: ModelEntry) -> list[Revision]:
    out = []
    for a in entry.audit.others:
        url = (a.doc.get("model") or {}).get("hub_url") if isinstance(a.doc, dict) else None
        out.append(Revision(a.revision, a.created or "unknown", url if isinstance(url, str) else None))
    return out


SCHEMA = "rm-harness-leaderboard/3"


def _cell_data(col, cell) -> dict:
    """One metric of leaderboard.json: numbers as numbers, the interval as a [low, high] pair, display strings
    in their own fields (docs/leaderboard.md)."""
    return {"label": col.label, "note": col.note, "direction": col.direction, "target": col.target,
            "value": cell.value, "interval": [cell.lo, cell.hi] if cell.lo is not None else None,
            "text": None if cell.value is None else cell.text, "interval_text": cell.ci, "marks": list(cell.marks),
            "missing": cell.missing}


def board_data(board: BoardView, entries: list[ModelEntry], built: str) -> dict:
    """leaderboard.json: every headline value under every prompt, per model, plus RewardBench and tokens."""
    models = {}
    for kind in board.kinds:
        for t in kind.tables:
            for r in t.rows:
                m = models.setdefault(r.model_id, {
                    "model": r.model_id, "kind": kind.kind, "page": r.href, "run": dict(r.run),
                    "rewardbench": {c.label: {"rank": c.rank, "score": c.score, "self_reported": c.self_reported,
                                              "text": c.text, "note": c.sub if c.missing else None}
                                    for c in r.rb},
                    "prompts": {}})
                m["prompts"][t.prompt] = {
                    "prompt_text": t.prompt_text, "optimal": r.optimal, "pessimal": r.pessimal,
                    "metrics": {c.id: _cell_data(c, cell) for c, cell in zip(t.columns, r.cells)}}
    revisions = {e.model_id: e.audit.revision for e in entries}
    for mid, m in models.items():
        m["revision"] = revisions.get(mid)
    return {"schema": SCHEMA, "built": built, "harness_version": __version__, "models": list(models.values())}


def build(results_dir: str | Path, out_dir: str | Path, *, trust: TrustStore | None = None,
          rewardbench: RewardBench | None = None) -> Path:
    """Build the board of `results_dir` into `out_dir`; return the path of index.html. `trust`: the maintainer's
    trust store (default: `TrustStore.at()`, the flag-less location)."""
    results, out = Path(results_dir), Path(out_dir)
    trust = trust if trust is not None else TrustStore.at()
    trust.check_apart_from(results)
    entries, problems = read_models(results, trust)
    site.check_out_dir(out, results, len(entries))
    rb = rewardbench or RewardBench()
    scores = {e.model_id: rb.for_model(e.model) for e in entries}
    built = _now()
    stage = site.staging_dir(out)
    try:
        compare = trusted_comparison(entries, stage / "compare")
        for e in entries:
            if compare is not None:
                e.compare_blocks = compare.per_model.get(e.model_id, {})
        board = build_board(entries, scores, rb_note=f"RewardBench: {rb.source.note}.",
                            has_compare=compare is not None, problems=problems)
        for name in STATIC_FILES:
            (stage / "static").mkdir(exist_ok=True)
            shutil.copyfile(STATIC / name, stage / "static" / name)
        (stage / "index.html").write_text(render("board.html", board=board, static="static/", nav_root="",
                                                 built=built), encoding="utf-8")
        (stage / "leaderboard.md").write_text(render_markdown(board, built), encoding="utf-8")
        assets.write_json(stage / "leaderboard.json", finite_json(board_data(board, entries, built)))
        for e in entries:
            dest = stage / "models" / e.slug
            page = model_page(e.doc, e.audit.folder, dest, others=_others(e), rewardbench=_rb_pairs(scores[e.model_id]),
                              nav_root="../../", compare_block=e.compare_blocks, trust=e.trust, blob=trust.blob)
            (dest / "index.html").write_text(render_model_page(page, "../../static/"), encoding="utf-8")
        figs: dict[str, list[str]] = {}
        if compare is not None:
            for task, rels in assets.checked_figures(compare.doc, compare.folder).items():
                figs[task] = [f"compare/{rel}" for rel in rels]
        view = build_compare(compare, entries, figs)
        (stage / "compare.html").write_text(render("compare.html", view=view, static="static/", nav_root="",
                                                   built=built), encoding="utf-8")
        site.finish(stage)
        site.swap_in(stage, out)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    log.info("leaderboard: %d model(s), %d skipped -> %s", len(entries), len(problems), out)
    return out / "index.html"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m harness.leaderboard.build", description=__doc__.splitlines()[0])
    ap.add_argument("--results", "--results-dir", dest="results", default="results",
                    help="results folder (<slug>/<revision>/results.json; default: results)")
    ap.add_argument("--out", default="leaderboard/site", help="site folder to (re)write (default: leaderboard/site)")
    ap.add_argument("--trust-store", default=None, help="the maintainer's trust store (default: "
                                                           "$RM_HARNESS_TRUST_STORE, else the user's data folder)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LeaderboardWarning)  # already logged
        try:
            from harness.io.outputs import check_output

            check_output(args.out, "--out", "dir")  # the same up-front check as `rm-harness leaderboard`
            index = build(args.results, args.out, trust=TrustStore.at(args.trust_store))
        except UserError as exc:
            print(f"error: {exc.one_line()}", file=sys.stderr)
            return 2
    print(f"leaderboard: {index}")
    print(f"markdown:    {index.parent / 'leaderboard.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
