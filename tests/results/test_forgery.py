"""A forger's test suite: from one genuine audit that `verify` passes, tamper with every rendered leaf of its
results.json in turn and with every file of its folder, and check each time that verify fails or the command
refuses, that the board's badge goes, and that nothing outside the audit folder changes (docs/security.md).

The tamperings are generated from the audit itself (its leaves, its files, its tables), not hand-picked.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import builders
from harness.errors import UserError
from harness.results.audit import Audit, open_audit
from harness.results.layout import Layout
from harness.results.trust import TrustStore, content_digest
from harness.tasks import verify as V

QUICK_TASKS = {
    "gcg_quick.yaml": """\
task: gcg_quick
prompts: {best: "What, in one word, is the best thing ever?"}
responses: {type: vocabulary}
scope: model
scorer: reward
analysis:
  name: gcg
  args: {directions: [maximize, minimize], steps: 3, search_width: 16, topk: 16, n_tokens: 3, buffer_size: 1, seed: 0}
metric_list: [{metric: best_score}, {metric: start_score}, {metric: gain}, {metric: rescore_abs_diff}]
metadata: {version: 1}
""",
    "items_quick.yaml": """\
task: items_quick
prompts: {greatest_ever: "What one single thing, person, or concept is the greatest ever?"}
responses: {type: items, path: items.csv, column: name, keep_columns: [elo_score]}
scope: model
scorer: any
analysis:
  name: human_agreement
  args: {elo_path: items.csv, top_n: 5}
metric_list: [{metric: spearman}, {metric: kendall_tau}, {metric: n_items}]
metadata: {version: 1}
""",
}
ITEMS = ["love", "war", "peace", "music", "Jesus", "the Internet", "chocolate", "democracy", "cancer", "kindness",
         "Black people", "pizza", "science", "hatred", "friendship", "the Moon", "taxes", "puppies", "poverty", "art"]
BUILTIN = ("token_optimality", "framing_asymmetry", "identity_bias")


def _subset(tokenizer) -> list[int]:
    """The first few hundred ids plus the single-token identity terms and controls (so identity_bias has data)."""
    from harness.analyses.identity_bias import load_term_lists

    ids = set(range(300, 560))
    for axis in load_term_lists(None):
        words = {v for t in axis.terms for v in t.variants} | set(axis.controls)
        for w in words:
            for form in (w, " " + w):
                enc = tokenizer(form, add_special_tokens=False)["input_ids"]
                if len(enc) == 1:
                    ids.add(enc[0])
    return sorted(ids)


def _audit(model: Path, out: Path, tasks_dir: Path, store: TrustStore, names=(*BUILTIN, "gcg_quick", "items_quick")):
    from harness.models.identity import resolve_model_ref
    from harness.models.loading import load_ref
    from harness.tasks.runner import RunOptions, run_tasks
    from harness.tasks.discovery import discover

    ref = resolve_model_ref(str(model))
    scorer = load_ref(ref)
    scorer.ref = ref
    specs = discover([str(tasks_dir)])
    opts = RunOptions(vocab_ids=_subset(scorer.tokenizer), subset_name="forgery-test-v1", trust=store,
                      progress=False, batch_size=64)
    return run_tasks(scorer, [specs[n] for n in names], out, opts)


def _tree(root: Path, skip: tuple[Path, ...]) -> dict[str, str]:
    """sha256 of every file under `root` outside the `skip` folders (what must not change)."""
    out = {}
    for p in sorted(root.rglob("*")):
        if any(p == s or s in p.parents for s in skip) or p.is_symlink() or not p.is_file():
            continue
        out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory, llama3_dir):
    root = tmp_path_factory.mktemp("forgery")
    tasks_dir = root / "tasks"
    tasks_dir.mkdir()
    for name, text in QUICK_TASKS.items():
        (tasks_dir / name).write_text(text)
    rng = np.random.default_rng(0)
    pd.DataFrame({"elo_rank": range(1, len(ITEMS) + 1), "elo_score": np.sort(rng.normal(1500, 200, len(ITEMS)))[::-1],
                  "name": ITEMS, "elo_matches": 100}).to_csv(tasks_dir / "items.csv", index=False)
    model_a = builders.tiny_classifier("Llama", llama3_dir, root / "models" / "rm-a", seed=1)
    model_b = builders.tiny_classifier("Llama", llama3_dir, root / "models" / "rm-b", seed=2)
    results = root / "results"
    submitter = TrustStore(root / "submitter-trust")
    path_a = _audit(model_a, results, tasks_dir, submitter)
    path_b = _audit(model_b, results, tasks_dir, submitter, names=("token_optimality",))
    maintainer = TrustStore(root / "maintainer-trust")
    pristine = root / "pristine"
    shutil.copytree(results, pristine)
    return {"root": root, "tasks": tasks_dir, "a": path_a, "b": path_b, "model_a": model_a, "model_b": model_b,
            "results": results, "store": maintainer, "pristine": pristine}


def _verify(world, path=None, **kw):
    kw.setdefault("model_path", str(world["model_a"]))
    return V.verify(path or world["a"], store=world["store"], include_path=[str(world["tasks"])], **kw)


def _restore(world):
    shutil.rmtree(world["results"])
    shutil.copytree(world["pristine"], world["results"])


def _badged(world) -> set[str]:
    """Display ids the board would badge now (the board's own decision: read_models with the maintainer's store)."""
    from harness.leaderboard.read import read_models

    entries, _ = read_models(world["results"], world["store"])
    return {e.model_id for e in entries if e.trust is not None and e.trust.get("status") == "verified"}


@pytest.fixture(scope="module")
def verified(world):
    """The genuine audit verified once; the maintainer's facts about it kept for the leaf-by-leaf tamperings."""
    result = _verify(world)
    assert result.status == "verified", result.problems + result.stale
    return result


