"""One model identity, resolved once from the user's arguments and passed everywhere downstream.

`resolve_model_ref` turns what the user typed (a Hub id, a local folder, or nothing for the demo) into a frozen
`ModelRef`: what is audited (source, pinned revision), how (dtype, device, scorer kind, prompt format, trust
decision), and how it is named (display id, results slug). Loading, score-table keys, results, submission
records, the report and the board all read this value; nothing downstream resolves an id again.

Registry entries describe Hub models only. A local folder never inherits an entry's trust_remote_code, name or
RewardBench join, even when its relative path spells a registry id, unless the user names the entry with
`--registry-entry` (and code still needs `--trust-remote-code`). A local folder's revision is a content hash over
every byte of every file, cached by (path, size, mtime) so a rerun does not re-read the weights.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from harness.errors import UserError
from harness.models.kinds import KINDS, SCORER_KINDS, file_options
from harness.models.registry import ModelSpec, lookup, registry

REFERENCE_NONE = "none"  # the `reference` of a DPO scorer run without a reference model


def is_reference_free(model_block: Mapping[str, Any] | None) -> bool:
    """Whether a results.json model block describes a DPO scorer without a reference model (`reference: none`;
    a DPO block from before the field existed is reference-free when it names no `ref_model`)."""
    if not isinstance(model_block, Mapping) or model_block.get("scorer") != "dpo":
        return False
    if "reference" in model_block:
        return model_block.get("reference") == REFERENCE_NONE
    return not model_block.get("ref_model")
DTYPE_NAMES = ("float32", "bfloat16", "float16")
PROMPT_FORMATS = ("chat", "plain")
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")
_HASH_CHUNK = 8 << 20


class ModelIdentityError(UserError, ValueError):
    """The model arguments do not name one loadable model; the message says what to pass."""


# Words --model reads as the built-in demo rather than as a path: the plain request (both demo models for submit)
# and each demo model's display id.
DEMO_NAMES = {"demo:gemma-3-270m-sentiment-rm": ("rm",), "demo:gemma-3-270m-lm": ("lm",)}
RESERVED_MODEL_WORDS = ("demo", *DEMO_NAMES)


def demo_request(model: str | None) -> tuple[str, ...] | None:
    """Which demo models `--model` asks for: ("rm", "lm") for none / "" / "demo", one for a demo's display id, None
    for anything else. A reserved word that is also an existing file or folder is ambiguous, and an error: the
    user writes `./demo` for the folder (a path, never reserved) or the demo's display id for the demo."""
    if model in (None, ""):
        return ("rm", "lm")
    if model not in RESERVED_MODEL_WORDS:
        return None
    if os.path.lexists(os.path.expanduser(model)):
        demo_way = "leave --model out" if model == "demo" else "run from another folder"
        raise ModelIdentityError(f"--model {model} is ambiguous: the built-in demo, or the existing path ./{model}; "
                                 f"write ./{model} for the path, or {demo_way} for the demo")
    return DEMO_NAMES.get(model, ("rm", "lm"))


def check_hub_id(model: str, flag: str = "--model") -> str:
    """A Hub id huggingface_hub accepts (ORG/NAME, each part at most 96 characters), or a one-line error naming
    `flag` and saying the id is invalid (never that the Hub is unreachable)."""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(model)
    except HFValidationError:
        shown = model if len(model) <= 60 else f"{model[:40]}… ({len(model)} characters)"
        raise ModelIdentityError(
            f"{flag} {shown} is not a valid Hub id: ORG/NAME, each part of letters, digits, '-', '_', '.' (not "
            "starting or ending with '-' or '.', no '--' or '..') and at most 96 characters; check the id") from None
    return model


def looks_like_hub_id(text: str) -> bool:
    """ORG/NAME with Hub-safe characters (says nothing about whether the repository exists)."""
    return isinstance(text, str) and bool(_HUB_ID.match(text))


def _safe(part: str) -> str:
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", part).strip("-").lstrip(".")
    return s or "unnamed"


def short_revision(revision: str) -> str:
    """The first 12 characters of a revision that name its results folder (`sha256-` dropped)."""
    return _safe(revision.split("-", 1)[-1] if revision.startswith("sha256-") else revision)[:12]


