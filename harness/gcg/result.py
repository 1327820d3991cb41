"""What a GCG search returns: per-step records, the final best of each restart (re-scored by a plain full
forward), JSON export and a trajectory figure."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence


def within_tolerance(score: float, rescore: float, tol: float) -> bool:
    """|searched - re-scored| <= tol * max(1, |re-scored|)."""
    return math.isfinite(score) and math.isfinite(rescore) and abs(score - rescore) <= tol * max(1.0, abs(rescore))


def _num(x: float | None) -> float | None:
    """JSON has no NaN/inf."""
    return None if x is None or not math.isfinite(x) else float(x)


@dataclass
class StepRecord:
    """One step of one restart: the step's best candidate, and the best sequence so far."""

    step: int  # 1-based; step 0 is the initial sequence (see RestartResult.init_*)
    ids: list[int]  # best candidate evaluated this step ([] if every candidate was filtered out)
    text: str
    score: float | None  # its reward (cached, batched forward)
    best_ids: list[int]  # best so far in this restart
    best_text: str
    best_score: float
    n_sampled: int  # distinct candidates sampled
    n_valid: int  # of those, candidates that survived the filters and were scored
    elapsed_s: float  # since the restart began


@dataclass
class RestartResult:
    restart: int
    seed: int
    init_ids: list[int]
    init_text: str
    init_score: float
    best_ids: list[int]
    best_text: str
    best_score: float  # reward as the search measured it (prefix cache, batched)
    rescore: float  # reward of prefix + best_ids + suffix from one plain full forward (`Scorer.score_full`)
    roundtrip: bool  # best_text, rendered in the template and tokenised, gives back exactly best_ids
    stopped: str  # steps | patience | target
    wall_s: float
    steps: list[StepRecord] = field(default_factory=list)

    @property
    def rescore_diff(self) -> float:
        return abs(self.best_score - self.rescore)

    @property
    def steps_run(self) -> int:
        return len(self.steps)

    def trajectory(self) -> list[float]:
        """Best-so-far reward after each step, starting with the initial sequence."""
        return [self.init_score] + [s.best_score for s in self.steps]

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["rescore_diff"] = self.rescore_diff
        for k in ("init_score", "best_score", "rescore", "rescore_diff"):
            out[k] = _num(out[k])
        for s in out["steps"]:
            s["score"], s["best_score"] = _num(s["score"]), _num(s["best_score"])
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "RestartResult":
        d = dict(d)
        d.pop("rescore_diff", None)
        nan = float("nan")
        for k in ("init_score", "best_score", "rescore"):
            d[k] = nan if d[k] is None else d[k]
        steps = [StepRecord(**{**s, "best_score": nan if s["best_score"] is None else s["best_score"]})
                 for s in d.pop("steps")]
        return cls(**d, steps=steps)


@dataclass
class GCGResult:
    """Every restart of one search (one prompt, one direction), and the best over restarts."""

    prompt: str
    direction: str
    config: dict[str, Any]
    model: str
    template_hash: str
    prefix_ids: list[int]
    suffix_ids: list[int]
    restarts: list[RestartResult]
    wall_s: float
    device: str = "cpu"
    dtype: str = "float32"
    rescore_tol: float = 0.0  # relative: |best_score - rescore| <= rescore_tol * max(1, |rescore|)

    @property
    def sign(self) -> float:
        return 1.0 if self.direction == "maximize" else -1.0

    @property
    def best(self) -> RestartResult:
        """The restart whose final reward is best in the search's direction."""
        return max(self.restarts, key=lambda r: self.sign * r.best_score if math.isfinite(r.best_score) else -math.inf)

    @property
    def steps_run(self) -> int:
        return sum(r.steps_run for r in self.restarts)

    @property
    def steps_per_s(self) -> float:
        return self.steps_run / self.wall_s if self.wall_s > 0 else float("nan")

    @property
    def rescore_ok(self) -> bool:
        return all(within_tolerance(r.best_score, r.rescore, self.rescore_tol) for r in self.restarts)

    def summary(self) -> dict[str, Any]:
        b = self.best
        return {"direction": self.direction, "best_text": b.best_text, "best_ids": b.best_ids,
                "best_score": _num(b.best_score), "rescore": _num(b.rescore), "rescore_diff": _num(b.rescore_diff),
                "init_score": _num(b.init_score), "restart": b.restart, "steps_run": self.steps_run,
                "steps_per_s": _num(self.steps_per_s), "wall_s": self.wall_s}

    def to_json(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt, "direction": self.direction, "config": self.config, "model": self.model,
            "template_hash": self.template_hash, "prefix_ids": self.prefix_ids, "suffix_ids": self.suffix_ids,
            "device": self.device, "dtype": self.dtype, "rescore_tol": self.rescore_tol,
            "wall_s": self.wall_s, "steps_per_s": _num(self.steps_per_s), "rescore_ok": self.rescore_ok,
            "summary": self.summary(),
            "restarts": [r.to_json() for r in self.restarts],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "GCGResult":
        d = {k: v for k, v in d.items() if k not in ("summary", "steps_per_s", "rescore_ok")}
        d["restarts"] = [RestartResult.from_json(r) for r in d["restarts"]]
        return cls(**d)

    def save(self, path: str | Path) -> Path:
        from harness.io.atomic import atomic_write_json

        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return atomic_write_json(Path(path), self.to_json())

    @classmethod
    def load(cls, path: str | Path) -> "GCGResult":
        return cls.from_json(json.loads(Path(path).read_text()))

    def figure(self, title: str | None = None):
        return trajectory_figure([self], title=title)


_COLORS = {"maximize": "tab:green", "minimize": "tab:red"}


def trajectory_figure(results: Sequence[GCGResult], title: str | None = None):
    """Reward per step: best so far (line) and each step's best candidate (dots), one line per restart."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 3.8), layout="constrained")
    ax = fig.subplots()
    for res in results:
        color = _COLORS.get(res.direction, "tab:blue")
        for r in res.restarts:
            traj = r.trajectory()
            label = f"{res.direction}" + (f" (restart {r.restart})" if len(res.restarts) > 1 else "")
            ax.plot(range(len(traj)), traj, color=color, alpha=0.9 if r is res.best else 0.45, label=label)
            pts = [(s.step, s.score) for s in r.steps if s.score is not None and math.isfinite(s.score)]
            if pts:
                ax.scatter(*zip(*pts), s=6, color=color, alpha=0.25, linewidths=0)
    ax.set_xlabel("step")
    ax.set_ylabel("reward")
    ax.set_title(title or (f"GCG {results[0].direction}: {results[0].prompt}" if results else "GCG"), fontsize=9)
    if results:
        ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    return fig
