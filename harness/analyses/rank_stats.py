"""Rank statistics shared by the cross-model and identity analyses (no analysis is registered here).

- `percentile_ranks`: 0-100 percentile of each finite score among the finite scores (higher = better score).
- `rank_order`: indices sorted best first, ties broken by position (stable), so rankings are deterministic.
- `rbo`: rank-biased overlap (Webber, Moffat & Zobel 2010) of two rankings, truncated or extrapolated.
- `rsa`: Spearman correlation between the upper triangles of two symmetric matrices, with a one-sided permutation
  test (Mantel) that permutes the model labels of one matrix jointly on rows and columns, and the smallest p the
  test can give for those matrices.
- `sign_flip_test`: the paired (one-sample) permutation test of a mean difference: two-sided p from sign flips of
  the differences, and the confidence interval obtained by inverting that same test, so that the interval
  excludes a value exactly when the test rejects it.
- `permutation_p`: the p-value of a permutation test from its count of resamples at least as extreme.
- `holm`: Holm's step-down family-wise adjustment of a family of p-values.

Conventions shared by the tests here. A test rejects at level alpha when p <= alpha. With every rearrangement
enumerated (the observed one among them) p = hits / N. With N random rearrangements drawn (the observed one not
among them) p = (1 + hits) / (1 + N) (Phipson & Smyth 2010): never 0, and a valid p-value, unlike hits / N.
"""

from __future__ import annotations

import itertools
import math
import warnings
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


# ---------------------------------------------------------------------------------------------------- p-values

ALTERNATIVES = ("two-sided", "greater", "less")
_REL_TOL = 1e-9  # statistics closer than this (relative) count as ties: float sums in another order


def permutation_p(hits: int | np.ndarray, n: int, exact: bool) -> float | np.ndarray:
    """p of a permutation test from `hits`, the resamples at least as extreme as the observed statistic.

    `exact`: all `n` rearrangements were enumerated, the observed one among them: p = hits / n.
    Otherwise `n` random rearrangements were drawn: p = (1 + hits) / (1 + n), counting the observed arrangement
    as one of the equally likely ones (never 0; hits / n would not be a valid p-value).
    """
    hits = np.asarray(hits, dtype=float)
    p = hits / n if exact else (1.0 + hits) / (1.0 + n)
    return float(p) if p.ndim == 0 else p


def extreme(null: np.ndarray, observed: float, alternative: str) -> np.ndarray:
    """Which resampled statistics are at least as extreme as `observed` (ties within a relative 1e-9 count)."""
    tol = _REL_TOL * max(1.0, abs(observed))
    if alternative == "greater":
        return null >= observed - tol
    if alternative == "less":
        return null <= observed + tol
    if alternative == "two-sided":
        return np.abs(null) >= abs(observed) - tol
    raise ValueError(f"alternative must be one of {', '.join(ALTERNATIVES)}, got {alternative!r}")