def slug_of(origin: str, source: str, display_id: str, revision: str) -> str:
    """The results folder name of a model: `org__name`, `local__<folder>__<hash8>` or `demo__<name>`."""
    if origin == "hub":
        org, name = source.split("/")
        return f"{_safe(org)}__{_safe(name)}"
    if origin == "local":
        return f"local__{_safe(Path(source).name)}__{short_revision(revision)[:8]}"
    return "demo__" + _safe(display_id.split(":", 1)[-1])


@dataclass(frozen=True)
class ModelRef:
    """Everything that names and configures one audited model; immutable once resolved."""

    display_id: str  # "org/name", "local:<folder>@<hash8>", "demo:<name>"
    origin: str  # hub | local | demo
    source: str  # Hub id, or the absolute path of a local folder
    revision: str  # Hub commit, or the folder's sha256 content hash
    load_path: str  # what from_pretrained gets
    dtype: str  # resolved torch dtype name
    device: str
    scorer: str  # a scorer kind (harness/models/kinds.py)
    trust_remote_code: bool
    spec: ModelSpec
    prompt_format: str = "chat"  # chat: the model's chat template; plain: "User: {prompt}\nAssistant:"
    chat_template: str | None = None  # the user's template (file path or Jinja string), if any
    prompt_format_reason: str = ""  # why this format (shown in the plan line, recorded in results.json)
    warnings: tuple[str, ...] = ()  # said on stderr when resolved, recorded in results.json
    registry_entry: str | None = None
    weights_note: str | None = None
    device_map: str | None = None
    ref_model: "ModelRef | None" = None  # the reference policy of a DPO scorer
    extra: tuple[tuple[str, Any], ...] = field(default_factory=tuple)  # scorer options (e.g. dpo variant, beta)

    @property
    def slug(self) -> str:
        """The results folder name of this model (its revisions are folders inside it)."""
        return slug_of(self.origin, self.source, self.display_id, self.revision)

    @property
    def short_revision(self) -> str:
        return short_revision(self.revision)

    @property
    def hub_url(self) -> str | None:
        """The Hub page pinned to the audited commit (None for local and demo models)."""
        return f"https://huggingface.co/{self.source}/tree/{self.revision}" if self.origin == "hub" else None

    def option(self, name: str, default: Any = None) -> Any:
        return dict(self.extra).get(name, default)

    @property
    def reference_free(self) -> bool:
        """A DPO scorer without a reference model: its score is the policy's summed log-prob of the reply."""
        return self.scorer == "dpo" and self.ref_model is None

    def to_json(self) -> dict[str, Any]:
        """The identity part of results.json's model block and of submission records."""
        out = {
            "id": self.display_id, "origin": self.origin, "source": self.source, "revision": self.revision,
            "dtype": self.dtype, "scorer": self.scorer, "trust_remote_code": self.trust_remote_code,
            "registry_entry": self.registry_entry, "weights_note": self.weights_note,
            "prompt_format": self.prompt_format, "prompt_format_reason": self.prompt_format_reason,
            "hub_url": self.hub_url, "slug": self.slug, "output_field": self.spec.output, "output_index": self.spec.index,
        }
        if self.warnings:
            out["warnings"] = list(self.warnings)
        if self.scorer == "dpo":  # what a DPO score is relative to: "none" = a summed log-prob, not a log-ratio
            out["reference"] = REFERENCE_NONE if self.ref_model is None else \
                f"{self.ref_model.display_id}@{self.ref_model.revision}"
        if self.ref_model is not None:
            out["ref_model"] = self.ref_model.to_json()
        if self.extra:
            files = {o.key for o in file_options()}
            out["scorer_options"] = {k: file_fingerprint(v) if k in files else v for k, v in self.extra}
        return out


def file_fingerprint(path: str | os.PathLike[str]) -> dict[str, str]:
    """What results.json records of a file the user named: its name and sha256, never its path."""
    p = Path(path)
    return {"file": p.name, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}


# --- content hash of a local folder -------------------------------------------------------------------------


def _hash_cache_path() -> Path:
    from harness.models.demo import cache_root

    return cache_root() / "folder-hashes.json"


def _file_digest(path: Path, cache: dict[str, Any]) -> str:
    st = path.stat()
    key = str(path.resolve())
    hit = cache.get(key)
    if hit and hit.get("size") == st.st_size and hit.get("mtime_ns") == st.st_mtime_ns:
        return hit["sha256"]
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(_HASH_CHUNK), b""):
            h.update(block)
    cache[key] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": h.hexdigest()}
    return cache[key]["sha256"]


