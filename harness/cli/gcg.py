"""`rm-harness gcg`: search multi-token replies that maximise or minimise a reward model's score.

The model options are the shared ones (harness.cli.args); results go to the audit's `gcg/` folder.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from harness.cli import args as cli_args
from harness.gcg.config import DIRECTIONS, GCGConfig

# option -> GCGConfig field, for the options whose default (None) means "the preset's value"
_NUMERIC = {"steps": int, "search_width": int, "topk": int, "n_replace": int, "n_tokens": int, "buffer_size": int,
            "restarts": int, "seed": int, "patience": int, "target_score": float, "rescore_tol": float}


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "gcg", help="GCG: search replies that maximise or minimise the reward",
        description="Greedy Coordinate Gradient over the reply tokens of the chat template (the prompt is fixed). "
                    "Defaults are cheap on a CPU; --study uses the paper's GPU setting (1000 steps, width 512, "
                    "top-k 256, buffer 4, 19 tokens). Explicit options override the preset.")
    cli_args.add_model_args(p)
    g = p.add_argument_group("search")
    g.add_argument("--prompt", default="What, in one word, is the best thing ever?",
                   help="the prompt the optimised reply answers (default: the study's 'best' prompt)")
    g.add_argument("--direction", default="maximize", choices=DIRECTIONS,
                   help="maximize or minimize the reward (default maximize)")
    g.add_argument("--study", action="store_true", help="start from the study's GPU settings")
    g.add_argument("--steps", type=int, help="optimisation steps per restart (default 20)")
    g.add_argument("--search-width", type=int, help="candidates sampled per step (default 64)")
    g.add_argument("--topk", type=int, help="candidate tokens per position, by gradient (default 64)")
    g.add_argument("--n-replace", type=int, help="positions changed per candidate (default 1)")
    g.add_argument("--n-tokens", type=int, help="length of a random initial reply (default 8)")
    g.add_argument("--buffer-size", type=int, help="best sequences kept (default 1)")
    g.add_argument("--restarts", type=int, help="independent searches (default 1, at least the number of --init)")
    g.add_argument("--init", action="append", default=[], help="an initial reply (repeat for several restarts)")
    g.add_argument("--seed", type=int, help="restart r uses seed + r (default 0)")
    g.add_argument("--patience", type=int, help="stop a restart after this many steps without improvement")
    g.add_argument("--target-score", type=float, help="stop a restart once the best reward reaches this")
    g.add_argument("--allow-non-ascii", action="store_true", help="let candidates use non-ASCII tokens")
    g.add_argument("--allow-non-printable", action="store_true", help="let candidates use non-printable tokens")
    g.add_argument("--no-prefix-cache", action="store_true", help="full forwards (slower; for comparison)")
    g.add_argument("--rescore-tol", type=float, help="allowed |searched - full-forward| x max(1, |score|)")
    g.add_argument("--output-dir", default=None,
                   help="writes <output-dir>/<model>/gcg/<name>.json and .png (default: results)")
    g.add_argument("--out", help="the JSON path instead (the figure goes beside it as .png)")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(fn=cmd_gcg, outputs=(("output_dir", "--output-dir", "dir"), ("out", "--out", "file")),
                   on_interrupt=INTERRUPTED)
    return p


# A search keeps its state in memory only: say so, rather than promise a resume.
INTERRUPTED = ("interrupted; a GCG search cannot be resumed and nothing of this one was written (its result and "
               "figure are saved only when it ends): rerun the command to search again, with fewer --steps to "
               "finish sooner")


def config_from_args(args: argparse.Namespace) -> GCGConfig:
    values = {name: getattr(args, name) for name in _NUMERIC if getattr(args, name) is not None}
    values.update(direction=args.direction, allow_non_ascii=args.allow_non_ascii,
                  allow_non_printable=args.allow_non_printable, prefix_cache=not args.no_prefix_cache,
                  batch_size=cli_args.batch_size(args), progress=not args.no_progress)
    if args.init:
        values["init"] = tuple(args.init)
    return GCGConfig.study(**values) if args.study else GCGConfig(**values)


def output_path(args: argparse.Namespace, config: GCGConfig, ref) -> Path:
    if args.out:
        return Path(args.out)
    from harness.results.layout import Layout

    digest = hashlib.sha256(json.dumps([args.prompt, config.to_dict()], sort_keys=True).encode()).hexdigest()[:10]
    layout = Layout(args.output_dir or "results")
    layout.checked_audit_dir(ref)  # no link or special file in the audit folder a write could follow out of it
    return layout.gcg_dir(ref) / f"{config.direction}-{digest}.json"


def cmd_gcg(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from harness.gcg.optimizer import RescoreMismatch, run_gcg
    from harness.report.text import visible

    cli_args.check_args(args)  # the prompt and the output locations, before anything is searched
    config = config_from_args(args)
    ref = cli_args.model_ref(args)
    from harness.io.outputs import check_output, model_folders

    path = output_path(args, config, ref)
    flag, keep_out = ("--out" if args.out else "--output-dir"), model_folders(ref)
    for target in (path, path.with_suffix(".png")):  # the exact files, so a search is never lost at the end
        check_output(target, flag, "file", keep_out)
    scorer = cli_args.load(ref)
    scorer.split(args.prompt)  # control strings and the model's context, before the weights load
    status = 0
    try:
        result = run_gcg(scorer, args.prompt, config)
    except RescoreMismatch as e:
        print(f"RESCORE MISMATCH: {e}", file=sys.stderr)
        result, status = e.result, 1
    result.save(path)
    fig = result.figure()
    fig.savefig(path.with_suffix(".png"), dpi=110, bbox_inches="tight")
    rows = [[r.restart, repr(visible(r.best_text)), f"{r.init_score:.4f}", f"{r.best_score:.4f}", f"{r.rescore:.4f}",
             r.steps_run, r.stopped] for r in result.restarts]
    print(tabulate(rows, headers=["restart", "best reply", "start", "best", "full forward", "steps", "stopped"]))
    best = result.best
    print(f"{config.direction}: best {best.best_score:.4f} {visible(best.best_text)!r} ids {best.best_ids}; "
          f"{result.steps_per_s:.2f} steps/s")
    print(f"result: {path}\nfigure: {path.with_suffix('.png')}")
    return status
