"""Shared fixtures: real tokenizers (built once per machine) and tiny models around them (once per session)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# The maintainer's trust store of this test session (never the user's own): subprocesses inherit it.
os.environ.setdefault("RM_HARNESS_TRUST_STORE", tempfile.mkdtemp(prefix="rm-harness-test-trust-"))
sys.path.insert(0, str(Path(__file__).parent))

import builders  # noqa: E402

SHARED_DATA = Path(os.environ.get("RM_HARNESS_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
PROMPT = "What, in one word, is the best thing ever?"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"reference data not found at {SHARED_DATA} (the project's shared/ folder beside the repo)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def llama3_dir() -> Path:
    return builders.llama3_tokenizer_dir()


@pytest.fixture(scope="session")
def gemma_dir() -> Path:
    return builders.gemma_tokenizer_dir()


@pytest.fixture(scope="session")
def mistral_dir() -> Path:
    try:
        return builders.mistral_tokenizer_dir()
    except Exception as e:  # the wheel comes from PyPI on first use
        pytest.skip(f"Mistral tokenizer unavailable: {e}")


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory, llama3_dir) -> Path:
    """One tiny Llama reward model (the Llama-3 vocabulary), for tests that need a single real model."""
    return builders.tiny_classifier("Llama", llama3_dir, tmp_path_factory.mktemp("tiny-llama") / "llama")


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory, llama3_dir, gemma_dir, mistral_dir) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    return {
        "llama": builders.tiny_classifier("Llama", llama3_dir, root / "llama"),
        "gemma2": builders.tiny_classifier("Gemma2", gemma_dir, root / "gemma2"),
        "mistral": builders.tiny_classifier("Mistral", mistral_dir, root / "mistral"),
        "custom": builders.custom_code_model(llama3_dir, root / "custom"),
    }


@pytest.fixture(scope="session")
def scorers(tiny_models):
    from harness.models.loading import load_scorer

    return {
        "llama": load_scorer(str(tiny_models["llama"])),
        "gemma2": load_scorer(str(tiny_models["gemma2"])),
        "mistral": load_scorer(str(tiny_models["mistral"])),
        "custom": load_scorer(str(tiny_models["custom"]), trust_remote_code=True, output_field="score"),
    }
