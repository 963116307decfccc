"""Read a YAML or JSON file into JSON data plus the line and column of every key and value.

PyYAML composes a node graph that carries positions; the data is built from
that graph here rather than by PyYAML's constructor, so that the walk can
record positions, notice duplicate keys (which both JSON and YAML parsers
silently collapse), keep timestamps as the strings JSON would have, and stay
iterative and bounded whatever the nesting or the aliases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any

import yaml

from validator.findings import Path

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"

#: Nodes visited while building one document; aliases are expanded, so this
#: is what stops a "billion laughs" file from eating the machine.
MAX_NODES = 200_000
#: Deeper than any policy or API description needs, far below the stack.
MAX_DEPTH = 200

Position = tuple[int, int]
Container = dict[str, Any] | list[Any]


class DocumentError(Exception):
    """A file that cannot be read as a JSON or YAML document."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@dataclass(frozen=True)
class Document:
    """JSON data with the 1-based position of each key and each value."""

    file: str
    data: Any
    key_positions: dict[Path, Position] = field(repr=False)
    value_positions: dict[Path, Position] = field(repr=False)
    #: Paths whose key occurs again in the same object; the last value wins.
    duplicate_keys: tuple[Path, ...] = ()

    def position(self, path: Path, *, of: str = "key") -> Position:
        """Where ``path`` is written, or its nearest ancestor that is (for missing members)."""
        table = self.key_positions if of == "key" else self.value_positions
        for end in range(len(path), -1, -1):
            found = table.get(path[:end])
            if found is not None:
                return found
        return (1, 1)


def _mark(node: yaml.Node) -> Position:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _scalar(loader: Any, node: yaml.ScalarNode) -> Any:
    if node.tag == _TIMESTAMP_TAG:
        return node.value
    return loader.construct_object(node, deep=True)


def parse_text(text: str, file: str) -> Document:
    """Parse YAML (and so most JSON) text; raise :class:`DocumentError` with a position."""
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
                parent[slot] = _scalar(loader, node)
            except (yaml.YAMLError, ValueError, OverflowError) as error:
                raise DocumentError(f"invalid value: {error}", *_mark(node)) from None
    return Document(file, holder[0], key_positions, value_positions, tuple(sorted(set(duplicates))))


def decode(raw: bytes) -> str:
    """Bytes to text, refusing binary or non-UTF-8 content with the place of the first bad byte."""
    if b"\x00" in raw:
        raise DocumentError(
            "binary content (a NUL byte); expected UTF-8 text", *_byte_position(raw, raw.index(b"\x00"))
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DocumentError(
            f"not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start})",
            *_byte_position(raw, error.start),
        ) from None


def _byte_position(raw: bytes, offset: int) -> Position:
    before = raw[:offset]
    line_start = before.rfind(b"\n") + 1
    return (before.count(b"\n") + 1, offset - line_start + 1)


def read_document(path: FilePath, display_name: str | None = None) -> Document:
    """Read and parse a file; :class:`OSError` propagates, everything else is a DocumentError."""
    return parse_text(decode(path.read_bytes()), display_name or str(path))
