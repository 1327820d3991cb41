"""GCG: a planted optimum is found, minimisation goes down, runs are reproducible, filters hold, results export.

Two models, both behind the real Scorer API (prefix KV cache, batched cached scoring, score_embeds, score_full)
and the real Llama-3 tokenizer and template:
- `planted`: a reward model defined here whose reward is a sum of per-position token values, so the optimum is
  known exactly (a planted token per reply position);
- `tiny`: a randomly initialised 2-layer LlamaForSequenceClassification (real attention and DynamicCache).
"""

from __future__ import annotations

import argparse
import json
import math

import numpy as np
import pytest
import torch

import builders
from harness.gcg import GCGConfig, GCGError, GCGResult, RescoreMismatch, allowed_tokens, run_gcg
from harness.gcg.optimizer import GCG
from harness.models.registry import ModelSpec
from harness.models.scorer import RewardScorer
from harness.models.templates import reply_ids_in_context

PROMPT = "What, in one word, is the best thing ever?"
TARGET_TEXT = "Kindness beats everything else here"  # 6 distinct tokens: Kind|ness| beats| everything| else| here
PLANTED_VALUE = 5.0


class PlantedRM(torch.nn.Module):
    """reward = sum over positions p of <embedding at p, U[p]>, carried in a (legacy tuple) KV cache.

    U at reply position i is the unit vector e_i, so token t is worth W[t, i] there. Every W entry is N(0, 0.3)
    (so no token is worth more than ~1.5) except the planted rows: W[target_i] = 5 e_i. The unique optimum of a
    reply of len(target) tokens is the target sequence.
    """

    def __init__(self, vocab: int, dim: int, n_pos: int, seed: int = 0):
        super().__init__()
        from transformers import PretrainedConfig

        self.config = PretrainedConfig(pad_token_id=None)
        g = torch.Generator().manual_seed(seed)
        self.embed = torch.nn.Embedding(vocab, dim)
        with torch.no_grad():
            self.embed.weight.copy_(torch.randn(vocab, dim, generator=g) * 0.3)
        self.U = torch.nn.Parameter(torch.randn(n_pos, dim, generator=g) * 0.5)

    def get_input_embeddings(self):
        return self.embed

    def forward(self, input_ids=None, inputs_embeds=None, past_key_values=None, use_cache=None, **kwargs):
        from transformers.modeling_outputs import SequenceClassifierOutputWithPast

        x = self.embed(input_ids) if inputs_embeds is None else inputs_embeds
        batch, length = x.shape[:2]
        if past_key_values is None:
            start, acc = 0, x.new_zeros(batch, 1)
        else:
            ((acc, seen),) = past_key_values
            start = int(seen[0, 0])
        total = acc + (x * self.U[start : start + length]).sum(dim=(1, 2))[:, None]
        cache = ((total, torch.full((batch, 1), float(start + length))),)
        return SequenceClassifierOutputWithPast(logits=total, past_key_values=cache)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, llama3_dir):
    from harness.models.loading import load_scorer

    path = builders.tiny_classifier("Llama", llama3_dir, tmp_path_factory.mktemp("gcg") / "tiny-llama")
    return load_scorer(str(path), device="cpu")


@pytest.fixture(scope="module")
def planted(tiny):
    tok = tiny.tokenizer  # the same tokenizer object: the allowed-token table is computed once
    split = tiny.split(PROMPT)
    target, clean = reply_ids_in_context(tok, split, [TARGET_TEXT])[0]
    assert clean and len(target) == len(set(target)) == 6
    n = len(target)
    model = PlantedRM(len(tok), dim=n + 4, n_pos=len(split.prefix_ids) + n + len(split.suffix_ids) + 4)
    with torch.no_grad():
        p = len(split.prefix_ids)
        model.U[p : p + n] = torch.eye(n, n + 4)
        for i, t in enumerate(target):
            model.embed.weight[t] = 0.0
            model.embed.weight[t, i] = PLANTED_VALUE
    scorer = RewardScorer(model, tok, ModelSpec(id="planted-rm", head=None))
    full = torch.tensor([list(split.prefix_ids) + target + list(split.suffix_ids)])
    return scorer, target, float(scorer.score_full(full)[0])


def cfg(**kw) -> GCGConfig:
    return GCGConfig(**{"n_tokens": 6, "steps": 40, "search_width": 64, "topk": 16, "seed": 0, **kw})


def strip_timing(d):
    if isinstance(d, dict):
        return {k: strip_timing(v) for k, v in d.items() if k not in ("wall_s", "elapsed_s", "steps_per_s")}
    if isinstance(d, list):
        return [strip_timing(v) for v in d]
    return d


