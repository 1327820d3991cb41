"""Bad input gets a clear error that says what to do: ids, revisions, remote code, output fields."""

from __future__ import annotations

import pytest
import torch

from conftest import PROMPT
from harness.cli import main
from harness.models import loading
from harness.errors import UserError
from harness.models.identity import check_device, resolve_model_ref
from harness.models.loading import ModelLoadError, load_scorer
from harness.models.scorer import OutputError


def test_not_a_folder_nor_hub_id():
    with pytest.raises(UserError, match="local folder"):
        resolve_model_ref("no/such/thing/here")


def test_folder_without_config(tmp_path):
    with pytest.raises(UserError, match="config.json"):
        resolve_model_ref(str(tmp_path))


def _hub_error(cls):
    err = cls.__new__(cls)  # the real constructors want an HTTP response object
    Exception.__init__(err, "404 Client Error")
    return err


def _hub_raising(monkeypatch, exc):
    import huggingface_hub

    class Api:
        def model_info(self, *a, **k):
            raise exc

    monkeypatch.setattr(huggingface_hub, "HfApi", Api)


def test_unknown_hub_id_says_how_to_use_a_folder(monkeypatch):
    from huggingface_hub.errors import RepositoryNotFoundError

    _hub_raising(monkeypatch, _hub_error(RepositoryNotFoundError))
    with pytest.raises(UserError, match="--model ./path"):
        resolve_model_ref("org/missing-model")


def test_revision_not_found(monkeypatch):
    from huggingface_hub.errors import RevisionNotFoundError

    _hub_raising(monkeypatch, _hub_error(RevisionNotFoundError))
    with pytest.raises(UserError, match="revision .nope. not found"):
        resolve_model_ref("org/model", revision="nope")


def test_unreachable_hub_without_cache(monkeypatch):
    _hub_raising(monkeypatch, ConnectionError("offline"))
    with pytest.raises(UserError, match="unreachable"):
        resolve_model_ref("org/never-downloaded-model")


def test_remote_code_needs_consent(tiny_models):
    with pytest.raises(UserError, match="--trust-remote-code"):
        load_scorer(str(tiny_models["custom"]), output_field="score")


def test_output_field_missing(tiny_models):
    scorer = load_scorer(str(tiny_models["custom"]), trust_remote_code=True)  # default field: logits
    split = scorer.split(PROMPT)
    with pytest.raises(OutputError, match="no tensor field 'logits'.*score"):
        scorer.score_full(torch.tensor([list(split.prefix_ids) + [100] + list(split.suffix_ids)]))


def test_multi_output_head_needs_an_index(tmp_path, llama3_dir):
    import builders

    folder = builders.tiny_classifier("Llama", llama3_dir, tmp_path / "multi", num_labels=3)
    scorer = load_scorer(str(folder))
    split = scorer.split(PROMPT)
    ids = torch.tensor([list(split.prefix_ids) + [100] + list(split.suffix_ids)])
    with pytest.raises(OutputError, match="index"):
        scorer.score_full(ids)
    first = load_scorer(str(folder), output_index=0)  # like URM: logits[:, 0]
    full = first.model(input_ids=ids).logits[0, 0].item()
    assert abs(first.score_full(ids)[0].item() - full) < 1e-5


def test_cli_prints_the_message_not_a_traceback(capsys):
    assert main(["scan", "--model", "./nowhere/at/all"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err


def test_cuda_requested_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(UserError, match="--device cpu"):
        check_device("cuda")
