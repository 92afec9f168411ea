"""Suite file → ``Suite``: read the bytes, parse the YAML with line numbers, validate, locate any error.

Every problem — a missing file, a YAML syntax error, an unknown key, a wrong type, a failed check — is
raised as one ``SuiteError`` whose text reads ``suites/x.yaml:7: generation.temperatur: unknown key
(allowed: …)``. The returned ``Suite`` knows its file (``suite.path``), the hash of the file's bytes
(``suite.sha256``) and the line of any value in it (``suite.line_of("cases", 3)``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import ValidationError

from evalkit.errors import SuiteError
from evalkit.suite.messages import suite_error
from evalkit.suite.model import Suite
from evalkit.suite.yamlpos import parse_yaml
from evalkit.text import display_path


def load_suite(path: str | Path) -> Suite:
    """Read and validate a suite file; raise ``SuiteError`` (file:line: field: what is wrong)."""
    file = display_path(path)
    raw = _read(Path(path), file=file)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SuiteError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x})", file=file, line=line) from None
    doc = parse_yaml(text, file=file)
    if doc.data is None:
        raise SuiteError(
            "the suite file is empty (it needs at least name, data or cases, scorers)", file=file
        )
    if not isinstance(doc.data, dict):
        got = type(doc.data).__name__.replace("str", "text")
        raise SuiteError(
            f"expected a mapping of suite keys (name, data, scorers, …), got {got}", file=file, line=1
        )
    try:
        suite = Suite.model_validate(doc.data)
    except ValidationError as exc:
        raise suite_error(exc, doc=doc, file=file) from None
    suite._path = Path(path).absolute()
    suite._sha256 = hashlib.sha256(raw).hexdigest()
    suite._doc = doc
    return suite


def _read(path: Path, *, file: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SuiteError(f"suite file not found: {path.absolute()}", file=file) from None
    except IsADirectoryError:
        raise SuiteError("is a directory; give the suite's YAML file", file=file) from None
    except OSError as exc:
        raise SuiteError(f"cannot read the suite file: {exc.strerror}", file=file) from None
