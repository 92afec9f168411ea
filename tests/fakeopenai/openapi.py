"""Check JSON bodies against OpenAI's official OpenAPI spec, from a trimmed copy kept in the repo.

``openai-openapi.trimmed.json`` (beside this file) holds the ``components/schemas`` the tests check,
plus everything they reference, cut from openai/openai-openapi at commit f85dbe2 (2026-08-21); its
``info.x-trimmed-from`` says so. ``trim_spec.py`` writes it from the full spec in ``<repo>/../shared/``
(``python tests/fakeopenai/trim_spec.py``); add a schema to its ``ROOTS`` before checking it here.

``OpenAPISpec.check(instance, "CreateChatCompletionResponse")`` validates with JSON Schema 2020-12
(OpenAPI 3.1) through a ``referencing`` registry, so ``#/components/schemas/...`` refs resolve. The
spec's objects allow unknown keys, which would let a misspelt field pass; ``check`` also rejects keys
a schema does not declare (following ``$ref``, ``properties`` — merged over ``allOf`` —, ``items`` and
the matching ``anyOf``/``oneOf`` branch).

``first_violation(body, "CreateResponse")`` is what the fake server checks request bodies with: it reads
``oneOf`` as ``anyOf``, because the spec's branches overlap where OpenAI tells them apart by ``type`` (a
discriminator JSON Schema ignores): ``{"role": "user", "content": [...]}`` is both an
``EasyInputMessage`` and an ``InputMessage``, which strict ``oneOf`` would refuse.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from .trim_spec import TRIMMED, load_document

Violation = tuple[str, str]
"""Where a body breaks its schema, as OpenAI names a parameter (``input[0].content``), and how."""

SPEC_PATH = TRIMMED
"""The trimmed spec, kept in the repository (openai/openai-openapi f85dbe2; ``trim_spec.py`` writes it)."""

_URI = "urn:openai-openapi"


class OpenAPISpec:
    """OpenAI's OpenAPI document, ready to validate instances of its component schemas."""

    def __init__(self, document: dict[str, Any]) -> None:
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        self.document = document
        """The parsed spec."""
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource(_URI, resource)

    def check(self, instance: object, schema: str) -> None:
        """AssertionError listing every violation of ``components/schemas/<schema>`` (and unknown keys)."""
        pointer = f"/components/schemas/{schema}"
        if schema not in self.document["components"]["schemas"]:
            raise KeyError(f"the OpenAPI spec has no schema {schema!r}")
        problems = [
            f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            for e in self._validator(pointer).iter_errors(instance)
        ]
        if not problems:
            problems = list(self._unknown_keys(instance, pointer, "<root>"))
        if problems:
            raise AssertionError(f"not a valid {schema}:\n  " + "\n  ".join(problems))

    def properties(self, schema: str) -> frozenset[str]:
        """The property names ``components/schemas/<schema>`` declares, merged over ``allOf``."""
        declared = self._declared(f"/components/schemas/{schema}")
        return frozenset(declared[0] if declared else ())

    def first_violation(self, instance: object, schema: str) -> Violation | None:
        """The most relevant way ``instance`` breaks ``schema`` (``oneOf`` read as ``anyOf``), or None."""
        from jsonschema.exceptions import best_match

        validator = _lenient_class()(
            {"$ref": f"{_URI}#/components/schemas/{schema}"}, registry=self._registry
        )
        error = best_match(validator.iter_errors(instance))
        if error is None:
            return None
        param = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        message = error.message if len(error.message) <= 200 else error.message[:197] + "..."
        return param.lstrip(".") or "<body>", message

    def _validator(self, pointer: str) -> Any:
        from jsonschema import Draft202012Validator

        return Draft202012Validator({"$ref": f"{_URI}#{pointer}"}, registry=self._registry)

    def _node(self, pointer: str) -> Any:
        node: Any = self.document
        for part in pointer.strip("/").split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            node = node[int(part)] if isinstance(node, list) else node[part]
        return node

    def _unknown_keys(self, instance: object, pointer: str, where: str) -> list[str]:
        schema = self._node(pointer)
        if not isinstance(schema, dict):
            return []
        if "$ref" in schema:
            return self._unknown_keys(instance, schema["$ref"].removeprefix("#"), where)
        for combinator in ("anyOf", "oneOf"):
            for i, _branch in enumerate(schema.get(combinator, [])):
                branch = f"{pointer}/{combinator}/{i}"
                if self._validator(branch).is_valid(instance):
                    return self._unknown_keys(instance, branch, where)
        if isinstance(instance, dict) and ("properties" in schema or "allOf" in schema):
            declared = self._declared(pointer)
            if declared is not None:
                return self._object_keys(instance, declared, where)
        if isinstance(instance, list) and isinstance(schema.get("items"), dict):
            found: list[str] = []
            for i, item in enumerate(instance):
                found += self._unknown_keys(item, f"{pointer}/items", f"{where}/{i}")
            return found
        return []

    def _declared(self, pointer: str) -> tuple[dict[str, str], bool] | None:
        """(property name → pointer to its schema, whether other keys are allowed), merged over ``allOf``
        and ``$ref``; None for a schema made of something other than properties."""
        schema = self._node(pointer)
        if not isinstance(schema, dict):
            return None
        if "$ref" in schema:
            return self._declared(schema["$ref"].removeprefix("#"))
        if "properties" not in schema and "allOf" not in schema:
            return None
        declared = {
            key: f"{pointer}/properties/{key.replace('~', '~0').replace('/', '~1')}"
            for key in schema.get("properties", {})
        }
        is_open = bool(schema.get("additionalProperties"))
        for i in range(len(schema.get("allOf", []))):
            branch = self._declared(f"{pointer}/allOf/{i}")
            if branch is None:
                return None
            declared, is_open = {**branch[0], **declared}, is_open or branch[1]
        return declared, is_open

    def _object_keys(
        self, instance: dict[str, Any], declared: tuple[dict[str, str], bool], where: str
    ) -> list[str]:
        properties, is_open = declared
        found: list[str] = []
        for key, value in instance.items():
            if key in properties:
                found += self._unknown_keys(value, properties[key], f"{where}/{key}")
            elif not is_open:
                found.append(f"{where}: key {key!r} is not in the schema ({', '.join(sorted(properties))})")
        return found


@functools.cache
def _lenient_class() -> Any:
    """Draft 2020-12 with ``oneOf`` checked as ``anyOf`` (see the module docstring)."""
    from jsonschema import Draft202012Validator, validators

    any_of = Draft202012Validator.VALIDATORS["anyOf"]
    return validators.extend(Draft202012Validator, {"oneOf": any_of})  # type: ignore[no-untyped-call]


@functools.cache
def load_spec(path: Path = SPEC_PATH) -> OpenAPISpec | None:
    """The spec at ``path`` (JSON or YAML, parsed once per process), or None if the file is absent."""
    if not path.is_file():
        return None
    return OpenAPISpec(load_document(path))
