"""Pydantic errors raised at a chosen location, so a check on a whole list or mapping can still point
at the one item that is wrong (``scorers[2]``, ``targets.final``).

A ``ValidationError`` raised inside a validator has its locations prefixed by the field being validated;
``located_error`` builds one, and ``relocated`` moves the errors of a nested validation under a key.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

PathElem = str | int
"""One step of a location: a mapping key or a list index."""

ERROR_TYPE = "evalkit"
"""The pydantic error type of the errors raised by ``located_error``; their message is shown as it is."""


def located_error(loc: tuple[PathElem, ...], message: str, value: Any) -> ValidationError:
    """A validation error at ``loc`` (relative to the value being validated) with a message shown as is."""
    detail = InitErrorDetails(
        type=PydanticCustomError(ERROR_TYPE, "{message}", {"message": message}), loc=loc, input=value
    )
    return ValidationError.from_exception_data("Suite", [detail])


def relocated(exc: ValidationError, prefix: tuple[PathElem, ...]) -> ValidationError:
    """``exc`` with every error's location prefixed by ``prefix`` (types and context kept)."""
    details: list[InitErrorDetails] = []
    for error in exc.errors():
        context = {**error.get("ctx", {}), "message": error["msg"]}
        details.append(
            InitErrorDetails(
                type=PydanticCustomError(error["type"], "{message}", context),
                loc=prefix + tuple(error["loc"]),
                input=error["input"],
            )
        )
    return ValidationError.from_exception_data(exc.title, details)
