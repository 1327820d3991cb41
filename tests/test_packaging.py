"""Packaging: the exact pins lie inside the declared ranges, and a built wheel works on its own.

The wheel test builds the package from a copy of the source, installs it with no dependencies into a fresh venv
that borrows this venv's site-packages through a `.pth` file (so nothing is downloaded), and runs the installed
`rm-harness tasks list` from a temporary folder: every built-in task must be found without the checkout. The wheel
installs one import package, `harness` (the board's code and the built-in tasks, the top-level tasks/ folder, ship
under it), so installing it beside distributions that own `leaderboard` and `tasks` overwrites nothing of theirs.
"""

from __future__ import annotations

import base64
import configparser
import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from harness.tasks.discovery import BUILTIN_TASKS_DIR, discover

REPO = Path(__file__).resolve().parents[1]


def declared() -> dict[str, list[Requirement]]:
    """setup.cfg's requirement lists: "install_requires" and one per extra."""
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg", encoding="utf-8")
    out = {"install_requires": cfg["options"]["install_requires"]}
    out.update(dict(cfg["options.extras_require"]))
    return {k: [Requirement(line) for line in v.splitlines() if line.strip()] for k, v in out.items()}


def pins(path: Path) -> dict[str, str]:
    """`name -> version` for every `name==version` line of a requirements file (following -r)."""
    found: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r"):
            found.update(pins(path.parent / line[2:].strip()))
        elif line:
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", f"{path.name}: {line} is not an exact pin"
            found[canonicalize_name(req.name)] = spec.version
    return found


def test_every_pin_satisfies_its_declared_range():
    ranges = {canonicalize_name(r.name): r for reqs in declared().values() for r in reqs}
    pinned = pins(REPO / "requirements-dev.txt")
    assert set(pinned) == set(ranges), (
        f"pinned but undeclared: {sorted(set(pinned) - set(ranges))}; "
        f"declared but unpinned: {sorted(set(ranges) - set(pinned))}"
    )
    outside = {n: (v, str(ranges[n].specifier)) for n, v in pinned.items() if v not in ranges[n].specifier}
    assert not outside, f"pins outside their setup.cfg range: {outside}"
    for name, req in ranges.items():
        assert req.specifier, f"{name}: give a compatible range, not a bare name"
        assert not any(s.operator == "==" for s in req.specifier), f"{name}: setup.cfg takes ranges, not pins"


def test_runtime_pins_are_install_requires_and_test_pins_are_dev():
    groups = {k: {canonicalize_name(r.name) for r in v} for k, v in declared().items()}
    runtime = set(pins(REPO / "requirements.txt"))
    assert groups["install_requires"] <= runtime
    assert runtime - groups["install_requires"] == groups["demo"], "requirements.txt = install_requires + demo"
    assert set(pins(REPO / "requirements-dev.txt")) - runtime == groups["dev"]


def _copy_source(dst: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "site", "*.egg-info", "build")
    for name in ("harness", "tasks"):
        shutil.copytree(REPO / name, dst / name, ignore=ignore)
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, dst / name)
    return dst


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = _copy_source(tmp_path_factory.mktemp("src"))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
                    str(src)], check=True, capture_output=True, text=True)
    (whl,) = out.glob("rm_harness-*.whl")
    return whl


