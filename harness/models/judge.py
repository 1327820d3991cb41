"""Generative judges: a causal LM asked to rate a reply; the score is the judge's expected rating.

The rating template (a declared file: `template` with `{prompt}` and `{reply}`, and the `ratings`) is rendered
once per prompt with a placeholder reply and split into prefix and suffix ids, so a judge rides the same machinery
as a reward model: prefix KV cache shared across candidates, candidate + suffix in one cached forward, only the
last position's logits. The rating is what the judge writes *next*: a template that asks for an explanation
first is refused, since its next token would not be the rating.

A rating written as several tokens (e.g. "10" where digits split, or a space token before the digit) is scored
by the chain rule over the ratings' token trie: one more cached step per shared first part, never its first
token only. A rating that is a prefix of another (Gemma's "1" of "10") keeps the mass of the paths that stop
there: P("1") = P(1) * (1 - P(0 | 1)).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from harness.models.scorer import PrefixState, Scorer, _output_cache, expand_cache
from harness.models.templates import PLACEHOLDER, TemplateError, TemplateSplit, _split, check_prompt_text

DEFAULT_TEMPLATE = Path(__file__).with_name("judge_default.yaml")
LOW_MASS = 0.5  # a table whose median rating mass is below this: the judge is mostly not answering with a rating
# Words that ask the judge to write something before its rating; negated requests ("no explanation") are fine.
_ASKS_FIRST = re.compile(r"\b(explain\w*|explanation\w*|justif\w*|reasoning|rationale|critique\w*|"
                         r"step[- ]by[- ]step|chain[- ]of[- ]thought|think\w*|analy[sz]\w*|feedback)\b", re.I)
_NEGATED = re.compile(r"\b(no|not|without|never|don't|do not|skip|instead of)\b[^.!?\n]{0,40}$", re.I)
_KEYS = {"template", "ratings", "separator", "description"}


class JudgeTemplateError(TemplateError):
    """A rating template that cannot give a next-token rating (refused before any weights load)."""


@dataclass(frozen=True)
class JudgeTemplate:
    """A rating template: `text` holds `{prompt}` and `{reply}` once each and ends where the rating is written."""

    text: str
    ratings: tuple[int, ...]
    separator: str  # written between the template's end and the rating in the plain format (chat: none)
    source: str  # "default" or the file's name
    sha256: str

    def to_json(self) -> dict:
        return {"judge_template": {"source": self.source, "sha256": self.sha256, "ratings": list(self.ratings),
                                   "separator": self.separator, "template": self.text}}


def read_judge_template(path: str | None = None) -> JudgeTemplate:
    """The template at `path` (a YAML file), or the project's default; checked, never run."""
    from harness.io import safe_yaml, untrusted

    file = Path(path) if path else DEFAULT_TEMPLATE
    where = f"--judge-template {path}" if path else "the default judge template"
    try:
        data = safe_yaml.load(untrusted.read_bytes(file.resolve(), "judge template", max_bytes=256 * 1024).decode("utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise JudgeTemplateError(f"{where}: cannot be read ({e}); pass a UTF-8 YAML file") from e
    except Exception as e:  # YAML syntax, aliases
        raise JudgeTemplateError(f"{where}: not a valid YAML file ({str(e).splitlines()[0]})") from e
    if not isinstance(data, dict) or not isinstance(data.get("template"), str):
        raise JudgeTemplateError(f"{where}: must be a mapping with a `template:` string holding {{prompt}} and "
                                 "{reply} (and optionally `ratings:`, `separator:`)")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise JudgeTemplateError(f"{where}: unknown key(s) {unknown}; known: {sorted(_KEYS)}")
    ratings = data.get("ratings", list(range(1, 11)))
    if (not isinstance(ratings, list) or len(ratings) < 2 or len(set(ratings)) != len(ratings)
            or not all(isinstance(r, int) and not isinstance(r, bool) and 0 <= r <= 1000 for r in ratings)):
        raise JudgeTemplateError(f"{where}: `ratings:` must list at least two distinct whole numbers (0-1000), "
                                 "e.g. [1, 2, 3, 4, 5]")
    separator = data.get("separator", " ")
    if not isinstance(separator, str) or separator.strip():
        raise JudgeTemplateError(f"{where}: `separator:` must be whitespace (what precedes the rating), e.g. ' '")
    text = data["template"]
    check_template_text(text, where)
    digest = hashlib.sha256(text.encode() + repr((ratings, separator)).encode()).hexdigest()
    return JudgeTemplate(text, tuple(ratings), separator, "default" if not path else file.name, digest)


def check_template_text(text: str, where: str) -> None:
    """One `{reply}` and one `{prompt}`, nothing asked of the judge before its rating, and no trailing space."""
    for name in ("prompt", "reply"):
        n = text.count("{" + name + "}")
        if n != 1:
            raise JudgeTemplateError(f"{where}: the template must hold {{{name}}} exactly once (found {n}); it marks "
                                     f"where the {'user prompt' if name == 'prompt' else 'candidate reply'} goes")
    if text.index("{reply}") < text.index("{prompt}"):
        raise JudgeTemplateError(f"{where}: {{reply}} comes before {{prompt}}; a reply answers the prompt")
    for m in _ASKS_FIRST.finditer(text):
        if not _NEGATED.search(text[: m.start()]):
            raise JudgeTemplateError(
                f"{where}: the template asks for {m.group(0)!r} before the rating; a judge is scored on its next "
                "token, which must be the rating itself. Use a template that ends where the rating is written "
                "(all instructions before the reply, e.g. ending 'Rating (1-10):')")
    if text != text.rstrip():
        raise JudgeTemplateError(f"{where}: the template ends in whitespace; end it where the rating is written "
                                 "(e.g. 'Rating (1-10):'); the space before the rating is `separator:`")


def split_judge(tokenizer, template: JudgeTemplate, prompt: str, chat_template: str | None,
                chat: bool) -> TemplateSplit:
    """Render the judging instruction around a placeholder reply (as the user's turn of the judge's chat template
    when `chat`, else as plain text) and split it into exact prefix and suffix ids."""
    check_prompt_text(tokenizer, prompt, "chat")
    body = template.text.replace("{prompt}", prompt).replace("{reply}", PLACEHOLDER)
    if chat:
        from harness.models.templates import resolve_chat_template

        jinja = resolve_chat_template(tokenizer, chat_template)
        text = tokenizer.apply_chat_template([{"role": "user", "content": body}], chat_template=jinja,
                                             tokenize=False, add_generation_prompt=True)
    else:
        jinja, text = "", body
    if text.count(PLACEHOLDER) != 1:
        raise JudgeTemplateError("the judge's chat template does not write the judging instruction verbatim; pass "
                                 "one that does with --chat-template")
    prefix_text, suffix_text = text.split(PLACEHOLDER)
    return _split(tokenizer, jinja + "\x00judge:" + template.sha256, prompt, prefix_text, suffix_text, False,
                  "chat" if chat else "plain")


def rating_ids(tokenizer, suffix_text: str, template: JudgeTemplate, chat: bool) -> list[tuple[int, ...]]:
    """Each rating's token ids as written right after the suffix (tokenised in context, so a merge with the
    separator is what the judge would see)."""
    sep = "" if chat else template.separator
    base = list(tokenizer(suffix_text, add_special_tokens=False)["input_ids"])
    out = []
    for r in template.ratings:
        ids = list(tokenizer(suffix_text + sep + str(r), add_special_tokens=False)["input_ids"])
        ids = ids[len(base):] if ids[: len(base)] == base else list(
            tokenizer(sep + str(r), add_special_tokens=False)["input_ids"])
        out.append(tuple(ids))
    if len(set(out)) != len(out) or not all(out):
        raise JudgeTemplateError("two ratings tokenise alike (or to nothing) for this judge's tokenizer; choose "
                                 "other `ratings:`")
    return out


class RatingTrie:
    """The ratings' token sequences: which paths need one more step, and how path probabilities combine."""

    def __init__(self, sequences: list[tuple[int, ...]], values: tuple[int, ...]):
        self.sequences = sequences
        self.values = torch.tensor(values, dtype=torch.float64)
        prefixes = {s[:i] for s in sequences for i in range(1, len(s))}
        self.steps = sorted(prefixes, key=lambda p: (len(p), p))  # internal nodes below the root
        self.children = {p: sorted({s[len(p)] for s in sequences if len(s) > len(p) and s[: len(p)] == p})
                         for p in [()] + self.steps}

    def probabilities(self, root: torch.Tensor, step: Callable[[tuple[int, ...]], torch.Tensor]) -> torch.Tensor:
        """(rows, ratings) unnormalised rating probabilities. `root`: next-token logits after the suffix;
        `step(path)`: next-token logits after the suffix and `path`."""
        logp = {(): torch.log_softmax(root.double(), dim=-1)}
        for path in self.steps:
            logp[path] = torch.log_softmax(step(path).double(), dim=-1)
        cols = []
        for s in self.sequences:
            total = sum(logp[s[:i]][:, s[i]] for i in range(len(s)))
            if s in self.children and self.children[s]:  # a rating that another continues: the mass that stops
                go_on = torch.logsumexp(logp[s][:, self.children[s]], dim=-1)
                total = total + torch.log1p(-torch.exp(go_on).clamp(max=1 - 1e-12))
            cols.append(torch.exp(total))
        return torch.stack(cols, dim=-1)

    def summarise(self, probs: torch.Tensor) -> torch.Tensor:
        """(rows, 3): expected rating, mass on ratings before renormalising, probability of the top rating."""
        mass = probs.sum(-1)
        p = probs / mass.clamp(min=1e-300)[:, None]
        expected = (p * self.values.to(p.device)).sum(-1)
        return torch.stack([expected, mass, p[:, int(self.values.argmax())]], dim=-1)


class JudgeScorer(Scorer):
    """A causal LM judging a reply: the score is its expected rating (see the module's docstring)."""

    kind = "judge"
    uses_suffix = True
    pads_rows = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.template = read_judge_template(self.options.get("judge_template"))
        self.chat = not self.spec.pretrained and bool(self.chat_template or getattr(self.tokenizer, "chat_template",
                                                                                    None))
        self._trie: RatingTrie | None = None

    def split(self, prompt: str) -> TemplateSplit:
        from harness.models.templates import check_fits

        split = split_judge(self.tokenizer, self.template, prompt, self.chat_template, self.chat)
        check_fits(split, self.max_length)
        if self._trie is None:
            self._trie = RatingTrie(rating_ids(self.tokenizer, split.suffix_text, self.template, self.chat),
                                    self.template.ratings)
        return split

    @property
    def trie(self) -> RatingTrie:
        if self._trie is None:
            self.split("x")
        return self._trie

    def _last_logits(self, **inputs):
        keep = {"logits_to_keep": 1} if self._takes("logits_to_keep") else {}
        out = self._forward(**inputs, **keep)
        return out.logits[:, -1].float(), out

    def _judge_cached(self, state: PrefixState, cont_ids: torch.Tensor) -> torch.Tensor:
        cont_ids = cont_ids.to(self.device)
        batch = cont_ids.shape[0]
        root, out = self._last_logits(**{self._cache_kw: expand_cache(state.cache, batch)}, input_ids=cont_ids)
        cache = _output_cache(out)

        def step(path):
            ids = torch.tensor([list(path)] * batch, device=self.device)
            return self._last_logits(input_ids=ids, **{self._cache_kw: expand_cache(cache, batch)})[0]

        return self.trie.summarise(self.trie.probabilities(root, step))

    @torch.inference_mode()
    def score_cached(self, state: PrefixState, cont_ids: torch.Tensor) -> torch.Tensor:
        return self._judge_cached(state, cont_ids)[:, 0].float()

    @torch.inference_mode()
    def score_cached_sides(self, state: PrefixState, cont_ids: torch.Tensor) -> torch.Tensor:
        """(rows, 3): the expected rating, the mass on ratings before renormalising, the top rating's probability."""
        return self._judge_cached(state, cont_ids)

    def table_notes(self, table) -> dict:
        """The table's median rating mass; below LOW_MASS the judge mostly does not answer with a rating."""
        import logging

        median = float(table["rating_mass"].median()) if len(table) else float("nan")
        low = not median >= LOW_MASS
        if low:
            logging.getLogger(__name__).warning(
                "%s: median probability mass on the rating values is %.3f (below %.1f): the judge mostly does not "
                "answer with a rating after this template; its expected ratings are renormalised over little mass",
                self.spec.id, median, LOW_MASS)
        return {"judge": {"template_sha256": self.template.sha256, "median_rating_mass": median,
                          "low_rating_mass": low}}

    def _judge_full(self, ids: torch.Tensor, **inputs) -> torch.Tensor:
        root = self._last_logits(input_ids=ids, **inputs)[0]

        def step(path):
            more = torch.tensor([list(path)] * ids.shape[0], device=ids.device)
            extra = {}
            if "attention_mask" in inputs:
                extra["attention_mask"] = torch.cat([inputs["attention_mask"], torch.ones_like(more)], dim=1)
                last = inputs["position_ids"][:, -1:]
                extra["position_ids"] = torch.cat(
                    [inputs["position_ids"], last + torch.arange(1, more.shape[1] + 1, device=ids.device)], dim=1)
            return self._last_logits(input_ids=torch.cat([ids, more], dim=1), **extra)[0]

        return self.trie.summarise(self.trie.probabilities(root, step))

    @torch.inference_mode()
    def score_full(self, input_ids: torch.Tensor, n_reply: int = 1) -> torch.Tensor:
        """Expected rating of whole sequences (prefix + reply + suffix), from plain forwards."""
        return self._judge_full(input_ids.to(self.device))[:, 0].float()

    def _score_padded(self, ids, mask, positions, n_reply):
        return self._judge_full(ids, attention_mask=mask, position_ids=positions)[:, 0].float()

    def score_embeds(self, state: PrefixState, cont_embeds: torch.Tensor) -> torch.Tensor:
        """Differentiable expected rating of continuation embeddings after the cached prefix (for GCG)."""
        batch = cont_embeds.shape[0]
        out = self._forward(inputs_embeds=cont_embeds, **{self._cache_kw: expand_cache(state.cache, batch)})
        cache = _output_cache(out)
        emb = self.model.get_input_embeddings()

        def step(path):
            more = emb(torch.tensor([list(path)] * batch, device=cont_embeds.device)).to(cont_embeds.dtype)
            return self._forward(inputs_embeds=more, **{self._cache_kw: expand_cache(cache, batch)}).logits[:, -1]

        probs = self.trie.probabilities(out.logits[:, -1].float(), step)
        return self.trie.summarise(probs)[:, 0].float()

