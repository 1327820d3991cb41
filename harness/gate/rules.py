"""One judged value and the rules that judge it (point, ci, strict), shared by the gate's checks on one audit
and its checks against a baseline (harness/gate/baseline.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from harness.gate.policy_spec import Check

PASS, FAIL, INCONCLUSIVE, MISSING = "pass", "fail", "inconclusive", "missing"


@dataclass
class Row:
    """One judged value: a check applied to one stored metric key."""

    check: Check
    metric: str  # "task/key-after-prompt"
    prompt: str
    value: float | None
    interval: tuple[float, float] | None
    interval_note: str  # how the interval was obtained (level, family)
    status: str  # PASS, FAIL, INCONCLUSIVE, MISSING
    reason: str

    @property
    def passed(self) -> bool:
        if self.status == PASS:
            return True
        if self.status == INCONCLUSIVE:
            return bool(self.check.inconclusive_passes)
        if self.status == MISSING:
            return self.check.allow_missing
        return False

    def outcome(self) -> str:
        if self.status == INCONCLUSIVE:
            return f"inconclusive ({'passes' if self.passed else 'fails'})"
        if self.status == MISSING:
            return "missing (allowed)" if self.passed else "missing (fails)"
        return self.status

    def value_text(self) -> str:
        if self.value is None:
            return "-"
        text = f"{self.value:.4g}"
        if self.interval is not None:
            text += f" [{self.interval[0]:.4g}, {self.interval[1]:.4g}]"
        return text


# ------------------------------------------------------------------------------------------------ judging


def judge(value: float | None, interval: tuple[float, float] | None, check: Check) -> tuple[str, str]:
    """(status, reason) of one value under the check's rule (see the module doc)."""
    if value is None:
        return MISSING, "no value"
    if check.rule == "point":
        if check.min is not None and value < check.min:
            return FAIL, f"below the minimum {check.min:g}"
        if check.max is not None and value > check.max:
            return FAIL, f"above the maximum {check.max:g}"
        return PASS, "within the threshold"
    lo, hi = interval if interval is not None else (-math.inf, math.inf)
    wrong, straddle = [], []
    if check.min is not None:
        if hi < check.min:
            wrong.append(f"the whole interval is below the minimum {check.min:g}")
        elif lo < check.min:
            straddle.append(f"the interval straddles the minimum {check.min:g}")
    if check.max is not None:
        if lo > check.max:
            wrong.append(f"the whole interval is above the maximum {check.max:g}")
        elif hi > check.max:
            straddle.append(f"the interval straddles the maximum {check.max:g}")
    if wrong:
        return FAIL, "; ".join(wrong)
    if straddle:
        return INCONCLUSIVE, "; ".join(straddle)
    return PASS, "the whole interval is within the threshold"


