"""YAML with line numbers: parse a document once, keep its node tree, and find the line of any value.

``parse_yaml`` composes the node tree (PyYAML's C parser when available), rejects duplicate keys (PyYAML
would silently keep the last one), and builds the Python data from the same tree. ``YamlDoc.line_of``
walks the tree along a path such as ``("scorers", 1, "classify", "labels")`` and returns the 1-based line
of the deepest key or item it reaches, so an error about any value can name the line that holds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from evalkit.errors import SuiteError
from evalkit.suite.located import PathElem

_Loader: type[yaml.SafeLoader | yaml.CSafeLoader]
try:
    _Loader = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _Loader = yaml.SafeLoader


@dataclass(frozen=True, slots=True)
class YamlDoc:
    """A parsed YAML document: its data and the node tree it was built from."""

    data: Any
    """The document as Python values (None for an empty document)."""
    root: yaml.Node | None
    """The composed node tree, for line numbers (None for an empty document)."""

    def line_of(self, path: Sequence[PathElem]) -> int | None:
        """1-based line of the deepest key or list item reached along ``path`` (None if no document).

        Path elements that the document does not hold are skipped, so a missing key gives the line of
        the mapping it is missing from.
        """
        node = self.root
        if node is None:
            return None
        line = node.start_mark.line + 1
        for elem in path:
            step = _child(node, elem)
            if step is None:
                continue
            line, node = step
        return line


def _child(node: yaml.Node, elem: PathElem) -> tuple[int, yaml.Node] | None:
    """The line and node one step down from ``node``: a key's line and value, or a list item."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(elem):
                return key.start_mark.line + 1, value
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(elem, int) and 0 <= elem < len(node.value):
        item = node.value[elem]
        return item.start_mark.line + 1, item
    return None


def parse_yaml(text: str, *, file: str) -> YamlDoc:
    """Parse one YAML document; syntax errors and duplicate keys raise ``SuiteError`` naming the line."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return YamlDoc(data=None, root=None)
        _check_duplicate_keys(root, file=file)
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, file=file) from None
    except yaml.YAMLError as exc:
        raise SuiteError(f"not valid YAML: {exc}", file=file) from None
    finally:
        loader.dispose()
    return YamlDoc(data=data, root=root)


def _syntax_error(exc: yaml.MarkedYAMLError, *, file: str) -> SuiteError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    message = f"not valid YAML: {exc.problem or exc.context or 'cannot parse'}"
    if exc.problem and exc.context:
        message += f" ({exc.context}"
        if exc.context_mark is not None and exc.context_mark.line + 1 != line:
            message += f" started at line {exc.context_mark.line + 1}"
        message += ")"
    return SuiteError(message, file=file, line=line)


def _check_duplicate_keys(root: yaml.Node, *, file: str) -> None:
    """Raise if any mapping names the same key twice (aliases and merges are walked once)."""
    seen_nodes: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            _check_mapping(node, file=file)
            stack.extend(child for pair in node.value for child in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def _check_mapping(node: yaml.MappingNode, *, file: str) -> None:
    first_line: dict[str, int] = {}
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
            continue
        line = key.start_mark.line + 1
        if key.value in first_line:
            raise SuiteError(
                f"key {key.value!r} appears twice in this mapping (first at line {first_line[key.value]}); "
                "keep one",
                file=file,
                line=line,
            )
        first_line[key.value] = line
