"""`rm-harness leaderboard`: build the static board from every audit under a results folder."""

from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    lb = sub.add_parser("leaderboard", help="build the static leaderboard from a results folder")
    lb.add_argument("--results-dir", default="results")
    lb.add_argument("--out", default="leaderboard/site")
    lb.set_defaults(fn=cmd_leaderboard, outputs=(("out", "--out", "dir"),))


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from harness.cli.args import check_args
    from leaderboard.build import build

    check_args(args)  # the site folder, before any results are read

    print(f"leaderboard: {build(args.results_dir, args.out)}")
    return 0
