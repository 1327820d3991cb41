"""Verify an audit: turn a submitted claim into the maintainer's fact, or name the field that is false.

Everything in an audit folder is a claim (docs/security.md). `verify`:

1. opens the audit through the one reader (strict JSON, no links or special files, the document bound to the
   folder it sits in);
2. loads the model only from what the maintainer names: a Hub audit at its recorded commit, with remote code and
   registry entries from the maintainer's flags and registry only; a local audit from the folder given with
   `--model`, whose content hash must equal the recorded revision; the demo from this installation's own build;
3. checks every cited table's bytes, key and binding, and that the maintainer's own template split of its prompt
   gives the recorded prefix and suffix ids;
4. rescores, with plain full forwards (the independent path), a sample drawn from fresh randomness and sized by
   a stated detection probability (`sample_size`; `--n` can only raise it), plus every row the pages name;
5. reruns the scorer sanity check;
6. recomputes every task with the maintainer's task files over the checked tables (GCG: every recorded reply
   rescored and its block rebuilt from the recorded searches) and compares each metric and data leaf with the
   document; a difference where the document's task or harness version is not the maintainer's is `stale`
   (re-analyse), not a mismatch;
7. writes the outcome to the maintainer's trust store, keyed by the audit's content digest (with the figures it
   rendered itself). Nothing is written into the audit folder.
"""

from __future__ import annotations

import math
import re
import secrets
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from harness import __version__
from harness.errors import UserError
from harness.models.kinds import all_options, file_options

DETECT_FRACTION = 0.01  # a table with at least this share of altered rows ...
DETECT_CONFIDENCE = 0.99  # ... is caught with at least this probability by the random sample alone
NAMED_TAIL = 100  # the top and bottom rows by score of every table are always rescored (the pages show them)
# Leaves `verify` takes as the submitter's report, not as facts it can recompute: timings, the seeds and candidate
# counts of a GCG search, and a block's `computed` stamp (docs/security.md, "What the badge does not cover").
REPORTED_KEYS = frozenset({"computed", "wall_s", "elapsed_s", "steps_per_s", "seed", "n_sampled", "n_valid", "device"})
_HEX40 = re.compile(r"^[0-9a-f]{40}$")


class VerifyError(UserError, ValueError):
    """The audit cannot be verified as asked (no model folder given, a revision that is not a commit, ...)."""


# --- sample size ------------------------------------------------------------------------------------------------


def miss_probability(n_rows: int, n_altered: int, n_sampled: int) -> float:
    """P(a uniform sample of `n_sampled` rows without replacement contains none of `n_altered` altered rows)."""
    from scipy.stats import hypergeom

    if n_altered <= 0:
        return 1.0
    return float(hypergeom.pmf(0, n_rows, n_altered, min(n_sampled, n_rows)))


def sample_size(n_rows: int, fraction: float = DETECT_FRACTION, confidence: float = DETECT_CONFIDENCE) -> int:
    """The smallest sample that catches a table of `n_rows` with ceil(fraction * n_rows) altered rows with
    probability >= `confidence` (exact hypergeometric; the whole table when it is that small)."""
    if n_rows <= 0:
        return 0
    k = max(1, math.ceil(fraction * n_rows))
    lo, hi = 1, n_rows
    while lo < hi:
        mid = (lo + hi) // 2
        if miss_probability(n_rows, k, mid) <= 1 - confidence:
            hi = mid
        else:
            lo = mid + 1
    return lo


# --- comparing documents ----------------------------------------------------------------------------------------


def close(a: Any, b: Any, rel: float = 1e-6, abs_tol: float = 1e-9) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
            return True
        return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=abs_tol)
    return a == b


