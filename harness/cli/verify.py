"""`rm-harness verify AUDIT`: the maintainer turns a submitted audit into a fact (or names what is false).

The outcome goes to the maintainer's trust store, never into the audit folder; the board shows "verified" only
while the audit's bytes are the ones verified (harness/tasks/verify.py, docs/security.md)."""

from __future__ import annotations

import argparse

from harness.cli import args as cli_args
from harness.models.kinds import file_options


def _share(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        x = float("nan")
    if not 0 < x < 1:
        raise argparse.ArgumentTypeError(f"must be a number strictly between 0 and 1, not {text!r}")
    return x


def add_parser(sub) -> None:
    from harness.tasks.verify import DETECT_CONFIDENCE, DETECT_FRACTION

    v = sub.add_parser("verify", help="check a submitted audit: rescore a random sample of every table at the "
                                      "recorded revision, rerun the sanity pairs, recompute every shown number")
    v.add_argument("target", help="a results.json, its folder, or a submission record")
    v.add_argument("--model", dest="model_path", metavar="PATH",
                   help="the folder of a local model (its content hash must equal the audit's revision); Hub audits "
                        "load the recorded commit, demo audits this installation's demo build")
    v.add_argument("--ref-model", metavar="PATH", help="the folder of a local DPO reference model")
    v.add_argument("--trust-remote-code", action="store_true", default=None,
                   help="run the model's own code (never taken from the audit)")
    v.add_argument("--registry-entry", help="apply this entry of your registry to a local folder")
    v.add_argument("--chat-template", help="the template the audit was made with, when it was not the model's own")
    for opt in file_options():  # a scorer kind's own files (e.g. a judge template): named here, never read from data
        v.add_argument(opt.flag, dest=opt.key, type=cli_args.readable_file, metavar="FILE", default=None,
                       help=f"the audit's {opt.flag[2:].replace('-', ' ')}, when it was not the default ({opt.help})")
    v.add_argument("--n", type=cli_args.positive_int, default=None, metavar="N",
                   help="rows rescored at random per table, at least (the detection target sets the minimum; N can "
                        "only raise it)")
    v.add_argument("--detect", type=_share, default=DETECT_FRACTION, metavar="SHARE",
                   help=f"catch a table with this share of altered rows (default {DETECT_FRACTION}) ...")
    v.add_argument("--confidence", type=_share, default=DETECT_CONFIDENCE, metavar="P",
                   help=f"... with at least this probability (default {DETECT_CONFIDENCE})")
    v.add_argument("--seed", type=int, default=None,
                   help="repeat an earlier verification's sample (default: fresh randomness, recorded)")
    v.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    v.add_argument("--include-path", action="append", default=[], help="a folder of task YAMLs beyond the built-in")
    cli_args.add_trust_arg(v)
    v.set_defaults(fn=cmd_verify)


def cmd_verify(args: argparse.Namespace) -> int:
    import sys

    from tabulate import tabulate

    from harness.tasks.verify import verify

    store = cli_args.trust_store(args)
    result = verify(args.target, store=store, n=args.n, seed=args.seed, device=args.device,
                    model_path=args.model_path, trust_remote_code=args.trust_remote_code,
                    registry_entry=args.registry_entry, chat_template=args.chat_template, ref_model=args.ref_model,
                    kind_files={o.key: getattr(args, o.key) for o in file_options() if getattr(args, o.key)},
                    include_path=args.include_path, fraction=args.detect, confidence=args.confidence,
                    progress=lambda msg: print(f"verify: {msg}", file=sys.stderr))
    rows = [[t.table, t.n_rows, t.n_sampled, t.n_named, f"{t.max_abs_diff:.2e}", f"{t.tolerance:.1e}",
             f"{1 - t.miss_probability:.4f}", "ok" if t.ok else "; ".join(t.problems) or "scores differ"]
            for t in result.tables]
    if rows:
        print(tabulate(rows, headers=["table", "rows", "sampled", "named", "max |diff|", "tolerance",
                                      f"P(catch {args.detect:g})", "check"]))
    for p in result.problems:
        print(f"mismatch: {p}")
    for p in result.stale:
        print(f"stale: {p}")
    print(f"{result.status.upper()}: {args.target} (seed {result.seed}; {result.rows_rescored} rows rescored; record "
          f"{result.record_path})")
    return 0 if result.status == "verified" else 1
