"""`rm-harness scan` (one prompt, whole vocabulary or an item list) and `parity` (cached vs plain forwards)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from harness.cli import args as cli_args


def add_parser(sub) -> None:
    sc = sub.add_parser("scan", help="score the whole vocabulary (or an item list) for one prompt")
    cli_args.add_model_args(sc)
    sc.add_argument("--prompt", default=cli_args.DEFAULT_PROMPT, help="the prompt the replies answer (default: the study's 'best' prompt)")
    sc.add_argument("--items", help="CSV file of replies to score instead of the vocabulary")
    sc.add_argument("--column", default="name", help="column of --items holding the replies")
    sc.add_argument("--keep-duplicates", action="store_true", help="score repeated items once per line")
    sc.add_argument("--skip-long-items", action="store_true",
                    help="leave out (and list) items longer than the model's context instead of stopping")
    sc.add_argument("--output-dir", "--results-dir", dest="output_dir", default="results",
                    help="the results folder whose tables/ cache the scan (default: results)")
    sc.add_argument("-k", type=cli_args.positive_int, default=15, help="how many top and bottom rows to print")
    sc.set_defaults(fn=cmd_scan, outputs=(("output_dir", "--output-dir", "dir"),), on_interrupt=cli_args.RESUME_NOTE)

    pa = sub.add_parser("parity", help="check the cached path against plain full forwards on sampled ids")
    cli_args.add_model_args(pa)
    pa.add_argument("--prompt", default=cli_args.DEFAULT_PROMPT, help="the prompt the replies answer (default: the study's 'best' prompt)")
    pa.add_argument("--n", type=cli_args.positive_int, default=64, help="vocabulary ids sampled (at least 1)")
    pa.add_argument("--seed", type=cli_args.nonnegative_int, default=0, help="seed of the id sample (default 0)")
    pa.add_argument("--tol", type=cli_args.nonnegative_float, default=1e-4,
                    help="largest allowed |cached - plain| (a finite number of 0 or more)")
    pa.set_defaults(fn=cmd_parity)


def cmd_scan(args: argparse.Namespace) -> int:
    from harness.scoring.items import read_items

    cli_args.check_args(args)
    # the items file is read before the model is resolved or any weights load
    items = read_items(Path(args.items), args.column, dedupe=not args.keep_duplicates) if args.items else None
    from tabulate import tabulate

    from harness.report.text import visible
    from harness.results.layout import Layout
    from harness.scoring.responses import ItemSet, VocabularySet
    from harness.scoring.scan import scan
    from harness.scoring.table import TableStore

    cli_args.distributed_init(args)
    ref = cli_args.model_ref(args)
    cli_args.check_model_outputs(args, ref)
    scorer = cli_args.load(ref)  # tokenizer and config: the weights load on the first forward, after the checks
    split = scorer.split(args.prompt)  # control strings and the model's context checked here
    if items is not None:
        # Lengths are measured in context (as the conversation tokenises them), before anything is scored.
        responses = ItemSet(scorer.tokenizer, split, items.texts, name=Path(args.items).stem,
                            max_length=getattr(scorer, "max_length", None), skip_too_long=args.skip_long_items,
                            too_long_advice="shorten them, or leave them out with --skip-long-items")
        print(items.summary() + (f"; {len(responses.skipped)} left out by --skip-long-items (too long)"
                                 if responses.skipped else ""))
        for text, why in responses.skipped[:10]:
            print(f"  skipped {visible(text[:60])!r}: {why}")
    else:
        responses = VocabularySet(scorer.tokenizer, split, scorer.vocab_size)
    table = scan(scorer, split, responses, TableStore(Layout(args.output_dir).tables_dir(ref)),
                 batch_size=cli_args.batch_size(args))
    df = table.df[table.df["finite"]].sort_values("score", ascending=False)
    show = lambda d: [[r.id, visible(str(r.decoded)), f"{r.score:.4f}"] for r in d.itertuples()]  # noqa: E731
    print(tabulate(show(df.head(args.k)), headers=["id", "top", "score"]))
    print(tabulate(show(df.tail(args.k)), headers=["id", "bottom", "score"]))
    print(f"table: {table.path} ({len(table.df)} rows, {table.meta['n_nonfinite']} non-finite)")
    return 0


def cmd_parity(args: argparse.Namespace) -> int:
    cli_args.check_args(args)
    from harness.scoring.parity import check, sample_ids

    scorer = cli_args.load(cli_args.model_ref(args))
    split = scorer.split(args.prompt)
    bs = cli_args.batch_size(args)
    report = check(scorer, split, [[i] for i in sample_ids(scorer.vocab_size, args.n, args.seed)],
                   batch_size=64 if bs == "auto" else bs)
    print(json.dumps(report.to_json(), indent=2))
    if not report.ok(args.tol):
        print(f"PARITY FAILED: max |difference| above {args.tol}", file=sys.stderr)
        return 1
    print(f"parity ok: max |cached - plain| = {report.max_abs_diff:.2e}, Kendall tau = {report.kendall_tau:.6f}")
    return 0
