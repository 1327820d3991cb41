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
    sc.add_argument("--prompt", default=cli_args.DEFAULT_PROMPT)
    sc.add_argument("--items", help="CSV file of replies to score instead of the vocabulary")
    sc.add_argument("--column", default="name", help="column of --items holding the replies")
    sc.add_argument("--keep-duplicates", action="store_true", help="score repeated items once per line")
    sc.add_argument("--skip-long-items", action="store_true",
                    help="leave out (and list) items longer than the model's context instead of stopping")
    sc.add_argument("--output-dir", default="results")
    sc.add_argument("-k", type=int, default=15, help="how many top and bottom rows to print")
    sc.set_defaults(fn=cmd_scan)

    pa = sub.add_parser("parity", help="check the cached path against plain full forwards on sampled ids")
    cli_args.add_model_args(pa)
    pa.add_argument("--prompt", default=cli_args.DEFAULT_PROMPT)
    pa.add_argument("--n", type=int, default=64)
    pa.add_argument("--seed", type=int, default=0)
    pa.add_argument("--tol", type=float, default=1e-4)
    pa.set_defaults(fn=cmd_parity)


check_prompt = cli_args.check_prompt  # gcg imports it from here


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
    scorer = cli_args.load(ref)
    split = scorer.split(args.prompt)
    if items is not None:
        texts = items.texts
        limit = getattr(scorer, "max_length", None)
        if args.skip_long_items and limit:
            from harness.scoring.items import max_item_tokens

            items = read_items(Path(args.items), args.column, dedupe=not args.keep_duplicates, tokenizer=scorer.tokenizer,
                               max_tokens=max_item_tokens(limit, split.prefix_ids, split.suffix_ids), skip_too_long=True)
            texts = items.texts
        print(items.summary())
        responses = ItemSet(scorer.tokenizer, split, texts, name=Path(args.items).stem, max_length=limit)
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
