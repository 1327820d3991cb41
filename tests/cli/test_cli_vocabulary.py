"""One CLI vocabulary: every option of every subcommand says what it does, and the results folder has one name."""

from __future__ import annotations

import argparse
import subprocess
import sys

from harness.cli.parser import build_parser


def _parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, path + (name,))


def undocumented(parser: argparse.ArgumentParser) -> list[str]:
    """`subcommand option` for every argument without help text (the -h/--help and version actions aside)."""
    out = []
    for path, p in _parsers(parser):
        for action in p._actions:
            if isinstance(action, (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)):
                continue
            if not (action.help or "").strip():
                out.append(" ".join(path + (action.option_strings[0] if action.option_strings else action.dest,)))
    return out


def test_every_option_has_help():
    assert undocumented(build_parser()) == []


def test_the_walker_finds_an_option_without_help():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers()
    sub.add_parser("x").add_argument("--quiet-flag")
    assert undocumented(p) == ["x --quiet-flag"]


def test_the_results_folder_is_output_dir_everywhere_with_results_dir_as_alias():
    wanted = {("run",), ("submit",), ("analyse",), ("compare",), ("export",), ("leaderboard",), ("scan",)}
    seen = set()
    for path, p in _parsers(build_parser()):
        for action in p._actions:
            if "--output-dir" in action.option_strings and path in wanted:
                assert "--results-dir" in action.option_strings and action.dest == "output_dir", path
                seen.add(path)
        assert not any(a.option_strings == ["--results-dir"] for a in p._actions), path
    assert seen == wanted


def test_tasks_validate_prints_its_own_help():
    done = subprocess.run([sys.executable, "-m", "harness.cli", "tasks", "validate", "--help"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "usage: rm-harness tasks validate" in done.stdout and "paths" in done.stdout
