"""`rm-harness tasks list|validate` and `rm-harness export` (a model's metrics in lm-eval's results layout)."""

from __future__ import annotations

import argparse
import json
import sys


def add_parser(sub) -> None:
    ta = sub.add_parser("tasks", help="list or validate task YAMLs")
    actions = ta.add_subparsers(dest="action", required=True, parser_class=type(ta))
    li = actions.add_parser("list", help="list the built-in tasks and those of --include-path folders")
    va = actions.add_parser("validate", help="validate task files and the reference data they name")
    va.add_argument("paths", nargs="*", help="files or folders to validate (default: built-in tasks)")
    for p in (li, va):
        p.add_argument("--include-path", action="append", default=[],
                       help="a folder of your own task YAMLs (repeatable)")
        p.add_argument("--shared-data", help="folder of the reference data (default: $RM_HARNESS_SHARED_DATA)")
        p.set_defaults(fn=cmd_tasks, paths=[])

    ex = sub.add_parser("export", help="export a model's results in another layout (lm-eval)")
    ex.add_argument("--model", required=True, help="the audited model: display id, Hub id, slug, results folder, or the local model folder itself")
    ex.add_argument("--output-dir", "--results-dir", dest="output_dir", default="results",
                    help="the results folder (default: results; --results-dir is the same option)")
    ex.add_argument("--format", default="lm-eval", choices=["lm-eval"], help="the layout to write (default: lm-eval)")
    ex.add_argument("--out", help="file to write (default: stdout); never a folder, nor a file inside --output-dir")
    ex.set_defaults(fn=cmd_export)


def cmd_tasks(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from harness.tasks.discovery import BUILTIN_TASKS_DIR, discover, validate_paths
    from harness.tasks.spec import effective_scorers

    if args.action == "list":
        tasks = discover(args.include_path, shared_data=args.shared_data)
        rows = [[t.task, ",".join(t.tag), t.group or "", t.scope, ",".join(sorted(effective_scorers(t))),
                 t.analysis_name, (t.description or "")[:70]] for t in tasks.values()]
        print(tabulate(rows, headers=["task", "tags", "group", "scope", "scorers", "analysis", "description"]))
        return 0
    from harness.tasks.items_source import check_items

    from harness.tasks.lint import file_errors

    errors = validate_paths(list(args.paths or [str(BUILTIN_TASKS_DIR)]) + list(args.include_path), check_data=True,
                            shared_data=args.shared_data, check_items=check_items, file_errors=file_errors)
    for e in errors:  # one `error:` line per problem (one bad file: exactly one line), exit 2 as every user error
        print(f"error: {' '.join(str(e).split())}", file=sys.stderr)
    print("all task files valid" if not errors else f"{len(errors)} error(s)")
    return 2 if errors else 0


def cmd_export(args: argparse.Namespace) -> int:
    from harness.report.lmeval import to_lm_eval
    from harness.io.atomic import atomic_write_json
    from harness.results.layout import Layout

    if args.out:  # before anything is read: a folder, a device, or a file of a results folder is refused
        from harness.io.outputs import check_output

        check_output(args.out, "--out", "file", not_inside=[(
            args.output_dir, "the results folder (--output-dir), whose files an export must never replace; write "
                              "the export elsewhere")])
    doc = Layout(args.output_dir).open(args.model).doc
    out = to_lm_eval(doc)
    if args.out:
        print(f"wrote {atomic_write_json(args.out, out)}")
    else:
        print(json.dumps(out, indent=2, allow_nan=False))
    return 0