def holm(pvalues: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjustment (family-wise error rate, valid under any dependence) of the p-values given;
    None entries are not tests and stay None (the family is the tests that have a p)."""
    from statsmodels.stats.multitest import multipletests

    idx = [i for i, p in enumerate(pvalues) if p is not None]
    out: list[float | None] = [None] * len(pvalues)
    if idx:
        adj = multipletests([float(pvalues[i]) for i in idx], method="holm")[1]
        for i, a in zip(idx, adj):
            out[i] = float(min(1.0, a))
    return out


# ---------------------------------------------------------------------------------------------------- RSA


@dataclass
class RSAResult:
    statistic: float | None  # Spearman rho between the upper triangles
    p_value: float | None
    n_permutations: int  # permutations used (all n! when `exact`)
    exact: bool
    n_models: int
    reason: str | None = None  # why statistic (or p_value) is None
    p_min: float | None = None  # the smallest p this test can give for these models and this model matrix


def _joint_permuted(rank_mat: np.ndarray, perms: np.ndarray, iu: np.ndarray, ju: np.ndarray) -> np.ndarray:
    """Upper triangles of `rank_mat` with its rows AND columns relabelled by each permutation (Mantel): entry
    (i, j) of the relabelled matrix is rank_mat[perm[i], perm[j]], so it stays a symmetric model-by-model matrix."""
    return rank_mat[perms[:, iu], perms[:, ju]]


def rsa(observed: np.ndarray, model: np.ndarray, n_permutations: int = 10_000, seed: int = 0,
        alternative: str = "greater", alpha: float = 0.05) -> RSAResult:
    """Representational similarity: Spearman rho between the upper triangles of two symmetric n×n matrices.

    p-value (Mantel test): the labels of `model` are permuted jointly on rows and columns. When n! is at most
    `n_permutations` every permutation is enumerated (exact test, identity included); otherwise `n_permutations`
    random permutations are drawn with `numpy.random.default_rng(seed)` (`permutation_p`). One-sided by default
    ("greater": the observed agreement tracks the model similarity), "less" or "two-sided" on request.

    `p_min` is the p the same permutations give when `observed` ranks its pairs exactly as `model` does: no data
    can give less (permutations that leave the model matrix unchanged, e.g. swapping two models of the same
    family, always tie). When it exceeds `alpha` the test cannot reject, so `p_value` is None with the reason.
    """
    a = np.asarray(observed, dtype=float)
    b = np.asarray(model, dtype=float)
    n = a.shape[0]
    if a.shape != (n, n) or b.shape != (n, n):
        raise ValueError(f"need two square matrices of the same size, got {a.shape} and {b.shape}")
    if alternative not in ALTERNATIVES:
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
    rb_mat = np.zeros((n, n))
    rb_mat[iu, ju] = stats.rankdata(ub)
    rb_mat = rb_mat + rb_mat.T

    def standardised(r: np.ndarray) -> np.ndarray:
        r = r - r.mean()
        return r / np.sqrt((r**2).sum())

    def rho(perms: np.ndarray, ra: np.ndarray) -> np.ndarray:
        v = _joint_permuted(rb_mat, perms, iu, ju)
        v = v - v.mean(axis=1, keepdims=True)
        return (v @ ra) / np.sqrt((v**2).sum(axis=1))

    exact = math.factorial(n) <= n_permutations
    if exact:
        perms = np.array(list(itertools.permutations(range(n))))
    else:
        rng = np.random.default_rng(seed)
        perms = np.argsort(rng.random((n_permutations, n)), axis=1)
    chunks = np.array_split(perms, max(1, len(perms) // 4096))

    def p_of(ra: np.ndarray) -> tuple[float, float]:
        stat = float(rho(np.arange(n)[None, :], ra)[0])
        null = np.concatenate([rho(c, ra) for c in chunks])
        return stat, permutation_p(int(extreme(null, stat, alternative).sum()), len(null), exact)

    stat, p = p_of(standardised(stats.rankdata(ua)))
    best = standardised(stats.rankdata(ub)) if alternative != "less" else -standardised(stats.rankdata(ub))
    p_min = p_of(best)[1]
    reason = None
    if p_min > alpha:
        reason = (f"too few models for this test: with {n} models and this similarity matrix the smallest "
                  f"attainable p is {p_min:.3g} > {alpha}")
        p = None
    return RSAResult(stat, p, int(len(perms)), exact, n, reason, p_min)


# ---------------------------------------------------------------------------------------------------- sign flips


@dataclass
class SignFlipResult:
    """Paired permutation inference about the mean of differences d (e.g. term minus its own controls)."""

    mean: float | None
    p_value: float | None  # two-sided
    ci_low: float | None
    ci_high: float | None
    n: int  # differences (the resampling unit)
    n_resamples: int  # sign vectors used (all 2^n when `exact`)
    exact: bool
    confidence_level: float
    p_min: float | None = None  # the smallest p attainable with these n and sign vectors
    reason: str | None = None  # why p_value or the interval is None


def _sign_vectors(n: int, n_resamples: int, seed: int) -> tuple[np.ndarray, bool]:
    """All 2^n sign vectors (±1) when 2^n <= n_resamples (exact), else n_resamples random ones (seeded)."""
    if n <= 30 and 2**n <= n_resamples:
        codes = np.arange(2**n)[:, None] >> np.arange(n)[None, :] & 1
        return 1.0 - 2.0 * codes, True
    rng = np.random.default_rng(seed)
    return rng.choice([-1.0, 1.0], size=(n_resamples, n)), False


def sign_flip_interval(d: np.ndarray, signs: np.ndarray, exact: bool, alpha: float) -> tuple[float, float]:
    """The values delta that the two-sided sign-flip test of mean(d - delta) = 0 does not reject at `alpha`
    (p > alpha), with the same sign vectors: [low, high], infinite when no delta can be rejected.

    For one sign vector s, with a = mean(s d), b = mean(s) and c = mean(d), the flipped statistic is at least as
    extreme as the observed one when |a - delta b| >= |c - delta|: a quadratic inequality in delta whose
    solutions form a closed interval that contains c (the whole line when s is all +1 or all -1). So the count of
    resamples at least as extreme falls as delta moves away from c on either side, and the accepted set is the
    interval between the k-th smallest lower end and the k-th largest upper end, where k is the smallest count
    whose p exceeds alpha.
    """
    n = len(d)
    c = float(np.mean(d))
    a = signs @ d / n
    b = signs.mean(axis=1)
    qa = b**2 - 1.0  # <= 0
    qb = -2.0 * (a * b - c)
    qc = a**2 - c**2
    whole = np.abs(qa) < 1e-12  # all-equal signs: always at least as extreme
    with np.errstate(invalid="ignore", divide="ignore"):
        root = np.sqrt(np.maximum(qb**2 - 4 * qa * qc, 0.0))
        r1 = (-qb + root) / (2 * qa)
        r2 = (-qb - root) / (2 * qa)
    widen = _REL_TOL * (1.0 + float(np.max(np.abs(d))))  # ties count, as in `extreme`
    lo = np.where(whole, -np.inf, np.minimum(r1, r2) - widen)
    hi = np.where(whole, np.inf, np.maximum(r1, r2) + widen)
    m = len(signs)
    counts = np.arange(m + 1)
    k = int(counts[np.asarray(permutation_p(counts, m, exact)) > alpha][0])
    if k == 0:
        return -np.inf, np.inf
    return float(np.sort(lo)[k - 1]), float(np.sort(hi)[::-1][k - 1])


def sign_flip_test(d: Sequence[float] | np.ndarray, n_resamples: int = 9999, confidence_level: float = 0.95,
                   seed: int = 0) -> SignFlipResult:
    """Two-sided sign-flip test of mean(d) = 0 and the confidence interval that inverts it.

    Under the null each difference is as likely to have either sign (a term is exchangeable with its own
    controls), so the mean of d with random signs is the null distribution. All 2^n sign vectors are enumerated
    when 2^n <= `n_resamples` (exact p), else `n_resamples` random ones are drawn (`permutation_p`). The interval
    holds every delta the same test does not reject for d - delta, so it excludes 0 exactly when p <= 1 -
    `confidence_level`. Its coverage is exact when the differences are symmetric about their mean.
    """
    d = np.asarray(d, dtype=float)
    n = len(d)
    alpha = 1.0 - confidence_level
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"confidence_level must be in (0, 1), got {confidence_level}")
    if n == 0:
        return SignFlipResult(None, None, None, None, 0, 0, False, confidence_level, None, "no differences")
    mean = float(np.mean(d))
    if n < 2:
        return SignFlipResult(mean, None, None, None, n, 0, False, confidence_level, None,
                              f"a test needs at least 2 differences, have {n}")
    signs, exact = _sign_vectors(n, n_resamples, seed)
    null = signs @ d / n
    p = permutation_p(int(extreme(null, mean, "two-sided").sum()), len(signs), exact)
    p_min = permutation_p(int(extreme(signs.mean(axis=1), 1.0, "two-sided").sum()), len(signs), exact)
    lo, hi = sign_flip_interval(d, signs, exact, alpha)
    reason = None
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo = hi = None
        reason = (f"too few differences for a {confidence_level:.0%} interval: with {n} the smallest attainable "
                  f"p is {p_min:.3g} > {alpha:.3g}")
    elif np.ptp(d) == 0:  # a constant: the interval is that point (up to the tie tolerance)
        lo = hi = mean
    return SignFlipResult(mean, p, lo, hi, n, len(signs), exact, confidence_level, p_min, reason)


# ---------------------------------------------------------------------------------------------------- MDS


def stress1(dissimilarity: np.ndarray, coords: np.ndarray) -> float:
    """Kruskal's Stress-1 of a configuration: sqrt(sum (d_ij - delta_ij)^2 / sum d_ij^2) over pairs i < j.

    d_ij: Euclidean distances between the rows of `coords`; delta_ij: the dissimilarities (metric MDS, so the
    disparities are the dissimilarities themselves). 0 is a perfect fit; Kruskal's rough guide: 0.2 poor, 0.1 fair,
    0.05 good.
    """
    delta = np.asarray(dissimilarity, dtype=float)
    x = np.asarray(coords, dtype=float)
    iu = np.triu_indices(len(x), 1)
    d = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))[iu]
    denom = float((d ** 2).sum())
    return float(np.sqrt(((d - delta[iu]) ** 2).sum() / denom)) if denom > 0 else float("nan")


def mds_embedding(dissimilarity: np.ndarray, seed: int = 0) -> tuple[np.ndarray, float]:
    """2-D metric MDS of a precomputed dissimilarity matrix; (coordinates, Stress-1 of those coordinates).

    The stress is recomputed from the returned coordinates (`stress1`) rather than read from scikit-learn, whose
    `stress_` has changed definition across versions (raw vs normalised, and which disparities).
    """
    from sklearn.manifold import MDS

    d = np.asarray(dissimilarity, dtype=float)
    d = (d + d.T) / 2.0
    np.fill_diagonal(d, 0.0)
    kwargs = dict(n_components=2, n_init=4, random_state=seed, max_iter=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        try:  # scikit-learn >= 1.8
            mds = MDS(metric="precomputed", metric_mds=True, init="random", **kwargs)
        except TypeError:
            mds = MDS(dissimilarity="precomputed", metric=True, **kwargs)
        coords = mds.fit_transform(d)
    return coords, stress1(d, coords)
