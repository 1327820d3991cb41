"""Arguments shared by the subcommands: model options → one ModelRef (resolved once), task selection, batch
size, distributed start-up. Subcommand modules import from here; nothing here imports a subcommand."""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from harness.errors import UserError

DEFAULT_PROMPT = "What, in one word, is the best thing ever?"


class ArgumentError(UserError, ValueError):
    """A command-line value is invalid; the message names the flag."""


def add_model_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model")
    g.add_argument("--model", default=None,
                   help="Hub id ORG/NAME, a local folder, or demo:gemma-3-270m-lm / demo:gemma-3-270m-sentiment-rm "
                        "(default: the offline demo reward model and, for submit, its base LM)")
    g.add_argument("--revision", help="branch, tag or commit of a Hub model (resolved to a commit)")
    g.add_argument("--dtype", default="auto", choices=["auto", "float32", "bfloat16", "float16"])
    g.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    g.add_argument("--device-map", default=None, help="'auto' shards a model too big for one device (accelerate)")
    g.add_argument("--trust-remote-code", action="store_true", default=None,
                   help="run the model's own code (off unless given here or set by the registry for a Hub id)")
    g.add_argument("--registry-entry", help="apply this model-registry entry to a local folder (never its trust)")
    g.add_argument("--pretrained", action="store_true", default=None,
                   help="a pretrained (base) LM: the study's plain format 'User: {prompt}\\nAssistant:'")
    g.add_argument("--chat-template", help="a Jinja template (file path or string) for models without one")
    g.add_argument("--scorer", choices=["reward", "lm_logprob", "dpo"], help="override the registry (default reward)")
    g.add_argument("--ref-model", help="reference policy of a DPO scorer (Hub id or folder; omit: reference-free)")
    g.add_argument("--dpo-variant", choices=["rewardbench", "next_token"], default=None,
                   help="DPO implicit reward: rewardbench (reply + EOS, RewardBench's; default) or next_token")
    g.add_argument("--beta", type=float, default=None, help="DPO beta (default 1, as RewardBench)")
    g.add_argument("--output-field", help="output field holding the reward (registry default: logits)")
    g.add_argument("--output-index", type=int, help="column of a multi-output head")
    g.add_argument("--batch-size", default="auto", help="rows per forward, or auto (halves on out-of-memory)")


