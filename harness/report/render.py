"""Jinja2 rendering of every HTML page (report.html, the board, its model and comparison pages).

Autoescape is on for every template, and every value printed passes `safe_text` (invisible and reordering
characters shown as `\\uXXXX`) before it is escaped. Token strings and model ids go through the one `visible`
filter (leading and trailing spaces as ␣, control and format characters escaped). Python builds view models
(dataclasses); no HTML is written in Python.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from harness import __version__
from harness.report.text import cut, safe_text, visible

TEMPLATES = Path(__file__).with_name("templates")
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; base-uri 'none'; "
       "form-action 'none'")


def _finalize(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Markup):
        return value
    return safe_text(value) if isinstance(value, str) else value


def visible_filter(value: Any, limit: int | None = None) -> str:
    """Tokens and model ids as shown everywhere: `visible`, then cut to `limit` characters when given."""
    shown = visible("" if value is None else str(value))
    return cut(shown, limit) if limit else shown


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, finalize=_finalize, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["visible"] = visible_filter
    env.globals.update(csp=CSP, harness_version=__version__)
    return env


def render(template: str, **context: Any) -> str:
    """Render `template` (a file under harness/report/templates) with the build time in `built`."""
    context.setdefault("built", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return environment().get_template(template).render(**context)