def differences(claimed: Any, computed: Any, where: str, out: list[str], limit: int = 20) -> list[str]:
    """Paths (`where.key[i]...`) at which `claimed` and `computed` differ (numbers compared with a tolerance)."""
    if len(out) >= limit or (type(claimed) is type(computed) and claimed == computed):  # equal: nothing to walk
        return out
    if isinstance(claimed, dict) and isinstance(computed, dict):
        for k in sorted(set(claimed) | set(computed), key=str):
            if k not in claimed or k not in computed:
                out.append(f"{where}.{k}: {'not in the document' if k not in claimed else 'not what the tables give'}")
            else:
                differences(claimed[k], computed[k], f"{where}.{k}", out, limit)
    elif isinstance(claimed, list) and isinstance(computed, list):
        if len(claimed) != len(computed):
            out.append(f"{where}: {len(claimed)} entries, the tables give {len(computed)}")
        else:
            for i, (a, b) in enumerate(zip(claimed, computed)):
                differences(a, b, f"{where}[{i}]", out, limit)
    elif not close(claimed, computed):
        out.append(f"{where}: the document says {_short(claimed)}, the tables give {_short(computed)}")
    return out


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def named_ids(obj: Any, out: set[int] | None = None) -> set[int]:
    """Every integer under an `id` key anywhere in a block's data (the rows its lists name)."""
    out = set() if out is None else out
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == "id" and isinstance(v, int) and not isinstance(v, bool):
                out.add(v)
            else:
                named_ids(v, out)
    elif isinstance(obj, list):
        for v in obj:
            named_ids(v, out)
    return out


# --- outcome ----------------------------------------------------------------------------------------------------


@dataclass
class TableCheck:
    table: str
    n_rows: int
    n_sampled: int
    n_named: int
    max_abs_diff: float
    tolerance: float
    miss_probability: float  # P(the random sample misses a table with DETECT_FRACTION altered rows)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.max_abs_diff <= self.tolerance


@dataclass
class Verification:
    status: str  # verified | mismatch | stale
    tables: list[TableCheck]
    problems: list[str]
    stale: list[str]
    seed: int
    record_path: Path | None = None

    @property
    def rows_rescored(self) -> int:
        return sum(t.n_sampled + t.n_named for t in self.tables)


# --- the model, from the maintainer's side only -----------------------------------------------------------------


def resolve_for_verify(model: dict[str, Any], *, model_path: str | None = None, trust_remote_code: bool | None = None,
                       registry_entry: str | None = None, chat_template: str | None = None,
                       ref_model: str | None = None, device: str = "auto", kind_files: dict[str, str] | None = None):
    """The ModelRef to rescore with: settings (dtype, scorer, format, output) as the document claims them, but the
    weights, remote code and registry entry only as the maintainer names them."""
    from harness.models.identity import resolve_model_ref

    origin, source, revision = model["origin"], model["source"], model["revision"]
    if origin == "hub":
        if model_path:
            raise VerifyError("--model: a Hub audit is verified at its recorded commit, from the Hub (or your Hub "
                              "cache); do not name a folder for it")
        if not _HEX40.match(revision):
            raise VerifyError(f"the audit's revision {revision!r} is not a commit; a Hub audit must be pinned")
        target = source
    elif origin == "local":
        if not model_path:
            raise VerifyError(f"{model['id']} is a local model: name its folder with --model PATH (its content hash "
                              f"must equal the recorded {revision[:19]}...); a path written in the document is never "
                              "followed")
        target = model_path
    else:
        if model_path:
            raise VerifyError("--model: a demo audit is verified against this installation's own demo build")
        target = model["id"]
    ref_target = None
    ref_block = model.get("ref_model") if isinstance(model.get("ref_model"), dict) else None
    if model.get("scorer") == "dpo" and ref_block is not None:
        if ref_block.get("origin") == "local" and not ref_model:
            raise VerifyError("the DPO reference model is a local folder: name it with --ref-model PATH")
        ref_target = ref_model or ref_block.get("source")
    options = model.get("scorer_options") if isinstance(model.get("scorer_options"), dict) else {}
    ref = resolve_model_ref(
        target, revision=revision if origin == "hub" else None, dtype=model.get("dtype"), device=device,
        scorer=model.get("scorer"), trust_remote_code=trust_remote_code, registry_entry=registry_entry,
        pretrained=model.get("prompt_format") == "plain", chat_template=chat_template,
        output_field=model.get("output_field") if model.get("scorer", "reward") == "reward" else None,
        output_index=model.get("output_index"), ref_model=ref_target,
        scorer_options=_scorer_options(options, kind_files or {}),
        demo="lm" if model.get("scorer") == "lm_logprob" else "rm",
    )
    if ref.revision != revision:
        raise VerifyError(f"the model you named has revision {ref.revision[:19]}..., not the audit's {revision[:19]}...; "
                          "its weights or files differ from what was audited")
    if ref.display_id != model["id"]:
        raise VerifyError(f"the model you named resolves to {ref.display_id}, not the audit's {model['id']} (a local "
                          "folder must keep the name it was audited under)")
    if ref_block is not None and (ref.ref_model is None or ref.ref_model.revision != ref_block.get("revision")):
        raise VerifyError("the DPO reference model you named is not the audited one (its revision differs)")
    return ref


