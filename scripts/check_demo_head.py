"""Check that training the demo head again gives the shipped canonical head (outside CI's default run).

    PYTHONPATH=. python scripts/check_demo_head.py [--keep DIR]

Trains a new head from scratch into a throwaway cache (every training forward is recomputed: about 5 minutes on
2 idle cores, far longer on a loaded machine), then checks, against harness/data/demo_head/head-v<N>.json:
- the weights: max |w_new - w_shipped| <= 1e-4 * max |w_shipped| and cosine >= 0.99999 (the fit is seeded and
  deterministic; the tolerance covers float summation order across BLAS builds and thread counts);
- the build's held-out metrics: each AUC / Spearman within 0.002, every count equal;
- the scorer sanity check (harness/models/sanity.py) of the rebuilt folder and of the shipped-head folder: the
  same pass/fail and the same number of pairs right per kind.
Exit 0 when all hold, 1 otherwise (each check printed).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

TOL_REL = 1e-4
MIN_COSINE = 0.99999
TOL_METRIC = 0.002


def _head(folder: Path) -> np.ndarray:
    from safetensors import safe_open

    with safe_open(str(folder / "model.safetensors"), "pt") as f:
        return f.get_tensor("score.weight")[0].float().numpy()


def _sanity(folder: Path):
    from harness.models.loading import load_scorer
    from harness.models.sanity import sanity_check

    return sanity_check(load_scorer(str(folder), device="cpu"))


def _metric_checks(new: dict, old: dict, prefix: str = "") -> list[tuple[str, bool, str]]:
    out = []
    for key, want in old.items():
        got = new.get(key)
        if isinstance(want, dict):
            out += _metric_checks(got if isinstance(got, dict) else {}, want, f"{prefix}{key}.")
        elif isinstance(want, int):
            out.append((f"metric {prefix}{key}", got == want, f"{got} vs {want}"))
        else:
            ok = isinstance(got, (int, float)) and abs(got - want) <= TOL_METRIC
            out.append((f"metric {prefix}{key}", ok, f"{got} vs {want} (tolerance {TOL_METRIC})"))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keep", help="build in this folder and keep it (default: a temporary folder, removed)")
    args = ap.parse_args()
    from harness.models.demo import demo_lm_dir
    from harness.models.demo_rm import build_demo_rm, demo_rm_meta, shipped_head

    w_old, metrics_old = shipped_head()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="demo-head-check-"))
    try:
        lm = demo_lm_dir()
        shipped = build_demo_rm(lm, work / "shipped" / "models")
        rebuilt = build_demo_rm(lm, work / "rebuilt" / "models", train=True)
        w_new = _head(rebuilt)
        diff = float(np.abs(w_new - w_old).max())
        cos = float(w_new @ w_old / (np.linalg.norm(w_new) * np.linalg.norm(w_old)))
        checks = [
            ("head max |diff|", diff <= TOL_REL * float(np.abs(w_old).max()),
             f"{diff:.3g} (tolerance {TOL_REL * float(np.abs(w_old).max()):.3g})"),
            ("head cosine", cos >= MIN_COSINE, f"{cos:.8f} (at least {MIN_COSINE})"),
            ("head bit-identical", True, str(bool(np.array_equal(w_new, w_old))) + " (informative only)"),
        ]
        checks += _metric_checks(demo_rm_meta(rebuilt)["metrics"], metrics_old)
        s_new, s_old = _sanity(rebuilt), _sanity(shipped)
        checks.append(("sanity pass/fail", s_new.passed == s_old.passed, f"{s_new.passed} vs {s_old.passed}"))
        for kind in sorted(set(s_old.by_kind) | set(s_new.by_kind)):
            a, b = s_new.by_kind.get(kind), s_old.by_kind.get(kind)
            same = a is not None and b is not None and a.correct == b.correct and a.n == b.n
            checks.append((f"sanity {kind}", same, f"{a.correct if a else '-'}/{a.n if a else '-'} vs "
                                                 f"{b.correct if b else '-'}/{b.n if b else '-'}"))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    for name, ok, detail in checks:
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