def folder_content_hash(folder: str | os.PathLike[str]) -> str:
    """sha256 over every file's relative path and every byte of it; per-file digests cached by size and mtime."""
    root = Path(folder).resolve()
    cache_file = _hash_cache_path()
    try:
        cache = json.loads(cache_file.read_text())
    except (OSError, ValueError):
        cache = {}
    before = dict(cache)
    h = hashlib.sha256()
    files = sorted(p for p in root.rglob("*") if p.is_file() and ".cache" not in p.relative_to(root).parts
                   and not p.name.startswith(".") and "__pycache__" not in p.relative_to(root).parts)
    for f in files:
        h.update(f.relative_to(root).as_posix().encode() + b"\0")
        h.update(_file_digest(f, cache).encode() + b"\n")
    if cache != before:  # a cache: a lost or read-only file only costs a re-hash next time
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache_file.with_name(f".{cache_file.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(cache))
            os.replace(tmp, cache_file)
        except OSError:
            pass
    return "sha256-" + h.hexdigest()


def is_model_folder(path: str | os.PathLike[str]) -> bool:
    """Whether `path` is a local model folder as --model reads it: a folder holding config.json."""
    folder = Path(path).expanduser()
    return folder.is_dir() and (folder / "config.json").is_file()


def local_folder_identity(folder: str | os.PathLike[str]) -> tuple[str, str, str]:
    """(source, revision, display id) of a local model folder: its absolute path, its content hash and
    `local:<name>@<hash8>`. `resolve_model_ref` and the results layout (an audit named by its model's path) both
    read a folder's identity here, so the two always agree."""
    path = Path(folder).expanduser().resolve()
    rev = folder_content_hash(path)
    return str(path), rev, f"local:{path.name}@{rev.split('-', 1)[1][:8]}"


def local_folder_slug(folder: str | os.PathLike[str]) -> tuple[str, str, str]:
    """(slug, revision, display id) of a local model folder: where its audit lives in a results folder."""
    source, rev, display_id = local_folder_identity(folder)
    return slug_of("local", source, display_id, rev), rev, display_id


# --- resolution ------------------------------------------------------------------------------------------------


def check_device(device: str) -> str:
    """A valid device name, or a UserError naming the choices (checked before any weights load)."""
    if not isinstance(device, str) or not _DEVICE.match(device):
        raise ModelIdentityError(f"--device {device!r} is not a device; use auto, cpu, cuda, cuda:N or mps")
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ModelIdentityError(f"--device {device}: CUDA is not available here; use --device cpu")
        index = int(device.split(":")[1]) if ":" in device else 0
        if index >= torch.cuda.device_count():
            raise ModelIdentityError(f"--device {device}: only {torch.cuda.device_count()} CUDA device(s) here")
    if device == "mps" and not torch.backends.mps.is_available():
        raise ModelIdentityError("--device mps: MPS is not available here; use --device cpu")
    return device


def pick_dtype(dtype: str | None, spec: ModelSpec, device: str) -> str:
    """The user's dtype; else the registry's (the study's) on accelerators; float32 on CPU (exact, and bf16
    matmuls are slow on most CPUs)."""
    name = dtype if dtype and dtype != "auto" else (spec.dtype if device != "cpu" and spec.dtype else None)
    name = name or ("float32" if device == "cpu" else "bfloat16")
    if name not in DTYPE_NAMES:
        raise ModelIdentityError(f"--dtype {name}: choose one of {', '.join(DTYPE_NAMES)} or auto")
    return name


def _needs_code(folder: Path) -> bool:
    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError):
        return False
    return bool(config.get("auto_map")) or any(folder.glob("modeling_*.py"))


def _registry_entry(name: str) -> ModelSpec:
    entries = registry()
    match = entries.get(name) or next((s for k, s in entries.items() if k.lower() == name.lower()), None)
    if match is None:
        raise ModelIdentityError(f"--registry-entry {name!r} is not in the model registry; known: "
                                 f"{', '.join(sorted(entries))}")
    return match


