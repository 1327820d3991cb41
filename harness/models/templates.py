"""Exact inputs: render the prompt once with a placeholder reply, split into prefix and suffix token ids.

Two formats: "chat" (the model's own chat template, for reward models and instruction-tuned LMs) and "plain"
(the study's raw string `User: {prompt}\\nAssistant:` for pretrained LMs, whose next token is the reply).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from harness.errors import UserError
from harness.models.tokens import encode_texts

PLACEHOLDER = "RmHarnessReplyPlaceholder"  # mixed case: survives trim, not upper/lower
PLAIN_FORMAT = "User: {prompt}\nAssistant:"  # the study's format for pretrained (base) LMs
PROMPT_FORMATS = ("chat", "plain")


class TemplateError(UserError, ValueError):
    """The chat template cannot give exact inputs (missing, or does not contain the reply verbatim)."""


@dataclass(frozen=True)
class TemplateSplit:
    """`prefix_ids + reply_ids + suffix_ids` is exactly what the model sees for a reply."""

    prompt: str
    prefix_text: str
    suffix_text: str
    prefix_ids: tuple[int, ...]
    suffix_ids: tuple[int, ...]
    strips_reply: bool  # the template trims whitespace around the reply (Llama-3, Gemma do)
    template_hash: str
    prompt_format: str = "chat"  # "chat" (a chat template) or "plain" (the study's pretrained-LM string)

    @property
    def fixed_tokens(self) -> int:
        """Tokens every input spends on the prompt and the end of turn (the reply comes on top)."""
        return len(self.prefix_ids) + len(self.suffix_ids)

    def reply_text(self, reply: str) -> str:
        """The reply as the template would write it."""
        return reply.strip() if self.strips_reply else reply

    def render(self, reply: str) -> str:
        return self.prefix_text + self.reply_text(reply) + self.suffix_text


def resolve_chat_template(tokenizer, chat_template: str | None = None) -> str:
    """The template to use: the user's (a file path or a Jinja string) or the tokenizer's own."""
    if chat_template:
        path = Path(chat_template)
        if len(chat_template) < 4096 and "{" not in chat_template and path.is_file():
            try:
                return path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as e:
                raise TemplateError(f"--chat-template {chat_template}: cannot be read as UTF-8 text ({e}); "
                                    "save the template as UTF-8") from e
        if "{" not in chat_template:
            raise TemplateError(f"--chat-template {chat_template!r} is neither a file nor a Jinja template string")
        return chat_template
    own = getattr(tokenizer, "chat_template", None)
    if not own:
        raise TemplateError(
            "this model's tokenizer has no chat template, so the exact reply position is unknown. "
            "Pass one with --chat-template PATH_OR_JINJA (e.g. the template of the model it was fine-tuned from)."
        )
    if isinstance(own, dict):  # several named templates: the default one renders conversations
        own = own.get("default") or next(iter(own.values()))
    return own


def _render(tokenizer, template: str, prompt: str, reply: str) -> str:
    """The one place a chat template is rendered: Jinja's failures become a TemplateError naming the cause."""
    import jinja2

    messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": reply}]
    try:
        return tokenizer.apply_chat_template(messages, chat_template=template, tokenize=False)
    except jinja2.TemplateSyntaxError as e:
        raise TemplateError(f"the chat template is not valid Jinja (line {e.lineno}: {e.message}); fix it or pass "
                            "another with --chat-template") from e
    except jinja2.exceptions.SecurityError as e:
        raise TemplateError(f"the chat template does something the sandbox forbids ({e}); pass a template that "
                            "only formats the messages, with --chat-template") from e
    except jinja2.TemplateError as e:  # raise_exception(...) in the template, undefined names, filters
        raise TemplateError(f"the chat template failed on a user+assistant conversation ({e}); pass a template "
                            "that accepts it with --chat-template") from e


class PromptError(TemplateError):
    """A prompt that cannot be scored as one user turn within the model's context."""


_PLAIN_TURN = re.compile(r"(?:^|\n)[ \t]*(User|Assistant):")


