"""GCG settings: one frozen dataclass, validated on construction, loadable from a task's `analysis.args`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Annotated, Any

from harness.analyses.arg_rules import OneOf, Range, problem, rules
from harness.errors import UserError

DIRECTIONS = ("maximize", "minimize")


class GCGError(UserError, ValueError):
    """GCG cannot run as asked (bad settings, unsupported scorer, an initial string that does not round-trip)."""


@dataclass(frozen=True)
class GCGConfig:
    """How one GCG search runs. The defaults are cheap on a CPU; `GCGConfig.study()` is the paper's GPU setting."""

    # Each numeric setting declares its range beside it: task validation (`tasks validate`) and construction read
    # the same rules.
    direction: Annotated[str, OneOf(*DIRECTIONS)] = "maximize"  # both the gradient and the candidate choice follow it
    n_tokens: Annotated[int, Range(1)] = 8  # length of a random initial reply (an `init` string sets its own length)
    steps: Annotated[int, Range(0)] = 20
    search_width: Annotated[int, Range(1)] = 64  # candidates sampled per step (before de-duplication and filters)
    topk: Annotated[int, Range(1)] = 64  # candidate tokens per position, by gradient
    n_replace: Annotated[int, Range(1)] = 1  # positions changed per candidate
    buffer_size: Annotated[int, Range(1)] = 1  # best sequences kept; the gradient is taken at the best of them
    restarts: Annotated[int, Range(1)] = 1  # independent searches; at least len(init)
    init: tuple[str, ...] = ()  # initial replies for the first restarts (the rest start from random tokens)
    seed: Annotated[int, Range(0)] = 0  # restart r samples with seed + r
    patience: Annotated[int | None, Range(1)] = None  # stop a restart after this many steps without improvement
    target_score: Annotated[float | None, Range()] = None  # stop a restart once the best score reaches this
    allow_non_ascii: bool = False
    allow_non_printable: bool = False
    prefix_cache: bool = True  # False: full forwards for gradient and candidates (benchmark reference)
    batch_size: int | str | None = "auto"  # candidates per forward; auto halves on out-of-memory
    rescore_tol: Annotated[float | None, Range(0)] = None  # |cached - full forward| allowed for the final best
    progress: bool = False  # a tqdm bar over steps

    def __post_init__(self) -> None:
        for name, (base, declared) in rules(type(self)).items():
            value = getattr(self, name)
            if value is None and "None" in str(base):
                continue
            wants_int = base is int or str(base).startswith("int")
            if wants_int and (isinstance(value, bool) or not isinstance(value, int)):
                raise GCGError(f"{name} must be an integer, got {value!r}")
            if not wants_int and base is not str and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise GCGError(f"{name} must be a number, got {value!r}")
            why = problem(declared, value)
            if why:
                raise GCGError(f"{name} {why}")
        if isinstance(self.init, str):
            object.__setattr__(self, "init", (self.init,))
        object.__setattr__(self, "init", tuple(self.init))
        if not all(isinstance(s, str) and s.strip() for s in self.init):
            raise GCGError(f"init must be a list of non-empty strings, got {self.init!r}")
        if self.restarts < len(self.init):
            object.__setattr__(self, "restarts", len(self.init))
        bs = self.batch_size
        if not (bs is None or bs == "auto" or (isinstance(bs, int) and not isinstance(bs, bool) and bs >= 1)):
            raise GCGError(f"batch_size must be a positive integer or 'auto', got {bs!r}")
        for name in ("target_score", "rescore_tol"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, float(getattr(self, name)))

    @property
    def sign(self) -> float:
        """+1 when maximising, -1 when minimising: the search always maximises sign * reward."""
        return 1.0 if self.direction == "maximize" else -1.0

    def better(self, a: float, b: float) -> bool:
        """Is reward `a` strictly better than reward `b` in this direction?"""
        return self.sign * a > self.sign * b

    def reached(self, score: float) -> bool:
        return self.target_score is not None and self.sign * score >= self.sign * self.target_score

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["init"] = list(self.init)
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "GCGConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise GCGError(f"unknown GCG setting(s) {unknown}; known: {', '.join(sorted(known))}")
        values = dict(values)
        if "init" in values and values["init"] is not None:
            values["init"] = tuple([values["init"]] if isinstance(values["init"], str) else values["init"])
        return cls(**values)

    def with_(self, **changes: Any) -> "GCGConfig":
        return replace(self, **changes)

    @classmethod
    def study(cls, **changes: Any) -> "GCGConfig":
        """The study's fork (GPU): 1000 steps, search width 512, top-k 256, buffer 4, ~19 optimised tokens."""
        return cls(**{"steps": 1000, "search_width": 512, "topk": 256, "buffer_size": 4, "n_tokens": 19,
                      **changes})
