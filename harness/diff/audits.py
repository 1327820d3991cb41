"""Diff two audits (A = before, B = after) through their bound score tables (harness/tasks/stored.tables_for):
the settings-match rule, the join (token ids when the vocabularies are identical, else decoded strings), and
per task × prompt the rank agreement, movers and headline deltas of harness/diff/compute.py.

Settings that change what a number means (scorer kind, dtype, prompt format, chat template, vocabulary subset,
limit) must match, else `DiffSettingsError` names the first difference; `allow_different=True` goes on and lists
every difference in the result.
"""

from __future__ import annotations

from typing import Any

from harness.diff import compute
from harness.errors import UserError
from harness.results.audit import Audit

SETTINGS = ("scorer", "dtype", "prompt_format", "template_hash", "subset", "limit")
# Headline columns whose change gets a resampled interval, by task: (column id, delta function).
RESAMPLED = {"identity_bias": "identity_gap", "human_agreement": "human_rho", "frequency_bias": "frequency_beta"}
NO_UNIT = ("no resampling unit: the number describes the whole ranking at once (no terms, words or items to "
           "resample in pairs), so only the point change is shown")


class DiffSettingsError(UserError, ValueError):
    """Two audits whose settings differ in meaning; the message names the difference and the flag."""


def settings_of(audit: Audit) -> dict[str, dict[str, Any]]:
    """task -> the settings that change meaning, from each task block (the model block where a block has none)."""
    m = audit.model
    out = {}
    for task, block in audit.blocks().items():
        s = block.get("settings") if isinstance(block.get("settings"), dict) else {}
        out[task] = {"scorer": s.get("scorer", audit.kind), "dtype": s.get("dtype", m.get("dtype")),
                     "prompt_format": s.get("prompt_format", m.get("prompt_format")),
                     "template_hash": s.get("template_hash", m.get("template_hash")),
                     "subset": s.get("subset"), "limit": s.get("limit")}
    return out


def setting_differences(a: Audit, b: Audit) -> list[dict[str, Any]]:
    """Every (task, setting) whose value differs between the tasks both audits ran."""
    sa, sb = settings_of(a), settings_of(b)
    out = []
    for task in sorted(set(sa) & set(sb)):
        for k in SETTINGS:
            if sa[task].get(k) != sb[task].get(k):
                out.append({"task": task, "setting": k, "a": sa[task].get(k), "b": sb[task].get(k)})
    return out


def _same_vocabulary(da, db) -> bool:
    if "decoded" not in da.columns or "decoded" not in db.columns or len(da) != len(db):
        return False
    ma = da.set_index("id")["decoded"].astype("string")
    mb = db.set_index("id")["decoded"].astype("string")
    return ma.index.equals(mb.index) and bool((ma == mb.loc[ma.index]).all())


def _specs():
    from harness.tasks.discovery import discover

    return discover()


def diff_prompt(task: str, spec, da, db, top_k: int, n_resamples: int, seed: int) -> dict[str, Any]:
    from harness.analyses.identity_bias import _is_item_table

    items = _is_item_table(da, "auto") and _is_item_table(db, "auto")  # vocabulary tables may carry `item` too
    on = "item" if items else ("id" if _same_vocabulary(da, db) else "decoded")
    sa, sb = compute.join_key(da, on), compute.join_key(db, on)
    label_col = "item" if items else "decoded"
    labels = dict(zip(compute.join_key(da, on).index, da.drop_duplicates(on)[label_col].astype(str))) \
        if on == "id" else None
    out = {"joined_on": on, "agreement": compute.rank_agreement(sa, sb),
           "movers": compute.movers(sa, sb, labels, top_k), "deltas": []}
    args = dict((spec.analysis or {}).get("args") or {}) if spec is not None else {}
    column = RESAMPLED.get(task)
    try:
        if column == "identity_gap":
            from harness.analyses.identity_bias import load_term_lists

            out["deltas"].append(compute.identity_gap_delta(da, db, load_term_lists(args.get("lists_path")),
                                                            n_resamples, seed).to_json())
        elif column == "human_rho":
            from harness.analyses.human_agreement import load_elo

            elo = load_elo(args["elo_path"]) if args.get("elo_path") else None
            out["deltas"].append(compute.human_agreement_delta(da, db, elo, seed=seed).to_json())
        elif column == "frequency_beta":
            out["deltas"].append(compute.frequency_delta(da, db, seed=seed).to_json())
    except (ValueError, KeyError, OSError) as e:  # a table this metric cannot use: say so, keep the rest
        out["deltas"].append(compute.Delta(column, None, None, None, reason=str(e)[:300]).to_json())
    return out


def _point_deltas(a: Audit, b: Audit, task: str, prompt: str) -> list[dict[str, Any]]:
    from harness.report.headline import load_headlines, metric_value

    out = []
    for h in load_headlines():
        if h.task != task or h.source != "results" or h.id in RESAMPLED.values():
            continue
        if h.prompt not in ("switch", prompt):
            continue
        key = f"{prompt}/{h.metric}"
        va, _ = metric_value(a.blocks().get(task), key)
        vb, _ = metric_value(b.blocks().get(task), key)
        if va is not None or vb is not None:
            out.append(compute.point_delta(h.id, va, vb, NO_UNIT).to_json())
    return out


def diff_audits(a: Audit, b: Audit, allow_different: bool = False, top_k: int = 10, n_resamples: int = 9999,
                seed: int = 0) -> dict[str, Any]:
    """The whole diff of B against A as a JSON-able dict (see the module docstring)."""
    from harness.tasks.stored import tables_for

    diffs = setting_differences(a, b)
    if diffs and not allow_different:
        d = diffs[0]
        raise DiffSettingsError(f"{a.display_id} and {b.display_id} differ in {d['setting']} for task {d['task']} "
                                f"({d['a']!r} vs {d['b']!r}), which changes what the numbers mean; rerun one with "
                                "the other's settings, or pass --allow-different-settings")
    same_model = a.model.get("source") == b.model.get("source")
    specs = _specs()
    tasks: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    for task in sorted(set(a.blocks()) & set(b.blocks())):
        spec = specs.get(task)
        if spec is None:
            skipped[task] = "not a built-in task (no spec to find its tables)"
            continue
        ta, tb = tables_for(spec, a), tables_for(spec, b)
        if isinstance(ta, str) or isinstance(tb, str):
            skipped[task] = ta if isinstance(ta, str) else tb
            continue
        prompts = {}
        for prompt in [p for p in ta if p in tb]:
            entry = diff_prompt(task, spec, ta[prompt][0], tb[prompt][0], top_k, n_resamples, seed)
            entry["deltas"] += _point_deltas(a, b, task, prompt)
            prompts[prompt] = entry
        tasks[task] = prompts
    side = lambda x: {"id": x.display_id, "revision": x.revision, "slug": x.slug, "folder": x.folder.name,  # noqa: E731
                      "model_name": x.model.get("model_name"), "created": x.created}
    return {"schema": 1, "a": side(a), "b": side(b), "same_model": same_model,
            "setting_differences": diffs, "level": compute.LEVEL, "tasks": tasks, "skipped": skipped}
