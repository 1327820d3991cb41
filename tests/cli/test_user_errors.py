"""Every bad input exits 2 with exactly one `error:` line on stderr, naming the input, and no traceback.

Each case runs the console script (`python -m harness.cli`, or `submit.py`) in a subprocess. Cases that need a
model use one folder whose weights file is garbage: the error must be about the input, so it must come before the
weights load (a message about loading the weights means the check came too late).
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import builders

from repo_paths import REPO  # noqa: E402
BUILTIN = REPO / "tasks"
WEIGHTS_WORDS = ("could not load", "safetensors", "weights")


def run_cli(*argv: str, script: str | None = None, env: dict | None = None, cwd: Path | None = None,
            code: str | None = None) -> subprocess.CompletedProcess:
    """The console script (or submit.py, or a `-c` child that patches something first) in a subprocess."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", **(env or {})}
    if code is not None:
        cmd = [sys.executable, "-c", code, *argv]
    elif script is not None:
        cmd = [sys.executable, str(REPO / script), *argv]
    else:
        cmd = [sys.executable, "-m", "harness.cli", *argv]
    return subprocess.run(cmd, capture_output=True, text=True, env=full_env, cwd=cwd or REPO, timeout=120)


def error_line(proc: subprocess.CompletedProcess, *needles: str) -> str:
    """Assert the user-error contract and return the one line."""
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-3000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr[-3000:]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def about_input(line: str) -> None:
    assert not any(w in line for w in WEIGHTS_WORDS), f"the weights were loaded before the input was checked: {line}"


@pytest.fixture(scope="module")
def model(tmp_path_factory, llama3_dir) -> Path:
    """A model folder whose config and tokenizer are real and whose weights file is garbage."""
    from transformers import AutoTokenizer, LlamaConfig

    out = tmp_path_factory.mktemp("garbage-model") / "m"
    tok = AutoTokenizer.from_pretrained(llama3_dir)
    LlamaConfig(vocab_size=len(tok), num_labels=1, pad_token_id=tok.eos_token_id, **builders.TINY).save_pretrained(out)
    tok.save_pretrained(out)
    (out / "model.safetensors").write_bytes(b"this is not a safetensors file\n" * 64)
    return out


def task_dir(tmp_path: Path, name: str, text: str | bytes) -> Path:
    """A folder with one task YAML (the built-in prompts fragment beside it)."""
    d = tmp_path / "tasks"
    d.mkdir(exist_ok=True)
    shutil.copy(BUILTIN / "_prompts.yaml", d / "_prompts.yaml")
    path = d / f"{name}.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return d


def token_task(name: str, prompts: str = "[best]", k: str = "20") -> str:
    return textwrap.dedent(f"""\
        task: {name}
        include: _prompts.yaml
        prompts: {prompts}
        responses: {{type: vocabulary}}
        scope: model
        analysis:
          name: token_optimality
          args:
            k: {k}
        metadata:
          version: 1
        """)


# --- no model needed -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("argv, needles", [
    (["run", "--batch-size", "0"], ["--batch-size", "'0'"]),
    (["run", "--batch-size", "abc"], ["--batch-size", "'abc'"]),
    (["run", "--limit", "0"], ["--limit"]),
    (["scan", "--prompt", ""], ["--prompt"]),
    (["scan", "--prompt", "  \t "], ["--prompt"]),
    (["parity", "--prompt", " "], ["--prompt"]),
    (["gcg", "--prompt", "\n"], ["--prompt"]),
    (["scan", "--device", "tpu9"], ["--device 'tpu9'", "cpu"]),
    (["run", "--tasks", "no_such_task"], ["no_such_task", "tasks:"]),
    (["tasks", "validate", "--include-path", "/no/such/folder"], ["/no/such/folder"]),
])
def test_bad_arguments(argv, needles):
    error_line(run_cli(*argv), *needles)


def test_output_dir_is_a_file_or_under_one(tmp_path):
    f = tmp_path / "afile"
    f.write_text("x")
    error_line(run_cli("run", "--output-dir", str(f)), str(f), "is a file")
    error_line(run_cli("scan", "--output-dir", str(f / "sub")), str(f), "is a file")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere; the file and under-a-file cases cover root")