def monotone(traj, direction):
    diffs = np.diff(np.asarray(traj))
    return bool(np.all(diffs >= 0)) if direction == "maximize" else bool(np.all(diffs <= 0))


# ------------------------------------------------------------------------------------------------ planted optimum


def test_gradient_points_the_chosen_way(planted):
    """Top gradient candidate per position: the planted token when maximising, the lowest-value token when
    minimising (the study's fork pushed the gradient up in both modes)."""
    scorer, target, _ = planted
    values = scorer.model.embed.weight.detach()[:, : len(target)]  # value of token t at reply position i
    up = GCG(scorer, PROMPT, cfg(direction="maximize"))
    down = GCG(scorer, PROMPT, cfg(direction="minimize"))
    start = [target[0]] * len(target)
    assert up.top_candidates(start)[:, 0].tolist() == target
    lowest = values.masked_fill(~down.allowed[:, None], math.inf).argmin(dim=0).tolist()
    assert down.top_candidates(start)[:, 0].tolist() == lowest


def test_finds_planted_optimum_from_random_start(planted):
    scorer, target, best_possible = planted
    res = run_gcg(scorer, PROMPT, cfg(target_score=best_possible - 1e-3))
    r = res.best
    assert r.init_ids != target and r.init_score < best_possible - 10
    assert r.best_ids == target, (r.best_text, r.steps_run)
    assert r.best_text == TARGET_TEXT and r.stopped == "target" and r.steps_run < 40
    assert r.best_score == pytest.approx(best_possible, abs=1e-4)
    assert monotone(r.trajectory(), "maximize")
    assert r.rescore == pytest.approx(r.best_score, abs=1e-4) and r.roundtrip


def test_patience_stops_after_the_optimum(planted):
    scorer, target, _ = planted
    r = run_gcg(scorer, PROMPT, cfg(steps=80, patience=4)).best
    assert r.best_ids == target and r.stopped == "patience"
    assert [s.best_score for s in r.steps[-4:]] == [r.best_score] * 4


def test_minimisation_goes_down_step_by_step(planted):
    scorer, _, _ = planted
    res = run_gcg(scorer, PROMPT, cfg(direction="minimize", steps=25))
    r = res.best
    traj = r.trajectory()
    assert monotone(traj, "minimize")
    assert traj[-1] < traj[0] - 4.0  # six positions, each token worth ~N(0, 0.3): the bottom is ~ -1.3 each
    assert res.summary()["best_score"] == pytest.approx(r.best_score)
    lowest = r.init_score  # the best so far is the lowest of everything chosen so far: selection goes down too
    for s in r.steps:
        lowest = min(lowest, s.score if s.score is not None else lowest)
        assert s.best_score == pytest.approx(lowest)


def test_oom_halves_the_batch_and_gives_the_same_result(planted, monkeypatch):
    scorer, _, _ = planted
    want = run_gcg(scorer, PROMPT, cfg(steps=5, batch_size=64))
    real = scorer.score_cached
    sizes = []

    def flaky(state, cont):
        sizes.append(cont.shape[0])
        if cont.shape[0] > 8:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(state, cont)

    monkeypatch.setattr(scorer, "score_cached", flaky)
    got = run_gcg(scorer, PROMPT, cfg(steps=5, batch_size="auto"))
    assert max(sizes) > 8 and sizes[-1] <= 8
    assert strip_timing(got.to_json())["restarts"] == strip_timing(want.to_json())["restarts"]


def test_rescore_mismatch_is_reported(planted, monkeypatch):
    scorer, _, _ = planted
    real = scorer.score_full
    monkeypatch.setattr(scorer, "score_full", lambda ids, n_reply=1: real(ids, n_reply) + 0.5)
    with pytest.raises(RescoreMismatch) as err:
        run_gcg(scorer, PROMPT, cfg(steps=2))
    res = err.value.result
    assert not res.rescore_ok and res.best.rescore_diff == pytest.approx(0.5, abs=1e-4)


# ------------------------------------------------------------------------------------------------ tiny Llama


def test_tiny_llama_both_directions_and_rescore(tiny):
    up = run_gcg(tiny, PROMPT, GCGConfig(steps=12, search_width=48, topk=32, seed=1))
    down = run_gcg(tiny, PROMPT, GCGConfig(steps=12, search_width=48, topk=32, seed=1, direction="minimize"))
    assert up.best.init_ids == down.best.init_ids  # same seed, same start
    assert monotone(up.best.trajectory(), "maximize") and monotone(down.best.trajectory(), "minimize")
    assert up.best.best_score > up.best.init_score + 0.5
    assert down.best.best_score < down.best.init_score - 0.5
    for res in (up, down):
        assert res.rescore_ok
        for r in res.restarts:
            assert abs(r.best_score - r.rescore) < 1e-4 and r.roundtrip