def control_strings(tokenizer) -> list[str]:
    """The texts this tokenizer reads as its special (control) tokens, longest first: written inside a prompt, each
    becomes the control token itself, e.g. Llama-3's `<|eot_id|>` closes the user's turn."""
    found = {str(t) for t in (getattr(tokenizer, "all_special_tokens", None) or [])}
    for tok in (getattr(tokenizer, "added_tokens_decoder", None) or {}).values():
        if getattr(tok, "special", False):
            found.add(str(getattr(tok, "content", tok)))
    return sorted((t for t in found if t.strip()), key=len, reverse=True)


def check_prompt_text(tokenizer, prompt: str, prompt_format: str = "chat") -> None:
    """Refuse a prompt holding the template's control strings: it would silently become a multi-turn conversation
    (or end the user's turn early), so every score would answer another question than the one recorded."""
    found = [(prompt.index(t), -len(t), t) for t in control_strings(tokenizer) if t in prompt]
    if found:
        text = min(found)[2]  # the first in the prompt
        raise PromptError(f"the prompt contains {text!r}, a control string of this model's tokenizer: the model "
                          "would read it as the control token itself, turning the prompt into another conversation; "
                          "remove it (a prompt is one user turn, scored as written)")
    m = _PLAIN_TURN.search(prompt) if prompt_format == "plain" else None
    if m:
        raise PromptError(f"the prompt contains a line starting {m.group(1) + ':'!r}, a turn marker of the plain "
                          "'User: ...\\nAssistant:' format: the model would read a second turn; remove it")


def check_fits(split: "TemplateSplit", max_length: int | None) -> None:
    """The prompt (with the template's fixed tokens) leaves room for at least a one-token reply in the context."""
    if max_length and split.fixed_tokens + 1 > max_length:
        shown = split.prompt if len(split.prompt) <= 40 else split.prompt[:40] + "…"
        raise PromptError(f"the prompt {shown!r} takes {split.fixed_tokens:,} tokens with the template, which leaves "
                          f"no room for a reply in the model's context of {max_length:,} tokens; shorten the prompt")


def _adds_bos(tokenizer) -> bool:
    bos = tokenizer.bos_token_id
    if bos is None:
        return False
    return tokenizer("x", add_special_tokens=True)["input_ids"][:1] == [bos]


def _prefix_ids(tokenizer, prefix_text: str) -> list[int]:
    """Exact prefix ids with exactly one BOS (added when the tokenizer would add one and the text lacks it)."""
    prefix = list(tokenizer(prefix_text, add_special_tokens=False)["input_ids"])
    bos = tokenizer.bos_token_id
    if _adds_bos(tokenizer) and prefix[:1] != [bos]:
        prefix = [bos] + prefix  # the tokenizer would add it, the template did not write it
    if bos is not None and len(prefix) > 1 and prefix[0] == bos and prefix[1] == bos:
        raise TemplateError("the rendered template starts with two BOS tokens; fix the template")
    return prefix


def _split(tokenizer, template: str, prompt: str, prefix_text: str, suffix_text: str, strips: bool,
           prompt_format: str) -> TemplateSplit:
    prefix = _prefix_ids(tokenizer, prefix_text)
    suffix = list(tokenizer(suffix_text, add_special_tokens=False)["input_ids"])
    digest = hashlib.sha256(
        "\x00".join([template, prompt, ",".join(map(str, prefix)), ",".join(map(str, suffix))]).encode()
    ).hexdigest()[:16]
    return TemplateSplit(prompt, prefix_text, suffix_text, tuple(prefix), tuple(suffix), strips, digest,
                         prompt_format)


def split_plain(tokenizer, prompt: str) -> TemplateSplit:
    """The study's pretrained-LM format: `User: {prompt}\\nAssistant:`, then the reply; no suffix, one BOS.

    The reply is appended exactly as given, as the study appended a decoded token: a vocabulary token keeps its
    own id (" I" and "I" are different replies), and a text item should carry its own leading space.
    """
    return _split(tokenizer, PLAIN_FORMAT, prompt, PLAIN_FORMAT.format(prompt=prompt), "", False, "plain")


