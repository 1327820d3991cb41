"""Fault injection: SIGKILL a child process at each write boundary, rerun, and check nothing is stuck, lost or torn.

The kill points are named in harness/io/atomic.py (`before_rename` / `after_rename` of every atomic write, with a
glob on the file name, and named points such as `scan.part_written` or `table.part_removed`); the child gets
`RM_HARNESS_KILL_AT=<point>[@<glob>]:<n>` and must die by SIGKILL at exactly that point, which proves the point was
reached (random kill times mostly land in `import torch`). Then the phase is rerun and its result compared with
one clean reference run.

Children are forked from one warm "zygote" process that has already imported torch and transformers (and never
computed anything, so forking it is safe): a kill case then costs a fork and the phase itself, not the ~5 s of
imports of a fresh interpreter. The forked child installs the kill hook as a fresh process would from its env.

To add a phase, add a `Phase` to PHASES: the child command, how to rerun it, how to check the rerun against the
clean reference, and its kill specs (deterministic ones, plus seeded random picks among its counted points).
"""

from __future__ import annotations

import fnmatch
import json
import os
import random
import select
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest
from test_table_integrity import assert_same_table

from harness.io import atomic
from harness.io.atomic import KILL_ENV, TRACE_ENV, is_temp_file
from harness.scoring.table import TableStore, sha256_hex

from repo_paths import REPO  # noqa: E402
PROMPT = "What, in one word, is the best thing ever?"
N_IDS, CHUNK = 160, 32  # five parts
N_PARTS = N_IDS // CHUNK
SEED = 20261126

# The child: the same scan as the clean reference (argv: model folder, table folder).
SCAN_CHILD = """
import sys
from harness.models.loading import load_scorer
from harness.scoring.responses import VocabularySet
from harness.scoring.scan import scan
from harness.scoring.table import TableStore
model, store = sys.argv[1], sys.argv[2]
scorer = load_scorer(model)
split = scorer.split({prompt!r})
vocab = VocabularySet(scorer.tokenizer, split, scorer.vocab_size, ids=list(range({n})))
scan(scorer, split, vocab, TableStore(store), chunk_rows={chunk}, progress=False, prompt_key="best")
print("FINISHED")
""".format(prompt=PROMPT, n=N_IDS, chunk=CHUNK)

# The zygote: import the heavy modules once, then fork one child per request line (JSON) and report how it ended.
ZYGOTE = r"""
import json, os, runpy, sys, traceback
import importlib
for name in sys.argv[1:]:  # transformers imports lazily: warm what the children would import
    importlib.import_module(name)
atomic = importlib.import_module("harness.io.atomic")
print("READY", flush=True)
for line in sys.stdin:
    req = json.loads(line)
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.chdir(req["cwd"])
            for fd, name in ((1, "stdout"), (2, "stderr")):
                out = os.open(os.path.join(req["cwd"], f".child.{name}"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
                os.dup2(out, fd)
            sys.stdout = os.fdopen(1, "w", buffering=1)
            sys.stderr = os.fdopen(2, "w", buffering=1)
            os.environ.update(req["env"])
            atomic.set_kill_hook(atomic.KillSwitch.from_env())  # what a fresh interpreter does
            sys.argv = req["argv"]
            if req.get("module"):
                runpy.run_module(req["module"], run_name="__main__", alter_sys=True)
            else:
                exec(compile(req["code"], "<child>", "exec"), {"__name__": "__main__"})
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except BaseException:
            traceback.print_exc()
            code = 1
        sys.stdout.flush(); sys.stderr.flush()
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    print(json.dumps({"signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                      "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None}), flush=True)
"""


# Modules the zygote imports before forking (add those of new phases: e.g. the demo model's architecture).
WARM_MODULES = [
    "torch", "transformers", "transformers.modeling_utils", "transformers.tokenization_utils_fast",
    "transformers.models.llama.modeling_llama", "transformers.models.llama.configuration_llama",
    "harness.io.atomic", "harness.models.loading", "harness.scoring.scan", "harness.scoring.responses",
    "harness.cli", "harness.cli.submit", "harness.tasks.runner", "harness.leaderboard.build", "matplotlib.pyplot",
]