def _scorer_options(recorded: dict[str, Any], given_files: dict[str, str]) -> dict[str, Any]:
    """The scorer kind's options as the document records them, except files (a judge template...): those only as
    the maintainer names them, and they must be the very file the audit recorded (by sha256)."""
    from harness.models.identity import file_fingerprint

    out = {o.key: recorded[o.key] for o in all_options() if o.key in recorded and not o.file}
    for o in file_options():
        had, given = recorded.get(o.key), given_files.get(o.key)
        if had is None:
            if given:
                raise VerifyError(f"{o.flag}: the audit was made without one (the default); drop it")
            continue
        shown = f"{had.get('file')!s}, sha256 {str(had.get('sha256'))[:12]}…" if isinstance(had, dict) else "?"
        if not given:
            raise VerifyError(f"the audit was made with its own {o.flag} ({shown}); name that file with {o.flag} FILE "
                              "(a path written in the document is never followed)")
        if not isinstance(had, dict) or file_fingerprint(given)["sha256"] != had.get("sha256"):
            raise VerifyError(f"{o.flag} {given}: not the file the audit was made with ({shown})")
        out[o.key] = given
    return out


def _identity_problems(mine: dict[str, Any], model: dict[str, Any]) -> list[str]:
    keys = ("id", "origin", "revision", "dtype", "scorer", "prompt_format", "hub_url", "slug", "weights_note",
            "output_field", "output_index", "trust_remote_code", "reference")
    out = [f"model.{k}: the document says {_short(model.get(k))}, the model gives {_short(mine.get(k))}"
           for k in keys if k in model and not close(model.get(k), mine.get(k))]
    if "registry_entry" in model and model.get("registry_entry") != mine.get("registry_entry"):
        out.append(f"model.registry_entry: the document says {_short(model.get('registry_entry'))}; registry entries "
                   "come from the maintainer's registry only")
    return out


# --- rescoring ----------------------------------------------------------------------------------------------------


def _tolerance(dtype: str, spread: float) -> float:
    return max(1e-4, 1e-3 * spread) if dtype == "float32" else max(1e-2, 3e-2 * spread)


def _reply_ids(row, vocabulary: bool) -> list[int]:
    """A vocabulary row is its token id; an item row keeps its token ids, space-separated, in `token`."""
    return [int(row["id"])] if vocabulary else [int(t) for t in str(row["token"]).split()]


def check_table(scorer, table, rel: str, rng: np.random.Generator, n_floor: int, named: set[int],
                fraction: float, confidence: float, batch_size: int = 64) -> TableCheck:
    """Rescore a random sample (at least `sample_size(n_rows)` rows, or `n_floor` when larger) and every named
    row of one checked table; the maintainer's split of its prompt must give the key's prefix and suffix ids."""
    from harness.scoring.parity import plain_scores

    df, meta = table.df, table.meta
    parts = meta["key_parts"]
    problems = []
    split = scorer.split(meta["prompt"])
    if list(split.prefix_ids) != list(parts.get("prefix", [])) or list(split.suffix_ids) != list(parts.get("suffix", [])):
        problems.append("the model's template gives other prefix/suffix ids than the table's key (another prompt or "
                        "template)")
    n = len(df)
    k = max(sample_size(n, fraction, confidence), min(n_floor, n))
    chosen = set(rng.choice(n, size=k, replace=False).tolist()) if n else set()
    scores = df["score"].to_numpy(dtype=float)
    order = np.argsort(np.where(np.isfinite(scores), scores, -np.inf), kind="stable")
    tails = set(order[-NAMED_TAIL:].tolist()) | set(order[:NAMED_TAIL].tolist())
    by_id = {int(i): pos for pos, i in enumerate(df["id"].to_numpy())}
    names = (tails | {by_id[i] for i in named if i in by_id}) - chosen
    rows = df.iloc[sorted(chosen | names)]
    vocabulary = str(meta.get("response_set")) == "vocabulary"
    stored = rows["score"].to_numpy(dtype=float)
    fresh = stored if problems else plain_scores(scorer, split, [_reply_ids(r, vocabulary) for _, r in rows.iterrows()],
                                                 batch_size=batch_size)
    both = np.isfinite(stored) & np.isfinite(fresh)
    if not np.array_equal(np.isfinite(stored), np.isfinite(fresh)):
        problems.append("rows recorded as finite rescore as non-finite, or the reverse")
    if (rows["finite"].to_numpy(bool) != np.isfinite(stored)).any():
        problems.append("the `finite` column disagrees with the scores")
    diff = float(np.max(np.abs(stored[both] - fresh[both]))) if both.any() else 0.0
    finite = scores[np.isfinite(scores)]
    spread = float(np.std(finite)) if len(finite) > 1 else 1.0
    return TableCheck(rel, n, len(chosen), len(names), diff, _tolerance(parts.get("dtype", "float32"), spread),
                      miss_probability(n, max(1, math.ceil(fraction * n)), len(chosen)), problems)


