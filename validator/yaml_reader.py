"""YAML to a Document: PyYAML composes a node graph with positions; the data is built from it here.

Building the data from the nodes rather than with PyYAML's constructor lets
the walk record positions, notice duplicate keys (which parsers silently
collapse), keep timestamps as the strings JSON would have, and stay iterative
and bounded whatever the nesting or the aliases.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import yaml

from validator.document_types import (
    MAX_DEPTH,
    MAX_NODES,
    Document,
    DocumentError,
    Position,
    known_tables,
    non_finite,
)
from validator.findings import Path

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
Container = dict[str, Any] | list[Any]


def _mark(node: yaml.Node) -> Position:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _scalar(loader: Any, node: yaml.ScalarNode) -> Any:
    if node.tag == _TIMESTAMP_TAG:
        return node.value
    return loader.construct_object(node, deep=True)


def parse_yaml(text: str, file: str) -> Document:
    """Parse YAML text; raise :class:`DocumentError` with a position."""
    if not text.strip():
        raise DocumentError("the file is empty; expected a JSON or YAML document")
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = error.problem or error.context or "invalid syntax"
        raise DocumentError(f"syntax error: {problem}", line, column) from None
    except yaml.YAMLError as error:
        raise DocumentError(f"syntax error: {error}") from None
    except RecursionError:  # only the pure-Python parser recurses; libyaml has its own depth limit
        raise DocumentError("nesting too deep to parse") from None
    finally:
        loader.dispose()
    if root is None:
        raise DocumentError("the file holds no document")
    return _build(loader, root, file)


def _build(loader: Any, root: yaml.Node, file: str) -> Document:
    key_positions: dict[Path, Position] = {}
    value_positions: dict[Path, Position] = {(): _mark(root)}
    duplicates: list[Path] = []
    holder: list[Any] = [None]
    stack: list[tuple[yaml.Node, Path, Container, Any]] = [(root, (), holder, 0)]
    visited = 0
    while stack:
        node, path, parent, slot = stack.pop()
        visited += 1
        if visited > MAX_NODES:
            raise DocumentError(
                f"the document expands to more than {MAX_NODES} values (a YAML alias bomb?)",
                *_mark(node),
            )
        if len(path) > MAX_DEPTH:
            raise DocumentError(f"nesting deeper than {MAX_DEPTH} levels", *_mark(node))
        if isinstance(node, yaml.MappingNode):
            mapping: dict[str, Any] = {}
            parent[slot] = mapping
            members = []
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise DocumentError("an object key must be a string", *_mark(key_node))
                key = str(key_node.value)
                member = (*path, key)
                if key in mapping:
                    duplicates.append(member)
                mapping[key] = None
                # The last occurrence is the one whose value counts, as in JSON parsers.
                key_positions[member] = _mark(key_node)
                value_positions[member] = _mark(value_node)
                members.append((value_node, member, mapping, key))
            stack.extend(reversed(members))  # built in document order, so the last duplicate wins
        elif isinstance(node, yaml.SequenceNode):
            items: list[Any] = [None] * len(node.value)
            parent[slot] = items
            for index, item_node in reversed(list(enumerate(node.value))):
                member = (*path, index)
                key_positions[member] = value_positions[member] = _mark(item_node)
                stack.append((item_node, member, items, index))
        elif isinstance(node, yaml.ScalarNode):
            try:
                value = _scalar(loader, node)
            except (yaml.YAMLError, ValueError, OverflowError) as error:
                raise DocumentError(f"invalid value: {error}", *_mark(node)) from None
            if isinstance(value, float) and not math.isfinite(value):
                raise non_finite(node.value, *_mark(node))
            parent[slot] = value
    locate = functools.partial(known_tables, key_positions, value_positions)
    return Document(file, holder[0], tuple(sorted(set(duplicates))), locate)
