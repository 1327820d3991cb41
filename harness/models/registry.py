"""The declarative model registry: how to read one scalar reward out of a model's forward output."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from harness.models.kinds import SCORER_KINDS as KINDS

REGISTRY_PATH = Path(__file__).with_name("registry.yaml")


@dataclass(frozen=True)
class ModelSpec:
    """Everything the loader needs to know about one model beyond its id."""

    id: str
    kind: str = "reward"  # a scorer kind (harness/models/kinds.py)
    output: str = "logits"  # output field holding the reward
    index: int | None = None  # column of a multi-output head (logits[:, index])
    trust_remote_code: bool = False
    revision: str | None = None
    dtype: str | None = None
    head: str | None = "score"  # module run in float32 (None: leave the model as loaded)
    short: str | None = None
    base_family: str | None = None  # e.g. Llama: what the RSA "same base" matrix compares (version ignored)
    base_version: str | None = None  # e.g. Llama 3.1
    developer: str | None = None
    params_b: float | None = None
    rewardbench_rank: int | None = None
    pretrained: bool = False


_FIELDS = {f.name for f in fields(ModelSpec)}


def _parse(path: Path) -> dict[str, ModelSpec]:
    raw = yaml.safe_load(path.read_text()) or {}
    out: dict[str, ModelSpec] = {}
    for model_id, entry in (raw.get("models") or {}).items():
        unknown = set(entry) - _FIELDS
        if unknown:
            raise ValueError(f"{path}: model {model_id!r} has unknown field(s) {sorted(unknown)}; known: {sorted(_FIELDS)}")
        if entry.get("kind", "reward") not in KINDS:
            raise ValueError(f"{path}: model {model_id!r}: kind must be one of {', '.join(KINDS)}")
        out[model_id] = ModelSpec(id=model_id, **entry)
    return out


@lru_cache(maxsize=None)
def registry(path: Path = REGISTRY_PATH) -> dict[str, ModelSpec]:
    return _parse(path)


def lookup(model_id: str, **overrides: Any) -> ModelSpec:
    """The registry entry for `model_id` (defaults when absent), with explicit user choices on top."""
    spec = registry().get(model_id, ModelSpec(id=model_id))
    given = {k: v for k, v in overrides.items() if v is not None}
    return replace(spec, **given)
