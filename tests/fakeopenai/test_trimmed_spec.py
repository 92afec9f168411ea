"""The trimmed OpenAPI spec kept in the repo covers every shape check, and matches what trim_spec.py writes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fakeopenai.trim_spec import FULL_SPEC, TRIMMED, load_document, render, trim

TESTS_DIR = Path(__file__).resolve().parents[1]

_CALL = re.compile(r"openai_spec\.check\(")
_NAMED_CALL = re.compile(
    r"""openai_spec\.check\(
        (?: [^()] | \( (?: [^()] | \( [^()]* \) )* \) )*?  # the body: parentheses nest up to 3 deep
        ,\s* (?:schema=)? ["'](\w+)["'] \s*,?\s* \)       # then the schema name, a literal, last
    """,
    re.VERBOSE,
)


def _checked_schemas() -> dict[str, set[str]]:
    """Schema name -> the test files that check a body against it (every call must name it literally)."""
    found: dict[str, set[str]] = {}
    for path in sorted(TESTS_DIR.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        named = list(_NAMED_CALL.finditer(text))
        unread = {m.start() for m in _CALL.finditer(text)} - {m.start() for m in named}
        where = [f"{path.relative_to(TESTS_DIR)}:{text.count(chr(10), 0, i) + 1}" for i in sorted(unread)]
        assert not where, f"name the schema as a string literal so this test can see it: {', '.join(where)}"
        for match in named:
            found.setdefault(match[1], set()).add(str(path.relative_to(TESTS_DIR)))
    return found


def test_every_checked_schema_is_in_the_trimmed_copy() -> None:
    kept = json.loads(TRIMMED.read_bytes())["components"]["schemas"]
    checked = _checked_schemas()

    assert "FineTuningJob" in checked and "ErrorResponse" in checked  # the scan does find the calls
    missing = {name: sorted(files) for name, files in checked.items() if name not in kept}
    assert not missing, f"add these to ROOTS in trim_spec.py and run it: {missing}"


def test_the_trimmed_copy_is_what_trim_spec_writes() -> None:
    """Trimmed again from the full spec when it is beside the repo (as in CI), the copy comes out the same;
    without it, the copy trims to itself: every root and every schema they reference is in it, nothing else."""
    source = FULL_SPEC if FULL_SPEC.is_file() else TRIMMED
    assert TRIMMED.read_text(encoding="utf-8") == render(trim(load_document(source))), (
        f"the trimmed spec is stale or incomplete (trimmed again from {source}): "
        "run python tests/fakeopenai/trim_spec.py"
    )