@pytest.mark.parametrize("arch", ["gemma3", "custom"])
def test_other_architectures(arch, tmp_path, llama3_dir, request):
    """Gemma-3 scales its embeddings inside the embedding module (one_hot @ W must be scaled the same way);
    the custom-code model takes `past_key_values`, returns `score` and its own cache."""
    from harness.models.loading import load_scorer

    if arch == "gemma3":
        gemma_dir = request.getfixturevalue("gemma_dir")
        scorer = load_scorer(str(builders.tiny_classifier("Gemma3Text", gemma_dir, tmp_path / arch)), device="cpu")
        assert getattr(scorer.model.get_input_embeddings(), "embed_scale", None) is not None
    else:
        scorer = load_scorer(str(builders.custom_code_model(llama3_dir, tmp_path / arch)), device="cpu",
                             trust_remote_code=True, output_field="score")
    for direction in ("maximize", "minimize"):
        res = run_gcg(scorer, PROMPT, GCGConfig(steps=4, search_width=32, topk=16, direction=direction))
        r = res.best
        assert monotone(r.trajectory(), direction) and res.sign * (r.best_score - r.init_score) > 0
        assert res.rescore_ok and r.roundtrip


def test_deterministic_under_seed(tiny):
    c = GCGConfig(steps=4, search_width=32, topk=16, seed=7, restarts=2, n_replace=2)
    a, b = run_gcg(tiny, PROMPT, c), run_gcg(tiny, PROMPT, c)
    assert strip_timing(a.to_json()) == strip_timing(b.to_json())
    other = run_gcg(tiny, PROMPT, c.with_(seed=8))
    assert other.restarts[0].init_ids != a.restarts[0].init_ids


def test_no_prefix_cache_and_unbatched_paths_agree(tiny):
    c = GCGConfig(steps=3, search_width=16, topk=8, seed=2)
    cached = run_gcg(tiny, PROMPT, c).best
    plain = run_gcg(tiny, PROMPT, c.with_(prefix_cache=False, batch_size=1)).best
    assert plain.best_ids == cached.best_ids
    assert plain.best_score == pytest.approx(cached.best_score, abs=1e-4)


def test_filters_hold(tiny):
    tok = tiny.tokenizer
    split = tiny.split(PROMPT)
    mask = allowed_tokens(tok, tiny.vocab_size)
    special = set(tok.all_special_ids) | {i for i, t in tok.added_tokens_decoder.items() if t.special}
    assert not mask[sorted(special)].any()
    assert mask.sum() > 50_000
    wide = allowed_tokens(tok, tiny.vocab_size, allow_non_ascii=True, allow_non_printable=True)
    assert wide.sum() > mask.sum() and not wide[sorted(special)].any()

    res = run_gcg(tiny, PROMPT, GCGConfig(steps=6, search_width=64, topk=64, n_replace=2, seed=3, restarts=2))
    for r in res.restarts:
        for s in r.steps:
            assert s.n_valid <= s.n_sampled
            for ids in (s.ids, s.best_ids):
                if not ids:
                    continue
                assert not special & set(ids)
                assert all(tok.decode([i]).isascii() and tok.decode([i]).isprintable() for i in ids)
                text = tok.decode(ids)
                got, clean = reply_ids_in_context(tok, split, [text])[0]
                assert clean and got == ids  # the reported string scores what was reported

    gcg = GCG(tiny, PROMPT, GCGConfig())
    a, b = tok.convert_tokens_to_ids(["a", "b"])
    hello = tok.encode(" Hello", add_special_tokens=False)
    assert gcg.roundtrips([[a, b], hello, tok.encode("Hello there", add_special_tokens=False)]) == [False, False, True]


def test_init_strings_and_restarts(tiny):
    res = run_gcg(tiny, PROMPT, GCGConfig(steps=2, search_width=16, topk=8, init=("Hello world",), restarts=2))
    assert len(res.restarts) == 2 and res.restarts[0].init_text == "Hello world"
    assert res.restarts[1].init_ids != res.restarts[0].init_ids and len(res.restarts[1].init_ids) == 8
    assert res.best in res.restarts


