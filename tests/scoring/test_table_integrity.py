"""Damaged score tables are detected by checksum and rebuilt; stale temp files go only when their writer is dead."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from conftest import PROMPT

from harness.io import atomic
from harness.io.atomic import cleanup_temp_files, is_temp_file, make_staging_dir, writer_of
from harness.scoring.responses import VocabularySet
from harness.scoring.scan import scan
from harness.scoring.table import TableStore

IDS = list(range(320))
CHUNK = 64


@pytest.fixture(scope="module")
def scorer(tiny_llama):
    from harness.models.loading import load_scorer

    return load_scorer(str(tiny_llama))


def _scan(scorer, root, **kw):
    split = scorer.split(PROMPT)
    vocab = VocabularySet(scorer.tokenizer, split, scorer.vocab_size, ids=IDS)
    return scan(scorer, split, vocab, TableStore(root), chunk_rows=CHUNK, progress=False, prompt_key="best", **kw)


def assert_same_table(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Ids, texts and flags exactly; scores to 1e-6."""
    assert list(got.columns) == list(want.columns)
    exact = [c for c in want.columns if c != "score"]
    pd.testing.assert_frame_equal(got[exact], want[exact])
    np.testing.assert_allclose(got["score"].to_numpy(), want["score"].to_numpy(), rtol=0, atol=1e-6)


def _garble_middle(path) -> None:
    """Overwrite bytes in the middle of the file, leaving the parquet footer (and its row count) intact."""
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid - 32 : mid + 32] = bytes(range(64))
    path.write_bytes(bytes(data))


class Killed(Exception):
    pass


@pytest.fixture(scope="module")
def clean(scorer, tmp_path_factory):
    return _scan(scorer, tmp_path_factory.mktemp("clean")).df


def test_part_with_garbage_in_the_middle_is_rescanned(scorer, clean, tmp_path):
    written = []

    def kill_after_three(start, end):
        written.append(start)
        if len(written) == 3:
            raise Killed

    with pytest.raises(Killed):
        _scan(scorer, tmp_path, on_part=kill_after_three)
    parts = sorted(tmp_path.rglob("part-*.parquet"))
    assert len(parts) == 3
    _garble_middle(parts[1])
    import pyarrow.parquet as pq

    assert pq.ParquetFile(parts[1]).metadata.num_rows == CHUNK, "the footer still claims a whole part"
    rescanned = []
    table = _scan(scorer, tmp_path, on_part=lambda s, e: rescanned.append(s))
    assert rescanned == [64, 192, 256], "the damaged part and the missing ones are scanned, the good ones kept"
    assert_same_table(table.df, clean)
    assert not list(tmp_path.rglob("part-*")), "parts are removed once merged"


def test_part_checksum_is_in_its_name(scorer, tmp_path):
    written = []

    def kill_after_one(start, end):
        written.append(start)
        raise Killed

    with pytest.raises(Killed):
        _scan(scorer, tmp_path, on_part=kill_after_one)
    (part,) = tmp_path.rglob("part-*.parquet")
    import hashlib

    assert part.name.split(".")[1] == hashlib.sha256(part.read_bytes()).hexdigest()


def test_merged_table_altered_after_writing_is_rebuilt(scorer, clean, tmp_path):
    table = _scan(scorer, tmp_path)
    assert table.meta["table_sha256"]
    _garble_middle(table.path)
    scanned = []
    again = _scan(scorer, tmp_path, on_part=lambda s, e: scanned.append(s))
    assert scanned == [0, 64, 128, 192, 256], "the altered table is not trusted"
    assert_same_table(again.df, clean)
    # ...and a third run trusts the rebuilt table without scanning.
    third = _scan(scorer, tmp_path, on_part=lambda s, e: scanned.append(s))
    assert len(scanned) == 5
    assert_same_table(third.df, clean)


def test_altered_meta_is_rebuilt(scorer, clean, tmp_path):
    table = _scan(scorer, tmp_path)
    meta = table.path.parent / "meta.json"
    meta.write_text(meta.read_text().replace(table.meta["table_sha256"], "0" * 64))
    assert_same_table(_scan(scorer, tmp_path).df, clean)


def test_parts_left_by_a_killed_merge_are_removed(scorer, clean, tmp_path):
    table = _scan(scorer, tmp_path)
    stray = table.path.parent / f"part-0000000000-0000000064.{'a' * 64}.parquet"
    stray.write_bytes(b"left over")
    assert_same_table(_scan(scorer, tmp_path).df, clean)
    assert not stray.exists()


# --- temp files and staging folders ----------------------------------------------------------------------------

def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _temp(folder, name, host, pid) -> os.PathLike:
    path = folder / f".{name}.{host}.{pid}.abc123_x.tmp"
    path.write_text("partial")
    return path


