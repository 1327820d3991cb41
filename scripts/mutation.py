#!/usr/bin/env python3
"""Mutation testing of the inferential code, by function (mutmut; a dev dependency, never part of CI's run).

Each target function is mutated many times (an operator flipped, a constant moved by one, an argument dropped,
...) and the tests that call it are rerun against each mutant: a mutant the tests still pass "survived". The kill
rate of a function is killed / (killed + survived) over its mutants; mutants that time out count as killed (the
tests noticed), mutants no test reaches count as survived.

The run happens in a scratch copy of the tree (the working tree by default, or `--ref REV` exported with
`git archive`), so any revision can be measured with today's script and the checkout is never touched:

    python scripts/mutation.py                      # the working tree
    python scripts/mutation.py --ref main           # e.g. the code before a change
    python scripts/mutation.py --group rsa --json out.json

Surviving mutants are listed with `mutmut show NAME` diffs (`--show`); every survivor of the last measured run is
either killed by a test or argued equivalent in docs/statistics.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# group -> (source files to mutate, mutmut name patterns of the functions, test files that exercise them)
TARGETS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "identity_gap": (
        ["harness/analyses/identity_bias.py", "harness/analyses/rank_stats.py"],
        ["harness.analyses.identity_bias.x_gap_stats*", "harness.analyses.identity_bias.x__scope_stats*",
         "harness.analyses.identity_bias.x__score_one*", "harness.analyses.identity_bias.x__casings*",
         "harness.analyses.identity_bias.x__control_forms*", "harness.analyses.identity_bias.x__adjust*",
         "harness.analyses.identity_bias.x__bottom*", "harness.analyses.rank_stats.x_sign_flip_test*",
         "harness.analyses.rank_stats.x_sign_flip_interval*", "harness.analyses.rank_stats.x__sign_vectors*",
         "harness.analyses.rank_stats.x_holm*", "harness.analyses.rank_stats.x_permutation_p*",
         "harness.analyses.rank_stats.x_extreme*", "harness.analyses.rank_stats.x_percentile_ranks*"],
        ["tests/analyses/test_analysis_identity_bias.py", "tests/analyses/test_analysis_inference.py"],
    ),
    "rsa": (
        ["harness/analyses/rank_stats.py", "harness/analyses/heterogeneity.py"],
        ["harness.analyses.rank_stats.x_rsa*", "harness.analyses.rank_stats.x__joint_permuted*",
         "harness.analyses.rank_stats.x_permutation_p*", "harness.analyses.rank_stats.x_extreme*",
         "harness.analyses.rank_stats.x_upper*",
         "harness.analyses.heterogeneity.x_rsa_against_facts*", "harness.analyses.heterogeneity.x_similarity_matrix*"],
        ["tests/analyses/test_analysis_heterogeneity.py", "tests/analyses/test_analysis_inference.py"],
    ),
    "human_agreement": (
        ["harness/analyses/human_agreement.py"],
        ["harness.analyses.human_agreement.x__corr*", "harness.analyses.human_agreement.x__consensus*"],
        ["tests/analyses/test_analysis_human_agreement.py", "tests/analyses/test_analysis_inference.py"],
    ),
    "frequency": (
        ["harness/analyses/frequency_bias.py"],
        ["harness.analyses.frequency_bias.x_fit_frequency*"],
        ["tests/analyses/test_analysis_frequency_bias.py", "tests/analyses/test_analysis_inference.py"],
    ),
    "sanity_rule": (
        ["harness/models/sanity.py"],
        ["harness.models.sanity.x_sanity_check*", "harness.models.sanity.x_reply_scores*",
         "harness.models.sanity.x_passes*", "harness.models.sanity.x_decide*"],
        ["tests/models/test_sanity.py"],
    ),
}

STATUS_KILLED = {"killed", "timeout"}


def export_tree(ref: str | None, dest: Path) -> None:
    """The files of `ref` (git archive), or of the working tree (tracked and untracked, not ignored)."""
    if ref:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", ref], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
        return
    files = subprocess.run(["git", "-C", str(REPO), "ls-files", "-co", "--exclude-standard", "-z"], check=True,
                           capture_output=True).stdout.decode().split("\0")
    for f in filter(None, files):
        src = REPO / f
        if src.is_file():
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / f)


def write_config(dest: Path, groups: list[str]) -> list[str]:
    files = sorted({f for g in groups for f in TARGETS[g][0] if (dest / f).is_file()})
    tests = sorted({t for g in groups for t in TARGETS[g][2] if (dest / t).is_file()})
    patterns = [p for g in groups for p in TARGETS[g][1]]
    cfg = ["", "[mutmut]", "source_paths =", "    harness/", "only_mutate ="]
    cfg += [f"    {f}" for f in files]
    cfg += ["also_copy =", "    tasks/", "    submit.py", "pytest_add_cli_args_test_selection ="]
    cfg += [f"    {t}" for t in tests]
    cfg += ["pytest_add_cli_args =", "    -p", "    no:cacheprovider", "    -q", "use_git_change_detection = false"]
    with open(dest / "setup.cfg", "a", encoding="utf-8") as fh:
        fh.write("\n".join(cfg) + "\n")
    return patterns


def function_of(mutant: str) -> str:
    """harness.analyses.rank_stats.x_rsa__mutmut_3 -> harness.analyses.rank_stats.rsa (methods: Class.method)."""
    name = re.sub(r"__mutmut_\d+$", "", mutant)
    module, _, fn = name.rpartition(".")
    fn = fn[2:] if fn.startswith("x_") else fn
    return f"{module}.{fn.strip('ǁ').replace('ǁ', '.')}"


def matches(mutant: str, patterns: list[str]) -> bool:
    import fnmatch

    return any(fnmatch.fnmatchcase(mutant, p) for p in patterns)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ref", help="git revision to measure (default: the working tree)")
    ap.add_argument("--group", action="append", choices=sorted(TARGETS), help="target group (default: all)")
    ap.add_argument("--json", type=Path, help="write the per-function counts and survivors here")
    ap.add_argument("--workdir", type=Path, help="scratch folder to use (kept); default: a temporary one")
    ap.add_argument("--max-children", type=int, default=max(1, (os.cpu_count() or 2) - 0))
    ap.add_argument("--show", action="store_true", help="print the diff of every surviving mutant")
    args = ap.parse_args(argv)
    groups = args.group or list(TARGETS)
    tmp = None
    if args.workdir:
        work = args.workdir.resolve()
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="rm-harness-mutation-")
        work = Path(tmp.name)
    export_tree(args.ref, work)
    patterns = write_config(work, groups)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}  # the copy's code, not the checkout's
    env.setdefault("RM_HARNESS_SHARED_DATA", str(REPO.parent / "shared" / "data"))
    # one thread per worker: torch's thread pool does not survive mutmut's fork (workers spin until killed)
    env.update(HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", MPLBACKEND="Agg", OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    mutmut = [sys.executable, "-m", "mutmut"]
    run = subprocess.run(mutmut + ["run", "--max-children", str(args.max_children), *patterns], cwd=work, env=env,
                         capture_output=True, text=True)
    if run.returncode != 0:
        sys.stderr.write(run.stdout[-4000:] + run.stderr[-4000:])
        return run.returncode
    res = subprocess.run(mutmut + ["results", "--all", "true"], cwd=work, env=env, capture_output=True, text=True,
                         check=True)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    survivors: dict[str, list[str]] = defaultdict(list)
    for line in res.stdout.splitlines():
        m = re.match(r"\s*(\S+): (.+)$", line)
        if not m or not matches(m.group(1), patterns):
            continue
        mutant, status = m.group(1), m.group(2).strip()
        fn = function_of(mutant)
        counts[fn][status] += 1
        if status not in STATUS_KILLED:
            survivors[fn].append(mutant)
    report = {}
    print(f"{'function':<60} {'killed':>7} {'total':>6} {'rate':>6}")
    for fn in sorted(counts):
        total = sum(counts[fn].values())
        killed = sum(v for k, v in counts[fn].items() if k in STATUS_KILLED)
        report[fn] = {"killed": killed, "total": total, "statuses": dict(counts[fn]), "survivors": survivors[fn]}
        print(f"{fn:<60} {killed:>7} {total:>6} {killed / total:>6.0%}")
    killed = sum(r["killed"] for r in report.values())
    total = sum(r["total"] for r in report.values())
    print(f"{'all':<60} {killed:>7} {total:>6} {(killed / total if total else 0):>6.0%}")
    if args.show:
        for fn, names in survivors.items():
            for name in names:
                diff = subprocess.run(mutmut + ["show", name], cwd=work, env=env, capture_output=True, text=True)
                print(diff.stdout)
    if args.json:
        args.json.write_text(json.dumps({"ref": args.ref or "working tree", "groups": groups, "functions": report},
                                        indent=1))
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