def _sanity_problems(fresh: dict[str, Any], claimed: dict[str, Any], stale: list[str], dtype: str) -> list[str]:
    """Where the document's `sanity` block disagrees with the rerun. The failing pairs' scores are compared to the
    rescoring tolerance; when every other difference comes from one pair flipping (a near tie read differently on
    another device) it is stale, not false; another pair set is stale too."""
    if claimed.get("n") != fresh.get("n") or claimed.get("pairs") != fresh.get("pairs"):
        stale.append(f"sanity: the document's check used another pair set ({_short(claimed.get('pairs'))}, "
                     f"{claimed.get('n')} pairs) than this installation's (rerun the audit to refresh it)")
        return []
    scores = ("chosen_score", "rejected_score")

    def without_scores(block: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in block.items() if k not in ("publish", "override")}  # the submitter's own choices
        out["failures"] = [{k: v for k, v in f.items() if k not in scores} if isinstance(f, dict) else f
                           for f in block.get("failures") or []]
        return out

    out = differences(without_scores(claimed), without_scores(fresh), "sanity", [])
    tol = _tolerance(dtype, 1.0)
    for i, (c, f) in enumerate(zip(claimed.get("failures") or [], fresh.get("failures") or [])):
        for k in scores:
            a, b = (c.get(k) if isinstance(c, dict) else None), f.get(k)
            if not (isinstance(a, (int, float)) and not isinstance(a, bool) and isinstance(b, (int, float))
                    and abs(float(a) - float(b)) <= tol * max(1.0, abs(float(b)))):
                out.append(f"sanity.failures[{i}].{k}: the document says {_short(a)}, the rerun gives {_short(b)}")
    correct_c, correct_f = claimed.get("correct"), fresh.get("correct")
    if out and isinstance(correct_c, int) and isinstance(correct_f, int) and abs(correct_c - correct_f) == 1 \
            and claimed.get("passed") == fresh.get("passed"):
        stale.append(f"sanity: one pair ranked differently in the rerun ({correct_c} vs {correct_f} right; a near tie "
                     "read differently on this device)")
        return []
    return out


class Oracle:
    """Plain full-forward scores of (prompt, reply ids), computed once each: GCG's recorded replies and steps are
    rescored through it, so a reply the document names is always scored by the maintainer's model."""

    def __init__(self, scorer, batch_size: int = 64):
        self.scorer, self.batch_size = scorer, batch_size
        self.cache: dict[tuple[str, tuple[int, ...]], float] = {}
        self.splits: dict[str, Any] = {}

    def split(self, prompt: str):
        if prompt not in self.splits:
            self.splits[prompt] = self.scorer.split(prompt)
        return self.splits[prompt]

    def _valid(self, seq) -> bool:
        vocab = getattr(self.scorer, "vocab_size", None) or 1 << 62
        return bool(seq) and all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < vocab for i in seq)

    def scores(self, prompt: str, seqs: list[list[int]]) -> list[float]:
        from harness.scoring.parity import plain_scores

        todo = sorted({tuple(s) for s in seqs if (prompt, tuple(s)) not in self.cache})
        ok = [t for t in todo if self._valid(t)]
        for t in todo:
            self.cache.setdefault((prompt, t), float("nan"))  # ids outside the vocabulary: no score, no match
        if ok:
            fresh = plain_scores(self.scorer, self.split(prompt), [list(t) for t in ok], batch_size=self.batch_size)
            self.cache.update({(prompt, t): float(v) for t, v in zip(ok, fresh)})
        return [self.cache[(prompt, tuple(s))] for s in seqs]

    def decode(self, seqs: list[list[int]]) -> list[str]:
        from harness.models.tokens import decode_each

        return [decode_each(self.scorer.tokenizer, [list(s)])[0] if self._valid(s) else "\ufffd" for s in seqs]


