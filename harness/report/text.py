"""Untrusted token strings made safe and visible: invisible characters shown, then HTML-escaped.

Vocabularies hold HTML and script fragments, control characters and right-to-left overrides; every string
from a score table goes through `visible` (what it is) and then `safe` (HTML) before any page shows it.
"""

from __future__ import annotations

import html
import json
import math
import re
import unicodedata
from typing import Any

SPACE_MARK = "\u2423"  # ␣
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"})
# Characters outside those categories that render as nothing (fillers, blank braille, variation selectors...).
_INVISIBLE_EXTRA = frozenset(
    [0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x2800, 0x3164, 0xFFA0]
    + list(range(0x180B, 0x1810)) + list(range(0xFE00, 0xFE10)) + list(range(0xE0100, 0xE01F0))
)
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _needs_escape(ch: str) -> bool:
    if ch == " ":
        return False
    return unicodedata.category(ch) in _ESCAPED_CATEGORIES or ord(ch) in _INVISIBLE_EXTRA


def _escape_char(ch: str) -> str:
    if ch in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[ch]
    o = ord(ch)
    return f"\\u{o:04X}" if o <= 0xFFFF else f"\\U{o:08X}"


def visible(s: str) -> str:
    """Show exactly what a string is, with nothing invisible and nothing that can reorder the text around it.

    - a space is kept only when it is a single space between two visibly printed characters; leading, trailing
      and repeated spaces are shown as ␣ (so " Jews" reads "␣Jews");
    - newline, carriage return and tab become `\\n`, `\\r`, `\\t`;
    - every other control, format (including bidi overrides and isolates, zero-width characters, the BOM),
      separator, private-use, unassigned or surrogate code point, every space other than U+0020, and a few
      blank-rendering letters (Hangul fillers, blank braille, variation selectors) become `\\uXXXX`
      (`\\UXXXXXXXX` above U+FFFF);
    - a literal backslash becomes `\\\\` and a literal ␣ becomes `\\u2423`, so the mapping is one-to-one.

    The result still needs HTML escaping (it keeps `<`, `&`, quotes as they are).
    """
    if not isinstance(s, str):
        s = "" if s is None else str(s)

    def plain(c: str) -> bool:
        return c != " " and not _needs_escape(c)

    out: list[str] = []
    n = len(s)
    for i, ch in enumerate(s):
        if ch == " ":
            inner = 0 < i < n - 1 and plain(s[i - 1]) and plain(s[i + 1])
            out.append(" " if inner else SPACE_MARK)
        elif ch == "\\":
            out.append("\\\\")
        elif ch == SPACE_MARK:
            out.append("\\u2423")
        elif _needs_escape(ch):
            out.append(_escape_char(ch))
        else:
            out.append(ch)
    return "".join(out)


def safe_text(s: Any) -> str:
    """Prose from a results file (model ids, definitions, reasons): invisible and reordering characters escaped,
    ordinary spaces and backslashes kept. Not one-to-one; use `visible` for token strings."""
    if s is None:
        return ""
    if not isinstance(s, str):
        s = str(s)
    return "".join(_escape_char(c) if (c != " " and _needs_escape(c)) else c for c in s)


MAX_TOKEN_CHARS = 80  # longer token strings are cut on pages (the full visible form is in the title)


def cut(s: str, limit: int = MAX_TOKEN_CHARS) -> str:
    """`s` cut to `limit` characters with an ellipsis."""
    return s if len(s) <= limit else s[: limit - 1] + "…"


def fmt_value(v: Any) -> str:
    """A metric value for people: integers as integers (262144, not 2.621e+05), else 4 significant digits."""
    if v is None or isinstance(v, bool):
        return "—" if v is None else str(v)
    if not isinstance(v, (int, float)) or not math.isfinite(float(v)):
        return "—"
    if float(v).is_integer() and abs(v) < 1e12:
        return str(int(v))
    a = abs(v)
    if a != 0 and (a < 1e-3 or a >= 1e5):
        return f"{v:.3e}"
    return f"{v:.4g}"


def finite_json(obj: Any) -> Any:
    """A copy of `obj` that JSON can hold: NaN/inf become None, keys strings, tuples lists, unknown types str."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): finite_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_json(v) for v in obj]
    if obj is None or isinstance(obj, (str, int, bool)):
        return obj
    return str(obj)


def script_json(obj: Any) -> str:
    """JSON that is safe inside a script: ASCII only, with <, >, & as \\u escapes (no `</script>`, no `<!--`)."""
    text = json.dumps(finite_json(obj), ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def md_escape(s: Any) -> str:
    """For a GitHub markdown table cell: invisible characters escaped, HTML-escaped, markdown punctuation and
    pipes backslash-escaped."""
    out = safe_text(s).replace("\\", "\\\\")
    out = html.escape(out, quote=False)
    return re.sub(r"([|`*_\[\]~#])", r"\\\1", out)