@dataclass(frozen=True)
class Command:
    """What a child runs: Python `code` or a `module` (as `python -m`), with `argv` as its sys.argv."""

    argv: list[str]
    code: str | None = None
    module: str | None = None


@dataclass(frozen=True)
class Outcome:
    signal: int | None
    code: int | None
    stdout: str
    stderr: str


class Zygote:
    """A warm interpreter that forks children on request (POSIX only)."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", ZYGOTE, *WARM_MODULES], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=_env(), cwd=REPO)
        assert self._line(600) == "READY"

    def _line(self, timeout: float) -> str:
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            raise TimeoutError("the zygote did not answer")
        return self.proc.stdout.readline().strip()

    def run(self, cmd: Command, cwd: Path, env: dict[str, str], timeout: float = 300) -> Outcome:
        req = {"argv": cmd.argv, "code": cmd.code, "module": cmd.module, "cwd": str(cwd), "env": env}
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        status = json.loads(self._line(timeout))
        text = {}
        for name in ("stdout", "stderr"):
            path = cwd / f".child.{name}"
            text[name] = path.read_text(errors="replace")
            path.unlink()
        return Outcome(status["signal"], status["code"], text["stdout"], text["stderr"])

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


@dataclass
class World:
    """What every case shares: the tiny model, the loaded scorer (for in-process reruns) and the clean run."""

    model: Path
    scorer: Any
    clean: Any  # the clean run's result (here: the score table)
    trace: list[tuple[str, str]]  # every kill point the clean run passed, in order


def scan_in_process(world_or_scorer, store: Path, on_part: Callable | None = None):
    from harness.scoring.responses import VocabularySet
    from harness.scoring.scan import scan

    scorer = getattr(world_or_scorer, "scorer", world_or_scorer)
    split = scorer.split(PROMPT)
    vocab = VocabularySet(scorer.tokenizer, split, scorer.vocab_size, ids=list(range(N_IDS)))
    return scan(scorer, split, vocab, TableStore(store), chunk_rows=CHUNK, progress=False, prompt_key="best",
                on_part=on_part)


def check_scan_rerun(world: World, ws: Path) -> None:
    """Resume rescans only the parts that were not whole; the table equals the clean one; nothing is left over."""
    whole = {p.name.split(".")[0] for p in (ws / "tables").rglob("part-*.parquet")}
    rescanned = []
    table = scan_in_process(world, ws / "tables", on_part=lambda s, e: rescanned.append(f"part-{s:010d}-{e:010d}"))
    assert not whole & set(rescanned), "a whole part was scanned again"
    assert_same_table(table.df, world.clean.df)
    assert sorted(p.name for p in table.path.parent.iterdir()) == ["meta.json", "table.parquet"]


@dataclass(frozen=True)
class Phase:
    name: str
    child: Callable[[World, Path], Command]  # what the process to kill runs, for a workspace folder
    check_rerun: Callable[[World, Path], None]  # rerun the phase after the kill and compare with the clean run
    kills: tuple[str, ...]  # deterministic kill specs, each `<point>[@<glob>]:<n>`
    random_kills: tuple[tuple[str, int], ...] = field(default=())  # (point[@glob], how many the clean run passes)


def _scan_child(world: World, ws: Path) -> Command:
    return Command(["-c", str(world.model), str(ws / "tables")], code=SCAN_CHILD)


PHASES = [
    Phase("scan", _scan_child, check_scan_rerun,
          kills=("scan.part_written:2", "before_rename@part-*:3"),
          random_kills=(("after_rename@part-*", N_PARTS),)),
    Phase("merge", _scan_child, check_scan_rerun,
          kills=("before_rename@table.parquet:1", "before_rename@meta.json:1", "table.part_removed:2"),
          random_kills=(("table.part_removed", N_PARTS),)),
]


def _cases() -> list[tuple[Phase, str]]:
    rng = random.Random(SEED)
    cases = []
    for phase in PHASES:
        cases += [(phase, spec) for spec in phase.kills]
        cases += [(phase, f"{point}:{rng.randint(1, count)}") for point, count in phase.random_kills]
    return cases


CASES = _cases()


def _matches(spec: str, name: str, detail: str) -> bool:
    """Whether a point reached (`name`, `detail`) counts for `spec` (`<point>[@<glob>]:<n>`)."""
    point, _, glob = spec.rpartition(":")[0].partition("@")
    return name == point and (not glob or fnmatch.fnmatchcase(detail, glob))


def _count(trace: list[tuple[str, str]], spec: str) -> int:
    return sum(1 for name, detail in trace if _matches(spec, name, detail))


def _killed_at(spec: str, stderr: str) -> bool:
    """The child's last words (`kill point reached: <name>@<detail>:<n>`) name this spec's point and count."""
    lines = [ln[len("kill point reached: "):] for ln in stderr.splitlines() if ln.startswith("kill point reached: ")]
    if len(lines) != 1:
        return False
    where, _, n = lines[0].rpartition(":")
    name, _, detail = where.partition("@")
    return _matches(spec, name, detail) and n == spec.rpartition(":")[2]


@pytest.fixture(scope="module")
def world(tiny_llama, tmp_path_factory) -> World:
    from harness.models.loading import load_scorer

    scorer = load_scorer(str(tiny_llama))
    trace: list[tuple[str, str]] = []
    previous = atomic.set_kill_hook(atomic.KillSwitch([], trace=trace))
    try:
        clean = scan_in_process(scorer, tmp_path_factory.mktemp("clean") / "tables")
    finally:
        atomic.set_kill_hook(previous)
    return World(tiny_llama, scorer, clean, trace)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (KILL_ENV, TRACE_ENV)}
    env.update(PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", **extra)
    return env


def assert_no_torn_files(root: Path) -> None:
    """Right after a kill: every part and finished table that is visible matches its checksum."""
    for part in root.rglob("part-*.parquet"):
        assert sha256_hex(part.read_bytes()) == part.name.split(".")[1], f"torn part {part.name}"
    for meta in root.rglob("meta.json"):
        table = meta.parent / "table.parquet"
        assert table.exists() and sha256_hex(table.read_bytes()) == json.loads(meta.read_text())["table_sha256"]


def assert_no_leftovers(root: Path) -> None:
    left = [p for p in root.rglob(".*") if is_temp_file(p) or p.name.endswith(atomic.STAGING_SUFFIX)]
    assert not left, f"temp or staging files left: {left}"


def test_every_kill_point_is_on_the_clean_path(world):
    """Each case's point is passed at least n times by a clean run (else the kill below could never happen)."""
    for phase, spec in CASES:
        n = int(spec.rpartition(":")[2])
        assert _count(world.trace, spec) >= n, f"{phase.name}: {spec} is never reached"
    for phase in PHASES:
        for point, count in phase.random_kills:
            assert _count(world.trace, f"{point}:1") == count, f"{point}: a clean run no longer passes it {count} times"