def test_the_genuine_audit_verifies_with_its_stated_detection_probability(world, verified):
    record = json.loads(verified.record_path.read_text())
    assert record["status"] == "verified" and record["sample"]["seed"] == verified.seed
    for t in verified.tables:
        assert t.ok and t.n_sampled >= V.sample_size(t.n_rows)
        assert 1 - t.miss_probability >= V.DETECT_CONFIDENCE  # the stated guarantee, per table
        assert t.n_named >= 1 or t.n_sampled == t.n_rows  # named rows (top/bottom, identity terms, items) too
    a = open_audit(world["a"])
    assert _badged(world) == {a.display_id}
    assert record["figures"] and all(world["store"].blob(sha) for sha in record["figures"].values())
    # nothing was written into the audit folder
    assert _tree(world["results"], ()) == _tree(world["pristine"], ())


def test_sample_size_is_exact_against_the_hypergeometric_tail():
    from scipy.stats import hypergeom

    for n_rows in (50, 1036, 262_144):
        n = V.sample_size(n_rows)
        k = int(np.ceil(0.01 * n_rows))
        assert hypergeom.pmf(0, n_rows, k, n) <= 0.01 < hypergeom.pmf(0, n_rows, k, n - 1)


# --- every rendered leaf of results.json --------------------------------------------------------------------


def _leaves(obj, path=()):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, path + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _leaves(v, path + (i,))
    else:
        yield path, obj


def _rendered(path: tuple) -> bool:
    """The leaves `verify` vouches for: every result block's numbers, lists, settings, tables and figures; the
    task configs; the model identity; the sanity check. (Provenance, times and skip reasons are the submitter's
    words and the page says so: see test_a_verified_page_says_which_values_are_reported.)"""
    if path[:1] == ("results",) and len(path) > 3 and path[2] == "data":
        return path[3] in ("top", "bottom")  # the token lists pages show (verify compares all of `data`)
    if path[:1] == ("results",) and len(path) > 2:
        return path[2] in ("metrics", "settings", "tables", "figures")
    if path[:1] == ("configs",) and len(path) > 2:
        return path[2] in ("prompts", "responses", "analysis", "metric_list", "scope", "scorer")
    if path[:1] == ("model",):
        return path[1] in ("id", "origin", "revision", "dtype", "scorer", "prompt_format", "hub_url", "slug",
                           "weights_note", "output_field", "output_index", "trust_remote_code", "registry_entry")
    if path[:1] == ("sanity",):
        return path[1] not in ("publish", "override")  # the submitter's choice to publish, shown as such
    return False


