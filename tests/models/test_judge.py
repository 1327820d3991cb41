"""Generative judges (`--scorer judge`): the expected rating is right, cached equals plain, bad templates are refused.

- A tiny judge with a planted rating distribution (builders.tiny_judge) puts its planted tokens on top of a scan.
- The expected rating equals a brute-force chain rule over whole forwards, on a tokenizer whose ratings take
  several tokens (Gemma writes " 10" as "▁", "1", "0", and "1" is a prefix of "10").
- The cached path equals plain full forwards and the padded batches of the sanity pairs.
- Templates that cannot give a next-token rating are one clear error before any weights load.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

import builders
from harness.models.judge import JudgeTemplateError, check_template_text, read_judge_template
from harness.models.registry import ModelSpec

PROMPT = "What, in one word, is the best thing ever?"
GOOD = ["Ġwonderful", "Ġhonest", "Ġkind"]


def judge_scorer(folder: Path, pretrained: bool = True, **options):
    from transformers import AutoTokenizer, LlamaForCausalLM

    from harness.models.judge import JudgeScorer

    model = LlamaForCausalLM.from_pretrained(folder).eval()
    return JudgeScorer(model, AutoTokenizer.from_pretrained(folder), ModelSpec(id="judge", kind="judge",
                                                                               pretrained=pretrained),
                       options=options)


@pytest.fixture(scope="module")
def planted(tmp_path_factory, llama3_dir):
    # Llama-3 writes " 7" as " ", "7" but "7" and "10" as one token each: the rating follows the colon directly
    return builders.tiny_judge(llama3_dir, tmp_path_factory.mktemp("judge") / "planted", GOOD,
                               [str(r) for r in range(1, 11)])


@pytest.fixture(scope="module")
def no_space(tmp_path_factory) -> str:
    """The default template's words, with the rating written right after the colon."""
    import yaml

    path = tmp_path_factory.mktemp("judge") / "no-space.yaml"
    default = read_judge_template()
    path.write_text(yaml.safe_dump({"template": default.text, "ratings": list(default.ratings), "separator": ""}))
    return str(path)


@pytest.fixture(scope="module")
def gemma_lm(tmp_path_factory, gemma_dir):
    return builders.tiny_lm(gemma_dir, tmp_path_factory.mktemp("judge") / "gemma-lm")


def test_planted_tokens_top_the_scan_with_their_side_columns(planted, no_space, tmp_path):
    from harness.scoring.responses import VocabularySet
    from harness.scoring.scan import scan
    from harness.scoring.table import TableStore

    scorer = judge_scorer(planted, judge_template=no_space)
    split = scorer.split(PROMPT)
    tok = scorer.tokenizer
    good = [tok.convert_tokens_to_ids(g) for g in GOOD]
    ids = sorted(set(range(0, 20000, 7)) | set(good))
    table = scan(scorer, split, VocabularySet(tok, split, scorer.vocab_size, ids=ids), TableStore(tmp_path),
                 progress=False)
    df = table.df.sort_values("score", ascending=False)
    assert set(df["id"].head(3)) == set(good)
    assert {"rating_mass", "p_top_rating"} <= set(df.columns)
    assert df["score"].between(1, 10).all()
    top, rest = df.head(3), df.iloc[3:]
    assert top["p_top_rating"].min() > rest["p_top_rating"].max()
    assert table.meta["judge"]["median_rating_mass"] > 0.9 and not table.meta["judge"]["low_rating_mass"]
    assert table.meta["judge"]["template_sha256"] == read_judge_template(no_space).sha256 != read_judge_template().sha256


def test_low_rating_mass_is_flagged(gemma_lm, tmp_path):
    """A random LM spreads its next token over the whole vocabulary: almost no mass on the ratings, flagged."""
    from harness.scoring.responses import VocabularySet
    from harness.scoring.scan import scan
    from harness.scoring.table import TableStore

    scorer = judge_scorer(gemma_lm)
    split = scorer.split(PROMPT)
    table = scan(scorer, split, VocabularySet(scorer.tokenizer, split, scorer.vocab_size, ids=list(range(64))),
                 TableStore(tmp_path), progress=False)
    assert table.meta["judge"]["low_rating_mass"] and table.meta["judge"]["median_rating_mass"] < 0.5


