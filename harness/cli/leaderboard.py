"""`rm-harness leaderboard`: build the static board from every audit under a results folder."""

from __future__ import annotations

import argparse

from harness.cli import args as cli_args


def add_parser(sub) -> None:
    lb = sub.add_parser("leaderboard", help="build the static leaderboard from a results folder")
    lb.add_argument("--output-dir", "--results-dir", dest="output_dir", default="results",
                    help="the results folder (default: results; --results-dir is the same option)")
    lb.add_argument("--out", default="leaderboard/site", help="the site folder to (re)write (default: leaderboard/site)")
    cli_args.add_trust_arg(lb)
    lb.set_defaults(fn=cmd_leaderboard, outputs=(("out", "--out", "dir"),))


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from harness.leaderboard.build import build

    cli_args.check_args(args)  # the site folder, before any results are read
    print(f"leaderboard: {build(args.output_dir, args.out, trust=cli_args.trust_store(args))}")
    return 0
