"""heterogeneity: shared-vocabulary rule, tau/Spearman/RBO matrices, RSA permutation test, edge cases."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from harness.analyses import registry
from harness.analyses.heterogeneity import (
    METRICS,
    load_model_facts,
    mds_embedding,
    pairwise_agreement,
    rsa_against_facts,
    shared_vocabulary,
    stress1,
)
from harness.analyses.rank_stats import percentile_ranks, rbo, rbo_scores, rsa
from tables import shared_data
from tables import vocab_table as table

from repo_paths import REPO  # noqa: E402




# ---------------------------------------------------------------------------------------------------- shared vocab


def test_shared_vocabulary_rule_exact():
    a = table(["a", "b", "b", "c", "d", " e", "x", "E"], [1, 2, 3, 4, 5, 6, 7, 8])
    b = table(["a", "b", "c", "d", " e", "e", "y", "E"], [1, 2, 3, np.nan, 5, 6, 7, 8])
    c = table(["a", "b", "c", "d", " e", "C", "E", "E"], [3, 2, 1, 0, 5, 6, 7, 8])
    shared, usable, dropped, excluded = shared_vocabulary({"A": a, "B": b, "C": c})
    # b: two ids of A decode to it; d: NaN in B; e vs " e" and C vs c differ (case and leading space kept);
    # E: two ids of C decode to it
    assert shared == [" e", "a", "c"]
    assert excluded == {}
    assert dropped["A"]["n_duplicate_ids"] == 2 and dropped["A"]["n_duplicate_strings"] == 1
    assert dropped["B"]["n_nonfinite"] == 1 and dropped["B"]["n_duplicate_ids"] == 0
    assert dropped["C"]["n_duplicate_ids"] == 2
    assert dropped["B"]["n_removed_as_duplicate_elsewhere"] == 2  # "b" and "E" are unique in B but dropped
    agr = pairwise_agreement({"A": a, "B": b, "C": c})
    assert agr.n_shared == 3 and agr.shared == [" e", "a", "c"]


# ---------------------------------------------------------------------------------------------------- tau etc.


def test_known_tau_from_discordant_pairs():
    n = 40
    words = [f"w{i}" for i in range(n)]
    x = np.arange(n, dtype=float)
    y = x.copy()
    for i in range(0, 2 * 7, 2):  # 7 disjoint adjacent swaps = exactly 7 discordant pairs
        y[i], y[i + 1] = y[i + 1], y[i]
    agr = pairwise_agreement({"m1": table(words, x), "m2": table(words, y)})
    expected = 1 - 2 * 7 / (n * (n - 1) / 2)
    assert agr.tau.loc["m1", "m2"] == pytest.approx(expected)
    assert agr.tau.loc["m2", "m1"] == pytest.approx(expected)
    assert agr.tau.loc["m1", "m1"] == 1.0


def test_matrices_match_scipy_with_ties_and_nan():
    rng = np.random.default_rng(3)
    n = 500
    words = [f"t{i}" for i in range(n)]
    base = rng.normal(size=n)
    tabs = {}
    for k in range(4):
        s = np.round(base + rng.normal(scale=0.5 + k, size=n), 1)  # rounding creates ties
        tabs[f"m{k}"] = s
    tabs["m3"][:5] = np.nan  # NaN rows leave the shared vocabulary
    agr = pairwise_agreement({m: table(words, s) for m, s in tabs.items()})
    keep = np.arange(5, n)
    assert agr.n_shared == n - 5
    assert agr.dropped["m3"]["n_nonfinite"] == 5
    order = np.argsort(np.array(words)[keep], kind="stable")  # shared strings are sorted
    for i in range(4):
        for j in range(4):
            xi, xj = tabs[f"m{i}"][keep], tabs[f"m{j}"][keep]
            assert agr.tau.iloc[i, j] == pytest.approx(stats.kendalltau(xi, xj).statistic)
            assert agr.spearman.iloc[i, j] == pytest.approx(stats.spearmanr(xi, xj).statistic)
            sw = np.array(words)[keep][order]
            ri = [sw[t] for t in np.argsort(-xi[order], kind="stable")]
            rj = [sw[t] for t in np.argsort(-xj[order], kind="stable")]
            assert agr.rbo.iloc[i, j] == pytest.approx(rbo(ri, rj, p=0.9, depth=132))
    means = agr.mean_agreement("tau")
    assert means["m0"] == pytest.approx(np.mean([agr.tau.loc["m0", m] for m in ("m1", "m2", "m3")]))


# ---------------------------------------------------------------------------------------------------- RBO


def test_rbo_hand_computed():
    a, b = [1, 2, 3, 4], [2, 1, 3, 5]
    # A_1 = 0, A_2 = 1, A_3 = 1, A_4 = 3/4; p = 0.5
    trunc = 0.5 * (0 + 0.5 * 1 + 0.25 * 1 + 0.125 * 0.75)
    assert rbo(a, b, p=0.5) == pytest.approx(trunc) == pytest.approx(0.421875)
    assert rbo(a, b, p=0.5, variant="ext") == pytest.approx(trunc + 0.5**4 * 0.75)
    assert rbo(a, b, p=0.5, depth=2) == pytest.approx(0.5 * (0 + 0.5))
    assert rbo(a, a, p=0.9, variant="ext") == pytest.approx(1.0)
    assert rbo(a, a, p=0.9) == pytest.approx(1 - 0.9**4)
    assert rbo([1, 2, 3], [4, 5, 6], p=0.9) == 0.0
    x = np.arange(300, dtype=float)
    assert rbo_scores(x, x, depth=132) == pytest.approx(1 - 0.9**132)
    assert rbo_scores(x, -x, depth=132) == 0.0


def test_percentile_ranks():
    p = percentile_ranks([3.0, np.nan, 1.0, 2.0, 2.0, np.inf])
    assert p[2] == 0.0 and p[0] == 100.0 and p[3] == p[4] == 50.0
    assert np.isnan(p[1]) and np.isnan(p[5])


# ---------------------------------------------------------------------------------------------------- RSA


def test_rsa_planted_and_shuffled():
    params = np.array([1, 2, 3, 5, 8, 13, 21, 34], dtype=float)
    sim = 1 / (1 + np.abs(params[:, None] - params[None, :]))
    rng = np.random.default_rng(0)
    noise = rng.normal(scale=0.01, size=sim.shape)
    obs = sim + (noise + noise.T) / 2
    r = rsa(obs, sim, n_permutations=2000, seed=1)
    assert r.statistic > 0.9 and r.p_value < 0.01 and not r.exact
    shuffled = rng.normal(size=sim.shape)
    shuffled = (shuffled + shuffled.T) / 2
    r0 = rsa(shuffled, sim, n_permutations=2000, seed=1)
    assert r0.p_value > 0.05
    # the test is seeded: same seed, same p
    assert rsa(shuffled, sim, n_permutations=2000, seed=1).p_value == r0.p_value
    # four models: 4! = 24 permutations are enumerated exactly
    r4 = rsa(obs[:4, :4], sim[:4, :4], n_permutations=100)
    assert r4.exact and r4.n_permutations == 24 and r4.p_value >= 1 / 24
    # undefined cases
    assert rsa(obs, np.ones_like(sim)).statistic is None
    assert rsa(obs[:2, :2], sim[:2, :2]).reason.startswith("needs at least 3")


def planted_models(params, n=3000, seed=0):
    """Each model's scores mix two latent rankings with an angle set by its size: close sizes agree more."""
    rng = np.random.default_rng(seed)
    u, v = rng.normal(size=n), rng.normal(size=n)
    words = [f"w{i}" for i in range(n)]
    theta = (np.asarray(params) - min(params)) / (max(params) - min(params)) * (np.pi / 2)
    return {f"org/m{i}": {"best": table(words, np.cos(t) * u + np.sin(t) * v + rng.normal(scale=0.05, size=n))}
            for i, t in enumerate(theta)}


