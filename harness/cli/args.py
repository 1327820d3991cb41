"""Arguments shared by the subcommands: model options → one ModelRef (resolved once), task selection, batch
size, distributed start-up. Subcommand modules import from here; nothing here imports a subcommand."""

from __future__ import annotations

import argparse
import re
import sys
import traceback

from harness.errors import UserError
from harness.models.kinds import SCORER_KINDS, all_options

DEFAULT_PROMPT = "What, in one word, is the best thing ever?"


class ArgumentError(UserError, ValueError):
    """A command-line value is invalid; the message names the flag."""


def add_model_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model")
    g.add_argument("--model", default=None,
                   help="Hub id ORG/NAME, a local folder, or demo:gemma-3-270m-lm / demo:gemma-3-270m-sentiment-rm "
                        "(default: the offline demo reward model and, for submit, its base LM)")
    g.add_argument("--revision", help="branch, tag or commit of a Hub model (resolved to a commit)")
    g.add_argument("--dtype", default="auto", choices=["auto", "float32", "bfloat16", "float16"],
                   help="weights dtype (auto: float32 on CPU; on an accelerator the registry's dtype, else bfloat16)")
    g.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    g.add_argument("--device-map", default=None, help="'auto' shards a model too big for one device (accelerate)")
    g.add_argument("--trust-remote-code", action="store_true", default=None,
                   help="run the model's own code (off unless given here or set by the registry for a Hub id)")
    g.add_argument("--registry-entry", help="apply this model-registry entry to a local folder (never its trust)")
    g.add_argument("--pretrained", action="store_true", default=None,
                   help="a pretrained (base) LM: the study's plain format 'User: {prompt}\\nAssistant:'")
    g.add_argument("--chat-template", help="a Jinja template (file path or string) for models without one")
    g.add_argument("--scorer", choices=list(SCORER_KINDS), help="override the registry (default reward)")
    g.add_argument("--ref-model", help="reference policy of a DPO scorer (Hub id or folder; omit: reference-free)")
    for opt in all_options():  # each scorer kind's own options (harness/models/kinds.py)
        g.add_argument(opt.flag, dest=opt.key, default=None, help=opt.help,
                       **({"choices": list(opt.choices)} if opt.choices else {}),
                       **({"type": positive_float} if opt.positive_number else {}),
                       **({"type": readable_file, "metavar": "FILE"} if opt.file else {}))
    g.add_argument("--output-field", help="output field holding the reward (registry default: logits)")
    g.add_argument("--output-index", type=int, help="column of a multi-output head")
    g.add_argument("--batch-size", default="auto", help="rows per forward, or auto (halves on out-of-memory)")


def add_model_name_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model-name", metavar="ORG/NAME",
                   help="group this audit under a model name (checked like a Hub id; recorded in results.json and "
                        "the submission record): `diff B` and `gate --baseline` then find the previous revision "
                        "of that name. Local checkpoints need it, each having its own content-hash identity")


def check_model_name(args: argparse.Namespace) -> None:
    """--model-name, when given, is ORG/NAME like a Hub id (it becomes a grouping key, not a path)."""
    name = getattr(args, "model_name", None)
    if name is not None:
        from harness.models.identity import check_hub_id, looks_like_hub_id

        check_hub_id(name, "--model-name")
        if not looks_like_hub_id(name):  # the Hub's rule allows a bare NAME; a group needs its ORG
            raise ArgumentError(f"--model-name {name[:60]} is not ORG/NAME: give the organisation too, e.g. "
                                f"my-org/{name[:40]}")


def model_extra(args: argparse.Namespace) -> dict:
    """What the command line adds to the audit's model block: the model name, when given."""
    name = getattr(args, "model_name", None)
    return {} if name is None else {"model_name": name}


def add_task_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tasks", default="all", help="comma-separated task, tag or group names, or all")
    p.add_argument("--include-path", action="append", default=[], help="a folder of your own task YAMLs")
    p.add_argument("--shared-data", help="folder of the reference data (default: $RM_HARNESS_SHARED_DATA, or "
                                         "../shared/data beside a checkout)")


def add_trust_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--trust-store", metavar="DIR", default=None,
                   help="the maintainer's trust store: records of audits verified or computed here (default: "
                        "$RM_HARNESS_TRUST_STORE, else ~/.local/share/rm-harness/trust); never inside a results "
                        "folder")


def trust_store(args: argparse.Namespace):
    """The TrustStore this command's flags (or the environment) name; only the command line decides where."""
    from harness.results.trust import TrustStore

    store = TrustStore.at(getattr(args, "trust_store", None))
    for name in ("output_dir",):
        if getattr(args, name, None):
            store.check_apart_from(getattr(args, name))
    return store