def gcg_searches(oracle: Oracle, spec, block: Any, problems: list[str]) -> dict[str, Any] | None:
    """The document's GCG searches as the maintainer sees them: every reply its runs name (best, start and each
    step's) rescored by the oracle and decoded again. A recorded score within tolerance keeps its recorded value
    (the search measured it through the cache); one beyond it is replaced by the rescore, and texts are always the
    decoded ids, so the block rebuilt from these differs from the document wherever a reply's claim is false.
    Timings and candidate counts are reported values (docs/security.md)."""
    from harness.gcg.result import GCGResult
    from harness.gcg.task import split_args
    from harness.models.templates import reply_ids_in_context

    data = block.get("data") if isinstance(block, dict) else None
    runs = data.get("runs") if isinstance(data, dict) else None
    if not isinstance(runs, dict):
        problems.append(f"results.{spec.task}.data.runs: missing")
        return None
    directions, base = split_args(spec.analysis_args)
    out = {}
    for key, prompt in spec.prompts.items():
        split = oracle.split(prompt)
        for direction in directions:
            name = f"{key}/{direction}"
            where = f"results.{spec.task}.data.runs.{name}"
            try:
                res = GCGResult.from_json(runs[name])
                seqs_of = [[r.best_ids, r.init_ids] + [s.ids for s in r.steps] + [s.best_ids for s in r.steps]
                           for r in res.restarts]
                for seqs in seqs_of:
                    [tuple(map(int, s)) for s in seqs]
            except Exception as e:  # noqa: BLE001 - a malformed claim is one problem line
                problems.append(f"{where}: unreadable ({type(e).__name__})")
                continue
            if res.prompt != prompt or res.direction != direction:
                problems.append(f"{where}: searched another prompt or direction")
            if list(res.prefix_ids) != list(split.prefix_ids) or list(res.suffix_ids) != list(split.suffix_ids):
                problems.append(f"{where}: prefix/suffix ids differ from the model's template")
            if res.config != base.with_(direction=direction).to_dict():
                problems.append(f"{where}.config: differs from this installation's {spec.task} task")
            for i, r in enumerate(res.restarts):
                if r.restart != i or [st.step for st in r.steps] != list(range(1, len(r.steps) + 1)):
                    problems.append(f"{where}.restarts[{i}]: restarts and steps are not numbered in order")
                if r.stopped == "steps" and len(r.steps) != res.config.get("steps"):
                    problems.append(f"{where}.restarts[{i}]: stopped after its steps, but ran {len(r.steps)} of "
                                    f"{res.config.get('steps')}")
            for r, seqs in zip(res.restarts, seqs_of):
                fresh = dict(zip(map(tuple, seqs), oracle.scores(prompt, seqs)))
                texts = dict(zip(map(tuple, seqs), oracle.decode(seqs)))
                best = fresh[tuple(r.best_ids)]
                tol = _tolerance(res.dtype, max(1.0, abs(best)) if math.isfinite(best) else 1.0)

                def keep(claimed: float | None, ids) -> float:
                    f = fresh.get(tuple(ids), float("nan"))
                    c = float("nan") if claimed is None else float(claimed)
                    return c if math.isfinite(c) and math.isfinite(f) and abs(c - f) <= tol else f

                r.rescore, r.best_score = keep(r.rescore, r.best_ids), keep(r.best_score, r.best_ids)
                r.init_score = keep(r.init_score, r.init_ids)
                r.best_text, r.init_text = texts[tuple(r.best_ids)], texts[tuple(r.init_ids)]
                ids, clean = reply_ids_in_context(oracle.scorer.tokenizer, split, [r.best_text])[0]
                r.roundtrip = bool(clean and ids == list(r.best_ids))
                for st in r.steps:
                    st.best_score = keep(st.best_score, st.best_ids)
                    st.best_text = texts[tuple(st.best_ids)]
                    if st.ids:
                        st.score = keep(st.score, st.ids)
                        st.text = texts[tuple(st.ids)]
            out[name] = res
    return out


# --- the whole verification -------------------------------------------------------------------------------------