def test_output_dir_not_writable(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        error_line(run_cli("run", "--output-dir", str(ro / "out")), "not writable")
    finally:
        ro.chmod(0o755)


def test_task_yaml_not_utf8(tmp_path):
    d = task_dir(tmp_path, "latin", token_task("latin").encode().replace(b"task: latin", b"task: latin # caf\xe9"))
    error_line(run_cli("tasks", "validate", str(d)), "latin.yaml", "UTF-8")
    error_line(run_cli("run", "--include-path", str(d), "--tasks", "latin"), "latin.yaml", "UTF-8")


def test_analysis_arg_of_wrong_type_fails_validate(tmp_path):
    d = task_dir(tmp_path, "typed", token_task("typed", k='"twenty"'))
    error_line(run_cli("tasks", "validate", str(d)), "typed.yaml", "analysis.args.k", "int", "'twenty'")


def test_analysis_arg_types_from_signature():
    """int rejects bool and str, float takes int, Optional takes null, list rejects a string; unknown types pass."""
    import inspect

    from harness.tasks.checks import TaskSpecError, _check_arg_type

    def f(tables, k: int = 1, p: float = 0.5, flag: bool = False, name: str = "x", xs: list[str] | None = None,
          any_=None, n=3):
        return tables

    params = inspect.signature(f).parameters
    good = {"k": 2, "p": 1, "flag": True, "name": "y", "xs": None, "any_": object(), "n": 4}
    for key, value in good.items():
        _check_arg_type(params[key], value, Path("t.yaml"))
    bad = {"k": True, "p": "0.9", "flag": "yes", "name": 3, "xs": "best", "n": "3"}
    for key, value in bad.items():
        with pytest.raises(TaskSpecError, match=f"analysis.args.{key}"):
            _check_arg_type(params[key], value, Path("t.yaml"))


def test_blank_prompt_in_task_yaml(tmp_path):
    d = task_dir(tmp_path, "blank", token_task("blank", prompts='{best: "  "}'))
    error_line(run_cli("tasks", "validate", str(d)), "blank.yaml", "prompts.best")


def test_leaderboard_out_on_a_foreign_folder(tmp_path):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    (tmp_path / "results").mkdir()
    error_line(run_cli("leaderboard", "--results-dir", str(tmp_path / "results"), "--out", str(foreign)),
               str(foreign), "choose")
    assert (foreign / "notes.txt").read_text() == "keep me"


def test_disk_full_is_one_line(tmp_path):
    """ENOSPC on every file created under the target (patched in the child at os.open and io.open, which every
    writer goes through): one line naming the file, exit 2."""
    code = textwrap.dedent("""\
        import builtins, errno, io, os, sys
        ROOT = os.environ["FULL_DISK_ROOT"]
        def full(path):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fspath(path))
        real_os_open, real_io_open = os.open, io.open
        def os_open(path, flags, *a, **k):
            if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and os.path.abspath(path).startswith(ROOT):
                full(path)
            return real_os_open(path, flags, *a, **k)
        def io_open(file, mode="r", *a, **k):
            if isinstance(file, (str, os.PathLike)) and set(mode) & set("wax+") and \\
                    os.path.abspath(file).startswith(ROOT):
                full(file)
            return real_io_open(file, mode, *a, **k)
        os.open, io.open, builtins.open = os_open, io_open, io_open
        from harness.cli import main
        sys.exit(main(sys.argv[1:]))
        """)
    (tmp_path / "results").mkdir()
    site = tmp_path / "site"
    proc = run_cli("leaderboard", "--results-dir", str(tmp_path / "results"), "--out", str(site), code=code,
                   env={"FULL_DISK_ROOT": str(tmp_path)})
    error_line(proc, "cannot write", "No space left on device", str(tmp_path))


def test_run_guarded_in_process(capsys):
    from harness.cli.args import run_guarded

    def full(argv):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/x/table.parquet")

    assert run_guarded(full, [], debug=False) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: cannot write (/x/table.parquet)")


def test_debug_shows_the_traceback():
    proc = run_cli("run", "--debug", "--batch-size", "0")
    assert proc.returncode == 2 and "Traceback" in proc.stderr and "error: --batch-size" in proc.stderr


# --- a model folder whose weights are garbage: every error must come first ----------------------------------------

def items_file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("name, data, column, needle", [
    ("latin.csv", b"name\ncaf\xe9\n", "name", "UTF-8"),
    ("empty.csv", b"", "name", "empty.csv"),
    ("header.csv", b"name\n", "name", "header.csv"),
    ("cols.csv", b"word\nyes\n", "name", "name"),
])
def test_items_file_checked_before_the_model(tmp_path, model, name, data, column, needle):
    path = items_file(tmp_path, name, data)
    line = error_line(run_cli("scan", "--model", str(model), "--items", str(path), "--column", column,
                              "--output-dir", str(tmp_path / "out")), needle, name)
    about_input(line)


BAD_TEMPLATES = [
    ("{% for m in messages %}{{ m.content }", "not valid Jinja"),
    ("{{ raise_exception('this template takes no assistant turn') }}", "this template takes no assistant turn"),
    ("{% for m in messages %}{{ messages.append(m) }}{% endfor %}", "sandbox forbids"),
]


def test_task_items_file_checked_before_the_model(tmp_path, model):
    d = task_dir(tmp_path, "few", textwrap.dedent("""\
        task: few
        prompts: {best: "What, in one word, is the best thing ever?"}
        responses: {type: items, path: items.csv, column: name}
        analysis: {name: token_optimality, args: {k: 2}}
        metadata: {version: 1}
        """))
    (d / "items.csv").write_text("name\n")
    proc = run_cli("run", "--model", str(model), "--include-path", str(d), "--tasks", "few", "--output-dir",
                   str(tmp_path / "o"))
    about_input(error_line(proc, "items.csv", "no rows"))
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("template, needle", BAD_TEMPLATES)
def test_bad_chat_template_is_a_template_error(model, template, needle):
    """transformers' own rendering path raises Jinja's errors; the one render site turns each into one line."""
    from transformers import AutoTokenizer

    from harness.models.templates import TemplateError, split_template

    with pytest.raises(TemplateError, match=needle) as e:
        split_template(AutoTokenizer.from_pretrained(model), "Best?", template)
    assert "--chat-template" in e.value.one_line() and "\n" not in e.value.one_line()


def test_bad_chat_template_in_scan_and_run(tmp_path, model):
    """Both commands fail with the one line before any weights load or anything is written."""
    syntax, raising = BAD_TEMPLATES[0][0], BAD_TEMPLATES[1][0]
    scan = run_cli("scan", "--model", str(model), "--chat-template", syntax, "--output-dir", str(tmp_path / "o"))
    about_input(error_line(scan, "not valid Jinja", "--chat-template"))
    run = run_cli("run", "--model", str(model), "--chat-template", raising, "--tasks", "token_optimality",
                  "--output-dir", str(tmp_path / "o"))
    about_input(error_line(run, "no assistant turn", "--chat-template"))
    assert not (tmp_path / "o").exists()


def test_revision_on_a_local_folder(model):
    about_input(error_line(run_cli("scan", "--model", str(model), "--revision", "main"), "--revision", "drop it"))


def test_push_target_checked_before_scoring(tmp_path, model):
    base = ["--model", str(model), "--tasks", "token_optimality", "--output-dir", str(tmp_path / "o")]
    about_input(error_line(run_cli(*base, "--push", "not a repo id", script="submit.py"), "--push", "ORG/NAME"))
    no_creds = {"HF_TOKEN": "", "HF_HOME": str(tmp_path / "hf"), "HF_TOKEN_PATH": str(tmp_path / "hf" / "token")}
    about_input(error_line(run_cli(*base, "--push", "org/audits", script="submit.py", env=no_creds),
                           "credentials", "HF_TOKEN"))


def test_second_concurrent_submit(tmp_path, model):
    """While one process holds a model revision's lock, a second submit of it is refused with one line."""
    from filelock import FileLock

    from harness.models.identity import resolve_model_ref
    from harness.results.layout import Layout

    out = tmp_path / "o"
    lock = Layout(out).lock_path(resolve_model_ref(str(model)))
    lock.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(lock), thread_local=False):  # the lock the harness takes, held by this process
        proc = run_cli("--model", str(model), "--tasks", "token_optimality", "--output-dir", str(out),
                       script="submit.py")
    about_input(error_line(proc, "being audited by another process"))


def test_cost_estimate_needs_yes_past_an_hour(tmp_path, model, monkeypatch, capsys):
    """With a (patched) slow rate the plan is over an hour: refused without --yes, before any weights load."""
    from harness.cli import main
    from harness.tasks import plan

    monkeypatch.setattr(plan, "CPU_ROWS_PER_S_AT_1B", 1e-6)
    argv = ["run", "--model", str(model), "--device", "cpu", "--tasks", "token_optimality",
            "--output-dir", str(tmp_path / "o")]
    assert main(argv) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(err) == 1 and err[0].startswith("error: ") and "--yes" in err[0] and "days" in err[0], err
    about_input(err[0])
    # with --yes the run goes on, and only then meets the garbage weights
    assert main(argv + ["--yes"]) == 2
    out = capsys.readouterr()
    assert "plan: up to" in out.out and "could not load" in out.err, out
