"""Argument types shared by the CLI's commands: each rejects a bad value with a message argparse shows."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeVar

N = TypeVar("N", int, float)


def _bounded(text: str, convert: Callable[[str], N], kind: str, ok: Callable[[N], bool], bound: str) -> N:
    """``text`` as a number of ``kind`` for which ``ok`` holds; else argparse's error (``bound``: the rule)."""
    try:
        value = convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}") from None
    if not ok(value):
        raise argparse.ArgumentTypeError(f"must be {bound}, got {value}")
    return value


def positive_int(text: str) -> int:
    return _bounded(text, int, "a whole number", lambda v: v >= 1, "at least 1")


def positive_float(text: str) -> float:
    return _bounded(text, float, "a number", lambda v: v > 0, "more than 0")


def non_negative_float(text: str) -> float:
    return _bounded(text, float, "a number", lambda v: v >= 0, "0 or more")
