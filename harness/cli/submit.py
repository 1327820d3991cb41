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
from harness.cli import exit_codes


def add_options(p: argparse.ArgumentParser) -> None:
    cli_args.add_model_args(p)
    cli_args.add_model_name_arg(p)
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
    p.add_argument("--rewardbench-results", metavar="FILE", nargs="+", action="extend",
                   help="the JSON RewardBench wrote for this model (v1 and/or v2, one file each); shown as "
                        "self-reported, never ranked; attached to an existing audit without rescoring")
    p.add_argument("--policy", metavar="FILE|NAME",
                   help="after the audit, gate it by this release policy (a file, or release-default); a failed "
                        "check exits 1 (docs/release-audit.md)")
    p.add_argument("--junit", metavar="FILE", help="with --policy: also write the gate's JUnit XML report")
    cli_args.add_trust_arg(p)
    p.set_defaults(outputs=(("output_dir", "--output-dir", "dir"), ("leaderboard_out", "--leaderboard-out", "dir"),
                            ("junit", "--junit", "file")),
                   on_interrupt=cli_args.RESUME_NOTE)


def add_parser(sub) -> None:
    from harness.cli.exit_codes import EPILOG

    p = sub.add_parser("submit", help="audit one model end to end, record it, rebuild the board (= submit.py)",
                       epilog=EPILOG)
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
    if args.model_name is not None and existing and existing["model"].get("model_name") != args.model_name:
        same_model = False  # a new name must reach the record and results.json (stored tables spare the rescoring)
    if not args.force and same_model and document.covers(existing, wanted):
        if args.self_report is not None:
            from harness.cli.self_report import attach

            attach(layout.results_path(ref), args.self_report, cli_args.trust_store(args))
            print(f"{ref.display_id} @ {ref.short_revision} already audited with these settings: attached your "
                  f"RewardBench results (self-reported) to {layout.results_path(ref)} without rescoring")
            return "attached"
        print(f"{ref.display_id} @ {ref.short_revision} already audited with these settings "
              f"({layout.results_path(ref)}); use --force to rerun")
        return "skipped"
    with records.track_submission(layout, ref, versions, model_name=args.model_name) as sub:
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
        model_extra = cli_args.model_extra(args)
        if args.self_report is not None:
            model_extra["rewardbench_self_reported"] = args.self_report
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
    policy = None
    if args.policy:  # a bad policy fails now, before any model loads
        from harness.gate.policy_spec import load_policy

        policy = load_policy(args.policy)
    elif args.junit:
        from harness.errors import UserError

        raise UserError("--junit writes the gate's report: give --policy too")

    cleanup_temp_files(layout.root)
    cleanup_temp_files(layout.requests_dir, recursive=True)
    if args.push:
        from harness.results.push import check_push_target

        check_push_target(args.push)
    from harness.cli.self_report import read_self_report

    args.self_report = read_self_report(args.rewardbench_results)  # a bad file is refused before any model loads
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
    code = exit_codes.OK
    for ref in refs:
        if left_off_board(layout, ref):
            print(f"submit: {ref.display_id} failed the scorer sanity check, so it is not on the board (exit 1); "
                  "check that it loads as the reward model it is (score head, --output-field, chat template), or "
                  "publish it anyway with --allow-failed-sanity", file=sys.stderr)
            code = exit_codes.FAILED
    if policy is not None:
        code = max(code, gate_all(args, policy, layout, refs))
    return code


def left_off_board(layout, ref) -> bool:
    """Whether the audit on disk says its scorer failed the sanity check and was not published."""
    from harness.results.audit import open_audit

    path = layout.results_path(ref)
    if not path.exists():
        return False
    sanity = open_audit(path, layout.root).doc.get("sanity")
    return isinstance(sanity, dict) and sanity.get("publish") is False


def gate_all(args: argparse.Namespace, policy, layout, refs) -> int:
    """Gate each audit whose scorer kind the policy covers; 1 when any check fails."""
    from harness.cli.gate import run_gate
    from harness.results.audit import open_audit

    code = exit_codes.OK
    for ref in refs:
        audit = open_audit(layout.results_path(ref), layout.root)
        if audit.kind not in policy.scorers:
            print(f"gate: {ref.display_id} is a {audit.kind} audit, which policy {policy.name} does not gate")
            continue
        code = max(code, run_gate(args.policy, audit, args.junit))
    return code


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
    p = Parser(prog="submit.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
               epilog=exit_codes.EPILOG)
    add_options(p)

    def go(argv: list[str]) -> int:
        args = p.parse_args(argv)
        args.debug = debug
        return call_command(submit, args)

    return run_guarded(go, argv, debug)