def batch_size(args: argparse.Namespace) -> int | str:
    value = getattr(args, "batch_size", "auto")
    if value in ("auto", None):
        return "auto"
    try:
        n = int(value)
    except (TypeError, ValueError):
        n = 0
    if n < 1:
        raise ArgumentError(f"--batch-size must be a positive integer or 'auto', not {value!r}")
    return n


def check_prompt(prompt: str) -> str:
    """A prompt with some text in it (an empty one gives every reply the same meaningless context)."""
    if not isinstance(prompt, str) or not prompt.strip():
        raise ArgumentError("--prompt is empty or only whitespace; give the question the replies answer")
    return prompt


def check_args(args: argparse.Namespace) -> None:
    """The checks that need no tasks, model or torch, run first so a typo fails in a second: batch size, limit,
    prompt, and every output location the subcommand declares (`outputs`; see harness.io.outputs)."""
    from harness.io.outputs import check_declared

    batch_size(args)
    limit = getattr(args, "limit", None)
    if limit is not None and limit < 1:
        raise ArgumentError(f"--limit must be a positive integer, not {limit}")
    if hasattr(args, "prompt"):
        check_prompt(args.prompt)
    check_model_name(args)
    check_declared(args)


def check_model_outputs(args: argparse.Namespace, ref) -> None:
    """The output locations again, now that the model is known: none may lie inside a local model's folder."""
    from harness.io.outputs import check_declared, model_folders

    check_declared(args, not_inside=model_folders(ref))


def positive_int(text: str) -> int:
    """argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except (TypeError, ValueError):
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text!r}")
    return value


def nonnegative_int(text: str) -> int:
    """argparse type: an integer of at least 0 (seeds)."""
    try:
        value = int(text)
    except (TypeError, ValueError):
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer of 0 or more, not {text!r}")
    return value


def _finite_float(text: str) -> float:
    import math

    try:
        value = float(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"must be a number, not {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {text!r}")
    return value


def nonnegative_float(text: str) -> float:
    """argparse type: a finite number of at least 0 (tolerances)."""
    value = _finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number of 0 or more, not {text!r}")
    return value


def readable_file(text: str) -> str:
    """A file the user names on the command line: it must exist and be a readable regular file."""
    import os

    if not os.path.isfile(text) or not os.access(text, os.R_OK):
        raise argparse.ArgumentTypeError(f"{text!r} is not a readable file")
    return text


def positive_float(text: str) -> float:
    """argparse type: a finite number above 0."""
    value = _finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, not {text!r}")
    return value


def check_inputs(ref, specs, limit: int | None = None) -> dict[str, int]:
    """Every input a run will score, checked with the model's tokenizer and config (no weights): each prompt
    (control strings, length against the context, a user's --chat-template) and each item list (columns, empty
    items, length in context), and the columns the analyses need from their data files. Returns the item count of
    each item-list task, for the cost plan. Tasks whose reference data is missing are left to be skipped."""
    from harness.scoring.responses import ItemSet
    from harness.tasks.items_source import item_source_name, load_items
    from harness.tasks.checks import check_data_columns, missing_data

    from harness.models.templates import TemplateError, for_lm

    runnable = [s for s in specs if s.scope == "model" and s.applies_to(ref.scorer, ref.reference_free)
                and not missing_data(s)]
    if not runnable:
        return {}
    scorer = load(ref)  # tokenizer and config now; the weights only on the first forward
    try:
        splits = {p: scorer.split(p) for s in runnable for p in dict.fromkeys(s.prompts.values())}
    except TemplateError as e:  # an LM without a usable template is pointed to --pretrained
        raise (for_lm(e) if ref.scorer == "lm_logprob" else e) from e
    counts = {}
    for spec in runnable:
        check_data_columns(spec)
        if spec.responses.get("type") != "items":
            continue
        texts, _ = load_items(spec)
        counts[spec.task] = len(texts)
        texts = texts[:limit] if limit else texts  # a --limit run scores (and must fit) only these
        for prompt in dict.fromkeys(spec.prompts.values()):
            ItemSet(scorer.tokenizer, splits[prompt], texts, name=item_source_name(spec.responses),
                    max_length=getattr(scorer, "max_length", None))
    return counts


def model_ref(args: argparse.Namespace, demo: str = "rm"):
    """The one ModelRef for these arguments (the Hub is asked at most once, here)."""
    from harness.models.identity import resolve_model_ref

    batch_size(args)  # checked before anything is resolved or loaded
    ref = resolve_model_ref(
        args.model, revision=args.revision, dtype=args.dtype, device=args.device, scorer=args.scorer,
        trust_remote_code=args.trust_remote_code, registry_entry=args.registry_entry, pretrained=args.pretrained,
        chat_template=args.chat_template, output_field=args.output_field, output_index=args.output_index,
        device_map=args.device_map, ref_model=args.ref_model, demo=demo,
        scorer_options={o.key: getattr(args, o.key) for o in all_options() if getattr(args, o.key) is not None},
    )
    for warning in ref.warnings:  # also recorded in results.json (the model block's `warnings`)
        print(f"warning: {warning}", file=sys.stderr)
    return ref


def load(ref):
    from harness.models.loading import load_ref

    return load_ref(ref)


def select_tasks(args: argparse.Namespace) -> list:
    from harness.tasks.discovery import discover
    from harness.tasks.discovery import select_tasks as select

    return select(discover(args.include_path, shared_data=getattr(args, "shared_data", None)), args.tasks)


def distributed_init(args: argparse.Namespace) -> None:
    """Join torchrun/accelerate's process group and pick this rank's device."""
    from harness.scoring import distributed

    if distributed.init_from_env() and args.device == "auto":
        args.device = distributed.local_device()


# lm-eval / RewardBench spellings → ours
_ALIASES = {"--output-path": "--output-dir"}
_GLOBAL = {"-v": "verbose", "--verbose": "verbose", "--debug": "debug"}


RESPELLED: dict[str, str] = {}  # our flag name -> the spelling the user typed (errors name the typed one)


def normalise_argv(argv: list[str]) -> tuple[list[str], bool, bool]:
    """Underscore flags to hyphens, aliases to our names, and the global flags taken out wherever they stand.
    What was respelled is kept in RESPELLED so that messages say the flag as the user typed it."""
    out, verbose, debug, rest = [], False, False, False
    RESPELLED.clear()
    for tok in argv:
        if rest or tok == "--":
            rest = True
            out.append(tok)
            continue
        if tok in _GLOBAL:
            verbose |= _GLOBAL[tok] == "verbose"
            debug |= _GLOBAL[tok] == "debug"
            continue
        if tok.startswith("--"):
            name, eq, value = tok.partition("=")
            ours = _ALIASES.get(name.replace("_", "-"), name.replace("_", "-"))
            if ours != name:
                RESPELLED[ours] = name
            tok = ours + eq + value
        out.append(tok)
    return out, verbose, debug


def as_typed(message: str) -> str:
    """`message` with each flag we respelled named as the user typed it (`--batch_size`, `--model_args
    pretrained=`), so no message shows a spelling the user never wrote."""
    for ours, typed in RESPELLED.items():
        # argparse names an option by all its strings ("--output-dir/--results-dir"): the typed one stands alone
        message = re.sub(rf"(?<![\w-]){re.escape(ours)}(?:/--[\w-]+)*(?![\w-])", lambda _m, t=typed: t, message)
    return message


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line as one `error:` line (exit 2), the usage only with --help."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {as_typed(message)} (see {self.prog} --help)\n")

    def parse_args(self, args=None, namespace=None):  # noqa: ANN001 - argparse's signature
        from harness.cli.lmeval_args import expand

        return super().parse_args(expand(list(sys.argv[1:] if args is None else args), RESPELLED), namespace)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, with what the interrupted command keeps and how to go on (`note`)."""

    def __init__(self, note: str):
        super().__init__(note)
        self.note = note


