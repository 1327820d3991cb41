"""report.html beside results.json: the model page template of the board, rendered for one audit folder, with
its downloads (CSV of the top and bottom 1,000 per prompt), the token-search data file and the page assets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.io import untrusted
from harness.report import assets
from harness.report.model_view import (
    ModelPage,
    Pair,
    Revision,
    SearchInfo,
    build_model_page,
)
from harness.report.render import render as render_template
from harness.io.atomic import atomic_write_text

STATIC = Path(__file__).with_name("static")
PAGE_ASSETS = ("style.css", "model.js")


def model_page(doc: Mapping[str, Any], audit_dir: Path, dest_dir: Path, *, others: Sequence[Revision] = (),
               rewardbench: Sequence[Pair] = (), nav_root: str | None = None,
               compare_block: Mapping[str, Mapping[str, Any]] | None = None,
               trust: Mapping[str, Any] | None = None, blob=None) -> ModelPage:
    """Write the files a model page links to into `dest_dir` and return its view model. `dest_dir` is the audit
    folder itself for report.html, or the board's folder for the model. `trust`: the maintainer's trust record
    about this audit's bytes (then its figures come from the trust store through `blob(sha)`)."""
    audit_dir, dest_dir = Path(audit_dir), Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    if trust is not None and blob is not None:
        pairs = assets.trusted_figures(doc, trust, blob)
    else:
        pairs = {t: [(rel, audit_dir / rel) for rel in rels] for t, rels in assets.checked_figures(doc, audit_dir).items()}
    if dest_dir.resolve() != audit_dir.resolve():
        assets.copy_figures(pairs, dest_dir)
    figures = {t: [rel for rel, _ in ps] for t, ps in pairs.items()}
    downloads = [assets.copy_results(audit_dir, dest_dir)]
    downloads += assets.write_csvs(doc, audit_dir, dest_dir)
    downloads += assets.parquet_downloads(doc, audit_dir, dest_dir)
    downloads += assets.figure_downloads(figures)
    search = assets.write_search(doc, audit_dir, dest_dir)
    return build_model_page(doc, figures=figures, downloads=downloads, search=search, others=others,
                            rewardbench=rewardbench, nav_root=nav_root, compare_block=compare_block, trust=trust)


def render_model_page(page: ModelPage, static: str) -> str:
    return render_template("model.html", page=page, static=static, nav_root=page.nav_root)


def render_doc(doc: dict[str, Any], audit_dir: Path, trust: Mapping[str, Any] | None = None) -> str:
    """report.html's text for the results document `doc` of `audit_dir` (writes the page's data files)."""
    page = model_page(doc, audit_dir, audit_dir, trust=trust)
    return render_model_page(page, "assets/")


def render(doc: dict[str, Any], audit_dir: Path | None = None) -> str:
    """The model page of `doc`; without an audit folder nothing is written (no figures, downloads or search)."""
    if audit_dir is not None:
        return render_doc(doc, Path(audit_dir))
    page = build_model_page(doc, figures={}, downloads=[], search=SearchInfo(None, [], 0, "no audit folder given"))
    return render_model_page(page, "assets/")


def write_report(doc: dict[str, Any], out_dir: Path, trust: Mapping[str, Any] | None = None) -> Path:
    """Write report.html (and its assets/, downloads/, search/) into the audit folder `out_dir`, after checking
    that nothing in it is a link or special file a write could follow out of the folder."""
    out_dir = Path(out_dir)
    untrusted.check_tree(out_dir)
    for name in PAGE_ASSETS:
        atomic_write_text(out_dir / "assets" / name, (STATIC / name).read_text(encoding="utf-8"))
    return atomic_write_text(out_dir / "report.html", render_doc(doc, out_dir, trust))