@dataclass
class Facts:
    """What the maintainer computed about an audit, to hold its document against (see `document_problems`)."""

    specs: dict[str, Any]  # task -> the maintainer's TaskSpec, for the tasks that can be checked here
    configs: dict[str, dict]  # task -> that spec's to_json() (what the document's configs must say)
    identity: dict[str, Any]  # the maintainer's ModelRef.to_json()
    blocks: dict[str, dict[str, Any]]  # task -> block recomputed from the checked tables (tasks without a model)
    sanity: dict[str, Any] | None  # the rerun's sanity block
    oracle: Oracle | None  # rescoring for model-level tasks (GCG), rebuilt from each document's claims
    template_hash: str | None  # the maintainer's hash of the template the model is scored with
    out_dir: Path  # where recomputed figures went
    problems: list[str] = field(default_factory=list)  # found while gathering (tables, binding)
    stale: list[str] = field(default_factory=list)
    rebuilt: dict[str, Any] = field(default_factory=dict)  # task -> (spec, result, settings) of model-level tasks


def checkable_specs(audit, include_path: list[str] | None) -> tuple[dict[str, Any], list[str]]:
    """The maintainer's task spec for every task of the document that this installation can check, and why the
    others are stale (a task or harness version not this installation's, or a task it does not have)."""
    from harness.tasks.discovery import discover

    tasks = discover(include_path or [])
    specs, stale = {}, []
    for task, block in audit.blocks().items():
        spec = tasks.get(task)
        where = f"results.{task}"
        if spec is None:
            stale.append(f"{where}: not one of this installation's tasks (pass its file with --include-path)")
            continue
        settings = block.get("settings") if isinstance(block.get("settings"), dict) else {}
        computed = block.get("computed") if isinstance(block.get("computed"), dict) else {}
        if settings.get("task_version") != spec.version_text or computed.get("harness_version") != __version__:
            stale.append(f"{where}: computed with task version {_short(settings.get('task_version'))} / harness "
                         f"{_short(computed.get('harness_version'))}; this installation has {spec.version_text} / "
                         f"{__version__} (re-analyse)")
            continue
        specs[task] = spec
    return specs, stale


def recompute_blocks(audit, specs: dict[str, Any], out_dir: Path) -> tuple[dict[str, dict], dict[str, str]]:
    """Every table-based task recomputed with the maintainer's specs over the audit's bound tables (figures into
    `out_dir`): task -> JSON block, and task -> why it could not run."""
    from harness.results.document import jsonable
    from harness.tasks import catalog, stored

    table_specs = [s for s in specs.values() if catalog.model_task(s.analysis_name) is None]
    outcome = stored.recompute(audit, table_specs, out_dir)
    return {t: jsonable(b) for t, b in outcome.blocks.items()}, dict(outcome.skipped)


def gather_facts(audit, scorer, identity: dict[str, Any], specs: dict[str, Any], stale: list[str], out_dir: Path,
                 rng, *, n_floor: int = 0, fraction: float = DETECT_FRACTION, confidence: float = DETECT_CONFIDENCE,
                 say=lambda msg: None, blocks: tuple | None = None) -> tuple[Facts, list[TableCheck]]:
    """Everything the maintainer computes, before any comparison. `scorer` None: only what needs no model (the
    cheap first pass, whose problems already decide a mismatch). `blocks`: a first pass's recomputation."""
    problems: list[str] = []
    checks: list[TableCheck] = []
    tables = {}
    for task, prompts in audit.cited().items():
        for prompt, rel in prompts.items():
            try:
                tables.setdefault(rel, audit.cited_table(task, prompt))
            except UserError as e:
                problems.append(f"results.{task}.tables.{prompt}: {e.one_line()}")
    if not audit.cited():
        problems.append("results: the document cites no score table to rescore")
    if blocks is None:
        blocks = recompute_blocks(audit, specs, out_dir)
    fresh, skipped = blocks
    stale = stale + [f"results.{t}: cannot be recomputed here ({why})" for t, why in skipped.items()]
    facts = Facts(specs, {t: spec.to_json() for t, spec in specs.items()}, identity, fresh, None, None, None,
                  out_dir, problems, stale)
    if scorer is None:
        return facts, checks
    named: dict[str, set[int]] = {}
    for task, prompts in audit.cited().items():
        for rel in prompts.values():
            named.setdefault(rel, set()).update(named_ids(audit.blocks()[task].get("data")))
            named[rel].update(named_ids((fresh.get(task) or {}).get("data")))
    for rel, table in tables.items():
        say(f"rescoring {rel} ({len(table.df):,} rows)")
        c = check_table(scorer, table, rel, rng, n_floor, named.get(rel, set()), fraction, confidence)
        checks.append(c)
        problems += [f"{rel}: {p}" for p in c.problems]
        if c.max_abs_diff > c.tolerance:
            problems.append(f"{rel}: rescored rows differ from the stored scores by up to {c.max_abs_diff:.3g} "
                            f"(tolerance {c.tolerance:.3g})")
    if isinstance(audit.doc.get("sanity"), dict):
        from harness.models.sanity import sanity_check

        say("rerunning the sanity pairs")
        facts.sanity = sanity_check(scorer).to_json()
    from harness.tasks.runner import chat_template_hash

    facts.oracle = Oracle(scorer)
    facts.template_hash = chat_template_hash(scorer)
    return facts, checks


