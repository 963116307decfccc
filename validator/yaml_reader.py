"""YAML to a Document: PyYAML composes a node graph with positions; the data is built from it here.

Building the data from the nodes rather than with PyYAML's constructor lets
the walk record positions, notice duplicate keys (which parsers silently
collapse), keep timestamps as the strings JSON would have, and stay iterative
and bounded whatever the nesting or the aliases. Merge keys (``<<: *base``,
``<<: [*a, *b]``) are applied as YAML 1.1 loaders do: the mapping's own keys
win, then the first listed source; a merged member is placed where its source
writes it.
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
_MERGE_TAG = "tag:yaml.org,2002:merge"
Container = dict[str, Any] | list[Any]
#: A mapping's members after merging: key -> (key node, value node), in the order PyYAML gives them.
Members = dict[str, tuple[yaml.Node, yaml.Node]]


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
    merger = _Merger()
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
            for key, (key_node, value_node) in merger.members(node, duplicates, path).items():
                member = (*path, key)
                mapping[key] = None
                key_positions[member] = _mark(key_node)
                value_positions[member] = _mark(value_node)
                members.append((value_node, member, mapping, key))
            stack.extend(reversed(members))  # built in document order
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


class _Merger:
    """Each mapping's members with its merge keys applied; a merged source is flattened once."""

    def __init__(self) -> None:
        self._flat: dict[int, Members] = {}
        self._open: set[int] = set()
        self._merged = 0

    def members(self, node: yaml.MappingNode, duplicates: list[Path], path: Path) -> Members:
        """The members of ``node``, written at ``path``; a key written twice goes to ``duplicates``."""
        own: Members = {}
        merged: Members = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged.update(self._sources(value_node))  # a later merge key wins, as a later key does
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise DocumentError("an object key must be a string", *_mark(key_node))
            key = str(key_node.value)
            if key in own:
                duplicates.append((*path, key))
            own[key] = (key_node, value_node)  # the last occurrence counts, as in JSON parsers
        # Merged members first, as PyYAML orders them; the mapping's own keys override them.
        return {**{key: pair for key, pair in merged.items() if key not in own}, **own}

    def _sources(self, value: yaml.Node) -> Members:
        sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
        result: Members = {}
        for source in reversed(sources):  # the first source listed wins
            if not isinstance(source, yaml.MappingNode):
                raise DocumentError("a merge key (<<) takes a mapping or a list of mappings", *_mark(source))
            flat = self._flatten(source)
            # Merging copies members: count them, so aliases merged many times stay bounded too.
            self._merged += len(flat)
            if self._merged > MAX_NODES:
                raise DocumentError(
                    f"merge keys copy more than {MAX_NODES} members (a YAML alias bomb?)", *_mark(source)
                )
            result.update(flat)
        return result

    def _flatten(self, node: yaml.MappingNode) -> Members:
        known = self._flat.get(id(node))
        if known is not None:
            return known
        if id(node) in self._open:
            raise DocumentError("a merge key (<<) merges the mapping it belongs to", *_mark(node))
        if len(self._open) >= MAX_DEPTH:
            raise DocumentError(f"merge keys nested deeper than {MAX_DEPTH} levels", *_mark(node))
        self._open.add(id(node))
        # A source's own repeated keys are reported where the source is written, not at each merge.
        flat = self._flat[id(node)] = self.members(node, [], ())
        self._open.discard(id(node))
        return flat
