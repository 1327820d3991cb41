"""Analyses declare the scorer kinds they are valid for; tasks narrow, never widen; skips carry a reason."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.analyses import registry
from harness.analyses.base import SCORER_KINDS
from harness.tasks import TaskSpecError, load_task
from harness.tasks.spec import effective_scorers

# What each built-in analysis means for each scorer kind (docs/analyses.md says why).
EXPECTED = {
    "token_optimality": {"reward", "lm_logprob", "dpo", "judge"},
    "distribution_tails": {"reward", "lm_logprob", "dpo", "judge"},
    "framing_tables": {"reward", "lm_logprob", "dpo", "judge"},
    "human_agreement": {"reward", "lm_logprob", "dpo", "judge"},
    "framing_asymmetry": {"reward", "dpo", "judge"},
    "frequency_bias": {"reward", "dpo", "judge"},
    "identity_bias": {"reward", "dpo", "judge"},
    "heterogeneity": {"reward", "dpo", "judge"},
    "base_model_comparison": {"lm_logprob"},
}


def test_every_analysis_declares_its_kinds():
    assert set(registry.names()) == set(EXPECTED)
    for name, kinds in EXPECTED.items():
        assert registry.scorers(name) == kinds, name


def test_gcg_is_a_model_level_task_for_the_optimisable_kinds():
    from harness.analyses import model_tasks
    from harness.gcg import task as _gcg_task  # noqa: F401 (registers the GCG model task)
    from harness.tasks.catalog import scorers as analysis_scorers

    assert "gcg" not in registry.names() and model_tasks.names() == ["gcg"]
    assert analysis_scorers("gcg") == {"reward", "judge"}  # kinds.py: optimisable


def test_skip_reason_is_one_line_and_only_for_invalid_kinds():
    for name in registry.names():
        for kind in SCORER_KINDS:
            why = registry.skip_reason(name, kind)
            if kind in EXPECTED[name]:
                assert why is None
            else:
                assert why and "\n" not in why and name in why and kind in why
    assert "leading space" in registry.skip_reason("identity_bias", "lm_logprob")
    assert "framing_tables" in registry.skip_reason("framing_asymmetry", "lm_logprob")
    with pytest.raises(KeyError):
        registry.skip_reason("no_such_analysis", "reward")


def test_register_rejects_unknown_kinds_and_contradictions():
    with pytest.raises(ValueError, match="scorers"):
        registry.register("x_bad", scorers=("classifier",))
    with pytest.raises(ValueError, match="scorers"):
        registry.register("x_empty", scorers=())
    with pytest.raises(ValueError, match="why_not"):
        registry.register("x_both", scorers=("reward",), why_not={"reward": "?"})


def _task(folder: Path, analysis: str, scorer: str | None, **args) -> Path:
    data = {"task": "t", "prompts": {"best": "B?"}, "responses": {"type": "vocabulary"},
            "analysis": {"name": analysis, "args": args}, "metadata": {"version": 1}}
    if scorer is not None:
        data["scorer"] = scorer
    p = folder / f"{analysis}_{scorer}.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


def test_task_may_narrow_never_widen(tmp_path):
    spec = load_task(_task(tmp_path, "identity_bias", None))
    assert effective_scorers(spec) == {"reward", "dpo", "judge"}
    assert spec.applies_to("reward") and spec.applies_to("dpo") and not spec.applies_to("lm_logprob")
    narrowed = load_task(_task(tmp_path, "token_optimality", "lm_logprob"))
    assert effective_scorers(narrowed) == {"lm_logprob"} and not narrowed.applies_to("reward")
    path = _task(tmp_path, "identity_bias", "lm_logprob")
    with pytest.raises(TaskSpecError) as ei:
        load_task(path)
    assert ei.value.field == "scorer" and path.name in str(ei.value) and "not valid for 'lm_logprob'" in str(ei.value)


def test_every_module_that_registers_an_analysis_is_loaded_by_name():
    """The built-in analyses are imported by a literal list (registry._load_builtin): a module with an
    @register decorator missing from it would silently register nothing."""
    import ast

    import harness.analyses as pkg
    from harness.analyses import registry

    registering = set()
    for path in Path(pkg.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and any(
                    isinstance(d, ast.Call) and getattr(d.func, "id", None) == "register" for d in node.decorator_list):
                registering.add(path.stem)
    (loader,) = [n for n in ast.walk(ast.parse(Path(registry.__file__).read_text(encoding="utf-8")))
                 if isinstance(n, ast.FunctionDef) and n.name == "_load_builtin"]
    listed = {a.name for n in ast.walk(loader) if isinstance(n, ast.ImportFrom) for a in n.names}
    assert len(registering) >= 9 and listed == registering, (sorted(registering - listed), sorted(listed - registering))
