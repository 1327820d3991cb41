"""Untrusted token strings made safe and visible: HTML-escaped, with invisible characters shown."""

from __future__ import annotations

import html
import unicodedata

_NAMED = {" ": "\u2423", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def visible(s: str) -> str:
    """Show what a token really is: spaces as ␣, controls, format and bidi characters as escapes."""
    out = []
    for ch in s:
        if ch in _NAMED:
            out.append(_NAMED[ch])
        elif unicodedata.category(ch) in _INVISIBLE or (unicodedata.category(ch) == "Zs" and ch != " "):
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    return "".join(out)


def safe(s: object) -> str:
    """Escaped for HTML text and attributes."""
    return html.escape(str(s), quote=True)


def token_html(s: str) -> str:
    return f"<code>{safe(visible(s))}</code>"
