"""`rm-harness card AUDIT [--write README.md] [--policy P]`: the model-card section of an audit.

Prints the card (or writes it into an existing README, replacing only our section and updating the metadata's
model-index through huggingface_hub; docs/release-audit.md). `--policy` also runs the gate and puts its outcome in
the section (the card is written either way; the exit code is 0, or 2 on a user error)."""

from __future__ import annotations

import argparse

from harness.cli import args as cli_args
from harness.cli import exit_codes

MAX_CARD_BYTES = 4 << 20


def add_parser(sub) -> None:
    from harness.cli.gate import add_policy_arg

    c = sub.add_parser("card", help="a model-card section (markdown and Hub model-index) for an audit",
                       epilog=exit_codes.EPILOG)
    c.add_argument("model", metavar="AUDIT", help="the audit: a display id, a Hub id, a slug, a folder or a "
                                                  "results.json")
    c.add_argument("--output-dir", "--results-dir", dest="output_dir", default="results",
                   help="the results folder the audit is looked up in (default: results)")
    c.add_argument("--write", metavar="README.md", help="insert or replace the section in this card (created when "
                                                        "absent); without it the card is printed")
    add_policy_arg(c, required=False)
    c.add_argument("--report-url", metavar="URL", help="where readers find the full report (default: the local "
                                                       "report.html path)")
    cli_args.add_trust_arg(c)
    c.set_defaults(fn=cmd_card, outputs=(("write", "--write", "file"),))


def _rewardbench(audit) -> dict[str, str]:
    if audit.model.get("origin") != "hub":
        return {}
    from harness.leaderboard.rewardbench import lookup

    entry = lookup(str(audit.model["source"]))
    out = {}
    for name in ("v1", "v2"):
        v = entry.version(name) if entry is not None else None
        if v is not None and v.rank is not None:
            out[v.label] = f"rank {v.rank} of {v.of} (score {v.score:.1f}; {entry.source}, {entry.date or 'undated'})"
    return out


def cmd_card(args: argparse.Namespace) -> int:
    import contextlib
    from pathlib import Path

    from harness.io import untrusted
    from harness.report.card import CardInputs, update_card
    from harness.results.layout import Layout

    cli_args.check_args(args)
    audit = Layout(args.output_dir).open(args.model)
    store = cli_args.trust_store(args)
    record = store.record(audit.digest, "verify")
    verified = bool(record and record.get("status") == "verified")
    gate = None
    if args.policy:
        from harness.gate.evaluate import evaluate
        from harness.gate.policy_spec import load_policy

        gate = evaluate(load_policy(args.policy), audit)
    report = audit.folder / "report.html"
    inputs = CardInputs(verified=verified, rewardbench=_rewardbench(audit), gate=gate,
                        report_link=args.report_url or (str(report) if report.is_file() else None))
    old = None
    if args.write:
        with contextlib.suppress(FileNotFoundError):
            raw = untrusted.read_bytes(Path(args.write), "model card", max_bytes=MAX_CARD_BYTES)
            try:
                old = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                from harness.report.card import CardError

                raise CardError(f"{args.write}: not UTF-8 text (byte {e.start})") from None
    text = update_card(old, audit.doc, inputs)
    if not args.write:
        print(text, end="")
        return exit_codes.OK
    from harness.io.atomic import atomic_write_bytes

    # newline="" semantics: write the bytes as built, so untouched lines keep their own line endings
    atomic_write_bytes(args.write, text.encode("utf-8"))
    print(f"card: {args.write} ({'updated' if old is not None else 'created'}; model-index entries "
          f"{'verified' if verified else 'marked not verified'})")
    return exit_codes.OK