@pytest.fixture(scope="module")
def zygote():
    if not hasattr(os, "fork"):
        pytest.skip("fault injection forks its children (POSIX only)")
    z = Zygote()
    yield z
    z.close()


@pytest.mark.parametrize("phase, spec", CASES, ids=[f"{p.name}-{s}" for p, s in CASES])
def test_kill_then_rerun_equals_clean_run(world, zygote, tmp_path, phase, spec):
    out = zygote.run(phase.child(world, tmp_path), tmp_path, {KILL_ENV: spec})
    assert out.signal == signal.SIGKILL, f"the child was not killed at {spec}:\n{out.stdout}\n{out.stderr[-3000:]}"
    assert _killed_at(spec, out.stderr) and "FINISHED" not in out.stdout, out.stderr[-3000:]
    assert_no_torn_files(tmp_path)
    phase.check_rerun(world, tmp_path)
    assert_no_leftovers(tmp_path)


# ---------------------------------------------------------------------------------------------------------------
# Phases of a whole submission: the results.json write, the submission record updates and the site build.
# One clean submit is the reference; each kill is followed by the same submit, which must end as the clean one did.

# The tiny random model fails the scorer sanity check; the override puts it on the board like a real model.
SUBMIT_TASKS = ["--tasks", "token_optimality", "--limit", str(N_IDS), "--batch-size", "64", "--allow-failed-sanity"]


