"""The model registry holds the study's facts: dtypes, base families, remote-code decisions."""

from __future__ import annotations

import pytest

from harness.models.registry import ModelSpec, _parse, lookup, registry

FLOAT16 = {"LxzGordon/URM-LLaMa-3.1-8B", "Ray2333/GRM-Llama3-8B-rewardmodel-ft",
           "Ray2333/GRM-Llama3.2-3B-rewardmodel-ft", "Ray2333/GRM-gemma2-2B-rewardmodel-ft"}
REMOTE_CODE = {"nicolinho/QRM-Gemma-2-27B", "nicolinho/QRM-Llama3.1-8B", "RLHFlow/ArmoRM-Llama3-8B-v0.1"}


def test_study_dtypes_and_remote_code():
    reg = registry()
    assert len(reg) == 10
    for mid, spec in reg.items():
        assert spec.dtype == ("float16" if mid in FLOAT16 else "bfloat16"), mid
        assert spec.trust_remote_code == (mid in REMOTE_CODE), mid
    assert reg["LxzGordon/URM-LLaMa-3.1-8B"].index == 0  # column 0 of a multi-output head, stock class
    assert lookup("LxzGordon/URM-LLaMa-3.1-8B", dtype="bfloat16").dtype == "bfloat16"  # the user overrides


def test_base_family_ignores_the_version():
    reg = registry()
    fam = {spec.base_family for spec in reg.values()}
    assert fam == {"Gemma", "Llama"}
    r8 = reg["Ray2333/GRM-Llama3-8B-rewardmodel-ft"]
    s8 = reg["Skywork/Skywork-Reward-Llama-3.1-8B-v0.2"]
    assert (r8.base_version, s8.base_version) == ("Llama 3", "Llama 3.1") and r8.base_family == s8.base_family


def test_unknown_fields_and_kinds_are_refused(tmp_path):
    p = tmp_path / "r.yaml"
    p.write_text("models:\n  a/b: {base: Llama 3}\n")
    with pytest.raises(ValueError, match="unknown field"):
        _parse(p)
    p.write_text("models:\n  a/b: {kind: classifier}\n")
    with pytest.raises(ValueError, match="kind"):
        _parse(p)
    p.write_text("models:\n  a/b: {kind: dpo}\n")
    assert _parse(p)["a/b"] == ModelSpec(id="a/b", kind="dpo")