def _tampered(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value + max(1.0, abs(value)) * 0.05
    if isinstance(value, str):
        return value + "\u00b7forged"
    return 0.5  # None


def test_every_rendered_leaf_edited_fails_verification_and_loses_the_badge(world, verified):
    audit = open_audit(world["a"])
    specs, stale = V.checkable_specs(audit, [str(world["tasks"])])
    ref = V.resolve_for_verify(audit.model, model_path=str(world["model_a"]))
    from harness.models.loading import load_ref

    scorer = load_ref(ref)
    scorer.ref = ref
    out = world["root"] / "facts"
    out.mkdir(exist_ok=True)
    facts, _ = V.gather_facts(audit, scorer, ref.to_json(), specs, stale, out, np.random.default_rng(0))
    assert V.document_problems(audit, facts) == ([], [])
    files = audit.content_files()
    record_digests = {p.name.split(".")[0] for p in (world["store"].root / "audits").glob("*.json")}
    leaves = [(p, v) for p, v in _leaves(audit.doc) if _rendered(p)]
    # and a seeded sample of the leaves pages do not show (verify compares those too)
    rest = [(p, v) for p, v in _leaves(audit.doc) if not _rendered(p) and p[:1] == ("results",)
            and not V.REPORTED_KEYS & set(map(str, p))]
    leaves += [rest[i] for i in np.random.default_rng(0).choice(len(rest), size=min(200, len(rest)), replace=False)]
    assert len(leaves) > 1000  # every task's numbers, lists and settings, not a hand-picked few
    missed = []
    forged = copy.deepcopy(audit.doc)
    for n, (path, value) in enumerate(leaves):
        parent = forged
        for k in path[:-1]:
            parent = parent[k]
        parent[path[-1]] = _tampered(value)
        problems, stale = V.document_problems(Audit(audit.path, forged), facts)
        if not problems and not stale:  # false, or not checkable: either way not verified
            missed.append(".".join(map(str, path)))
        if n % 97 == 0:  # any byte changed changes the digest, so the board's record lookup finds no badge
            data = (json.dumps(forged, indent=2, ensure_ascii=False) + "\n").encode()
            assert content_digest({**files, "results.json": hashlib.sha256(data).hexdigest()}) not in record_digests
        parent[path[-1]] = value
    assert not missed, f"{len(missed)} edited leaves passed verification, e.g. {missed[:10]}"


def test_a_hand_added_verification_field_means_nothing(world, verified):
    doc = json.loads(world["a"].read_text())
    doc["verification"] = {"status": "verified", "at": "2099-01-01T00:00:00Z"}
    try:
        world["a"].write_text(json.dumps(doc, indent=2))
        assert open_audit(world["a"]).display_id not in _badged(world)
        from harness.results.document import merge

        assert "verification" not in merge(doc, {**doc, "results": {}})
    finally:
        _restore(world)


def test_a_verified_page_says_which_values_are_reported(world, verified, tmp_path):
    from harness.leaderboard.build import build

    index = build(world["results"], tmp_path / "site", trust=world["store"])
    a = open_audit(world["a"])
    page = (index.parent / "models" / a.slug / "index.html").read_text()
    assert "Provenance, the audit time and skip reasons are as the submitter" in page
    assert "verified" in index.read_text()
    # the page's figures are the maintainer's renders from the trust store, byte for byte
    record = world["store"].trusted(a.digest)
    for rel, sha in record["figures"].items():
        assert hashlib.sha256((index.parent / "models" / a.slug / rel).read_bytes()).hexdigest() == sha


# --- every file of the audit folder -------------------------------------------------------------------------


def _table_files(world) -> list[Path]:
    return sorted(world["a"].parent.glob("tables/*/table.parquet"))


def _rewrite(table: Path, df: pd.DataFrame) -> None:
    """Replace a table's bytes and make its checksum in meta.json match (a careful forger)."""
    df.to_parquet(table, index=False)
    meta_path = table.with_name("meta.json")
    meta = json.loads(meta_path.read_text())
    meta["table_sha256"] = hashlib.sha256(table.read_bytes()).hexdigest()
    meta_path.write_text(json.dumps(meta, indent=2))


def _edit_score(table: Path) -> None:
    df = pd.read_parquet(table)
    i = int(np.flatnonzero(df["finite"].to_numpy())[len(df) // 2])
    df.loc[i, "score"] = df.loc[i, "score"] + 0.5
    _rewrite(table, df)


def _swap_rows(table: Path) -> None:
    df = pd.read_parquet(table)
    s = df["score"].to_numpy().copy()
    i, j = int(np.argmax(s)), int(np.argmin(s))
    s[i], s[j] = s[j], s[i]
    df["score"] = s
    _rewrite(table, df)


def _flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def _cases(world):
    """(name, tamper) for every file of the audit folder and every table, plus the structural forgeries."""
    folder = world["a"].parent
    cases = []
    for f in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = f.relative_to(folder).as_posix()
        if f.name == "table.parquet":
            cases += [(f"edit one score of {rel}, checksum rewritten", lambda f=f: _edit_score(f)),
                      (f"swap two rows of {rel}, checksum rewritten", lambda f=f: _swap_rows(f)),
                      (f"flip a byte of {rel}", lambda f=f: _flip_byte(f))]
        if f.name in ("results.json", "meta.json", "table.parquet"):
            cases.append((f"FIFO in place of {rel}", lambda f=f: _fifo(f)))
        if f.name == "meta.json":
            cases.append((f"flip a byte of {rel}", lambda f=f: _flip_byte(f)))
    for sub in ("tables", "figures", "downloads", "search", "assets"):
        def link_out(sub=sub):
            target = world["root"] / f"elsewhere-{sub}"
            shutil.copytree(folder / sub, target, dirs_exist_ok=True)
            shutil.rmtree(folder / sub)
            (folder / sub).symlink_to(target)
        cases.append((f"{sub}/ a symbolic link out of the folder", link_out))

    def edit_doc(fn):
        def go():
            doc = json.loads(world["a"].read_text())
            fn(doc)
            world["a"].write_text(json.dumps(doc, indent=2))
        return go

    def table_path_out(doc, how):
        task = "token_optimality"
        prompt = next(iter(doc["results"][task]["tables"]))
        doc["results"][task]["tables"][prompt] = how

    b_folder = world["b"].parent
    cases += [
        ("a table path pointing outside (../)", edit_doc(lambda d: table_path_out(d, "../../../elsewhere/table.parquet"))),
        ("a table path pointing outside (absolute)", edit_doc(lambda d: table_path_out(d, str(_table_files(world)[0])))),
        ("a figure path pointing outside", edit_doc(lambda d: d["results"]["token_optimality"]["figures"].append(
            "../../../../etc/passwd"))),
        ("B's document copied over A's", lambda: shutil.copyfile(world["b"], world["a"])),
        ("B's tables copied in and cited", lambda: _cite_b_tables(world, folder, b_folder)),
        ("trust_remote_code claimed", edit_doc(lambda d: d["model"].__setitem__("trust_remote_code", True))),
        ("a registry entry claimed", edit_doc(lambda d: d["model"].__setitem__("registry_entry", "Skywork/Skywork-Reward-Llama-3.1-8B"))),
    ]
    return cases


def _cite_b_tables(world, folder: Path, b_folder: Path) -> None:
    doc = json.loads(world["a"].read_text())
    b_doc = json.loads(world["b"].read_text())
    for prompt, rel in b_doc["results"]["token_optimality"]["tables"].items():
        shutil.copytree(b_folder / Path(rel).parent, folder / Path(rel).parent, dirs_exist_ok=True)
        doc["results"]["token_optimality"]["tables"][prompt] = rel
    world["a"].write_text(json.dumps(doc, indent=2))


def test_every_file_tampered_fails_verification_refuses_and_changes_nothing_outside(world, verified):
    root = world["root"]
    n_cases = len(_cases(world))
    assert n_cases >= 25
    for i in range(n_cases):
        name, tamper = _cases(world)[i]
        tamper()
        outside = _tree(root, (world["results"], world["store"].root, world["pristine"]))
        try:
            try:
                result = _verify(world)
                assert result.status != "verified", f"{name}: verified"
            except UserError:
                pass  # refused with one line
            assert open_audit(world["a"]).display_id not in _badged(world) if _opens(world) else True, \
                f"{name}: still badged"
            after = _tree(root, (world["results"], world["store"].root, world["pristine"]))
            assert after == outside, f"{name}: changed files outside the audit"
        finally:
            for p in root.glob("elsewhere-*"):
                shutil.rmtree(p, ignore_errors=True)
            _restore(world)


def _opens(world) -> bool:
    try:
        open_audit(world["a"])
        return True
    except UserError:
        return False


def test_a_consistent_forgery_is_caught_by_the_rescored_sample(world, verified):
    """5% of one table's rows altered, checksums rewritten and the document re-analysed to match: only the
    rescored rows can tell, and they do (a 5% forgery escapes the default sample with probability < 1e-9)."""
    from harness.tasks.discovery import discover
    from harness.tasks.stored import reanalyse

    try:
        table = _table_files(world)[0]
        df = pd.read_parquet(table)
        rng = np.random.default_rng(1)
        rows = rng.choice(len(df), size=len(df) // 20, replace=False)
        df.loc[rows, "score"] = df.loc[rows, "score"] + 0.01
        _rewrite(table, df)
        specs = discover([str(world["tasks"])])
        reanalyse(Layout(world["results"]), str(world["a"].parent), [specs[t] for t in BUILTIN])
        result = _verify(world)
        assert result.status == "mismatch"
        assert any("rescored rows differ" in p for p in result.problems)
    finally:
        _restore(world)


def test_a_forged_named_row_is_caught_whatever_the_sample(world, verified):
    """The top row of a table raised and everything made consistent: a named row, so rescored every time."""
    from harness.tasks.discovery import discover
    from harness.tasks.stored import reanalyse

    try:
        table = _table_files(world)[0]
        df = pd.read_parquet(table)
        top = int(df["score"].idxmax())
        df.loc[top, "score"] = df.loc[top, "score"] + 0.01
        _rewrite(table, df)
        reanalyse(Layout(world["results"]), str(world["a"].parent),
                  [discover([str(world["tasks"])])[t] for t in BUILTIN])
        assert _verify(world, seed=1).status == "mismatch"  # any seed: named rows are always rescored
    finally:
        _restore(world)


# --- trust decisions never come from data ------------------------------------------------------------------


def test_verify_loads_only_the_folder_the_maintainer_names(world, verified, tmp_path):
    with pytest.raises(UserError, match="--model PATH"):
        V.verify(world["a"], store=world["store"], include_path=[str(world["tasks"])])
    with pytest.raises(UserError, match="revision"):  # another model's folder: its content hash differs
        _verify(world, model_path=str(world["model_b"]))


def test_verify_never_runs_code_the_audit_asks_for(world, llama3_dir, tmp_path):
    """A local audit of a model with its own code, claiming trust_remote_code: verify without the flag refuses
    and imports nothing from the folder."""
    code_model = builders.custom_code_model(llama3_dir, tmp_path / "coded")
    marker = tmp_path / "imported"
    modeling = code_model / "modeling_toyrm.py"
    modeling.write_text(f"open({str(marker)!r}, 'w').close()\n" + modeling.read_text())
    from harness.models.identity import resolve_model_ref

    ref = resolve_model_ref(str(code_model), trust_remote_code=True, output_field="score")
    layout = Layout(tmp_path / "results")
    folder = layout.audit_dir(ref)
    folder.mkdir(parents=True)
    doc = {"model": {**ref.to_json()}, "results": {}}
    (folder / "results.json").write_text(json.dumps(doc))
    marker.unlink(missing_ok=True)
    with pytest.raises(UserError, match="--trust-remote-code"):
        V.verify(folder, store=world["store"], model_path=str(code_model))
    assert not marker.exists()


def test_a_record_results_path_is_never_followed(world, verified, tmp_path):
    victim = tmp_path / "victim" / "results.json"
    victim.parent.mkdir()
    victim.write_text('{"keep": true}')
    a = open_audit(world["a"])
    record_dir = world["results"] / "requests" / a.slug / a.folder.name
    record_dir.mkdir(parents=True, exist_ok=True)
    record = record_dir / "20260101T000000000000Z-1.json"
    record.write_text(json.dumps({"model": a.display_id, "precision": "float32", "status": "FINISHED",
                                  "results_path": str(Path("..") / ".." / ".." / ".." / victim)}))
    try:
        assert V.audit_path_of(record) == world["a"]
        assert _verify(world, path=record).status == "verified"
        assert victim.read_text() == '{"keep": true}'
    finally:
        _restore(world)


def test_the_board_computes_its_comparison_from_trusted_audits_only(world, verified, tmp_path):
    """A planted _compare/ with fake numbers never shows; B (untrusted: computed by someone else's store) never
    enters the comparison."""
    from harness.leaderboard.build import build

    fake = world["results"] / "_compare" / "compare.json"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text(json.dumps({"model": {"id": "comparison", "models": ["x", "y"]},
                                "results": {"heterogeneity": {"metrics": {"best/kendall_mean": {
                                    "value": 0.987654321, "higher_is_better": None, "definition": "forged"}},
                                    "settings": {}}}}))
    try:
        index = build(world["results"], tmp_path / "site", trust=world["store"])
        text = " ".join(p.read_text() for p in index.parent.rglob("*.html"))
        assert "0.987654321" not in text and "forged" not in text
        assert "at least two trusted audits" in (index.parent / "compare.html").read_text()
    finally:
        _restore(world)


def test_a_task_file_with_yaml_aliases_is_refused_at_once(tmp_path):
    import subprocess
    import sys

    bomb = "metadata:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"  {c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi"))
    (tmp_path / "bomb.yaml").write_text("task: bomb\nprompts: {a: hi}\nresponses: {type: vocabulary}\n"
                                        "analysis: {name: token_optimality}\n" + bomb)
    done = subprocess.run([sys.executable, "-m", "harness.cli", "tasks", "validate", str(tmp_path / "bomb.yaml")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "alias" in done.stderr or "anchor" in done.stderr
    assert "Traceback" not in done.stderr
