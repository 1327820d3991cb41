"""GCG settings: one frozen dataclass, validated on construction, loadable from a task's `analysis.args`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from harness.errors import UserError

DIRECTIONS = ("maximize", "minimize")


class GCGError(UserError, ValueError):
    """GCG cannot run as asked (bad settings, unsupported scorer, an initial string that does not round-trip)."""


@dataclass(frozen=True)
class GCGConfig:
    """How one GCG search runs. The defaults are cheap on a CPU; `GCGConfig.study()` is the paper's GPU setting."""

    direction: str = "maximize"  # maximize | minimize: both the gradient and the candidate choice follow it
    n_tokens: int = 8  # length of a random initial reply (an `init` string sets its own length)
    steps: int = 20
    search_width: int = 64  # candidates sampled per step (before de-duplication and filters)
    topk: int = 64  # candidate tokens per position, by gradient
    n_replace: int = 1  # positions changed per candidate
    buffer_size: int = 1  # best sequences kept; the gradient is taken at the best of them
    restarts: int = 1  # independent searches; at least len(init)
    init: tuple[str, ...] = ()  # initial replies for the first restarts (the rest start from random tokens)
    seed: int = 0  # restart r samples with seed + r
    patience: int | None = None  # stop a restart after this many steps without improvement
    target_score: float | None = None  # stop a restart once the best score reaches this (in the direction)
    allow_non_ascii: bool = False
    allow_non_printable: bool = False
    prefix_cache: bool = True  # False: full forwards for gradient and candidates (benchmark reference)
    batch_size: int | str | None = "auto"  # candidates per forward; auto halves on out-of-memory
    rescore_tol: float | None = None  # |cached - full forward| allowed for the final best; None: by dtype
    progress: bool = False  # a tqdm bar over steps

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise GCGError(f"direction must be one of {', '.join(DIRECTIONS)}, got {self.direction!r}")
        for name in ("n_tokens", "steps", "search_width", "topk", "n_replace", "buffer_size", "restarts"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < (0 if name == "steps" else 1):
                raise GCGError(f"{name} must be a positive integer, got {value!r}")
        if self.patience is not None and (not isinstance(self.patience, int) or self.patience < 1):
            raise GCGError(f"patience must be a positive integer or null, got {self.patience!r}")
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
        if self.target_score is not None:
            object.__setattr__(self, "target_score", float(self.target_score))

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