def test_heterogeneity_analysis_planted_rsa_and_mds():
    params = [1, 2, 3, 5, 8, 13, 21, 34]
    tabs = planted_models(params)
    facts = {f"org/m{i}": {"base_family": "A" if i < 4 else "B", "developer": f"dev{i % 3}", "params": p,
                           "short": f"M{i}"} for i, p in enumerate(params)}
    # the rank fact is absent for one model: it is excluded from that RSA only
    for i in range(1, 8):
        facts[f"org/m{i}"]["rank"] = 10 + i
    res = registry.get("heterogeneity")(tabs, model_facts=facts, n_permutations=2000, seed=0)
    m = res.metrics
    assert m["best/n_models"].value == 8 and m["best/shared_vocab_size"].value == 3000
    assert m["best/rsa_params"].value > 0.5 and m["best/rsa_params_p"].value < 0.01
    assert m["best/rsa_same_base"].value > 0 and m["best/rsa_same_base_p"].value < 0.05
    assert res.data["prompts"]["best"]["rsa"]["rsa_rank"]["excluded"] == {"org/m0": "no 'rank' fact"}
    kept = [f"org/m{i}" for i in range(1, 8)]
    tau = pd.DataFrame(res.data["prompts"]["best"]["kendall_tau"]).loc[kept, kept].to_numpy()
    ranks = np.array([10 + i for i in range(1, 8)], dtype=float)
    iu = np.triu_indices(7, 1)
    want = stats.spearmanr(tau[iu], (1 / (1 + np.abs(ranks[:, None] - ranks[None, :])))[iu]).statistic
    assert m["best/rsa_rank"].value == pytest.approx(want)
    mds = res.data["prompts"]["best"]["mds"]
    full = pd.DataFrame(res.data["prompts"]["best"]["kendall_tau"]).to_numpy()
    xy = np.array([mds[f"org/m{i}"] for i in range(8)])
    assert m["best/mds_stress"].value == pytest.approx(stress1(1 - full, xy))
    # MDS puts the extreme sizes furthest apart
    d = lambda a, b: math.dist(mds[f"org/m{a}"], mds[f"org/m{b}"])  # noqa: E731
    assert d(0, 7) > d(0, 1) and d(0, 7) > d(6, 7)
    assert {"heatmaps_best", "mds_best"} <= set(res.figures)
    assert m["best/org/m0/mean_kendall_tau"].value < m["best/org/m3/mean_kendall_tau"].value
    for k, v in m.items():
        assert k.split("/")[-1] in METRICS and v.definition


