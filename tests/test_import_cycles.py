"""The package's imports: no cycles, counting imports inside functions (a top-level-only walk misses those); the
layers in order, no package importing one above it (models never import analyses); no module imported by a name
computed from data; no import of a harness module that is not in this tree.

The layers, lowest first, as the code stands (docs/architecture.md states the same order):
errors/io/data_paths/lexicons/term_lists → models → scoring → analyses → gcg → results → report → tasks →
leaderboard → cli.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(packages=("harness",), root: Path = ROOT) -> dict[str, set[str]]:
    files = [p for pkg in packages for p in (root / pkg).rglob("*.py")]
    modules = {module_name(p, root): p for p in files}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for mod, path in modules.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):  # every import, at any depth
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
                targets = [f"{base}.{a.name}" for a in node.names] + [base]
            for t in targets:
                while t and t not in modules:
                    t = t.rpartition(".")[0]
                if t and t != mod and not mod.startswith(t + ".") :
                    graph[mod].add(t)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    import sys

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_cycle_finder_sees_function_level_imports(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("import pkg.c\n\ndef f():\n    from pkg import b\n")  # the cycle hides in a function
    (pkg / "b.py").write_text("from pkg.a import f\n")
    (pkg / "c.py").write_text("")
    assert cycles(import_graph(("pkg",), tmp_path)) == [["pkg.a", "pkg.b"]]


def test_no_import_cycles():
    found = cycles(import_graph())
    assert not found, f"import cycles: {found}"


# Lowest first; a module may import its own layer or any layer below it. The root `harness` (its __version__)
# and the neutral rooms shared by every package form the bottom layer.
LAYERS = [
    ("harness", "harness.errors", "harness.io", "harness.data_paths", "harness.lexicons", "harness.term_lists",
     "harness.locks", "harness.progress"),
    ("harness.models",),
    ("harness.scoring",),
    ("harness.analyses",),
    ("harness.gcg",),
    ("harness.results",),
    ("harness.report",),
    ("harness.tasks",),
    ("harness.diff",),
    ("harness.gate",),
    ("harness.leaderboard",),
    ("harness.cli",),
]
# Said on their own as well, for the message: pairs (importer, imported) that must never occur.
NEVER = [("harness.models", "harness.analyses")]


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def layer_of(module: str, layers=LAYERS) -> int | None:
    """The layer of `module`: the longest prefix that names it (the root package only by its own name)."""
    best, depth = None, -1
    for i, group in enumerate(layers):
        for prefix in group:
            root_only = "." not in prefix
            hit = module == prefix if root_only else _under(module, prefix)
            if hit and prefix.count(".") > depth:
                best, depth = i, prefix.count(".")
    return best


def layering_violations(graph: dict[str, set[str]], layers=LAYERS, never=NEVER) -> list[str]:
    out = []
    for mod, targets in sorted(graph.items()):
        here = layer_of(mod, layers)
        if here is None:
            out.append(f"{mod}: in no layer; place its package in LAYERS")
            continue
        for t in sorted(targets):
            there = layer_of(t, layers)
            if any(_under(mod, a) and _under(t, b) for a, b in never):
                out.append(f"{mod} imports {t}: never allowed")
            elif there is not None and there > here:
                out.append(f"{mod} imports {t}, a layer above it")
    return out


def _is_import_call(func: ast.expr) -> bool:
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return name in ("import_module", "__import__", "spec_from_file_location")


def computed_imports(packages=("harness",), root: Path = ROOT) -> list[str]:
    """Calls that import a module whose name is not written in the code (a string literal)."""
    out = []
    for pkg in packages:
        for path in sorted((root / pkg).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call) and _is_import_call(node.func):
                    first = node.args[0] if node.args else None
                    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                        out.append(f"{path.relative_to(root)}:{node.lineno}")
    return out


def _bound_names(path: Path) -> set[str]:
    """Names a module binds at its top level (definitions, assignments, imports)."""
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for t in node.targets if isinstance(node, ast.Assign) else [node.target]:
                names.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
    return names


def missing_imports(packages=("harness",), root: Path = ROOT) -> list[str]:
    """Absolute imports of the package's own modules that this tree does not have (another installation of the
    package, e.g. an editable install of another checkout, would answer them)."""
    files = {module_name(p, root): p for pkg in packages for p in (root / pkg).rglob("*.py")}
    folders = {".".join(p.relative_to(root).parts) for pkg in packages for p in (root / pkg).rglob("*")
               if p.is_dir() and "__pycache__" not in p.parts} | set(packages)
    out = []
    for mod, path in sorted(files.items()):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                wanted = [a.name for a in node.names if a.name.split(".")[0] in packages]
            elif isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] in packages:
                wanted = [node.module]
                if node.module in files and node.module in folders:  # a package: names are submodules or bound
                    init = files[node.module]
                    wanted += [f"{node.module}.{a.name}" for a in node.names if a.name not in _bound_names(init)]
            else:
                continue
            out += [f"{mod} imports {w}" for w in wanted if w not in files and w not in folders]
    return out


def test_layers_hold():
    bad = layering_violations(import_graph())
    assert not bad, "imports against the layers:\n" + "\n".join(bad)


def test_no_import_by_computed_name():
    assert not computed_imports(), f"modules imported by a computed name: {computed_imports()}"


def test_every_import_of_the_package_names_a_module_of_this_tree():
    assert not missing_imports(), missing_imports()


def test_the_checkers_catch_planted_violations(tmp_path):
    files = {
        "pkg/__init__.py": "",
        "pkg/base.py": "def f():\n    from pkg import cli  # upward, inside a function\n",
        "pkg/models/__init__.py": "",
        "pkg/models/m.py": "from pkg.analyses.a import g\nimport pkg.base\n",
        "pkg/analyses/__init__.py": "",
        "pkg/analyses/a.py": ("import importlib\n\ndef g(name):\n    importlib.import_module('pkg.base')\n"
                              "    importlib.import_module(f'pkg.{name}')\n    return __import__(name)\n"),
        "pkg/cli.py": "from pkg.models.m import g\nfrom pkg import gone\nimport pkg.nowhere\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    layers = [("pkg", "pkg.base"), ("pkg.models",), ("pkg.analyses",), ("pkg.cli",)]
    graph = import_graph(("pkg",), tmp_path)
    assert layering_violations(graph, layers, [("pkg.models", "pkg.analyses")]) == [
        "pkg.base imports pkg.cli, a layer above it",
        "pkg.models.m imports pkg.analyses.a: never allowed",
    ]
    # without the explicit rule the models → analyses import is still an upward one
    assert "pkg.models.m imports pkg.analyses.a, a layer above it" in layering_violations(graph, layers, [])
    assert computed_imports(("pkg",), tmp_path) == ["pkg/analyses/a.py:5", "pkg/analyses/a.py:6"]
    assert missing_imports(("pkg",), tmp_path) == ["pkg.cli imports pkg.gone", "pkg.cli imports pkg.nowhere"]
    assert layering_violations(graph, [("pkg",), ("pkg.models",)], []) == [
        f"{m}: in no layer; place its package in LAYERS" for m in sorted(graph) if m not in ("pkg", "pkg.models",
                                                                                             "pkg.models.m")]
