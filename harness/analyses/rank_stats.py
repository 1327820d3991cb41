"""Rank statistics shared by the cross-model and identity analyses (no analysis is registered here).

- `percentile_ranks`: 0-100 percentile of each finite score among the finite scores (higher = better score).
- `rank_order`: indices sorted best first, ties broken by position (stable), so rankings are deterministic.
- `rbo`: rank-biased overlap (Webber, Moffat & Zobel 2010) of two rankings, truncated or extrapolated.
- `rsa`: Spearman correlation between the upper triangles of two symmetric matrices, with a permutation test
  that permutes the model labels of one matrix jointly on rows and columns.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Hashable, Sequence

import numpy as np
from scipy import stats


def percentile_ranks(scores: Sequence[float] | np.ndarray) -> np.ndarray:
    """Percentile of each score among the finite scores: 100 * (average rank - 1) / (n - 1).

    The lowest finite score gets 0, the highest 100, ties share their average rank; non-finite scores get NaN.
    With a single finite score its percentile is 50.
    """
    x = np.asarray(scores, dtype=float)
    out = np.full(x.shape, np.nan)
    fin = np.isfinite(x)
    n = int(fin.sum())
    if n == 1:
        out[fin] = 50.0
    elif n > 1:
        out[fin] = 100.0 * (stats.rankdata(x[fin], method="average") - 1.0) / (n - 1.0)
    return out


def rank_order(scores: Sequence[float] | np.ndarray) -> np.ndarray:
    """Indices of `scores` from the highest to the lowest; equal scores keep their input order (stable)."""
    x = np.asarray(scores, dtype=float)
    return np.argsort(-x, kind="stable")


def rbo(ranking_a: Sequence[Hashable], ranking_b: Sequence[Hashable], p: float = 0.9, depth: int | None = None,
        variant: str = "truncated") -> float:
    """Rank-biased overlap of two rankings (best first, no repeated items).

    With A_d = |a[:d] ∩ b[:d]| / d (the agreement at depth d) and k = depth (default: the shorter list):
      - variant="truncated" (the study's "p = 0.9, truncated at depth 132"):
            RBO@k = (1 - p) * sum_{d=1..k} p^(d-1) * A_d
        the plain prefix sum, a lower bound on the full RBO (two identical lists give 1 - p^k, not 1).
      - variant="ext" (Webber et al. eq. 32, extrapolated for equal-length prefixes):
            RBO_ext = RBO@k + p^k * A_k
        which assumes the agreement seen at depth k continues (two identical lists give exactly 1).
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")
    if variant not in ("truncated", "ext"):
        raise ValueError(f"variant must be 'truncated' or 'ext', got {variant!r}")
    k = min(len(ranking_a), len(ranking_b)) if depth is None else int(depth)
    k = min(k, len(ranking_a), len(ranking_b))
    if k <= 0:
        return float("nan")
    seen_a: set = set()
    seen_b: set = set()
    overlap = 0
    total = 0.0
    agreement = 0.0
    for d in range(1, k + 1):
        x, y = ranking_a[d - 1], ranking_b[d - 1]
        if x == y:
            overlap += 1
        else:
            overlap += (x in seen_b) + (y in seen_a)
        seen_a.add(x)
        seen_b.add(y)
        agreement = overlap / d
        total += p ** (d - 1) * agreement
    value = (1.0 - p) * total
    if variant == "ext":
        value += p**k * agreement
    return float(value)


def rbo_scores(scores_a: np.ndarray, scores_b: np.ndarray, p: float = 0.9, depth: int | None = 132,
               variant: str = "truncated") -> float:
    """RBO of the best-first rankings of the same items scored by two models (ties broken by item position)."""
    return rbo(rank_order(scores_a).tolist(), rank_order(scores_b).tolist(), p=p, depth=depth, variant=variant)


def upper(m: np.ndarray) -> np.ndarray:
    """The strict upper triangle of a square matrix, row by row."""
    m = np.asarray(m)
    return m[np.triu_indices(m.shape[0], k=1)]


@dataclass
class RSAResult:
    statistic: float | None  # Spearman rho between the upper triangles
    p_value: float | None
    n_permutations: int  # permutations used (all n! when `exact`)
    exact: bool
    n_models: int
    reason: str | None = None  # why statistic is None


def rsa(observed: np.ndarray, model: np.ndarray, n_permutations: int = 10_000, seed: int = 0,
        alternative: str = "greater") -> RSAResult:
    """Representational similarity: Spearman rho between the upper triangles of two symmetric n×n matrices.

    p-value: the labels of `model` are permuted jointly on rows and columns (Mantel-style). When n! is at most
    `n_permutations` every permutation is enumerated (exact test, identity included); otherwise `n_permutations`
    random permutations are drawn with `numpy.random.default_rng(seed)` and p = (1 + #{rho_perm >= rho}) /
    (1 + n_permutations) for alternative="greater" (rho_perm <= rho for "less", |rho_perm| >= |rho| for
    "two-sided").
    """
    a = np.asarray(observed, dtype=float)
    b = np.asarray(model, dtype=float)
    n = a.shape[0]
    if a.shape != (n, n) or b.shape != (n, n):
        raise ValueError(f"need two square matrices of the same size, got {a.shape} and {b.shape}")
    if alternative not in ("greater", "less", "two-sided"):
        raise ValueError(f"alternative must be greater, less or two-sided, got {alternative!r}")
    if n < 3:
        return RSAResult(None, None, 0, False, n, f"needs at least 3 models, got {n}")
    ua, ub = upper(a), upper(b)
    if not (np.all(np.isfinite(ua)) and np.all(np.isfinite(ub))):
        return RSAResult(None, None, 0, False, n, "a matrix has non-finite entries")
    if np.ptp(ua) == 0 or np.ptp(ub) == 0:
        return RSAResult(None, None, 0, False, n, "a matrix is constant off the diagonal (correlation undefined)")

    # Spearman = Pearson of ranks. The ranks of b's upper triangle can be computed once: a joint permutation of
    # rows and columns only moves b's off-diagonal values around, so its permuted upper triangle is a
    # re-indexing of the (symmetrised) rank matrix.
    iu, ju = np.triu_indices(n, k=1)
    ra = stats.rankdata(ua)
    ra = (ra - ra.mean()) / np.sqrt(((ra - ra.mean()) ** 2).sum())
    rb_mat = np.zeros((n, n))
    rb_mat[iu, ju] = stats.rankdata(ub)
    rb_mat = rb_mat + rb_mat.T

    def rho(perms: np.ndarray) -> np.ndarray:
        v = rb_mat[perms[:, iu], perms[:, ju]]
        v = v - v.mean(axis=1, keepdims=True)
        return (v @ ra) / np.sqrt((v**2).sum(axis=1))

    stat = float(rho(np.arange(n)[None, :])[0])
    exact = math.factorial(n) <= n_permutations
    if exact:
        perms = np.array(list(itertools.permutations(range(n))))
    else:
        rng = np.random.default_rng(seed)
        perms = np.argsort(rng.random((n_permutations, n)), axis=1)
    null = np.concatenate([rho(chunk) for chunk in np.array_split(perms, max(1, len(perms) // 4096))])
    eps = 1e-12
    if alternative == "greater":
        hits = int((null >= stat - eps).sum())
    elif alternative == "less":
        hits = int((null <= stat + eps).sum())
    else:
        hits = int((np.abs(null) >= abs(stat) - eps).sum())
    p = hits / len(null) if exact else (1 + hits) / (1 + len(null))
    return RSAResult(stat, float(p), int(len(null)), exact, n)