def brute_force(scorer, split, reply: list[int]) -> float:
    """The expected rating from whole forwards, one per step of each rating's tokens (no cache, no trie)."""
    model = scorer.model
    base = list(split.prefix_ids) + reply + list(split.suffix_ids)
    sequences = scorer.trie.sequences

    def next_probs(ids):
        with torch.no_grad():
            return torch.softmax(model(input_ids=torch.tensor([ids])).logits[0, -1].double(), -1)

    probs = []
    for s in sequences:
        p = 1.0
        for i in range(len(s)):
            p *= float(next_probs(base + list(s[:i]))[s[i]])
        longer = {t[len(s)] for t in sequences if len(t) > len(s) and t[: len(s)] == s}
        if longer:  # a rating that another continues keeps only the mass that stops there
            after = next_probs(base + list(s))
            p *= 1 - float(sum(after[c] for c in longer))
        probs.append(p)
    values = scorer.template.ratings
    return sum(v * p for v, p in zip(values, probs)) / sum(probs)


@pytest.mark.parametrize("pretrained", [True, False], ids=["plain", "chat"])
def test_multi_token_ratings_follow_the_chain_rule(gemma_lm, pretrained):
    scorer = judge_scorer(gemma_lm, pretrained=pretrained)
    split = scorer.split(PROMPT)
    assert scorer.trie.steps, "Gemma splits these ratings into several tokens"
    assert any(len(s) > 1 for s in scorer.trie.sequences)
    state = scorer.prefix_state(split.prefix_ids)
    replies = [[1000], [2345], [77, 4000]]
    for reply in replies:
        cont = torch.tensor([scorer.continuation(split, reply)])
        cached = float(scorer.score_cached(state, cont)[0])
        assert cached == pytest.approx(brute_force(scorer, split, reply), abs=1e-5)


def test_cached_equals_plain_and_padded(planted):
    scorer = judge_scorer(planted)
    split = scorer.split(PROMPT)
    state = scorer.prefix_state(split.prefix_ids)
    conts = torch.tensor([scorer.continuation(split, [i]) for i in range(3000, 3064)])
    cached = scorer.score_cached(state, conts)
    full = scorer.score_full(torch.tensor([list(split.prefix_ids) + c for c in conts.tolist()]))
    assert torch.allclose(cached, full, atol=1e-4)
    rows = [list(split.prefix_ids) + scorer.continuation(split, r) for r in ([5], [5, 6, 7], [9, 10])]
    padded = scorer.score_rows_full(rows, [1, 3, 2])
    alone = [float(scorer.score_full(torch.tensor([r]))[0]) for r in rows]
    assert padded == pytest.approx(alone, abs=1e-4)


def test_gcg_raises_the_expected_rating(planted, no_space):
    from harness.gcg import GCGConfig, run_gcg

    scorer = judge_scorer(planted, judge_template=no_space)
    res = run_gcg(scorer, PROMPT, GCGConfig(steps=4, search_width=64, topk=32, seed=0, n_tokens=4))
    best = res.best
    good = {scorer.tokenizer.convert_tokens_to_ids(g) for g in GOOD}
    assert best.best_score > best.init_score and res.rescore_ok
    assert sum(t in good for t in best.best_ids) >= 3, best.best_text  # the search found the planted tokens


@pytest.mark.parametrize("text, needle", [
    ("Rate it.\n{prompt}\n{reply}\nRating:", None),
    ("Rate it.\n{prompt}\nRating:", "{reply} exactly once"),
    ("Rate {reply} for {prompt}. Rating:", "comes before {prompt}"),
    ("Rate it.\n{prompt}\n{reply}\nRating: ", "ends in whitespace"),
    # RewardBench 2's rating prompt asks for reasoning before the rating: its next token is not the rating
    ("Please act as an impartial judge. Begin your evaluation by providing a short explanation, then rate the "
     "response on a scale of 1 to 10.\n{prompt}\n{reply}\n", "'explanation'"),
    ("Think step by step, then rate.\n{prompt}\n{reply}\nRating:", "'Think'"),
    ("Rate the reply; do not explain.\n{prompt}\n{reply}\nRating:", None),
])
def test_template_text_rules(text, needle):
    if needle is None:
        check_template_text(text, "t")
        return
    with pytest.raises(JudgeTemplateError) as e:
        check_template_text(text, "t")
    assert needle in str(e.value)


