"""Text a person reads, written one way everywhere: untrusted text made inert, figures and signed
differences. The gate's reasons, the terminal, the reports, ``compare`` and the pytest plugin all use these.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

MINUS = "\u2212"
"""The minus sign of signed figures (``−0.020``), as in a printed table."""

NONE = "—"
"""What is shown where there is no figure."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
_SURROGATE = re.compile("[\ud800-\udfff]")
_WHITESPACE = re.compile(r"\s+")


def one_line(text: object) -> str:
    """``text`` on one line with no control characters (each run becomes a space): model outputs and
    server messages are untrusted, and must never move the cursor or colour a terminal."""
    return _CONTROL.sub(" ", str(text))


def encodable(text: str) -> str:
    """``text`` with every lone surrogate (a code point JSON can carry as ``\\ud800`` but UTF-8 cannot
    encode) written as that escape, six visible characters; any other text is returned as it is."""
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    return _SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def encodable_data(value: Any) -> Any:
    """A JSON value (dicts, lists, strings, numbers) with ``encodable`` applied to every string, keys too."""
    return map_strings(value, encodable)


def map_strings(value: Any, change: Callable[[str], str]) -> Any:
    """A JSON value (dicts, lists or tuples, strings, numbers) with ``change`` applied to every string in
    it, keys too; tuples come back as lists."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {
            change(key) if isinstance(key, str) else key: map_strings(item, change) for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [map_strings(item, change) for item in value]
    return value


def display_path(path: str | Path) -> str:
    """``path`` as a user would type it: relative to the working directory when inside it."""
    absolute = Path(path).absolute()
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def number(value: float | None, digits: int = 3) -> str:
    """A figure with ``digits`` decimals, or ``—`` when there is none."""
    return NONE if value is None else f"{value:.{digits}f}"


def signed(value: float | None, digits: int = 3) -> str:
    """A difference, always with its sign (``+0.045``, ``−0.020``), or ``—`` when there is none."""
    return NONE if value is None else f"{value:+.{digits}f}".replace("-", MINUS)


def p_figure(p: float | None, *, bound: bool = False, decimals: int | None = 3) -> str:
    """A p-value as a reader should see it: ``—`` without one; ``< 0.001`` when ``bound`` (the figure is
    only an upper bound, e.g. the smallest p-value a resampling test can give) — rounded up to one
    significant digit, so the bound still holds; else with ``decimals`` decimals (``< 0.001`` below what
    they show), or with up to three significant digits when ``decimals`` is None (``0.62``, ``0.0499``)."""
    if p is None:
        return NONE
    if bound and p > 0:
        return f"< {_ceil_one_digit(p)}"
    if decimals is None:
        return _significant(p)
    smallest = 10.0**-decimals
    return f"< {smallest:.{decimals}f}" if p < smallest else f"{p:.{decimals}f}"


def _ceil_one_digit(value: float) -> str:
    """``value`` rounded up to one significant digit, in plain notation (0.0009995 → ``0.001``)."""
    exponent = math.floor(math.log10(value))
    digit = math.ceil(value / 10.0**exponent - 1e-9)
    if digit >= 10:
        digit, exponent = 1, exponent + 1
    return f"{digit * 10.0**exponent:.{max(0, -exponent)}f}"


def _significant(value: float) -> str:
    """``value`` with three significant digits in plain notation, trailing zeros dropped (0.62, 0.0499, 1)."""
    if value <= 0:
        return "0"
    decimals = max(0, 2 - math.floor(math.log10(value)))
    return f"{value:.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{value:.0f}"


def digits_for(value: float, bar: float, digits: int = 3) -> int:
    """The fewest decimals (at least ``digits``) at which ``value`` and ``bar`` print differently."""
    while digits < 9 and value != bar and f"{value:.{digits}f}" == f"{bar:.{digits}f}":
        digits += 1
    return digits


def is_punctuation(char: str) -> bool:
    """True for Unicode punctuation (general category ``P*``: ``.,;:!?'"()[]{}«»“”-`` …)."""
    return unicodedata.category(char).startswith("P")


def remove_punctuation(text: str) -> str:
    """``text`` without any Unicode punctuation character."""
    return "".join(char for char in text if not is_punctuation(char))


def collapse_whitespace(text: str) -> str:
    """``text`` with every run of whitespace replaced by one space."""
    return _WHITESPACE.sub(" ", text)
