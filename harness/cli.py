"""`rm-harness`: the console script. Subcommands for each piece of the flow; `run` is the whole audit."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from harness import __version__

DEMO = "demo"


def add_model_args(p: argparse.ArgumentParser, required: bool = False) -> None:
    g = p.add_argument_group("model")
    g.add_argument("--model", required=required, default=None,
                   help="Hub id ORG/NAME or a local folder (default: the offline demo model, Gemma-3 270M)")
    g.add_argument("--revision", help="branch, tag or commit (resolved to a commit)")
    g.add_argument("--dtype", default="auto", choices=["auto", "float32", "bfloat16", "float16"])
    g.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    g.add_argument("--device-map", default=None, help="'auto' shards a model too big for one device (accelerate)")
    g.add_argument("--trust-remote-code", action="store_true", default=None,
                   help="run the model's own code (off unless given here or set by the registry)")
    g.add_argument("--chat-template", help="a Jinja template (file path or string) for models without one")
    g.add_argument("--scorer", choices=["reward", "lm_logprob"], help="override the registry (default reward)")
    g.add_argument("--output-field", help="output field holding the reward (registry default: logits)")
    g.add_argument("--output-index", type=int, help="column of a multi-output head")
    g.add_argument("--batch-size", default="auto", help="rows per forward, or auto (halves on out-of-memory)")


def load_from_args(args: argparse.Namespace):
    from harness.models.loading import load_scorer

    model, kind, template = args.model, args.scorer, args.chat_template
    if model in (None, DEMO):
        from harness.models.demo import demo_lm_dir

        model, kind = str(demo_lm_dir()), kind or "lm_logprob"
    return load_scorer(model, revision=args.revision, dtype=args.dtype, device=args.device,
                       trust_remote_code=args.trust_remote_code, chat_template=template, kind=kind,
                       output_field=args.output_field, output_index=args.output_index, device_map=args.device_map)


def model_label(args: argparse.Namespace) -> str:
    from harness.models.demo import DEMO_ID

    return DEMO_ID if args.model in (None, DEMO) else args.model


def batch_size(args: argparse.Namespace) -> int | str:
    if args.batch_size == "auto":
        return "auto"
    try:
        value = int(args.batch_size)
        if value < 1:
            raise ValueError
        return value
    except ValueError:
        sys.exit(f"--batch-size must be a positive integer or 'auto', not {args.batch_size!r}")


def select_tasks(names: str | None, include_paths: list[str]) -> list:
    from harness.tasks.spec import discover

    tasks = discover(include_paths)
    if not names or names == "all":
        return list(tasks.values())
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in tasks]
    if unknown:
        sys.exit(f"unknown task(s) {unknown}; `rm-harness tasks list` shows them: {sorted(tasks)}")
    return [tasks[n] for n in wanted]


def cmd_run(args: argparse.Namespace) -> int:
    from harness.distributed_run import maybe_init
    from harness.tasks.runner import RunOptions, run_tasks

    maybe_init(args)
    specs = select_tasks(args.tasks, args.include_path)
    scorer = load_from_args(args)
    path = run_tasks(scorer, specs, args.output_dir, RunOptions(batch_size=batch_size(args)), model_id=model_label(args))
    from harness.report.summary import print_summary
    from harness.scoring.distributed import rank_and_world

    if rank_and_world()[0] == 0:
        print_summary(path)
    return 0


def cmd_scan(args: argparse.Namespace) -> int:
    from harness.distributed_run import maybe_init
    from harness.scoring.responses import ItemSet, VocabularySet
    from harness.scoring.scan import scan
    from harness.scoring.table import TableStore
    from harness.tasks.runner import model_slug

    maybe_init(args)
    scorer = load_from_args(args)
    split = scorer.split(args.prompt)
    if args.items:
        import pandas as pd

        items = pd.read_csv(args.items)[args.column].astype(str).tolist()
        responses = ItemSet(scorer.tokenizer, split, items, name=Path(args.items).stem)
    else:
        responses = VocabularySet(scorer.tokenizer, split, scorer.vocab_size)
    store = TableStore(Path(args.output_dir) / model_slug(model_label(args)) / "tables")
    table = scan(scorer, split, responses, store, batch_size=batch_size(args))
    df = table.df[table.df["finite"]].sort_values("score", ascending=False)
    from tabulate import tabulate

    from harness.report.text import visible

    show = lambda d: [[r.id, visible(str(r.decoded)), f"{r.score:.4f}"] for r in d.itertuples()]  # noqa: E731
    print(tabulate(show(df.head(args.k)), headers=["id", "top", "score"]))
    print(tabulate(show(df.tail(args.k)), headers=["id", "bottom", "score"]))
    print(f"table: {table.path} ({len(table.df)} rows, {table.meta['n_nonfinite']} non-finite)")
    return 0


def cmd_parity(args: argparse.Namespace) -> int:
    from harness.scoring.parity import check, sample_ids

    scorer = load_from_args(args)
    split = scorer.split(args.prompt)
    bs = batch_size(args)
    report = check(scorer, split, [[i] for i in sample_ids(scorer.vocab_size, args.n, args.seed)],
                   batch_size=64 if bs == "auto" else bs)
    print(json.dumps(report.to_json(), indent=2))
    if not report.ok(args.tol):
        print(f"PARITY FAILED: max |difference| above {args.tol}", file=sys.stderr)
        return 1
    print(f"parity ok: max |cached - plain| = {report.max_abs_diff:.2e}, Kendall tau = {report.kendall_tau:.6f}")
    return 0


def cmd_tasks(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from harness.tasks.spec import discover, validate_paths

    if args.action == "list":
        tasks = discover(args.include_path)
        rows = [[t.task, t.scope, t.scorer, t.analysis_name, (t.description or "")[:80]] for t in tasks.values()]
        print(tabulate(rows, headers=["task", "scope", "scorer", "analysis", "description"]))
        return 0
    errors = validate_paths(args.paths or [str(Path(__file__).resolve().parents[1] / "tasks")], check_data=True)
    for e in errors:
        print(e, file=sys.stderr)
    print("all task files valid" if not errors else f"{len(errors)} error(s)")
    return 1 if errors else 0


def cmd_analyse(args: argparse.Namespace) -> int:
    from harness.reanalyse import reanalyse
    from harness.report.summary import print_summary

    path, skipped = reanalyse(args.model, select_tasks(args.tasks, args.include_path), args.results_dir)
    if skipped:
        print(f"not analysed (prompts never scanned; run `rm-harness run --model {args.model}`): {', '.join(skipped)}")
    print_summary(path)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from harness.compare import compare

    out = compare(args.models, args.results_dir, args.output_dir, args.tasks, args.include_path)
    print(f"comparison report: {out}")
    return 0


def cmd_submit(argv: list[str]) -> int:
    from harness.submit import main as submit_main

    return submit_main(argv)


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from leaderboard.build import build

    print(f"leaderboard: {build(args.results_dir, args.out)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rm-harness", description=__doc__)
    p.add_argument("--version", action="version", version=f"rm-harness {__version__}")
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("submit", help="python submit.py: audit, record, rebuild the board (see submit --help)",
                   add_help=False)

    run = sub.add_parser("run", help="audit one model: score, analyse, write results.json and report.html")
    add_model_args(run)
    run.add_argument("--tasks", default="all", help="comma-separated task names, or all")
    run.add_argument("--include-path", action="append", default=[], help="a folder of your own task YAMLs")
    run.add_argument("--output-dir", default="results")
    run.set_defaults(fn=cmd_run)

    sc = sub.add_parser("scan", help="score the whole vocabulary (or an item list) for one prompt")
    add_model_args(sc)
    sc.add_argument("--prompt", default="What, in one word, is the best thing ever?")
    sc.add_argument("--items", help="CSV file of replies to score instead of the vocabulary")
    sc.add_argument("--column", default="name", help="column of --items holding the replies")
    sc.add_argument("--output-dir", default="results")
    sc.add_argument("-k", type=int, default=15, help="how many top and bottom rows to print")
    sc.set_defaults(fn=cmd_scan)

    pa = sub.add_parser("parity", help="check the cached path against plain full forwards on sampled ids")
    add_model_args(pa)
    pa.add_argument("--prompt", default="What, in one word, is the best thing ever?")
    pa.add_argument("--n", type=int, default=64)
    pa.add_argument("--seed", type=int, default=0)
    pa.add_argument("--tol", type=float, default=1e-4)
    pa.set_defaults(fn=cmd_parity)

    ta = sub.add_parser("tasks", help="list or validate task YAMLs")
    ta.add_argument("action", choices=["list", "validate"])
    ta.add_argument("paths", nargs="*", help="files or folders to validate (default: built-in tasks)")
    ta.add_argument("--include-path", action="append", default=[])
    ta.set_defaults(fn=cmd_tasks)

    an = sub.add_parser("analyse", help="rerun analyses over a model's cached score tables (no model needed)")
    an.add_argument("--model", required=True, help="model id or its results folder name")
    an.add_argument("--results-dir", default="results")
    an.add_argument("--tasks", default="all")
    an.add_argument("--include-path", action="append", default=[])
    an.set_defaults(fn=cmd_analyse)

    co = sub.add_parser("compare", help="between-model analyses over cached score tables")
    co.add_argument("--models", nargs="+", required=True, help="model ids (or result folder names)")
    co.add_argument("--results-dir", default="results")
    co.add_argument("--output-dir", default=None, help="default: <results-dir>/_compare")
    co.add_argument("--tasks", default="all")
    co.add_argument("--include-path", action="append", default=[])
    co.set_defaults(fn=cmd_compare)

    from harness.gcg.cli import add_parser as add_gcg

    add_gcg(sub)

    lb = sub.add_parser("leaderboard", help="build the static leaderboard from results/*/results.json")
    lb.add_argument("--results-dir", default="results")
    lb.add_argument("--out", default="leaderboard/site")
    lb.set_defaults(fn=cmd_leaderboard)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["submit"]:  # the same flow as submit.py, with its own options
        return cmd_submit(argv[1:])
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    from harness.errors import UserError

    try:
        return args.fn(args)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
