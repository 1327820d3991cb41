"""The argument parser: one sub-parser per subcommand, each defined in its own module's `add_parser`."""

from __future__ import annotations

import argparse

from harness import __version__
from harness.cli.args import Parser


def build_parser() -> argparse.ArgumentParser:
    from harness.cli import card, diff, exit_codes, gate, gcg, inspect_cmds, leaderboard, run, submit, tasks, verify

    p = Parser(prog="rm-harness", description="Reward-model interpretability: score, analyse, publish.",
               epilog=exit_codes.EPILOG)
    p.add_argument("--version", action="version", version=f"rm-harness {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress (allowed anywhere)")
    p.add_argument("--debug", action="store_true", help="show tracebacks of errors (allowed anywhere)")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    for module in (submit, run, inspect_cmds, tasks, gcg, leaderboard, verify, gate, diff, card):
        module.add_parser(sub)
    return p
