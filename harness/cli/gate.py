"""`rm-harness gate AUDIT --policy FILE|release-default [--junit FILE]`: pass or fail an audit by a release policy.

Judges the stored numbers only (no model is loaded): exit 0 when every check passes, 1 when one fails, 2 on a user
error (an unreadable audit, an invalid policy, an unknown metric name). docs/release-audit.md."""

from __future__ import annotations

import argparse

from harness.cli import args as cli_args
from harness.cli import exit_codes


def add_policy_arg(p: argparse.ArgumentParser, required: bool) -> None:
    p.add_argument("--policy", metavar="FILE|NAME", required=required,
                   help="a policy YAML file, or the name of a built-in policy (release-default)")


def add_parser(sub) -> None:
    g = sub.add_parser("gate", help="pass or fail an audit by a release policy (exit 0 pass, 1 fail, 2 user error)",
                       epilog=exit_codes.EPILOG)
    g.add_argument("model", metavar="AUDIT",
                   help="the audit: a display id, a Hub id, a slug, a folder or a results.json")
    add_policy_arg(g, required=True)
    g.add_argument("--output-dir", "--results-dir", dest="output_dir", default="results",
                   help="the results folder the audit is looked up in (default: results)")
    g.add_argument("--baseline", metavar="AUDIT",
                   help="the audit that `worsens_by` rules compare with (default: the previous revision of the "
                        "audit's --model-name in the submission records)")
    g.add_argument("--junit", metavar="FILE", help="also write a JUnit XML report (one test case per check)")
    g.add_argument("--json", dest="json_out", metavar="FILE", help="also write the outcome as JSON")
    g.set_defaults(fn=cmd_gate, outputs=(("junit", "--junit", "file"), ("json_out", "--json", "file")))


def run_gate(policy_name: str, audit, junit: str | None = None, json_out: str | None = None, baseline=None,
             layout=None) -> int:
    """Judge `audit`, print the table and one verdict line, write the reports; the exit code (0 pass, 1 fail)."""
    from harness.gate.evaluate import evaluate, table
    from harness.gate.junit import write_junit
    from harness.gate.policy_spec import load_policy
    from harness.report.text import safe_text

    policy = load_policy(policy_name)
    if baseline is None and layout is not None and any(c.worsens_by is not None for c in policy.checks):
        from harness.diff.previous import previous_revision

        baseline = previous_revision(layout, audit)
    result = evaluate(policy, audit, baseline)
    print(table(result))
    if junit:
        write_junit(result, junit)
    if json_out:
        from harness.io.atomic import atomic_write_json

        atomic_write_json(json_out, result.to_json())
    n = len(result.checks)
    who = f"{safe_text(audit.display_id)} @ {audit.revision[:12]}"
    if result.passed:
        print(f"PASSED: policy {policy.name}, {n} of {n} checks pass for {who}")
        return exit_codes.OK
    print(f"FAILED: policy {policy.name}, {result.n_failed} of {n} checks fail for {who}: "
          + ", ".join(c.check.name for c in result.checks if not c.passed))
    return exit_codes.FAILED


def cmd_gate(args: argparse.Namespace) -> int:
    from harness.results.layout import Layout

    cli_args.check_args(args)
    layout = Layout(args.output_dir)
    audit = layout.open(args.model)
    baseline = layout.open(args.baseline) if args.baseline else None
    return run_gate(args.policy, audit, args.junit, args.json_out, baseline, layout)