def add_task_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tasks", default="all", help="comma-separated task, tag or group names, or all")
    p.add_argument("--include-path", action="append", default=[], help="a folder of your own task YAMLs")
    p.add_argument("--shared-data", help="folder of the reference data (default: $RM_HARNESS_SHARED_DATA, or "
                                         "../shared/data beside a checkout)")


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
    prompt, output folder (each only where the subcommand has the option)."""
    batch_size(args)
    limit = getattr(args, "limit", None)
    if limit is not None and limit < 1:
        raise ArgumentError(f"--limit must be a positive integer, not {limit}")
    if hasattr(args, "prompt"):
        check_prompt(args.prompt)
    if getattr(args, "output_dir", None) is not None:
        check_output_dir(args.output_dir)


def check_chat_template(ref, prompts) -> None:
    """Render a user's --chat-template for each prompt with the model's tokenizer (no weights), so a broken
    template fails before anything is loaded or written."""
    if not getattr(ref, "chat_template", None) or ref.prompt_format != "chat":
        return
    from transformers import AutoTokenizer

    from harness.models.templates import TemplateError, for_lm, split_template

    try:
        tokenizer = AutoTokenizer.from_pretrained(ref.load_path, trust_remote_code=ref.trust_remote_code)
    except Exception:  # noqa: BLE001 - the loader reports an unloadable tokenizer with its own message
        return
    for prompt in dict.fromkeys(prompts):
        try:
            split_template(tokenizer, prompt, ref.chat_template)
        except TemplateError as e:
            raise (for_lm(e) if ref.scorer == "lm_logprob" else e) from e


def check_task_items(ref, specs) -> None:
    """Read the item CSV of every item-list task this model runs, so a bad file fails before anything is loaded
    or written (the runner reads it again when it scores; the files are small)."""
    from harness.tasks.runner import load_items

    for spec in specs:
        if spec.scope == "model" and spec.applies_to(ref.scorer) and spec.responses.get("type") == "items" \
                and "path" in spec.responses:
            load_items(spec)


def model_ref(args: argparse.Namespace, demo: str = "rm"):
    """The one ModelRef for these arguments (the Hub is asked at most once, here)."""
    from harness.models.identity import resolve_model_ref

    batch_size(args)  # checked before anything is resolved or loaded
    ref = resolve_model_ref(
        args.model, revision=args.revision, dtype=args.dtype, device=args.device, scorer=args.scorer,
        trust_remote_code=args.trust_remote_code, registry_entry=args.registry_entry, pretrained=args.pretrained,
        chat_template=args.chat_template, output_field=args.output_field, output_index=args.output_index,
        device_map=args.device_map, ref_model=args.ref_model, demo=demo,
        scorer_options={k: v for k, v in (("dpo_variant", args.dpo_variant), ("beta", args.beta)) if v is not None},
    )
    for warning in ref.warnings:  # also recorded in results.json (the model block's `warnings`)
        print(f"warning: {warning}", file=sys.stderr)
    return ref


def load(ref):
    from harness.models.loading import load_ref

    return load_ref(ref)


def select_tasks(args: argparse.Namespace) -> list:
    from harness.tasks.spec import discover
    from harness.tasks.spec import select_tasks as select

    return select(discover(args.include_path, shared_data=getattr(args, "shared_data", None)), args.tasks)


def check_output_dir(path: str | Path) -> Path:
    """A folder we can write to, or a one-line error naming it (checked before any model loads)."""
    import os

    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ArgumentError(f"--output-dir {p} is a file; name a folder")
    probe_root = p
    while not probe_root.exists():
        probe_root = probe_root.parent
    if not probe_root.is_dir():
        raise ArgumentError(f"--output-dir {p}: {probe_root} is a file, so the folder cannot be made; name a folder")
    if not os.access(probe_root, os.W_OK | os.X_OK):
        raise ArgumentError(f"--output-dir {p}: {probe_root} is not writable; choose a folder you can write")
    return p


def distributed_init(args: argparse.Namespace) -> None:
    """Join torchrun/accelerate's process group and pick this rank's device."""
    from harness.scoring import distributed

    if distributed.init_from_env() and args.device == "auto":
        args.device = distributed.local_device()


# lm-eval / RewardBench spellings → ours
_ALIASES = {"--output-path": "--output-dir"}
_GLOBAL = {"-v": "verbose", "--verbose": "verbose", "--debug": "debug"}


def normalise_argv(argv: list[str]) -> tuple[list[str], bool, bool]:
    """Underscore flags to hyphens, aliases to our names, and the global flags taken out wherever they stand."""
    out, verbose, debug, rest = [], False, False, False
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
            name = _ALIASES.get(name.replace("_", "-"), name.replace("_", "-"))
            tok = name + eq + value
        out.append(tok)
    return out, verbose, debug


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line as one `error:` line (exit 2), the usage only with --help."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")



def run_guarded(fn, argv: list[str], debug: bool) -> int:
    """Call `fn(argv)`; a UserError (or an unwritable disk) becomes one stderr line and exit 2."""
    try:
        return fn(argv)
    except UserError as e:
        if debug:
            traceback.print_exc()
        print(f"error: {e.one_line()}", file=sys.stderr)
        return e.exit_code
    except OSError as e:
        import errno

        if e.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES):
            raise
        if debug:
            traceback.print_exc()
        target = e.filename2 or e.filename  # a failed copy names its source first and the file it wrote second
        where = f" ({target})" if target else ""
        print(f"error: cannot write{where}: {e.strerror}; free space there or write elsewhere (--output-dir, --out)",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; rerun the same command to resume (finished score tables are kept)",
              file=sys.stderr)
        return 130


