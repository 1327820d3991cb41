"""`rm-harness run` (audit one model), `analyse` (rerun analyses from stored tables) and `compare` (between
models, from stored tables)."""

from __future__ import annotations

import argparse

from harness.cli import args as cli_args


def add_parser(sub) -> None:
    run = sub.add_parser("run", help="audit one model: score, analyse, merge into results.json, write report.html")
    cli_args.add_model_args(run)
    cli_args.add_model_name_arg(run)
    cli_args.add_task_args(run)
    run.add_argument("--output-dir", "--results-dir", dest="output_dir", default="results",
                     help="the results folder (default: results; --results-dir is the same option)")
    run.add_argument("--limit", type=int, help="first N ids or items per response set (a smoke run: marked "
                                               "limited, never replaces a full result, never on the board)")
    run.add_argument("--yes", action="store_true", help="go ahead even when the estimate is over an hour")
    cli_args.add_trust_arg(run)
    run.set_defaults(fn=cmd_run, outputs=(("output_dir", "--output-dir", "dir"),), on_interrupt=cli_args.RESUME_NOTE)

    an = sub.add_parser("analyse", help="rerun analyses over a model's stored score tables (no model needed)")
    an.add_argument("--model", required=True, help="the audited model: display id, Hub id, slug, results folder, or the local model folder itself")
    an.add_argument("--output-dir", "--results-dir", dest="output_dir", default="results",
                    help="the results folder (default: results; --results-dir is the same option)")
    cli_args.add_task_args(an)
    cli_args.add_trust_arg(an)
    an.set_defaults(fn=cmd_analyse, outputs=(("output_dir", "--output-dir", "dir"),))

    co = sub.add_parser("compare", help="between-model analyses over stored score tables")
    co.add_argument("--models", nargs="+", required=True, help="display ids (or results folders) of 2+ models")
    co.add_argument("--output-dir", "--results-dir", dest="output_dir", default="results",
                    help="the results folder (default: results; --results-dir is the same option)")
    cli_args.add_task_args(co)
    co.set_defaults(fn=cmd_compare, outputs=(("output_dir", "--output-dir", "dir"),))


def prepare(args: argparse.Namespace, demo: str = "rm", only_vocabulary: bool = False):
    """Everything checked before a model loads: arguments and output locations, tasks, model identity, every
    prompt and item list against the model's tokenizer and context, and the cost (from the real item counts)."""
    from harness.tasks.plan import confirm_cost

    cli_args.check_args(args)
    specs = cli_args.select_tasks(args)
    ref = cli_args.model_ref(args, demo=demo)
    cli_args.check_model_outputs(args, ref)
    if only_vocabulary:
        specs = [s for s in specs if s.responses.get("type") == "vocabulary"]
    counts = cli_args.check_inputs(ref, specs, limit=getattr(args, "limit", None))
    opts = run_options(args, ref)
    confirm_cost(ref, specs, opts, yes=getattr(args, "yes", False), item_counts=counts)
    return ref, specs, opts


def run_options(args: argparse.Namespace, ref):
    from harness.tasks.runner import RunOptions

    opts = RunOptions(batch_size=cli_args.batch_size(args), limit=getattr(args, "limit", None),
                      trust=cli_args.trust_store(args))
    if ref.origin == "demo" and ref.scorer == "reward":
        # An RM needs one forward per candidate: on a CPU the demo scans its declared subset (an LM scores the
        # whole vocabulary from one forward per prompt, so the demo LM keeps the full vocabulary).
        from harness.models.demo import DEMO_SUBSET_NAME, demo_vocab_subset
        from harness.models.loading import load_tokenizer

        opts.subset_name = DEMO_SUBSET_NAME
        opts.vocab_ids = demo_vocab_subset(load_tokenizer(ref.load_path))
    return opts


def cmd_run(args: argparse.Namespace) -> int:
    cli_args.check_args(args)  # before torch is imported: a typo fails at once
    from harness.report.summary import print_summary
    from harness.scoring.distributed import rank_and_world
    from harness.tasks.runner import run_tasks

    cli_args.distributed_init(args)
    ref, specs, opts = prepare(args)
    path = run_tasks(cli_args.load(ref), specs, args.output_dir, opts, model_extra=cli_args.model_extra(args))
    if rank_and_world()[0] == 0:
        print_summary(path)
    return 0


def cmd_analyse(args: argparse.Namespace) -> int:
    from harness.report.summary import print_summary
    from harness.results.layout import Layout
    from harness.tasks.stored import reanalyse

    cli_args.check_args(args)
    path, skipped = reanalyse(Layout(args.output_dir), args.model, cli_args.select_tasks(args),
                              trust=cli_args.trust_store(args))
    print_summary(path)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from harness.results.layout import Layout
    from harness.tasks.stored import compare

    cli_args.check_args(args)
    specs = cli_args.select_tasks(args)
    out = compare(Layout(args.output_dir), args.models, specs)
    print(f"comparison: {out}\nreport:     {out.with_name('report.html')}")
    return 0