def test_result_json_and_figure(tiny, tmp_path):
    res = run_gcg(tiny, PROMPT, GCGConfig(steps=3, search_width=16, topk=8, direction="minimize"))
    path = res.save(tmp_path / "out" / "gcg.json")
    doc = json.loads(path.read_text())
    assert doc["summary"]["best_text"] == res.best.best_text and doc["rescore_ok"]
    assert len(doc["restarts"][0]["steps"]) == 3 and doc["restarts"][0]["steps"][0]["best_ids"]
    back = GCGResult.load(path)
    assert strip_timing(back.to_json()) == strip_timing(res.to_json())
    fig = res.figure()
    fig.savefig(tmp_path / "traj.png")
    assert (tmp_path / "traj.png").stat().st_size > 1000


def test_config_validation():
    with pytest.raises(GCGError):
        GCGConfig(direction="up")
    with pytest.raises(GCGError):
        GCGConfig(topk=0)
    with pytest.raises(GCGError):
        GCGConfig.from_dict({"stepz": 3})
    assert GCGConfig(init=["a", "b"]).restarts == 2
    s = GCGConfig.study()
    assert (s.steps, s.search_width, s.topk, s.buffer_size, s.n_tokens) == (1000, 512, 256, 4, 19)


def test_lm_scorer_is_refused(tiny, monkeypatch):
    monkeypatch.setattr(tiny, "kind", "lm_logprob")
    with pytest.raises(GCGError):
        run_gcg(tiny, PROMPT, GCGConfig(steps=1))


# ------------------------------------------------------------------------------------------------ CLI and task


def test_cli(tiny, tmp_path, capsys):
    from harness.cli.gcg import add_parser

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    out = tmp_path / "cli.json"
    args = parser.parse_args(["gcg", "--model", str(tiny.ref.load_path), "--device", "cpu", "--prompt", PROMPT,
                              "--direction", "minimize", "--steps", "3", "--search-width", "16", "--topk", "8",
                              "--out", str(out), "--no-progress"])
    assert args.fn(args) == 0
    doc = json.loads(out.read_text())
    assert doc["direction"] == "minimize" and doc["config"]["steps"] == 3 and doc["rescore_ok"]
    assert out.with_suffix(".png").exists()
    assert "minimize: best" in capsys.readouterr().out


def test_task_yaml_runs_and_lands_in_results(tiny, tmp_path):
    from harness.gcg.task import run_gcg_task
    from harness.report.figures import save_figures
    from harness.report.html import render
    from harness.results import document as results_doc
    from harness.analyses import model_tasks
    from harness.tasks.checks import load_task
    from harness.tasks.discovery import BUILTIN_TASKS_DIR

    spec = load_task(BUILTIN_TASKS_DIR / "gcg.yaml")
    assert spec.analysis_name == "gcg" and spec.scorer == "reward"
    task = model_tasks.get("gcg")
    assert task.run is run_gcg_task and task.scorers == {"reward", "judge"}
    args = spec.analysis_args
    assert (args["steps"], args["search_width"], args["topk"], args["n_tokens"]) == (20, 64, 64, 8)

    result = task.run(tiny, spec)
    for key in spec.prompts:
        assert result.metrics[f"{key}/maximize/best_score"].value >= result.metrics[f"{key}/maximize/start_score"].value
        assert result.metrics[f"{key}/minimize/best_score"].value <= result.metrics[f"{key}/minimize/start_score"].value
        assert result.metrics[f"{key}/minimize/rescore_abs_diff"].value < 1e-4
        assert f"trajectory_{key}" in result.figures
        assert result.data["top"][f"{key}/maximize"][0]["decoded"]
    figures = save_figures(result, spec.task, tmp_path)
    block = results_doc.task_block(result, result.metrics, figures, {}, {"task_version": "1"}, None)
    doc = results_doc.document({"id": "tiny"}, {spec.task: block}, {spec.task: spec.version},
                               {spec.task: spec.to_json()}, 1.0)
    path = results_doc.write(doc, tmp_path / "results.json")
    back = json.loads(path.read_text())
    assert back["results"]["gcg"]["data"]["runs"]["best/minimize"]["summary"]["best_text"]
    assert all((tmp_path / f).exists() for f in back["results"]["gcg"]["figures"])
    assert "best/maximize" in render(back)


def test_gcg_task_runs_through_the_runner(tiny, tmp_path):
    """The runner calls model-level tasks with the loaded model; the result lands in results.json."""
    from harness.tasks import runner
    from harness.tasks.checks import load_task
    from harness.tasks.discovery import BUILTIN_TASKS_DIR

    spec = load_task(BUILTIN_TASKS_DIR / "gcg.yaml")
    path = runner.run_tasks(tiny, [spec], tmp_path, runner.RunOptions(progress=False))
    doc = json.loads(path.read_text())
    assert doc["results"]["gcg"]["metrics"]["best/maximize/best_score"]["value"] is not None
