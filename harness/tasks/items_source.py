"""Item lists from a dataset: `responses: {type: items, dataset: ORG/NAME | ./folder, split, column}`.

A Hub id, a local dataset folder (parquet, json or csv files, or a `save_to_disk` folder) or a parquet file is read
with the `datasets` library. Items are kept verbatim: a CSV-backed dataset is read with pandas' NA conversion off
(the item "NA" or "None" stays that string), and a null or non-string value is an error, never a silent "nan".
CSV files named by `responses.path` are read by `harness.scoring.items`, not here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from harness.errors import UserError
from harness.tasks.checks import is_local_dataset

_VERBATIM_CSV = {"keep_default_na": False, "na_filter": False}


class ItemSourceError(UserError):
    """An item dataset cannot be read, or its column is not a list of strings."""


def _local_path(dataset: str, base_dir: str | os.PathLike[str] | None) -> Path:
    path = Path(os.path.expanduser(dataset))
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    if not path.exists():
        raise ItemSourceError(
            f"responses.dataset: {path} does not exist; give a dataset folder, a parquet file or ORG/NAME"
        )
    return path


def _load(responses: dict[str, Any], base_dir: str | os.PathLike[str] | None):
    import datasets

    # An item list is small and read before anything else: no progress bars on stderr, which holds only warnings
    # and the one error line.
    was_on = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        return _load_quietly(datasets, responses, base_dir)
    finally:
        if was_on:
            datasets.enable_progress_bars()


def _load_quietly(datasets, responses: dict[str, Any], base_dir: str | os.PathLike[str] | None):

    dataset, split = responses["dataset"], responses.get("split") or "train"
    kwargs: dict[str, Any] = {"split": split}
    if responses.get("subset"):
        kwargs["name"] = responses["subset"]
    try:
        if is_local_dataset(dataset):
            path = _local_path(dataset, base_dir)
            if path.is_dir() and ((path / "state.json").is_file() or (path / "dataset_dict.json").is_file()):
                loaded = datasets.load_from_disk(str(path))  # already typed Arrow: nothing to reparse
                return loaded[split] if isinstance(loaded, datasets.DatasetDict) else loaded
            args = ("parquet",) if path.is_file() else (str(path),)
            if path.is_file():
                kwargs["data_files"] = str(path)
        else:
            args = (dataset,)
            if responses.get("revision"):
                kwargs["revision"] = responses["revision"]
        ds = datasets.load_dataset(*args, **kwargs)
        if getattr(ds.info, "builder_name", None) == "csv":  # reread without turning "NA", "None", "" into null
            ds = datasets.load_dataset(*args, **kwargs, **_VERBATIM_CSV)
    except UserError:
        raise
    except (FileNotFoundError, ValueError, KeyError) as e:
        raise ItemSourceError(f"responses.dataset {dataset!r} (split {split!r}): cannot load: {e}") from None
    return ds


def load_item_frame(responses: dict[str, Any], base_dir: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """The dataset's item column (verbatim strings) and its `keep_columns`, one row per item, in dataset order."""
    ds = _load(responses, base_dir)
    column = responses["column"]
    keep = list(responses.get("keep_columns") or [])
    missing = [c for c in [column, *keep] if c not in ds.column_names]
    if missing:
        raise ItemSourceError(
            f"responses.column: dataset {responses['dataset']!r} has no column {missing[0]!r} "
            f"(columns: {', '.join(ds.column_names)})"
        )
    feature = ds.features[column]
    if getattr(feature, "dtype", None) not in ("string", "large_string"):
        raise ItemSourceError(
            f"responses.column: {column!r} of {responses['dataset']!r} holds {feature}, not strings; name a text column"
        )
    texts = ds[column]
    nulls = sum(t is None for t in texts)
    if nulls:
        raise ItemSourceError(
            f"responses.column: {column!r} of {responses['dataset']!r} has {nulls} missing value(s); clean the dataset"
        )
    frame = pd.DataFrame({column: pd.Series(texts, dtype=object)})
    for c in keep:
        if c != column:
            frame[c] = ds[c]
    return frame


def load_item_texts(responses: dict[str, Any], base_dir: str | os.PathLike[str] | None = None) -> list[str]:
    """The items of a dataset source, verbatim, in dataset order (relative local paths resolve against base_dir)."""
    return list(load_item_frame(responses, base_dir)[responses["column"]])


def item_source_name(responses: dict[str, Any]) -> str:
    """A short name for the item set (score-table names): the CSV's stem, or the dataset's last part + split."""
    if "path" in responses:
        return Path(responses["path"]).stem
    stem = Path(str(responses["dataset"]).rstrip("/")).name.removesuffix(".parquet")
    return f"{stem}-{responses.get('split') or 'train'}"


def load_items(spec) -> tuple[list[str], pd.DataFrame]:
    """A task's item texts (verbatim) and the frame holding the columns it keeps, from its CSV file or dataset.

    The same reader serves `tasks validate`, the up-front checks of a run and the run itself, so a file that
    validates is a file that runs: the item column and every `keep_columns` column must exist, and empty items
    are dropped (CSV, counted) or refused (dataset)."""
    responses = spec.responses
    if "dataset" in responses:
        frame = load_item_frame(responses, Path(spec.source).parent if spec.source else None)
        texts = list(frame[responses["column"]])
        empty = [i for i, t in enumerate(texts) if t == ""]
        if empty:  # an empty reply is not an item (a CSV's empty cells are dropped and counted; a dataset is explicit)
            raise ItemSourceError(
                f"responses.column: {responses['column']!r} of {responses['dataset']!r} has {len(empty)} empty "
                f"item(s) (first at row {empty[0]}); remove them from the dataset"
            )
        return texts, frame.reset_index(drop=True)
    from harness.scoring.items import read_items

    items = read_items(Path(responses["path"]), responses["column"],
                       required_columns=responses.get("keep_columns") or ())
    return items.texts, items.frame


def check_items(spec) -> None:
    """Read a task's item list if it is on this machine (a CSV file or a local dataset): for `tasks validate`."""
    responses = spec.responses
    if responses.get("type") != "items":
        return
    if "dataset" in responses and not is_local_dataset(responses["dataset"]):
        return  # a Hub dataset is read when a run needs it (the Hub may be out of reach while validating)
    load_items(spec)


def join_kept_columns(spec, df: pd.DataFrame, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """A score table of an item task with the item file's `keep_columns` joined on row id (a scan stores only
    the scores): the same columns for a live run and for an analysis of stored tables. The frame is read from
    the task's item file when not given."""
    keep_names = list(spec.responses.get("keep_columns") or [])
    if spec.responses.get("type") != "items" or not keep_names:
        return df
    if frame is None:
        _, frame = load_items(spec)
    keep = [c for c in keep_names if c in frame.columns and c not in df.columns]
    return df.join(frame[keep].reset_index(drop=True), on="id") if keep else df
