"""Whether the current run shows progress bars: set once by the runner, read by long phases that do not take a
RunOptions (a model-level task such as GCG), without entering what those phases record."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_SHOWN: ContextVar[bool] = ContextVar("rm_harness_progress", default=False)


def progress_shown() -> bool:
    """True inside `showing_progress(True)`."""
    return _SHOWN.get()


@contextmanager
def showing_progress(shown: bool) -> Iterator[None]:
    token = _SHOWN.set(bool(shown))
    try:
        yield
    finally:
        _SHOWN.reset(token)