LM_FORMAT_HINT = ("for a pretrained (base) LM, pass --pretrained instead: it is then scored in the study's plain "
                  "`User: {prompt}\\nAssistant:` format, which needs no chat template")


def for_lm(error: TemplateError) -> TemplateError:
    """The same template error for an LM scorer, pointing to --pretrained (a reward model's points to
    --chat-template only: it cannot be scored without the template it was trained with)."""
    return TemplateError(f"{error.one_line().rstrip('.')}; {LM_FORMAT_HINT}")


def split_template(tokenizer, prompt: str, chat_template: str | None = None,
                   prompt_format: str = "chat") -> TemplateSplit:
    """Split the rendered conversation around the reply into exact prefix and suffix ids (one BOS).

    `prompt_format="plain"` uses the study's raw string for pretrained LMs instead of a chat template.
    """
    if prompt_format not in PROMPT_FORMATS:
        raise TemplateError(f"prompt format {prompt_format!r} is unknown; use one of {', '.join(PROMPT_FORMATS)}")
    check_prompt_text(tokenizer, prompt, prompt_format)
    if prompt_format == "plain":
        if chat_template:
            raise TemplateError("--chat-template was given for a pretrained model scored in the plain "
                                "`User: ...\\nAssistant:` format; drop one of --chat-template and --pretrained")
        return split_plain(tokenizer, prompt)
    template = resolve_chat_template(tokenizer, chat_template)
    text = _render(tokenizer, template, prompt, PLACEHOLDER)
    if text.count(PLACEHOLDER) != 1:
        raise TemplateError(
            f"the chat template does not contain the assistant reply verbatim exactly once "
            f"(found {text.count(PLACEHOLDER)} copies of a placeholder reply); it may rewrite or drop replies. "
            "Pass a template that writes the reply as given with --chat-template."
        )
    prefix_text, suffix_text = text.split(PLACEHOLDER)
    padded = _render(tokenizer, template, prompt, f"  {PLACEHOLDER}  ")
    strips = f"  {PLACEHOLDER}  " not in padded
    return _split(tokenizer, template, prompt, prefix_text, suffix_text, strips, "chat")


def retokenised_ids(tokenizer, split: TemplateSplit, reply: str, chat_template: str | None = None) -> list[int]:
    """The study's inputs: render the decoded reply, then tokenise the text with special tokens (for comparison)."""
    if split.prompt_format == "plain":
        text = split.render(reply)  # the study appended the decoded token as is
    else:
        text = _render(tokenizer, resolve_chat_template(tokenizer, chat_template), split.prompt, reply)
    return list(tokenizer(text, add_special_tokens=True)["input_ids"])


def reply_ids_in_context(tokenizer, split: TemplateSplit, replies: Sequence[str]) -> list[tuple[list[int], bool]]:
    """Token ids of each text reply as the full rendered conversation tokenises it (plus: no seam merge).

    When BPE merges across the prefix/reply or reply/suffix seam, the prefix or suffix ids would change;
    then the reply is tokenised on its own between the exact prefix and suffix, and flagged.
    """
    texts = [split.render(r) for r in replies]
    enc = encode_texts(tokenizer, texts)
    own_prefix = encode_texts(tokenizer, [split.prefix_text])[0]
    suffix = list(split.suffix_ids)
    n_pre, n_suf = len(own_prefix), len(suffix)
    out: list[tuple[list[int], bool]] = []
    for reply, ids in zip(replies, enc):
        ids = list(ids)
        clean = ids[:n_pre] == own_prefix and ids[len(ids) - n_suf :] == suffix and len(ids) > n_pre + n_suf
        if clean:
            out.append((ids[n_pre : len(ids) - n_suf], True))
        else:
            out.append((list(tokenizer(split.reply_text(reply), add_special_tokens=False)["input_ids"]), False))
    return out
