"""`python submit.py` / `rm-harness submit`: audit one model end to end, record the attempt, rebuild the board.

The model is resolved once (ModelRef). Everything that can be checked is checked before any weights load: the
tasks, the output folder, the push target and its credentials. Each attempt writes its own submission record;
a model revision whose results already hold every requested task with the same settings is not rerun unless
--force. Results merge into the audit's results.json (never dropping earlier tasks). The demo audit (no
--model) covers the demo reward model and its base LM, so the board's base-model comparison (computed when the
board is built, over the audits this installation computed or verified) has both.
"""

from __future__ import annotations

import argparse
import sys

from harness.cli import args as cli_args


def add_options(p: argparse.ArgumentParser) -> None:
    cli_args.add_model_args(p)
    cli_args.add_task_args(p)
    p.add_argument("--output-dir", "--results-dir", dest="output_dir", default="results",
                   help="the results folder (default: results; --results-dir is the same option)")
    p.add_argument("--leaderboard-out", default="leaderboard/site", help="where the local board is rebuilt")
    p.add_argument("--force", action="store_true", help="rerun even if this model revision is already audited")
    p.add_argument("--limit", type=int, help="first N ids or items per response set (smoke run; never published)")
    p.add_argument("--yes", action="store_true", help="go ahead even when the estimate is over an hour")
    p.add_argument("--allow-failed-sanity", action="store_true",
                   help="publish even when the scorer fails its sanity check (the board shows the accuracy)")
    p.add_argument("--push", metavar="ORG/DATASET", help="upload results to this Hub dataset (private unless "
                                                         "--public); off by default")
    p.add_argument("--public", action="store_true", help="make a dataset created by --push public")
    p.add_argument("--rewardbench-results", metavar="FILE",
                   help="your own RewardBench results JSON for this model (shown as self-reported, never ranked)")
    cli_args.add_trust_arg(p)
    p.set_defaults(outputs=(("output_dir", "--output-dir", "dir"), ("leaderboard_out", "--leaderboard-out", "dir")),
                   on_interrupt=cli_args.RESUME_NOTE)


def add_parser(sub) -> None:
    p = sub.add_parser("submit", help="audit one model end to end, record it, rebuild the board (= submit.py)")
    add_options(p)
    p.set_defaults(fn=submit)  # add_options set the outputs and the interrupt note


def _wanted_settings(ref, specs, opts) -> dict[str, dict]:
    from harness.tasks.pipeline import skip_reason, version_text

    return {s.task: {"task_version": version_text(s), "dtype": ref.dtype, "scorer": ref.scorer,
                     "limit": opts.limit} for s in specs
            if skip_reason(s, "model", {ref.scorer}, ref.reference_free) is None
            and s.scope == "model"}


def audit_one(args: argparse.Namespace, ref, specs, opts, layout) -> str:
    """One model revision: skipped when already covered, else run under a per-attempt record."""
    from harness.results import document, records
    from harness.tasks.runner import run_tasks

    versions = {s.task: s.metadata.get("version") for s in specs}
    wanted = _wanted_settings(ref, specs, opts)
    done = records.last_finished(layout, ref)
    existing = document.read(layout.results_path(ref)) if done else None
    same_model = existing and existing["model"].get("source") == ref.source and \
        existing["model"].get("revision") == ref.revision
    if not args.force and same_model and document.covers(existing, wanted):
        print(f"{ref.display_id} @ {ref.short_revision} already audited with these settings "
              f"({layout.results_path(ref)}); use --force to rerun")
        return "skipped"
    with records.track_submission(layout, ref, versions) as sub:
        scorer = cli_args.load(ref)
        extra = {}
        from harness.models.sanity import sanity_check

        check = sanity_check(scorer)
        # A model that fails the rule stays off the board unless the user overrides, demo models included.
        override = "--allow-failed-sanity" if args.allow_failed_sanity else None
        extra["sanity"] = {**check.to_json(), "publish": bool(check.passed or override), "override": override}
        print(f"sanity check of {ref.display_id}: {check.verdict()}")
        if not check.passed:
            print(f"warning: {ref.display_id} failed the scorer sanity check ({check.ruled.correct} of "
                  f"{check.ruled.n} right, {check.rule.min_correct} needed); " +
                  (f"published anyway ({override})" if override else
                   "it stays off the board unless you pass --allow-failed-sanity"), file=sys.stderr)
        model_extra = {}
        if args.rewardbench_results:
            from harness.leaderboard.rewardbench import load_user_results

            model_extra["rewardbench_self_reported"] = load_user_results(args.rewardbench_results).to_json()
        sub.set_results_path(run_tasks(scorer, specs, args.output_dir, opts, extra=extra, model_extra=model_extra))
    return "audited"


def submit(args: argparse.Namespace) -> int:
    from harness.cli.run import prepare
    from harness.report.summary import print_summary
    from harness.results.layout import Layout

    from harness.models.identity import demo_request
    from harness.io.atomic import cleanup_temp_files

    cli_args.check_args(args)  # output folders first: nothing is read, resolved or cleaned before they are known good
    layout = Layout(args.output_dir)

    cleanup_temp_files(layout.root)
    cleanup_temp_files(layout.requests_dir, recursive=True)
    if args.push:
        from harness.results.push import check_push_target

        check_push_target(args.push)
    demos = ["rm", "lm"] if demo_request(args.model) == ("rm", "lm") else ["rm"]
    refs = []
    for which in demos:
        # The demo's base LM is there for base_model_comparison: its vocabulary tasks cost one forward per prompt;
        # its item lists are left to `python submit.py --model demo:gemma-3-270m-lm`.
        ref, specs, opts = prepare(args, demo=which, only_vocabulary=which == "lm")
        audit_one(args, ref, specs, opts, layout)
        refs.append(ref)
    try:
        from harness.leaderboard.build import build

        print(f"leaderboard: {build(args.output_dir, args.leaderboard_out, trust=cli_args.trust_store(args))}")
    except Exception as e:  # the audit is safe on disk; a board problem must not hide it
        print(f"warning: the leaderboard was not rebuilt ({type(e).__name__}: {e})", file=sys.stderr)
    for ref in refs:
        if layout.results_path(ref).exists():
            print_summary(layout.results_path(ref))
    if args.push:
        push_all(args, layout, refs)
    return 0


def push_all(args: argparse.Namespace, layout, refs) -> None:
    """Upload each audit; the Hub failing now keeps the audit and says, in one line, how to push it later."""
    from harness.errors import UserError
    from harness.results.push import PushError, hub_problem, push_audit

    for ref in refs:
        try:
            print(push_audit(args.push, layout, ref, private=not args.public))
        except UserError:
            raise
        except Exception as e:  # noqa: BLE001 - network, refusal: the audit on disk is complete either way
            raise PushError(f"--push {args.push}: {hub_problem(e)}; the audit is kept in {layout.audit_dir(ref)}: "
                            "push it later by rerunning this command (an audited revision is not scored again, "
                            "only uploaded)") from e


def main(argv: list[str] | None = None) -> int:
    """submit.py's entry point: the same options and error handling as `rm-harness submit`."""
    import logging

    from harness.cli.args import Parser, call_command, normalise_argv, run_guarded

    argv, verbose, debug = normalise_argv(sys.argv[1:] if argv is None else list(argv))
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s")
    p = Parser(prog="submit.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_options(p)

    def go(argv: list[str]) -> int:
        args = p.parse_args(argv)
        args.debug = debug
        return call_command(submit, args)

    return run_guarded(go, argv, debug)