def _submit_argv(model: Path, ws: Path) -> list[str]:
    return ["--model", str(model), "--output-dir", str(ws / "results"), "--leaderboard-out", str(ws / "site"),
            *SUBMIT_TASKS]


@dataclass
class SubmitWorld:
    model: Path
    metrics: dict
    trace: list[tuple[str, str]]


def _metrics(ws: Path) -> dict:
    (path,) = (ws / "results").glob("*/*/results.json")
    doc = json.loads(path.read_text())
    return {t: {k: m["value"] for k, m in b["metrics"].items()} for t, b in doc["results"].items()}


@pytest.fixture(scope="module")
def submit_world(tiny_llama, tmp_path_factory) -> SubmitWorld:
    from harness.cli.submit import main

    ws = tmp_path_factory.mktemp("clean-submit")
    trace: list[tuple[str, str]] = []
    previous = atomic.set_kill_hook(atomic.KillSwitch([], trace=trace))
    try:
        assert main(_submit_argv(tiny_llama, ws)) == 0
    finally:
        atomic.set_kill_hook(previous)
    return SubmitWorld(tiny_llama, _metrics(ws), trace)


def check_submit_rerun(world: SubmitWorld, ws: Path) -> None:
    """The same submission again: ends FINISHED with the clean run's metrics, one board row, nothing left over."""
    from harness.cli.submit import main

    assert main(_submit_argv(world.model, ws)) == 0
    assert _metrics(ws) == world.metrics
    records = [json.loads(p.read_text()) for p in sorted((ws / "results" / "requests").rglob("*.json"))]
    assert records[-1]["status"] == "FINISHED"
    assert all(r["status"] != "RUNNING" for r in records), "a killed attempt must not stay RUNNING"
    board = json.loads((ws / "site" / "leaderboard.json").read_text())
    assert len(board.get("models") or board.get("rows")) == 1
    assert_no_leftovers(ws)


SUBMIT_PHASES = [
    ("results.json", ("before_rename@results.json:1", "after_rename@results.json:1")),
    ("record", ("before_rename@*Z-*.json:2", "after_rename@*Z-*.json:3")),
    ("site", ("before_rename@site:1", "after_rename@site:1")),
]
SUBMIT_CASES = [(name, spec) for name, specs in SUBMIT_PHASES for spec in specs]


def test_every_submit_kill_point_is_on_the_clean_path(submit_world):
    for name, spec in SUBMIT_CASES:
        assert _count(submit_world.trace, spec) >= int(spec.rpartition(":")[2]), f"{name}: {spec} never reached"


@pytest.mark.parametrize("phase, spec", SUBMIT_CASES, ids=[f"{p}-{s}" for p, s in SUBMIT_CASES])
def test_kill_a_submission_then_rerun(submit_world, zygote, tmp_path, phase, spec):
    cmd = Command(["harness.cli", "submit", *_submit_argv(submit_world.model, tmp_path)], module="harness.cli")
    out = zygote.run(cmd, tmp_path, {KILL_ENV: spec})
    assert out.signal == signal.SIGKILL, f"the child was not killed at {spec}:\n{out.stdout}\n{out.stderr[-3000:]}"
    assert _killed_at(spec, out.stderr), out.stderr[-3000:]
    results = list((tmp_path / "results").glob("*/*/results.json"))
    for path in results:  # whatever is visible right after the kill parses
        json.loads(path.read_text())
    check_submit_rerun(submit_world, tmp_path)
