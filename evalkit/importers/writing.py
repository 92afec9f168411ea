"""Writing an import's files: the suite as YAML that reads back exactly as built (templates, rubrics and
Python source unchanged; multi-line texts as ``|`` blocks), the data as JSON Lines, and names made safe
for suite, target and file names. Nothing existing is overwritten unless asked (``--force``)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from evalkit.errors import InputError
from evalkit.text import display_path

__all__ = ["check_free", "jsonl_bytes", "relative", "slug", "suite_yaml"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def slug(text: str, *, fallback: str) -> str:
    """``text`` as a name evalkit takes for suites, targets and files: letters, digits, ``.``, ``_``,
    ``-``, starting with a letter or digit (``Ticket triage v2`` → ``ticket-triage-v2``,
    ``ft:gpt-4o-mini:acme::x1`` → ``ft-gpt-4o-mini-acme-x1``); ``fallback`` when nothing is left."""
    name = _UNSAFE.sub("-", text.strip().lower()).strip("-._")
    return name or fallback


def suite_yaml(document: Mapping[str, Any]) -> str:
    """The suite as YAML that ``yaml.safe_load`` reads back equal to ``document``."""
    import yaml

    class _Dumper(yaml.SafeDumper):
        """Multi-line texts as literal blocks, where YAML can hold them so."""

    def text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    _Dumper.add_representer(str, text)
    options: dict[str, Any] = {"sort_keys": False, "width": 1_000_000, "allow_unicode": True}
    written: str = yaml.dump(dict(document), Dumper=_Dumper, **options)
    if yaml.safe_load(written) != document:  # a text a block cannot hold exactly: plain quoting instead
        written = yaml.safe_dump(dict(document), **options)
    return written


def jsonl_bytes(rows: Sequence[Mapping[str, Any]]) -> bytes:
    """Rows as JSON Lines (UTF-8, one object a line)."""
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode(
        "utf-8", "surrogatepass"
    )


def relative(path: Path, start: Path) -> str:
    """``path`` relative to the folder ``start``, with ``/`` (as a suite names its files)."""
    return Path(os.path.relpath(path.absolute(), start.absolute())).as_posix()


def check_free(paths: Sequence[tuple[Path, str]], *, force: bool) -> None:
    """``InputError`` (at the option that named it) for the first path that exists, unless ``force``."""
    if force:
        return
    for path, option in paths:
        if path.exists():
            raise InputError(
                f"{display_path(path)} exists; give --force to overwrite it (or another {option})",
                field=option,
            )