def test_cleanup_removes_only_dead_writers(tmp_path):
    host = atomic._host()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = _dead_pid()
        sub = tmp_path / "a" / "b"
        sub.mkdir(parents=True)
        keep = [
            _temp(tmp_path, "results.json", host, live.pid),
            _temp(sub, "part-1.parquet", host, os.getpid()),
            _temp(tmp_path, "results.json", "otherhost", dead),  # cannot be checked: kept until old
            tmp_path / ".results.json.k2j4h5.tmp",  # old style, recent
            tmp_path / ".hidden-config",  # not ours at all
        ]
        keep[3].write_text("x")
        keep[4].write_text("x")
        old = tmp_path / ".board.json.q8w7e6.tmp"
        old.write_text("x")
        os.utime(old, (time.time() - 7200, time.time() - 7200))
        gone = [_temp(tmp_path, "results.json", host, dead), _temp(sub, "part-2.parquet", host, dead), old]
        live_stage = tmp_path / f".site.{host}.{live.pid}.zz9.building"
        dead_stage = tmp_path / f".site.{host}.{dead}.zz8.building"
        for stage in (live_stage, dead_stage):
            (stage / "models").mkdir(parents=True)
            (stage / "models" / ".x.json.foo.tmp").write_text("x")
        removed = cleanup_temp_files(tmp_path, recursive=True)
        assert sorted(removed) == sorted(gone + [dead_stage])
        assert all(p.exists() for p in keep) and live_stage.exists()
        assert not any(p.exists() for p in gone) and not dead_stage.exists()
        # Not recursive: the sub-folder is left alone.
        late = _temp(sub, "part-3.parquet", host, dead)
        assert cleanup_temp_files(tmp_path) == []
    finally:
        live.kill()
        live.wait()
    # The writer has died now: its files go, and its staging folder with everything in it.
    assert sorted(cleanup_temp_files(tmp_path, recursive=True)) == sorted([keep[0], live_stage, late])


def test_temp_and_staging_names_carry_the_writer(tmp_path):
    target = tmp_path / "results.json"
    seen = []
    previous = atomic.set_kill_hook(lambda name, detail: seen.extend(
        p.name for p in tmp_path.iterdir() if is_temp_file(p)) if name == "before_rename" else None)
    try:
        atomic.atomic_write_json(target, {"a": 1})
    finally:
        atomic.set_kill_hook(previous)
    assert len(seen) == 1 and writer_of(seen[0]) == (atomic._host(), os.getpid())
    stage = make_staging_dir(tmp_path / "site")
    assert writer_of(stage) == (atomic._host(), os.getpid())
    umask = os.umask(0)
    os.umask(umask)
    assert stage.stat().st_mode & 0o777 == 0o777 & ~umask, "readable by others, unlike mkdtemp's 0700"
    assert cleanup_temp_files(tmp_path) == [], "our own (live) staging folder is kept"


# --- the kill hook ---------------------------------------------------------------------------------------------

def test_kill_switch_counts_matches_and_traces():
    trace = []
    switch = atomic.KillSwitch("after_rename@part-*:2, scan.part_written:9", trace=trace)
    fired = []
    atomic._die, real = (lambda where: fired.append(where)), atomic._die
    try:
        for name, detail in [("after_rename", "table.parquet"), ("after_rename", "part-1"), ("before_rename", "part-2"),
                             ("after_rename", "part-2"), ("after_rename", "part-3")]:
            switch(name, detail)
    finally:
        atomic._die = real
    assert fired == ["after_rename@part-2:2"]
    assert len(trace) == 5 and trace[0] == ("after_rename", "table.parquet")
    with pytest.raises(ValueError, match="RM_HARNESS_KILL_AT"):
        atomic.KillSwitch("before_rename")
    with pytest.raises(ValueError):
        atomic.KillSwitch("before_rename:0")


def test_kill_point_is_inert_when_unset(tmp_path):
    code = ("import harness.io.atomic as a; assert a._hook is None; a.kill_point('x'); "
            "a.atomic_write_text(r'%s', 'ok'); print('done')" % (tmp_path / "f.txt"))
    env = {k: v for k, v in os.environ.items() if k not in (atomic.KILL_ENV, atomic.TRACE_ENV)}
    env["PYTHONPATH"] = os.pathsep.join([str(__import__("pathlib").Path(atomic.__file__).parents[1])])
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "done", out.stderr


def test_kill_point_kills_with_sigkill(tmp_path):
    import signal

    code = "import harness.io.atomic as a\nfor i in range(3):\n    a.atomic_write_text(r'%s', str(i))\n" % (
        tmp_path / "f.txt")
    env = dict(os.environ, PYTHONPATH=str(__import__("pathlib").Path(atomic.__file__).parents[1]),
               RM_HARNESS_KILL_AT="before_rename@f.txt:2")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == -signal.SIGKILL, out.stderr
    assert "kill point reached: before_rename@f.txt:2" in out.stderr
    assert (tmp_path / "f.txt").read_text() == "0", "killed before the second rename"
    (temp,) = [p for p in tmp_path.iterdir() if is_temp_file(p)]
    assert cleanup_temp_files(tmp_path) == [temp], "its writer is dead"
