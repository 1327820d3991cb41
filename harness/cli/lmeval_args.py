"""lm-eval's command-line habits, understood: `--model_args k=v,...` mapped onto our flags (a conflict with a flag
also given is refused), lm-eval-only flags pointed at what does the job here, and error messages that name a
flag the way the user typed it (`--batch_size`), never our respelling of it.
"""

from __future__ import annotations

from harness.errors import UserError

# lm-eval `--model_args` keys → our flags (a value of None: a switch, given for true values)
MODEL_ARG_FLAGS = {"pretrained": "--model", "revision": "--revision", "dtype": "--dtype",
                   "trust_remote_code": "--trust-remote-code", "device": "--device", "batch_size": "--batch-size",
                   "device_map": "--device-map"}
SWITCHES = {"--trust-remote-code"}
POINTERS = {  # lm-eval flags with no counterpart, and what does that job here
    "--log-samples": "every reply's score is kept anyway, in the audit's score tables (tables/*.parquet; "
                     "`rm-harness analyse` reads them); drop the flag",
    "--num-fewshot": "tasks here are zero-shot; drop the flag",
    "--apply-chat-template": "the model's own chat template is always applied (--pretrained for the plain format, "
                             "--chat-template for a model without one); drop the flag",
}
_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no"}


class LmEvalArgError(UserError, ValueError):
    """An lm-eval-style argument that cannot be mapped; the message says what to write."""


def typed(ours: str, respelled: dict[str, str]) -> str:
    """The spelling the user typed for our flag `ours` (it is ours when they typed ours)."""
    return respelled.get(ours, ours)


def _value_of(argv: list[str], flag: str) -> tuple[bool, str | None]:
    for i, tok in enumerate(argv):
        if tok == flag:
            return True, None if flag in SWITCHES else (argv[i + 1] if i + 1 < len(argv) else None)
        if tok.startswith(flag + "="):
            return True, tok.split("=", 1)[1]
    return False, None


def expand(argv: list[str], respelled: dict[str, str]) -> list[str]:
    """`argv` (already normalised) with `--model-args` replaced by our flags; lm-eval-only flags refused with a
    pointer. Nothing after `--` is touched."""
    cut = argv.index("--") if "--" in argv else len(argv)
    head, tail = argv[:cut], argv[cut:]
    for tok in head:
        name = tok.split("=", 1)[0]
        if name in POINTERS:
            raise LmEvalArgError(f"{typed(name, respelled)} is lm-eval's: {POINTERS[name]}")
    out, given, i = [], [], 0
    while i < len(head):
        tok = head[i]
        if tok == "--model-args" or tok.startswith("--model-args="):
            value = tok.split("=", 1)[1] if "=" in tok else (head[i + 1] if i + 1 < len(head) else "")
            i += 1 if "=" in tok else 2
            given.append(value)
            continue
        out.append(tok)
        i += 1
    flag = typed("--model-args", respelled)
    for value in given:
        for item in filter(None, (x.strip() for x in value.split(","))):
            key, eq, val = item.partition("=")
            key = key.strip()
            if not eq or key not in MODEL_ARG_FLAGS:
                raise LmEvalArgError(f"{flag} {item!r}: use key=value pairs with keys "
                                     f"{', '.join(MODEL_ARG_FLAGS)}; other settings have their own flags "
                                     "(see --help)")
            ours = MODEL_ARG_FLAGS[key]
            present, current = _value_of(out, ours)
            if ours in SWITCHES:
                on = val.strip().lower()
                if on not in _TRUE | _FALSE:
                    raise LmEvalArgError(f"{flag} {key}={val}: give True or False")
                if on in _TRUE and not present:
                    out.append(ours)
                elif on in _FALSE and present:
                    raise LmEvalArgError(f"{flag} {key}={val} conflicts with {typed(ours, respelled)}: give it once")
                continue
            if present:
                if current != val:
                    raise LmEvalArgError(f"{flag} {key}={val} conflicts with {typed(ours, respelled)} {current}: "
                                         "give each setting once")
                continue
            out += [ours, val]
            respelled.setdefault(ours, f"{flag} {key}=")  # later messages name the setting as it was typed
    return out + tail