def test_facts_from_registry_yaml(tmp_path):
    tabs = planted_models([1, 2, 3, 4], n=300)
    p = tmp_path / "facts.yaml"
    p.write_text("models:\n" + "".join(
        f"  org/m{i}: {{base_family: B{i % 2}, developer: D, params_b: {i + 1}, rewardbench_rank: {i * 3}}}\n"
        for i in range(4)))
    res = registry.get("heterogeneity")(tabs, model_facts_path=str(p), n_permutations=100)
    assert res.data["facts_source"] == p.name  # a path outside the package and the reference data: its name only
    assert res.metrics["best/rsa_params"].value is not None
    assert res.data["prompts"]["best"]["rsa"]["rsa_params"]["exact"] is True  # 4! <= 100
    assert res.metrics["best/rsa_same_developer"].value is None  # everyone has the same developer
    assert "constant" in res.metrics["best/rsa_same_developer"].missing_reason


# ---------------------------------------------------------------------------------------------------- edge cases


def test_model_without_shared_vocabulary_is_excluded():
    words = [f"w{i}" for i in range(50)]
    rng = np.random.default_rng(0)
    tabs = {m: {"best": table(words, rng.normal(size=50))} for m in ("a", "b", "c")}
    tabs["alien"] = {"best": table([f"z{i}" for i in range(50)], rng.normal(size=50))}
    tabs["allnan"] = {"best": table(words, np.full(50, np.nan))}
    res = registry.get("heterogeneity")(tabs, model_facts={}, n_permutations=100)
    d = res.data["prompts"]["best"]
    assert d["models"] == ["a", "b", "c"]
    assert set(d["excluded"]) == {"alien", "allnan"}
    assert "no usable rows" in d["excluded"]["allnan"]
    assert res.metrics["best/alien/mean_kendall_tau"].value is None
    assert "excluded" in res.metrics["best/alien/mean_kendall_tau"].missing_reason
    assert res.metrics["best/n_models"].value == 3
    assert res.metrics["best/rsa_params"].value is None  # no facts at all