def test_wheel_ships_the_tasks_and_declares_its_dependencies(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        (meta_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        meta = Parser().parsestr(z.read(meta_name).decode("utf-8"))
    assert BUILTIN_TASKS_DIR == REPO / "tasks", "the checkout reads its own tasks/, their only copy"
    assert "harness/data_paths.py" in names and "harness/models/registry.yaml" in names
    requires = [Requirement(r) for r in meta.get_all("Requires-Dist")]
    got = {(canonicalize_name(r.name), str(r.specifier), str(r.marker or "")) for r in requires}
    for group, reqs in declared().items():
        marker = "" if group == "install_requires" else f'extra == "{group}"'
        for r in reqs:
            assert (canonicalize_name(r.name), str(r.specifier), marker) in got, (group, str(r))
    assert {"dev", "demo"} <= set(meta.get_all("Provides-Extra"))


def test_installed_wheel_lists_every_builtin_task_outside_the_checkout(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    py = bindir / ("python.exe" if os.name == "nt" else "python")
    site = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # The dependencies (and pip) come from this venv; the package itself only from the wheel.
    borrowed = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(site, "borrowed.pth").write_text("\n".join(sorted(borrowed)) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "RM_HARNESS_SHARED_DATA", "VIRTUAL_ENV")}
    env["HF_HUB_OFFLINE"] = "1"
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--ignore-installed", str(wheel)],
                   check=True, capture_output=True, text=True, env=env, cwd=tmp_path)
    where = subprocess.run([py, "-c", "import harness; print(harness.__file__)"], check=True, capture_output=True,
                           text=True, env=env, cwd=tmp_path).stdout.strip()
    assert Path(where).is_relative_to(venv), f"harness imported from {where}, not the installed wheel"

    listed = subprocess.run([bindir / "rm-harness", "tasks", "list"], capture_output=True, text=True, env=env,
                            cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    words = set(listed.stdout.split())
    missing = sorted(set(discover()) - words)
    assert not missing, f"installed rm-harness does not list {missing}:\n{listed.stdout}"
    # every built-in task but the BNC variant works from the wheel alone (no reference-data folder anywhere)
    checked = subprocess.run([bindir / "rm-harness", "tasks", "validate"], capture_output=True, text=True, env=env,
                             cwd=tmp_path)
    errors = [ln for ln in checked.stderr.splitlines() if ln.strip()]
    assert errors and all("frequency_bias_bnc.yaml" in ln for ln in errors), checked.stderr
    assert "ucrel.lancs.ac.uk/bncfreq" in checked.stderr and "--shared-data" in checked.stderr
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
    assert {"harness/data/eloeverything/elo.csv", "harness/data/eloeverything/LICENSE",
            "harness/data/eloeverything/README.md"} <= names


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def test_wheel_ships_tasks_byte_for_byte_under_the_one_import_package(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        shipped = {n.removeprefix("harness/_tasks/"): z.read(n) for n in names if n.startswith("harness/_tasks/")}
    assert shipped == _tree(REPO / "tasks"), "the wheel's task files are tasks/, every file, byte for byte"
    assert "gcg.yaml" in shipped and "_prompts.yaml" in shipped
    top = {n.split("/", 1)[0] for n in names if not n.split("/", 1)[0].endswith(".dist-info")}
    assert top == {"harness"}, f"top-level import packages in the wheel: {sorted(top)}"
    assert "harness/leaderboard/build.py" in names and "harness/leaderboard/data/rewardbench.json" in names
    assert not any(n.startswith("harness/tasks/builtin") for n in names), "no second copy of the tasks"


def test_setup_cfg_lists_every_package_of_harness():
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg", encoding="utf-8")
    listed = {line.strip() for line in cfg["options"]["packages"].splitlines() if line.strip()}
    on_disk = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "harness").rglob("__init__.py")}
    assert listed == on_disk | {"harness._tasks"}, "a package of harness/ missing from setup.cfg's list ships nothing"


def _dummy_wheel(out: Path, name: str, files: dict[str, bytes]) -> Path:
    """A minimal pure-Python wheel of distribution `name` holding `files` (what another PyPI project would ship)."""
    info = f"{name}-1.0.dist-info"
    files = {**files, f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n".encode(),
             f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    record = [f"{path},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},"
              f"{len(data)}" for path, data in files.items()] + [f"{info}/RECORD,,"]
    whl = out / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(whl, "w") as z:
        for path, data in files.items():
            z.writestr(path, data)
        z.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return whl


def test_wheel_installs_beside_distributions_that_own_leaderboard_and_tasks(wheel, tmp_path):
    theirs = {
        "leaderboard": {"leaderboard/__init__.py": b"OWNER = 'the leaderboard distribution'\n",
                        "leaderboard/build.py": b"BUILT_BY = 'someone else'\n"},
        "tasks": {"tasks/__init__.py": b"OWNER = 'the tasks distribution'\n", "tasks/gcg.yaml": b"not: ours\n"},
    }
    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", str(target)]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "RM_HARNESS_SHARED_DATA", "VIRTUAL_ENV")}
    for name, files in theirs.items():
        subprocess.run(pip + [str(_dummy_wheel(tmp_path, name, files))], check=True, capture_output=True, env=env)
    subprocess.run(pip + [str(wheel)], check=True, capture_output=True, text=True, env=env)
    for files in theirs.values():
        for path, data in files.items():
            assert (target / path).read_bytes() == data, f"{path} of another distribution was changed"
    assert not (target / "tasks" / "token_optimality.yaml").exists()
    probe = """if True:
        import json, harness, harness.leaderboard, leaderboard, tasks
        from harness.leaderboard.build import build
        from harness.leaderboard.rewardbench import bundled_path
        from harness.tasks.discovery import builtin_tasks_dir, discover
        print(json.dumps({"harness": harness.__file__, "board": harness.leaderboard.__file__,
                          "theirs": [leaderboard.OWNER, tasks.OWNER], "snapshot": bundled_path().is_file(),
                          "tasks_dir": str(builtin_tasks_dir()), "tasks": sorted(discover())}))
    """
    done = subprocess.run([sys.executable, "-s", "-c", probe], capture_output=True, text=True, cwd=tmp_path,
                          env={**env, "PYTHONPATH": str(target), "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    import json

    got = json.loads(done.stdout)
    for key in ("harness", "board", "tasks_dir"):
        assert Path(got[key]).is_relative_to(target), (key, got[key])
    assert Path(got["tasks_dir"]) == target / "harness" / "_tasks"
    assert got["theirs"] == ["the leaderboard distribution", "the tasks distribution"] and got["snapshot"]
    assert got["tasks"] == sorted(discover())