def document_problems(audit, facts: Facts) -> tuple[list[str], list[str]]:
    """(problems, stale): where the audit's document and cited tables are not what the maintainer's facts say.
    Cheap given the facts (GCG replies go through the facts' oracle, which scores each reply once)."""
    from harness.io import untrusted
    from harness.gcg.task import assemble
    from harness.results.document import jsonable
    from harness.tasks import catalog
    from harness.tasks.pipeline import block_for
    from harness.tasks.runner import run_settings

    doc, model = audit.doc, audit.model
    problems, stale = list(facts.problems), list(facts.stale)
    if facts.identity:
        problems += _identity_problems(facts.identity, model)
    configs = doc.get("configs") if isinstance(doc.get("configs"), dict) else {}
    for task, mine in facts.configs.items():
        claimed = configs.get(task)
        for key in ("prompts", "responses", "analysis", "metric_list", "scope", "scorer"):
            if not isinstance(claimed, dict) or not close(claimed.get(key), mine.get(key)):
                problems.append(f"configs.{task}.{key}: not this installation's task file of the same version")
    for task, prompts in audit.cited().items():
        for prompt, rel in prompts.items():
            try:
                meta = untrusted.read_json_object(untrusted.contained(audit.folder, rel.rsplit("/", 1)[0] + "/meta.json",
                                                                      "meta.json"), "meta.json",
                                                  max_bytes=untrusted.MAX_SMALL_JSON_BYTES)
                why = audit.binding_problem(meta, audit.expected(task, prompt))
            except (OSError, UserError) as e:
                why = " ".join(str(e).split())
            if why:
                problems.append(f"results.{task}.tables.{prompt}: {why}")
    if facts.sanity is not None:
        problems += _sanity_problems(facts.sanity, doc.get("sanity") if isinstance(doc.get("sanity"), dict) else {},
                                     stale, str(facts.identity.get("dtype") or "float32"))
    rebuilt = {}
    for task, spec in facts.specs.items():
        if catalog.model_task(spec.analysis_name) is None or facts.oracle is None:
            continue
        searches = gcg_searches(facts.oracle, spec, audit.blocks().get(task), problems)
        if searches is None:
            continue
        try:
            result = assemble(spec, searches, draw=False)
        except (KeyError, ValueError) as e:
            problems.append(f"results.{task}.data.runs: incomplete ({type(e).__name__})")
            continue
        settings = run_settings(SimpleNamespace(dtype=facts.identity.get("dtype"), scorer=facts.identity.get("scorer"),
                                                prompt_format=facts.identity.get("prompt_format")),
                                facts.template_hash, None, spec)
        rebuilt[task] = jsonable(block_for(spec, result, facts.out_dir, {}, settings, model=audit.display_id,
                                           base=audit.folder, render=False))
        facts.rebuilt[task] = searches
    for task, fresh in {**facts.blocks, **rebuilt}.items():
        claimed = audit.blocks().get(task) or {}
        for key in ("metrics", "data", "settings", "tables", "figures"):
            problems += differences(claimed.get(key), fresh.get(key), f"results.{task}.{key}", [])
    skipped = doc.get("skipped")
    for task, why in skipped.items() if isinstance(skipped, dict) else []:
        if not isinstance(why, str):
            problems.append(f"skipped.{task}: not a reason")
    return problems, stale


