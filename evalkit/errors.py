"""The one exception tree of evalkit.

Every error a user can cause or fix is an ``EvalkitError``; the CLI prints ``str(error)`` as one line and
exits with code 2. Anything else escaping is a bug in evalkit.

    EvalkitError
    ├── InputError              bad input: suite file, data file, CLI value   (where: file, line, field)
    │   ├── SuiteError          the suite file itself
    │   └── DataError           a data file or inline case
    └── ServiceError            a model service cannot be used at all (unreachable, key rejected)

Anything else escaping is a bug: ``write_crash`` turns it into an ``InternalError`` naming a crash file,
which the CLI prints on one line, exiting with code 2.
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


class InternalError(Exception):
    """A bug in evalkit stopped a run (not an ``EvalkitError``: nothing the user did). ``crash_file`` holds
    the traceback; what was already answered is kept (the cache, and a partial results.json when the
    calls had ended). The CLI prints ``summary`` and the file on one line and exits with code 2."""

    def __init__(self, summary: str, crash_file: Path) -> None:
        super().__init__(summary, crash_file)  # args as __init__ takes them: it crosses a pickle (the sidecar)
        self.summary = summary
        self.crash_file = crash_file

    def __str__(self) -> str:
        return f"{self.summary}; details in {self.crash_file}"


def write_crash(exc: BaseException, directory: Path | None) -> InternalError:
    """Write ``exc``'s traceback, evalkit's and Python's versions and the command line to
    ``directory/crash.txt`` (a new temporary folder when there is none, or it cannot be written), with
    the values of secret-looking environment variables blanked; the ``InternalError`` that names it."""
    import datetime
    import platform
    import sys
    import tempfile
    import traceback

    from evalkit._version import __version__

    summary = f"{type(exc).__name__}: {exc}".splitlines()[0][:300] if str(exc) else type(exc).__name__
    text = "\n".join(
        [
            f"evalkit {__version__} crashed at {datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds')}",
            f"python {sys.version.split()[0]} on {platform.platform()}",
            f"command: {' '.join(sys.argv)}",
            "",
            "".join(traceback.format_exception(exc)),
            "Please report this with the file above (check it holds nothing you cannot share).",
        ]
    )
    text = _blank_secrets(text)
    for folder in (directory, None):
        try:
            target = folder if folder is not None else Path(tempfile.mkdtemp(prefix="evalkit-crash-"))
            target.mkdir(parents=True, exist_ok=True)
            path = target / "crash.txt"
            path.write_text(text, encoding="utf-8", errors="backslashreplace")
        except OSError:
            continue
        return InternalError(_blank_secrets(summary), path)
    return InternalError(_blank_secrets(summary), Path("(no crash file could be written)"))


def _blank_secrets(text: str) -> str:
    """``text`` with the value of every environment variable whose name says key, token or secret blanked."""
    import os

    for name, value in os.environ.items():
        if len(value) >= 8 and any(word in name.upper() for word in ("KEY", "TOKEN", "SECRET", "PASSWORD")):
            text = text.replace(value, "***")
    return text