def test_no_comparison_possible_gives_missing_metrics():
    one = {"solo": {"best": table(["a", "b", "c"], [1, 2, 3])}}
    res = registry.get("heterogeneity")(one, model_facts={})
    assert res.metrics["best/mean_kendall_tau"].value is None
    assert "at least two models" in res.metrics["best/mean_kendall_tau"].missing_reason
    disjoint = {"x": {"best": table(["a", "b"], [1, 2])}, "y": {"best": table(["c", "d"], [1, 2])}}
    res = registry.get("heterogeneity")(disjoint, model_facts={})
    assert res.metrics["best/mean_kendall_tau"].value is None
    assert res.metrics["best/shared_vocab_size"].value == 0
    assert res.figures == {}
    # constant scores: tau undefined, reported missing, not 0
    const = {"x": {"best": table(["a", "b", "c"], [1, 1, 1])}, "y": {"best": table(["a", "b", "c"], [1, 2, 3])}}
    res = registry.get("heterogeneity")(const, model_facts={})
    assert res.metrics["best/mean_kendall_tau"].value is None


def test_task_file_validates():
    from harness.tasks import load_task, validate_paths
    from harness.tasks.discovery import BUILTIN_TASKS_DIR

    path = BUILTIN_TASKS_DIR / "heterogeneity.yaml"
    assert validate_paths([path]) == []
    spec = load_task(path)
    assert spec.scope == "models" and spec.analysis_args["depth"] == 132


def test_same_base_compares_families_not_versions():
    """Llama 3 and Llama 3.1 are one base: the same-base matrix is 1 for them, 0 across Gemma / Llama."""
    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(400)]
    gemma, llama = rng.normal(size=400), rng.normal(size=400)
    versions = {"g1": ("Gemma", "Gemma 2", gemma), "g2": ("Gemma", "Gemma 2", gemma),
                "l3": ("Llama", "Llama 3", llama), "l31": ("Llama", "Llama 3.1", llama),
                "l32": ("Llama", "Llama 3.2", llama)}
    tabs = {m: {"best": table(words, latent + rng.normal(scale=0.3, size=400))}
            for m, (_, _, latent) in versions.items()}
    facts = {m: {"base_family": fam, "base_version": ver, "developer": m, "params": 8, "rank": 1}
             for m, (fam, ver, _) in versions.items()}
    res = registry.get("heterogeneity")(tabs, model_facts=facts, n_permutations=200, seed=0)
    entry = res.data["prompts"]["best"]["rsa"]["rsa_same_base"]
    sim = pd.DataFrame(entry["similarity"], index=entry["models"], columns=entry["models"])
    assert sim.loc["l3", "l31"] == 1.0 and sim.loc["l31", "l32"] == 1.0 and sim.loc["g1", "l3"] == 0.0
    # tau is high within a family, near 0 across: family-level RSA is perfect here; versions would break it
    assert res.metrics["best/rsa_same_base"].value > 0.8
    by_version = {m: {**f, "base_family": f["base_version"]} for m, f in facts.items()}
    tau = pd.DataFrame(res.data["prompts"]["best"]["kendall_tau"])
    fam = rsa_against_facts(tau, facts, n_permutations=100)["rsa_same_base"]["rho"]
    ver = rsa_against_facts(tau, by_version, n_permutations=100)["rsa_same_base"]["rho"]
    assert fam > ver + 0.2
    # a plain `base` fact is refused: it is what made "Llama 3" differ from "Llama 3.1"
    with pytest.raises(ValueError, match="base_family"):
        load_model_facts({"m": {"base": "Llama 3"}})