def verify(target: str | Path, *, store, n: int | None = None, seed: int | None = None, device: str = "auto",
           model_path: str | None = None, trust_remote_code: bool | None = None, registry_entry: str | None = None,
           chat_template: str | None = None, ref_model: str | None = None, include_path: list[str] | None = None,
           fraction: float = DETECT_FRACTION, confidence: float = DETECT_CONFIDENCE, progress=None,
           kind_files: dict[str, str] | None = None) -> Verification:
    """Verify the audit at `target` (a results.json, its folder, or a submission record) and record the outcome in
    the trust store `store`; see the module docstring. Inconsistencies that need no model (a table's bytes, its
    binding, a number its tables do not give) end it before any weights load."""
    from harness.gcg.task import assemble
    from harness.models.loading import load_ref
    from harness.report.figures import save_figures
    from harness.results.attest import figure_blobs
    from harness.results.audit import open_audit

    say = progress or (lambda msg: None)
    audit = open_audit(audit_path_of(target))
    files, model = audit.content_files(), audit.model
    seed = secrets.randbits(63) if seed is None else int(seed)
    rng = np.random.default_rng(seed)
    specs, stale = checkable_specs(audit, include_path)
    ref = resolve_for_verify(model, model_path=model_path, trust_remote_code=trust_remote_code,
                             registry_entry=registry_entry, chat_template=chat_template, ref_model=ref_model,
                             device=device, kind_files=kind_files)
    checks: list[TableCheck] = []
    figures: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="rm-harness-verify-") as tmp:
        # cheapest first: the tables' bytes and binding, then the numbers they give, then the model
        blocks: tuple = ({}, {})
        facts, _ = gather_facts(audit, None, ref.to_json(), specs, stale, Path(tmp), rng, say=say, blocks=blocks)
        problems, stale_now = facts.problems, facts.stale
        if not problems:
            say("recomputing every task from its tables")
            blocks = recompute_blocks(audit, specs, Path(tmp))
            facts, _ = gather_facts(audit, None, ref.to_json(), specs, stale, Path(tmp), rng, say=say, blocks=blocks)
            problems, stale_now = document_problems(audit, facts)
        if not problems:
            say(f"loading {model['id']} @ {audit.revision[:19]}")
            scorer = load_ref(ref)
            scorer.ref = ref
            facts, checks = gather_facts(audit, scorer, ref.to_json(), specs, stale, Path(tmp), rng, n_floor=n or 0,
                                         fraction=fraction, confidence=confidence, say=say, blocks=blocks)
            problems, stale_now = document_problems(audit, facts)
        if not problems and not stale_now:
            for task, searches in facts.rebuilt.items():  # model-level tasks' figures, drawn only now
                save_figures(assemble(facts.specs[task], searches), task, Path(tmp), model=audit.display_id,
                             prompts=dict(facts.specs[task].prompts))
            figures = figure_blobs(store, audit, audit.blocks(), folder=Path(tmp))
    status = "mismatch" if problems else ("stale" if stale_now else "verified")
    result = Verification(status, checks, problems, stale_now, seed)
    record = {
        "status": status, "digest": audit.digest, "files": files,
        "model": {"id": model["id"], "revision": audit.revision, "slug": audit.slug},
        "at": _now(), "harness_version": __version__, "problems": problems, "stale": stale_now, "figures": figures,
        "sample": {"seed": seed, "detect_fraction": fraction, "confidence": confidence, "n_floor": n,
                   "rows_rescored": result.rows_rescored, "named_tail": NAMED_TAIL,
                   "tables": [asdict(t) | {"ok": t.ok} for t in checks]},
        "loaded": {"trust_remote_code": ref.trust_remote_code, "registry_entry": ref.registry_entry},
    }
    result.record_path = store.write_record(record)
    return result


def audit_path_of(target: str | Path) -> Path:
    """A results.json or its folder as given; a submission record's audit is found from where the record lies
    (`<out>/requests/<slug>/<rev>/<attempt>.json` -> `<out>/<slug>/<rev>/results.json`), never from a path
    written inside it."""
    p = Path(target)
    if p.suffix == ".json" and p.name != "results.json" and len(p.parts) >= 4 and p.parts[-4] == "requests":
        return p.parents[3] / p.parts[-3] / p.parts[-2] / "results.json"
    return p


def _now() -> str:
    from harness.results.document import utc_now

    return utc_now()