def _resolve_hub(model: str, revision: str | None) -> tuple[str, str]:
    """(commit, load path) for a Hub id: asked once; offline, the local Hub cache answers."""
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.errors import HFValidationError, RepositoryNotFoundError, RevisionNotFoundError

    try:
        info = HfApi().model_info(model, revision=revision)
        return info.sha, model
    except RevisionNotFoundError as e:
        raise ModelIdentityError(f"{model}: revision {revision!r} not found on the Hub; give a branch, tag or "
                                 "commit that exists") from e
    except HFValidationError as e:  # an id or revision the Hub's client refuses before asking: not a network fault
        raise ModelIdentityError(f"{model}: not a valid Hub id or revision ({e}); check --model and "
                                 "--revision") from None
    except RepositoryNotFoundError as e:
        raise ModelIdentityError(f"{model}: no such model on the Hub (or it is private: log in with `hf auth "
                                 "login`); to audit a local copy pass its folder: --model ./path") from e
    except Exception as e:  # offline, DNS, proxy: fall back to what is cached
        try:
            folder = snapshot_download(model, revision=revision, local_files_only=True)
        except Exception:
            raise ModelIdentityError(
                f"{model}: the Hub is unreachable ({type(e).__name__}) and no cached copy exists; connect, or "
                "download the model elsewhere and pass its folder: --model ./path"
            ) from e
        return Path(folder).name, folder


def _ships_chat_template(load_path: str, revision: str | None, trust: bool) -> bool | None:
    """Whether the model's tokenizer has a chat template (None when the tokenizer cannot be read here: the
    loader reports that with its own message). The tokenizer is cached for the loader."""
    from harness.models.tokens import load_tokenizer

    try:
        return bool(getattr(load_tokenizer(load_path, revision, trust), "chat_template", None))
    except Exception:  # noqa: BLE001 - unloadable tokenizers are reported where the model loads
        return None


def decide_prompt_format(kind: str, *, pretrained_flag: bool | None, spec_pretrained: bool,
                         chat_template: str | None, has_template: bool | None) -> tuple[str, str, str | None]:
    """(format, reason, warning or None). `--pretrained` (or a registry entry saying pretrained) is the explicit
    switch to the study's plain `User: {prompt}\nAssistant:`; an explicit --chat-template means the chat format;
    a reward or DPO scorer reads a chat template. A causal LM (lm_logprob) without a chat template gets the plain
    format automatically, as the study scored base LMs; one whose tokenizer ships a template is scored in it, with
    a warning, since a base LM's tokenizer may carry a template it was never trained on."""
    if pretrained_flag:
        return "plain", "--pretrained: the study's format for pretrained (base) LMs", None
    if spec_pretrained:
        return "plain", "marked pretrained (registry entry or demo model): the study's format for base LMs", None
    if pretrained_flag is False:
        return "chat", "not pretrained (as asked): the model's chat template", None
    if chat_template:
        return "chat", "--chat-template", None
    if not KINDS[kind].plain_without_template:
        return "chat", "the model's chat template", None
    if has_template is False:
        return "plain", ("a causal LM with no chat template: the study's format for base LMs, chosen "
                         "automatically (--pretrained says it explicitly)"), None
    if has_template:
        return "chat", "the tokenizer's chat template", (
            "a causal LM scored in its tokenizer's chat template; if it is a pretrained (base) LM, pass "
            "--pretrained for the study's plain `User: ...\nAssistant:` format (a base LM's tokenizer may carry "
            "a template it was never trained on)")
    return "chat", "the model's chat template", None


def _demo_facts(which: str) -> tuple[Path, str, str, bool, str]:
    """(folder, display id, scorer kind, pretrained, weights note) of the offline demo model `which` (rm or lm).

    The reward model is not pretrained (its scores read the chat template); the LM is the same backbone scored in
    the study's plain format for pretrained models."""
    from harness.models import demo
    from harness.models.demo_rm import demo_rm_dir

    if which == "lm":
        return demo.demo_lm_dir(), demo.DEMO_LM_ID, "lm_logprob", True, demo.demo_lm_weights_note()
    return demo_rm_dir(), demo.DEMO_RM_ID, "reward", False, demo.demo_weights_note()


