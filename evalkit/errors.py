"""The one exception tree of evalkit.

Every error a user can cause or fix is an ``EvalkitError``; the CLI prints ``str(error)`` as one line and
exits with code 2. Anything else escaping is a bug in evalkit.

    EvalkitError
    ├── InputError              bad input: suite file, data file, CLI value   (where: file, line, field)
    │   ├── SuiteError          the suite file itself
    │   └── DataError           a data file or inline case
    └── ServiceError            a model service cannot be used at all (unreachable, key rejected)
"""

from __future__ import annotations

from pathlib import Path


class EvalkitError(Exception):
    """Base of every error evalkit raises on purpose; its text is shown to the user as it is."""


class InputError(EvalkitError):
    """Bad input, located as precisely as we can: ``file:line: field: message``."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [p for p in (where, self.field) if p]
        prefix = ": ".join(parts)
        return f"{prefix}: {self.message}" if prefix else self.message


class SuiteError(InputError):
    """The suite file is unreadable or does not follow the suite schema."""


class DataError(InputError):
    """A data file (or an inline case) is unreadable or malformed."""


class ServiceError(EvalkitError):
    """A model service cannot be used at all: unreachable, or it rejected the credentials."""
