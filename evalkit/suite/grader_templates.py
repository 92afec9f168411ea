"""The templates of OpenAI grader objects (``{{sample.output_text}}``, ``{{item.answer}}``): parsed and
checked when the suite is loaded, so a typo stops the suite before any call.

A template is jinja2 text, compiled in a sandbox (``ImmutableSandboxedEnvironment``: no attribute of a
Python object beyond plain data, no mutation) with ``StrictUndefined`` (a missing field is an error, never
an empty string) and no autoescaping (the text is not HTML). It may read two roots, as OpenAI's graders
do:

    sample   what the target answered: ``output_text``, ``output_json``, ``output_tools`` (SAMPLE_FIELDS)
    item     the case's data row: its ``item`` fields (a table's other columns), ``id`` and ``reference``

Values render as text: strings as they are, numbers as Python writes them, and lists, mappings, booleans
and null as JSON (``["a", "b"]``, ``true``, ``null``), as a JSON path would give them.

``item_paths`` lists the item fields a template names with fixed keys (``item.meta.lang`` → ``("meta",
"lang")``), which the run checks every case has before any call (``evalkit.scorers.graders``).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2 import Environment, nodes

__all__ = ["ROOTS", "SAMPLE_FIELDS", "FieldPath", "check_template", "item_paths", "template_environment"]

SAMPLE_FIELDS = ("output_text", "output_json", "output_tools")
"""What ``sample`` holds: the answer as text, the answer parsed as JSON (null when it is not JSON), and the
tool calls it made (OpenAI's chat shape; empty when it made none)."""

ROOTS = ("sample", "item")
"""The only names a template may read."""

FieldPath = tuple[str | int, ...]
"""Keys and list indexes from a root to a value (``("meta", "tags", 0)``)."""


@lru_cache(maxsize=1)
def template_environment() -> Environment:
    """The one jinja2 environment graders' templates are parsed and rendered in (sandboxed, strict)."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class GraderEnvironment(ImmutableSandboxedEnvironment):
        """``a.b`` on a mapping reads its key ``b`` (a JSON path), never a method: ``{{item.values}}`` is the
        item's field ``values``, not ``dict.values``."""

        def getattr(self, obj: Any, attribute: str) -> Any:
            if isinstance(obj, dict):
                return obj[attribute] if attribute in obj else self.undefined(obj=obj, name=attribute)
            return super().getattr(obj, attribute)

    return GraderEnvironment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True, finalize=_as_text
    )


def check_template(text: str) -> str:
    """``text`` when it is a template graders can render; ``ValueError`` saying what is wrong otherwise (a
    syntax error, a name other than ``sample`` and ``item``, a ``sample`` field that does not exist)."""
    for root, path in _references(text):
        if root == "sample" and path and path[0] not in SAMPLE_FIELDS:
            raise ValueError(
                f"sample.{path[0]} is not something a sample holds (it has: {', '.join(SAMPLE_FIELDS)})"
            )
    return text


def item_paths(text: str) -> list[FieldPath]:
    """The item fields ``text`` names with fixed keys, in order, each once (``{{item.answer}}`` →
    ``[("answer",)]``); a field read with a computed key counts up to that key."""
    found: list[FieldPath] = []
    for root, path in _references(text):
        if root == "item" and path and path not in found:
            found.append(path)
    return found


@lru_cache(maxsize=512)
def _references(text: str) -> tuple[tuple[str, FieldPath], ...]:
    """Every (root, fixed path) the template reads; ``ValueError`` when it does not parse or reads a name
    other than the roots."""
    from jinja2 import TemplateSyntaxError, meta

    environment = template_environment()
    try:
        tree = environment.parse(text)
    except TemplateSyntaxError as exc:
        where = f" (line {exc.lineno} of the template)" if text.count("\n") else ""
        raise ValueError(f"not a valid template: {exc.message}{where}") from None
    unknown = sorted(meta.find_undeclared_variables(tree) - set(ROOTS))
    if unknown:
        raise ValueError(
            f"a template may read only 'sample' and 'item', not {', '.join(map(repr, unknown))} "
            "(write {{item.NAME}} for a field of the case's data row)"
        )
    found: list[tuple[str, FieldPath]] = []
    _collect(tree, found)
    return tuple(found)


def _collect(node: nodes.Node, found: list[tuple[str, FieldPath]]) -> None:
    """Walk the template's tree, recording each chain of fixed keys read from a name."""
    from jinja2 import nodes

    if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr):
        _collect(node.node.node, found)  # item.name.upper(): a method of the value, not a field of it
        for argument in (*node.args, *node.kwargs, node.dyn_args, node.dyn_kwargs):
            if argument is not None:
                _collect(argument, found)
        return
    path: list[str | int] = []
    current: nodes.Node = node
    while True:
        if isinstance(current, nodes.Getattr):
            path.append(current.attr)
            current = current.node
        elif isinstance(current, nodes.Getitem) and _fixed_key(current.arg):
            assert isinstance(current.arg, nodes.Const)
            path.append(current.arg.value)
            current = current.node
        else:
            break
    if isinstance(current, nodes.Name):
        if current.ctx == "load":
            found.append((current.name, tuple(reversed(path))))
        return
    for child in current.iter_child_nodes():
        _collect(child, found)


def _fixed_key(node: nodes.Node) -> bool:
    from jinja2 import nodes

    return isinstance(node, nodes.Const) and isinstance(node.value, str | int) and not isinstance(node.value, bool)


def _as_text(value: Any) -> Any:
    """How a value reads in rendered text: lists, mappings, booleans and null as JSON."""
    if value is None or isinstance(value, bool | list | dict | tuple):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value
