"""`rm-harness verify RESULTS_OR_RECORD`: rescore a seeded sample of an audit's tables at its recorded revision."""

from __future__ import annotations

import argparse

from harness.cli import args as cli_args


def add_parser(sub) -> None:
    v = sub.add_parser("verify", help="reload the model at the recorded revision and rescore a sample of its tables")
    v.add_argument("target", help="a results.json, its folder, or a submission record")
    v.add_argument("--n", type=cli_args.positive_int, default=32, help="rows rescored per table (seeded sample)")
    v.add_argument("--seed", type=int, default=0)
    v.add_argument("--device", default="auto")
    v.set_defaults(fn=cmd_verify)


def cmd_verify(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from harness.tasks.verify import verify

    path, result = verify(args.target, n=args.n, seed=args.seed, device=args.device)
    rows = [[t.table, t.n_checked, f"{t.max_abs_diff:.2e}", f"{t.tolerance:.1e}", "ok" if t.ok else
             "; ".join(t.problems) or "scores differ"] for t in result.tables]
    if rows:
        print(tabulate(rows, headers=["table", "rows", "max |diff|", "tolerance", "check"]))
    for p in result.problems:
        print(f"problem: {p}")
    print(f"{result.status.upper()}: {path}")
    return 0 if result.status == "verified" else 1
