"""Write the part of OpenAI's OpenAPI spec the shape tests need into the repository, as JSON.

The full spec (openai/openai-openapi, 3 MB of YAML) lives outside the repo, in ``../shared/``; a clone
without it must still run every shape test. This keeps ``components/schemas`` limited to ``ROOTS`` and
every schema they reference (``$ref`` anywhere inside, transitively), drops ``paths`` and the rest, and
writes ``openai-openapi.trimmed.json`` beside this file (JSON: it loads far faster than the YAML).

    python tests/fakeopenai/trim_spec.py [--spec PATH]

Run it again after adding a root, or when moving to a newer spec (then update ``SOURCE`` too).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

ROOTS = [
    # Checked by the shape tests: every schema name tests/ passes to ``openai_spec.check``.
    "Batch",
    "CreateChatCompletionRequest",  # what evalkit sends (tests/cli/test_replacement_models.py)
    "CreateChatCompletionResponse",
    "CreateCompletionRequest",
    "CreateCompletionResponse",
    # Embeddings: the fake checks request bodies against CreateEmbeddingRequest, the tests its answers.
    "CreateEmbeddingRequest",
    "CreateEmbeddingResponse",
    "ErrorResponse",
    "FineTuningJob",
    "FineTuningJobCheckpoint",
    "ListFineTuningJobCheckpointsResponse",
    "ListFineTuningJobEventsResponse",
    "ListModelsResponse",
    "Model",  # with shutdown_date
    "OpenAIFile",
    # The Responses API: the fake checks request bodies against CreateResponse, the tests its Response.
    "CreateResponse",
    "Response",
    # Evals and graders: the importer's fixtures (tests/fixtures/openai_evals.py) are checked against Eval,
    # EvalRun, EvalRunOutputItem and EvalRunOutputItemList; the grader objects they hold against Grader*.
    "Grader*",
    "Eval*",
]
"""Schemas to keep, with what they reference; ``Name*`` means every schema whose name starts with Name."""

SOURCE = {"repository": "openai/openai-openapi", "commit": "f85dbe2", "date": "2026-08-21"}
"""Where the full spec comes from (written into the trimmed copy's ``info``)."""

FULL_SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "openai-openapi.yaml"
"""The full spec: beside the repository, in ``shared/``."""

TRIMMED = Path(__file__).resolve().with_name("openai-openapi.trimmed.json")
"""The trimmed copy, kept in the repository."""

_PREFIX = "#/components/schemas/"


def load_document(path: Path) -> Any:
    """The JSON or YAML document at ``path`` (YAML through libyaml when present: it is ~10x faster)."""
    if path.suffix == ".json":
        return json.loads(path.read_bytes())
    import yaml

    with path.open("rb") as stream:
        return yaml.load(stream, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def root_names(schemas: dict[str, Any]) -> list[str]:
    """``ROOTS`` with each ``Name*`` expanded; a root that names no schema is an error, not a silent gap."""
    names: list[str] = []
    for root in ROOTS:
        if root.endswith("*"):
            found = [name for name in schemas if name.startswith(root[:-1])]
        else:
            found = [root] if root in schemas else []
        if not found:
            raise SystemExit(f"trim_spec: the spec has no schema {root!r} (fix ROOTS)")
        names += found
    return sorted(set(names))


def _refs(node: Any) -> list[str]:
    """The schema names ``node`` references, at any depth."""
    if isinstance(node, list):
        return [name for item in node for name in _refs(item)]
    if not isinstance(node, dict):
        return []
    ref = node.get("$ref")
    own: list[str] = []
    if isinstance(ref, str):
        if not ref.startswith(_PREFIX):
            raise SystemExit(f"trim_spec: unsupported $ref {ref!r} (only {_PREFIX}... is kept)")
        own.append(ref.removeprefix(_PREFIX))
    return own + [name for value in node.values() for name in _refs(value)]


def trim(document: dict[str, Any]) -> dict[str, Any]:
    """The spec with only the ``ROOTS`` schemas and their transitive references, its source in ``info``."""
    schemas: dict[str, Any] = document["components"]["schemas"]
    roots = root_names(schemas)
    kept: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name not in kept:
            kept.add(name)
            todo += _refs(schemas[name])
    info = {
        "title": document["info"]["title"],
        "version": document["info"]["version"],
        "license": document["info"]["license"],  # the spec's own terms travel with the part we keep
        "x-trimmed-from": {**SOURCE, "roots": roots},
    }
    return {
        "openapi": document["openapi"],
        "info": info,
        "components": {"schemas": {name: schemas[name] for name in sorted(kept)}},
    }


def render(trimmed: dict[str, Any]) -> str:
    """The trimmed spec as the text kept in the repository (stable, so a re-trim can be compared)."""
    # default=str: YAML reads unquoted dates in examples as dates; JSON keeps them as written.
    return json.dumps(trimmed, sort_keys=True, indent=1, ensure_ascii=False, default=str) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Trim the full spec at ``--spec`` into ``TRIMMED``."""
    parser = argparse.ArgumentParser(description="Trim OpenAI's OpenAPI spec to what the tests need.")
    parser.add_argument("--spec", type=Path, default=FULL_SPEC, help=f"the full spec (default: {FULL_SPEC})")
    args = parser.parse_args(argv)
    if not args.spec.is_file():
        parser.error(f"no spec at {args.spec} (openai-openapi.yaml from github.com/openai/openai-openapi)")
    trimmed = trim(load_document(args.spec))
    TRIMMED.write_text(render(trimmed), encoding="utf-8")
    count = len(trimmed["components"]["schemas"])
    print(f"{TRIMMED}: {count} schemas, {TRIMMED.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
