"""`rm-harness diff A [B]`: what changed between two audits (B after A; without B, A is the "after" and the
baseline is its model's previous revision on record). Writes diff.json, diff.md and diff.html under
<output-dir>/_diff/ (and the page into --site when given); no model is loaded. docs/release-audit.md."""

from __future__ import annotations

import argparse

from harness.cli import args as cli_args
from harness.cli import exit_codes


def add_parser(sub) -> None:
    d = sub.add_parser("diff", help="what changed between two audits: rank agreement, movers, metric deltas with "
                                    "intervals", epilog=exit_codes.EPILOG)
    d.add_argument("audits", metavar="AUDIT", nargs="+",
                   help="A B (before, after), or one audit B: compared with its model's previous revision on record "
                        "(needs --model-name at audit time)")
    d.add_argument("--output-dir", "--results-dir", dest="output_dir", default="results",
                   help="the results folder the audits are looked up in, and the diff written to (default: results)")
    d.add_argument("--allow-different-settings", action="store_true",
                   help="compare audits whose scorer kind, dtype, prompt format, template, vocabulary subset or "
                        "limit differ (the page lists every difference)")
    d.add_argument("--top-k", type=int, default=10, help="movers shown each way per prompt (default 10)")
    d.add_argument("--site", metavar="DIR", help="also write the page into this site folder (DIR/diff/)")
    d.set_defaults(fn=cmd_diff, outputs=(("site", "--site", "dir"),))


def resolve_pair(layout, names: list[str]):
    from harness.diff.previous import previous_revision
    from harness.errors import UserError

    if len(names) > 2:
        raise UserError(f"diff takes one or two audits, got {len(names)}")
    if len(names) == 2:
        return layout.open(names[0]), layout.open(names[1])
    b = layout.open(names[0])
    return previous_revision(layout, b), b


def cmd_diff(args: argparse.Namespace) -> int:
    from pathlib import Path

    from harness.diff.audits import diff_audits
    from harness.report.diff_page import diff_html, diff_markdown
    from harness.io.atomic import atomic_write_text
    from harness.results.diff_store import diff_dir, write_diff
    from harness.results.layout import Layout

    cli_args.check_args(args)
    if args.top_k < 1:
        from harness.errors import UserError

        raise UserError(f"--top-k must be a positive number, got {args.top_k}")
    layout = Layout(args.output_dir)
    a, b = resolve_pair(layout, args.audits)
    d = diff_audits(a, b, allow_different=args.allow_different_settings, top_k=args.top_k)
    md, html = diff_markdown(d), diff_html(d)
    path = write_diff(layout, d, md, html)
    if args.site:
        atomic_write_text(Path(args.site) / "diff" / f"{diff_dir(layout, d).name}.html", html)
    print(md)
    print(f"wrote {layout.relative(path)} (+ diff.md, diff.html)")
    return exit_codes.OK
