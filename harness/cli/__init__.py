"""`rm-harness`: the console script. One module per subcommand family; shared arguments live in `args`.

Every user error (a `UserError`) prints exactly one line, `error: ...`, on stderr and exits 2; `--debug` shows the
traceback. `-v`/`--verbose` and `--debug` may stand anywhere; lm-eval / RewardBench spellings with underscores
(`--batch_size`, `--include_path`, `--output_path`) are accepted.
"""

from __future__ import annotations

import logging
import sys

from harness.cli.args import call_command, normalise_argv, run_guarded
from harness.cli.parser import build_parser


def main(argv: list[str] | None = None) -> int:
    argv, verbose, debug = normalise_argv(sys.argv[1:] if argv is None else list(argv))
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s")

    def dispatch(argv: list[str]) -> int:
        args = build_parser().parse_args(argv)
        args.debug = debug
        return call_command(args.fn, args)

    return run_guarded(dispatch, argv, debug)


if __name__ == "__main__":
    sys.exit(main())
