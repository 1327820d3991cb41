"""`python submit.py --model ORG/NAME`: audit one model end to end, record the submission, update the board.

Resolves the revision to a commit first (so the record names exactly what was audited), runs every task with
cached score tables reused, writes results/<org>__<name>/, a submission record (PENDING → RUNNING → FINISHED or
FAILED with the reason), rebuilds the local leaderboard, and prints a short summary. Nothing leaves the
machine unless --push names a Hub dataset.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from harness.cli import (
    add_model_args,
    batch_size,
    load_from_args,
    model_label,
    select_tasks,
)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="submit.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_args(p)
    p.add_argument("--tasks", default="all", help="comma-separated task names, or all")
    p.add_argument("--include-path", action="append", default=[], help="a folder of your own task YAMLs")
    p.add_argument("--output-dir", default="results")
    p.add_argument("--leaderboard-out", default="leaderboard/site", help="where the local board is rebuilt")
    p.add_argument("--force", action="store_true", help="rerun even if this model and revision already finished")
    p.add_argument("--push", metavar="ORG/DATASET", help="upload results and the record to this Hub dataset "
                                                         "(marked unverified); off by default")
    p.add_argument("-v", "--verbose", action="store_true")
    return p.parse_args(argv)


def _model_source(args: argparse.Namespace) -> str:
    if args.model in (None, "demo"):
        from harness.models.demo import demo_lm_dir

        return str(demo_lm_dir())
    return args.model


def refresh_comparison(output_dir: Path) -> Path | None:
    """Rerun the between-model tasks over every audited model's cached tables (when there are two or more)."""
    import json

    from harness.compare import CompareError, compare

    models = [json.loads(p.read_text())["model"]["id"] for p in sorted(output_dir.glob("*/results.json"))
              if not p.parent.name.startswith("_")]
    if len(models) < 2:
        return None
    try:
        return compare(models, output_dir)
    except CompareError:
        return None  # e.g. no between-model task applies to these scorers


def submit(args: argparse.Namespace) -> int:
    from harness.models.loading import ModelLoadError, pick_device, pick_dtype, resolve
    from harness.models.registry import lookup
    from harness.report.summary import print_summary
    from harness.submission import push_to_hub, track_submission
    from harness.tasks.runner import RunOptions, run_tasks

    specs = select_tasks(args.tasks, args.include_path)
    source = _model_source(args)
    label = model_label(args)
    versions = {s.task: s.version for s in specs}
    try:
        revision = resolve(source, args.revision).revision
        precision = str(pick_dtype(args.dtype, lookup(source), pick_device(args.device))).replace("torch.", "")
    except ModelLoadError:
        # Still leave a FAILED record saying why, under the revision the user asked for.
        with track_submission(args.output_dir, label, args.revision, args.dtype, versions, force=True):
            raise
    with track_submission(args.output_dir, label, revision, precision, versions, force=args.force) as sub:
        if sub.skipped:
            print(f"{label} @ {revision} already audited ({sub.path}); use --force to rerun")
        else:
            scorer = load_from_args(args)
            path = run_tasks(scorer, specs, args.output_dir, RunOptions(batch_size=batch_size(args)), model_id=label)
            sub.set_results_path(path)
    results = Path(args.output_dir) / (sub.record.results_path or "results.json")  # stored relative to it
    try:  # the board's comparison page covers every audited model; no model is loaded for it
        refresh_comparison(Path(args.output_dir))
    except Exception as e:
        print(f"warning: the cross-model comparison was not refreshed ({e})", file=sys.stderr)
    try:
        from leaderboard.build import build

        print(f"leaderboard: {build(args.output_dir, args.leaderboard_out)}")
    except Exception as e:  # the audit is safe on disk; a board problem must not hide it
        print(f"warning: the leaderboard was not rebuilt ({e})", file=sys.stderr)
    if results.exists():
        print_summary(results)
    if args.push:
        pushed = push_to_hub(args.push, [results.parent, sub.path], base_dir=Path(args.output_dir))
        print(f"pushed {len(pushed)} paths to the dataset {args.push} (unverified)")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    from harness.errors import UserError

    try:
        return submit(args)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