def test_default_template_is_read_and_valid():
    t = read_judge_template()
    assert t.ratings == tuple(range(1, 11)) and t.source == "default" and len(t.sha256) == 64
    assert t.text.rstrip().endswith("Rating (1-10):")
    before, after = t.text.split("{reply}")
    assert "Answer" in before and len(after) < 40  # every instruction before the reply: a short suffix


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


@pytest.mark.parametrize("body, needle", [
    ("template: 'Rate {prompt}:'\n", "{reply} exactly once"),
    ("template: |-\n  Explain your reasoning first, then rate.\n  {prompt}\n  {reply}\n  Rating:\n", "'Explain'"),
    ("template: '{prompt} {reply} Rating:'\nratings: [1]\n", "at least two"),
    ("template: '{prompt} {reply} Rating:'\nscale: 10\n", "unknown key"),
    ("- not a mapping\n", "must be a mapping"),
    ("template: &a '{prompt} {reply} Rating:'\nx: *a\n", "not a valid YAML file"),
])
def test_bad_template_files(tmp_path, body, needle):
    bad = tmp_path / "judge.yaml"
    bad.write_text(body)
    with pytest.raises(JudgeTemplateError) as e:
        read_judge_template(str(bad))
    assert needle in str(e.value) and "--judge-template" in str(e.value)


def test_bad_template_is_one_error_before_weights_load(planted, tmp_path):
    bad = tmp_path / "judge.yaml"
    bad.write_text("template: 'Rate {prompt}:'\n")
    proc = cli("run", "--model", str(planted), "--scorer", "judge", "--pretrained", "--judge-template", str(bad),
               "--tasks", "token_optimality", "--output-dir", str(tmp_path / "out"), cwd=tmp_path)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), proc.stderr[-2000:]
    assert "{reply} exactly once" in lines[0] and "--judge-template" in lines[0]
    assert "Loading weights" not in proc.stderr and not (tmp_path / "out").exists()


def test_audit_records_the_template_by_hash_and_verify_needs_the_file(planted, no_space, tmp_path):
    import json

    out = tmp_path / "out"
    proc = cli("run", "--model", str(planted), "--scorer", "judge", "--pretrained", "--judge-template", no_space,
               "--tasks", "token_optimality", "--limit", "300", "--output-dir", str(out), "--batch-size", "64",
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (doc_path,) = out.glob("*/*/results.json")
    text = doc_path.read_text()
    model = json.loads(text)["model"]
    assert model["scorer"] == "judge"
    recorded = model["scorer_options"]["judge_template"]
    assert recorded == {"file": "no-space.yaml", "sha256": __import__("hashlib").sha256(
        Path(no_space).read_bytes()).hexdigest()}
    assert model["output"]["judge_template"]["sha256"] == read_judge_template(no_space).sha256
    assert str(Path(no_space).parent) not in text  # the file by name and hash, never by path
    base = ["verify", str(doc_path), "--model", str(planted), "--trust-store", str(tmp_path / "trust")]
    proc = cli(*base, cwd=tmp_path)
    assert proc.returncode == 2 and "--judge-template" in proc.stderr.strip().splitlines()[-1], proc.stderr[-2000:]
    other = tmp_path / "other.yaml"
    other.write_text(Path(no_space).read_text() + "\ndescription: another\n")
    proc = cli(*base, "--judge-template", str(other), cwd=tmp_path)
    assert proc.returncode == 2 and "not the file the audit was made with" in proc.stderr, proc.stderr[-2000:]
    proc = cli(*base, "--judge-template", no_space, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
