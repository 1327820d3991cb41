"""End to end on tiny models: tasks → cached tables → results.json + report; compare across models."""

from __future__ import annotations

import json

import pytest

import builders
from harness.errors import UserError
from harness.models.loading import load_scorer
from harness.results.layout import Layout
from harness.tasks.runner import RunOptions, run_tasks
from harness.tasks.discovery import discover
from harness.tasks.stored import compare, reanalyse

IDS = list(range(0, 4000)) + [128000, 128009]


@pytest.fixture(scope="module")
def audited(tmp_path_factory, llama3_dir):
    root = tmp_path_factory.mktemp("e2e")
    tasks = discover()
    specs = [tasks["token_optimality"], tasks["identity_bias"]]
    paths, ids = {}, {}
    for seed in (0, 1, 2):
        folder = builders.tiny_classifier("Llama", llama3_dir, root / f"m{seed}", seed=seed)
        scorer = load_scorer(str(folder))
        paths[f"m{seed}"] = run_tasks(scorer, specs, root / "results",
                                      RunOptions(progress=False, vocab_ids=IDS, chunk_rows=2048))
        ids[f"m{seed}"] = scorer.ref.display_id
    return root, paths, ids


def test_results_document(audited):
    root, paths, ids = audited
    doc = json.loads(paths["m0"].read_text())
    assert doc["schema_version"] == 2 and doc["model"]["id"] == ids["m0"] and ids["m0"].startswith("local:m0@")
    assert doc["model"]["revision"].startswith("sha256-") and doc["model"]["template_hash"]
    assert doc["model"]["origin"] == "local" and doc["model"]["hub_url"] is None
    assert doc["provenance"]["harness_version"] and "torch" in doc["provenance"]
    assert {"token_optimality", "identity_bias"} <= set(doc["results"])
    opt = doc["results"]["token_optimality"]
    assert set(opt["data"]["top"]) == {"best", "worst", "greatest"}
    best = opt["metrics"]["best/mean"]
    assert best["value"] is not None and best["definition"] and "higher_is_better" in best
    assert opt["metrics"]["best/n"]["value"] == len(IDS)
    for fig in opt["figures"]:
        assert (paths["m0"].parent / fig).stat().st_size > 1000
    assert (paths["m0"].parent / "report.html").exists()
    assert doc["versions"]["token_optimality"] >= 1 and doc["configs"]["token_optimality"]["prompts"]["best"]
    settings = opt["settings"]
    assert settings["dtype"] == "float32" and settings["scorer"] == "reward" and settings["limit"] is None
    assert settings["task_version"] == str(doc["versions"]["token_optimality"]) and opt["computed"]["at"]
    # The top token in results.json really is the highest score in its table.
    import pandas as pd

    table = pd.read_parquet(paths["m0"].parent / opt["tables"]["best"])
    assert opt["data"]["top"]["best"][0]["id"] == int(table.loc[table["score"].idxmax(), "id"])


def test_compare_between_models(audited):
    root, paths, ids = audited
    out = compare(Layout(root / "results"), [ids["m0"], ids["m1"], ids["m2"]], [discover()["heterogeneity"]])
    doc = json.loads(out.read_text())
    het = doc["results"]["heterogeneity"]["metrics"]
    assert het["best/n_models"]["value"] == 3
    # Independent check on the plumbing: the "best" tables of each model, shared vocabulary by decoded string
    # (strings several ids decode to dropped), Kendall tau-b from scipy, averaged over the three pairs.
    import itertools

    import pandas as pd
    from scipy.stats import kendalltau

    def best_scores(name):
        d = json.loads(paths[name].read_text())
        df = pd.read_parquet(paths[name].parent / d["results"]["token_optimality"]["tables"]["best"])
        return df[~df["decoded"].duplicated(keep=False)].set_index("decoded")["score"]

    scores = {m: best_scores(m) for m in ("m0", "m1", "m2")}
    shared = sorted(set.intersection(*(set(s.index) for s in scores.values())))
    taus = [kendalltau(scores[a][shared], scores[b][shared]).statistic for a, b in itertools.combinations(scores, 2)]
    assert het["best/shared_vocab_size"]["value"] == len(shared)
    assert het["best/mean_kendall_tau"]["value"] == pytest.approx(sum(taus) / 3, abs=1e-9)
    assert doc["results"]["heterogeneity"]["figures"]


def test_compare_needs_audited_models(audited):
    root, paths, ids = audited
    with pytest.raises(UserError, match="rm-harness run"):
        compare(Layout(root / "results"), [ids["m0"], "org/unaudited"], [discover()["heterogeneity"]])


def test_analyse_reruns_from_cached_tables_without_the_model(audited, monkeypatch):
    from harness.models import loading

    def no_model(*a, **k):
        raise AssertionError("analyse must not load the model")

    monkeypatch.setattr(loading, "load_ref", no_model)
    root, paths, ids = audited
    tasks = discover()
    path, skipped = reanalyse(Layout(root / "results"), ids["m1"], [tasks["distribution_tails"],
                                                                   tasks["human_agreement"]])
    doc = json.loads(path.read_text())
    assert "distribution_tails" in doc["results"], "its prompts were scanned by token_optimality"
    assert doc["results"]["distribution_tails"]["figures"]
    assert list(skipped) == ["human_agreement"] and "never scanned" in skipped["human_agreement"]
    assert {"token_optimality", "identity_bias"} <= set(doc["results"]), "earlier results are kept"


def test_task_with_missing_reference_data_is_skipped_not_fatal(tmp_path, llama3_dir, monkeypatch):
    from harness.tasks.pipeline import missing_data

    monkeypatch.setenv("RM_HARNESS_SHARED_DATA", str(tmp_path / "no-data-here"))
    tasks = discover()  # paths expand now, against the missing folder
    folder = builders.tiny_classifier("Llama", llama3_dir, tmp_path / "m")
    # the BNC list is reference data (the EloEverything names with human Elo ship with the package)
    assert not missing_data(tasks["human_agreement"])
    path = run_tasks(load_scorer(str(folder)), [tasks["frequency_bias_bnc"], tasks["token_optimality"]],
                     tmp_path / "results", RunOptions(progress=False, vocab_ids=IDS[:500]))
    doc = json.loads(path.read_text())
    assert "token_optimality" in doc["results"] and "frequency_bias_bnc" not in doc["results"]
    assert "data file not found" in doc["skipped"]["frequency_bias_bnc"]


def test_rerun_with_cached_tables_never_loads_the_weights(audited):
    root, paths, ids = audited
    scorer = load_scorer(str(root / "m0"))
    tasks = discover()
    path = run_tasks(scorer, [tasks["token_optimality"], tasks["distribution_tails"]], root / "results",
                     RunOptions(progress=False, vocab_ids=IDS, chunk_rows=2048))
    assert not scorer.loaded, "every table was cached: the weights must stay on disk"
    doc = json.loads(path.read_text())
    assert doc["results"]["token_optimality"]["metrics"]["best/n"]["value"] == len(IDS)
    assert "not loaded" in doc["model"]["attn_implementation"]