RESUME_NOTE = ("interrupted; finished score tables and the saved parts of an unfinished scan are kept: rerun the "
               "same command to resume (a GCG search inside it starts again)")
GENERIC_NOTE = "interrupted; files are replaced only when complete, so nothing was half-written: rerun the command"


def call_command(fn, args: argparse.Namespace) -> int:
    """Run a subcommand; Ctrl-C becomes `Interrupted` carrying the subcommand's own note (`args.on_interrupt`)."""
    try:
        return fn(args)
    except Interrupted:
        raise
    except KeyboardInterrupt:
        raise Interrupted(getattr(args, "on_interrupt", None) or GENERIC_NOTE) from None


def run_guarded(fn, argv: list[str], debug: bool) -> int:
    """Call `fn(argv)`; a UserError (or an unwritable place met while writing) becomes one stderr line, exit 2."""
    try:
        return fn(argv)
    except UserError as e:
        if debug:
            traceback.print_exc()
        print(f"error: {as_typed(e.one_line())}", file=sys.stderr)
        return e.exit_code
    except OSError as e:
        from harness.io.outputs import LATE_WRITE_ERRNOS, os_error_advice

        if e.errno not in LATE_WRITE_ERRNOS:
            raise
        if debug:
            traceback.print_exc()
        target = e.filename2 or e.filename  # a failed copy names its source first and the file it wrote second
        where = f" ({target})" if target else ""
        print(f"error: cannot write{where}: {as_typed(os_error_advice(e))} ({as_typed('--output-dir')}, --out)",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:
        note = e.note if isinstance(e, Interrupted) else GENERIC_NOTE  # outside a command: nothing was started
        print(f"error: {note}", file=sys.stderr)
        return 130
