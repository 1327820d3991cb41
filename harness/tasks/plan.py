"""What a run will cost, said before any weights load: forwards per task and an estimate of the time.

Rates are rough, from this project's measurements: ~275 candidate rows/s for a 0.27B model on 2 CPU cores
(scaling inversely with parameters) and ~4,300 rows/s for an 8B model on one H100-class GPU. A run estimated
over an hour asks for `--yes`; a full-vocabulary scan of an 8B model on a CPU takes days.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from harness.errors import UserError
from harness.models.kinds import kind

log = logging.getLogger(__name__)
CPU_ROWS_PER_S_AT_1B = 275 * 0.27
GPU_ROWS_PER_S_AT_1B = 4300 * 8
CONFIRM_OVER_S = 3600


class CostError(UserError):
    """The estimated run time is over the limit and --yes was not given."""


def params_billions(ref) -> float | None:
    """From the weight files on disk (bytes / bytes per parameter), else the registry's fact."""
    folder = Path(ref.load_path)
    if folder.is_dir():
        files = list(folder.glob("*.safetensors")) or list(folder.glob("*.bin"))
        if files:
            try:
                dtype = json.loads((folder / "config.json").read_text()).get("torch_dtype") or "float32"
            except (OSError, ValueError):
                dtype = "float32"
            per = 4 if "32" in str(dtype) else 2
            return sum(f.stat().st_size for f in files) / per / 1e9
    return getattr(ref.spec, "params_b", None)


def count_forwards(ref, specs, opts, vocab_size: int | None,
                   item_counts: dict[str, int] | None = None) -> dict[str, int]:
    """Candidate rows each task scores (shared prompts are scanned once, so totals are an upper bound).

    Item lists count their real items (`item_counts`, task -> items, read before the plan); a task missing there
    (its reference data is missing, so it will be skipped) costs nothing."""
    from harness.tasks.checks import missing_data

    out = {}
    counts = item_counts or {}
    for spec in specs:
        if spec.scope != "model" or not spec.applies_to(ref.scorer, ref.reference_free) or missing_data(spec):
            continue  # not run, or skipped for missing reference data
        n_prompts = len(spec.prompts)
        if spec.analysis_name == "gcg":
            args = spec.analysis_args
            directions = args.get("directions", ["maximize", "minimize"])
            n_dir = 2 if directions == "both" else 1 if isinstance(directions, str) else len(directions)
            restarts = max(int(args.get("restarts") or 1), len(args.get("init") or ()))
            out[spec.task] = (n_prompts * n_dir * restarts * int(args.get("steps", 20))
                              * int(args.get("search_width", 64)))
        elif spec.responses.get("type") == "vocabulary":
            n = len(opts.vocab_ids) if opts.vocab_ids is not None else (vocab_size or 0)
            n = min(n, opts.limit) if opts.limit else n
            out[spec.task] = n_prompts * kind(ref.scorer).vocab_rows(n)
        elif spec.task in counts:
            n = min(counts[spec.task], opts.limit) if opts.limit else counts[spec.task]
            out[spec.task] = n_prompts * n
    return out


def _vocab_size(ref) -> int | None:
    try:
        config = json.loads((Path(ref.load_path) / "config.json").read_text())
    except (OSError, ValueError):
        return None
    config = config.get("text_config", config)
    return config.get("vocab_size")


def estimate(ref, specs, opts, item_counts: dict[str, int] | None = None) -> tuple[int, float | None]:
    """(rows to score, seconds or None when the model size is unknown)."""
    rows = sum(count_forwards(ref, specs, opts, _vocab_size(ref), item_counts).values())
    params = params_billions(ref)
    if not params:
        return rows, None
    rate = (GPU_ROWS_PER_S_AT_1B if ref.device.startswith("cuda") else CPU_ROWS_PER_S_AT_1B) / max(params, 0.05)
    return rows, rows / rate


def _human(seconds: float) -> str:
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def confirm_cost(ref, specs, opts, yes: bool = False, item_counts: dict[str, int] | None = None) -> None:
    """Print the estimate; refuse a run over an hour without --yes (cached tables make real runs shorter)."""
    rows, seconds = estimate(ref, specs, opts, item_counts)
    where = ref.device
    if seconds and seconds > CONFIRM_OVER_S and not yes:  # the error line carries the plan: one line on stderr
        raise CostError(f"{ref.display_id}: up to {rows:,} scored rows, estimated {_human(seconds)} on {where}; "
                        "pass --yes to go ahead, or --limit N / fewer --tasks / a GPU (--device cuda)")
    text = f"plan: up to {rows:,} scored rows on {where}" + (f", about {_human(seconds)}" if seconds else "")
    fmt = getattr(ref, "prompt_format", None)
    why = getattr(ref, "prompt_format_reason", "")
    text += " (tables already on disk are reused)" + (f"; prompt format {fmt}" + (f" ({why})" if why else "")
                                                       if fmt else "")
    print(text)  # stdout: stderr holds only warnings and the error line