def resolve_model_ref(
    model: str | None,
    *,
    revision: str | None = None,
    dtype: str | None = "auto",
    device: str = "auto",
    scorer: str | None = None,
    trust_remote_code: bool | None = None,
    registry_entry: str | None = None,
    pretrained: bool | None = None,
    chat_template: str | None = None,
    output_field: str | None = None,
    output_index: int | None = None,
    device_map: str | None = None,
    ref_model: str | None = None,
    scorer_options: dict[str, Any] | None = None,
    demo: str = "rm",
    decide_format: bool = True,
) -> ModelRef:
    """Resolve the user's model arguments once. `model` None means the offline demo (`demo`: rm or lm).
    `decide_format` False keeps an LM in its chat template (a DPO reference must read what its policy reads)."""
    if scorer is not None and scorer not in SCORER_KINDS:
        raise ModelIdentityError(f"--scorer {scorer!r}: choose one of {', '.join(SCORER_KINDS)}")
    if output_index is not None and output_index < 0:
        raise ModelIdentityError(f"--output-index {output_index}: must be 0 or more")
    dev = check_device(device)
    overrides = {"kind": scorer, "output": output_field,
                 "index": output_index}
    weights_note = None
    demos = demo_request(model)
    if demos is not None:
        demo = demos[0] if len(demos) == 1 else demo
    if demos is not None:
        if revision:
            raise ModelIdentityError("--revision applies to Hub models; the demo model has one fixed build")
        folder, display_id, kind, pre, weights_note = _demo_facts(demo)
        origin, source, load_path = "demo", str(folder), str(folder)
        spec = ModelSpec(id=display_id, kind=kind, pretrained=pre)
        rev = folder_content_hash(folder)
        trust = False
    else:
        path = Path(model).expanduser()
        if path.exists():
            if not path.is_dir() or not (path / "config.json").exists():
                raise ModelIdentityError(f"{model}: a local model must be a folder holding config.json (as "
                                         "save_pretrained writes)")
            source, rev, display_id = local_folder_identity(path)
            if revision and revision not in (rev, rev.split("-", 1)[1], rev.split("-", 1)[1][: len(revision)]):
                raise ModelIdentityError(f"--revision {revision!r} does not match the local folder {model} (content "
                                         f"hash {rev[:15]}…); --revision applies to Hub ids, drop it for folders")
            origin, load_path = "local", source
            base = _registry_entry(registry_entry) if registry_entry else ModelSpec(id=display_id)
            spec = replace(base, id=display_id, trust_remote_code=False, rewardbench_rank=None)
            trust = bool(trust_remote_code)
            if _needs_code(path) and not trust:
                raise ModelIdentityError(f"{model}: this local folder ships its own model code; rerun with "
                                         "--trust-remote-code if you trust it (nothing was executed)")
        elif looks_like_hub_id(model):
            check_hub_id(model)
            base = _registry_entry(registry_entry) if registry_entry else lookup(model)
            rev, load_path = _resolve_hub(model, revision or base.revision)
            origin, source, display_id = "hub", model, model
            spec = replace(base, id=model)
            trust = base.trust_remote_code if trust_remote_code is None else bool(trust_remote_code)
        else:
            raise ModelIdentityError(f"{model!r} is neither an existing local folder nor a Hub id ORG/NAME; point "
                                     "--model at a folder holding config.json, or give a Hub id")
    given = {k: v for k, v in overrides.items() if v is not None}
    if pretrained is not None:
        given["pretrained"] = bool(pretrained)
    spec = replace(spec, trust_remote_code=trust, **given)
    kind = scorer or spec.kind
    has_template = None
    if decide_format and KINDS[kind].plain_without_template and pretrained is None and not spec.pretrained and not chat_template:
        hub_revision = rev if origin == "hub" and load_path == source else None
        has_template = _ships_chat_template(load_path, hub_revision, trust)
    fmt, reason, warning = decide_prompt_format(kind, pretrained_flag=pretrained, spec_pretrained=spec.pretrained,
                                                chat_template=chat_template, has_template=has_template)
    if fmt == "plain" and not spec.pretrained:
        spec = replace(spec, pretrained=True)  # the scorer and the table keys read the format from the spec
    ref = None
    if kind == "dpo" and ref_model:
        ref = resolve_model_ref(ref_model, dtype=dtype, device=device, scorer="lm_logprob",
                                trust_remote_code=trust_remote_code, chat_template=chat_template,
                                decide_format=False)
    elif ref_model:
        raise ModelIdentityError("--ref-model applies to --scorer dpo only")
    return ModelRef(
        display_id=display_id, origin=origin, source=source, revision=rev, load_path=load_path,
        dtype=pick_dtype(dtype, spec, dev), device=dev, scorer=kind, trust_remote_code=trust, spec=spec,
        prompt_format=fmt, chat_template=chat_template, prompt_format_reason=reason,
        warnings=(f"{display_id}: {warning}",) if warning else (),
        registry_entry=registry_entry if origin != "hub" else (registry_entry or (model if model in registry() else None)),
        weights_note=weights_note, device_map=device_map, ref_model=ref,
        extra=tuple(sorted((scorer_options or {}).items())),
    )
