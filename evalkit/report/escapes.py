"""Untrusted text made writable and visible in every output: what UTF-8 or XML 1.0 cannot carry, and the
control characters a reader would never see, become escapes a reader can see.

    lone surrogate   "\\ud800"   valid in JSON from a server, not encodable as UTF-8
    C0 and C1        "\\x00", "\\x1b", "\\x85"  (tab, line feed and carriage return are kept)
    U+FFFE, U+FFFF   "\\ufffe"   not characters; XML 1.0 forbids them

A surrogate pair held as two code points is joined into the character it encodes. The escape is plain
text (a backslash, a letter, hex digits), so it is safe in HTML, in a JSON string and in XML. A backslash
already in the text is left as it is: ``\\ud800`` typed by a model reads the same as the escape.
"""

from __future__ import annotations

import re
from typing import Any

from evalkit.text import map_strings

__all__ = ["clip", "has_hidden", "visible", "visible_data"]

_HIDDEN = re.compile(
    "([\ud800-\udbff][\udc00-\udfff])|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]"
)


def visible(text: str) -> str:
    """``text`` with every character UTF-8 or XML 1.0 cannot hold, and every control character but tab,
    line feed and carriage return, written as an escape (``\\ud800``, ``\\x00``)."""
    if text.isprintable():  # no control, surrogate or non-character: most texts, at C speed
        return text
    return _HIDDEN.sub(_escape, text)


def has_hidden(text: str) -> bool:
    """Whether ``visible`` would change ``text``."""
    return _HIDDEN.search(text) is not None


def visible_data(value: Any) -> Any:
    """A JSON value (dicts, lists, strings, numbers) with ``visible`` applied to every string in it."""
    return map_strings(value, visible)


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was when it is cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [cut: {len(text):,} characters in all; the whole text is in results.json]"


def _escape(match: re.Match[str]) -> str:
    pair = match.group(1)
    if pair is not None:
        high, low = ord(pair[0]), ord(pair[1])
        return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