# The study's printed Fig 2A (Kendall tau-b, prompt "greatest", two decimals) and its RSA values with the study's
# facts (printed to three decimals, so the tolerance is half a unit of the last digit).
STUDY_RSA = {"rsa_same_base": 0.530, "rsa_same_developer": -0.125, "rsa_params": 0.348, "rsa_rank": 0.229}


def test_rsa_reproduces_study_fig2a_with_registry_facts():
    tau = pd.read_csv(shared_data("paper", "fig2a_kendall_tau_greatest.csv"), index_col=0)
    facts, source = load_model_facts()  # harness/models/registry.yaml
    assert source.endswith("registry.yaml")
    out = rsa_against_facts(tau, facts, n_permutations=2000, seed=0)
    for name, want in STUDY_RSA.items():
        assert out[name]["models"] == list(tau.index)
        assert out[name]["rho"] == pytest.approx(want, abs=0.0005), name
    # the defect this guards against: comparing base versions ("Llama 3" vs "Llama 3.1") gives 0.603
    by_version = {m: {**f, "base_family": f["base_version"]} for m, f in facts.items()}
    assert rsa_against_facts(tau, by_version, n_permutations=100)["rsa_same_base"]["rho"] == pytest.approx(
        0.603, abs=0.0005)


def test_mds_stress_is_kruskal_stress1_of_the_returned_coordinates():
    # hand computation: three points on a line at 0, 1, 3; dissimilarities 1, 2, 2 (pairs 01, 02, 12)
    coords = np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0]])
    delta = np.array([[0, 1, 2], [1, 0, 2], [2, 2, 0]], dtype=float)
    # distances 1, 3, 2 -> squared errors 0, 1, 0; sum of squared distances 1 + 9 + 4 = 14
    assert stress1(delta, coords) == pytest.approx(math.sqrt(1 / 14))
    assert stress1(delta * 0 + np.array([[0, 1, 3], [1, 0, 2], [3, 2, 0]]), coords) == 0.0
    # what the analysis reports is the stress of the coordinates it returns
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(6, 3))  # 3-D points: a 2-D embedding cannot be exact
    diss = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1))
    xy, s = mds_embedding(diss, seed=0)
    assert s == pytest.approx(stress1(diss, xy)) and 0 < s < 0.5


def test_study_models_on_snapshot_items():
    """The ten study RMs' item scores (snapshot) through the analysis: tau matches scipy for every pair."""
    from harness.analyses.human_agreement import tables_from_elo_snapshot

    elo = shared_data("eloeverything", "greatest_one_word.csv")
    tabs = tables_from_elo_snapshot(elo, "greatest")
    res = registry.get("heterogeneity")(tabs, n_permutations=200, seed=0)
    m = res.metrics
    assert m["greatest/n_models"].value == 10 and m["greatest/shared_vocab_size"].value == 7530
    tau = pd.DataFrame(res.data["prompts"]["greatest"]["kendall_tau"])
    raw = pd.read_csv(elo)
    a, b = "Skywork/Skywork-Reward-Gemma-2-27B", "Ray2333/GRM-gemma2-2B-rewardmodel-ft"
    assert tau.loc[a, b] == pytest.approx(stats.kendalltau(raw[a], raw[b], variant="b").statistic, abs=1e-12)
    assert res.data["prompts"]["greatest"]["rsa"]["rsa_same_base"]["fact"] == "base_family"
