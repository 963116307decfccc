"""Read a YAML or JSON file into JSON data plus the line and column of every key and value.

PyYAML composes a node graph that carries positions; the data is built from
that graph here rather than by PyYAML's constructor, so that the walk can
record positions, notice duplicate keys (which both JSON and YAML parsers
silently collapse), keep timestamps as the strings JSON would have, and stay
iterative and bounded whatever the nesting or the aliases.
"""

from __future__ import annotations

import bisect
import json
import math
import re
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
    """A file that cannot be read as a JSON or YAML document; ``rule`` names the kind of problem."""

    def __init__(self, message: str, line: int = 1, column: int = 1, rule: str = "syntax") -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.rule = rule


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


def _non_finite(text: str, line: int, column: int) -> DocumentError:
    return DocumentError(
        f"{text} is not a number JSON allows (NaN and infinities have no JSON form)",
        line,
        column,
        rule="non-finite-number",
    )


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
                raise _non_finite(node.value, *_mark(node))
            parent[slot] = value
    return Document(file, holder[0], key_positions, value_positions, tuple(sorted(set(duplicates))))


_JSON_SCALAR = re.compile(r"-?(?:Infinity|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|true|false|null|NaN")
_JSON_SPACE = re.compile(r"[ \t\n\r]*")


def parse_json(text: str, file: str) -> Document:
    """Parse JSON with the standard library's exact semantics, then index where everything is."""
    if not text.strip():
        raise DocumentError("the file is empty; expected a JSON document")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise DocumentError(f"syntax error: {error.msg}", error.lineno, error.colno) from None
    except RecursionError:
        raise DocumentError(f"nesting deeper than {MAX_DEPTH} levels") from None
    return _index_json(text, file, data)


class _Frame:
    """An open JSON object or array while indexing."""

    __slots__ = ("index", "is_object", "key", "keys", "path")

    def __init__(self, path: Path, is_object: bool) -> None:
        self.path = path
        self.is_object = is_object
        self.index = 0
        self.key: str | None = None
        self.keys: set[str] = set()


def _index_json(text: str, file: str, data: Any) -> Document:  # noqa: PLR0912 - one dispatch on token kinds
    # The text is known to be valid JSON here, so one forward scan can track
    # where each key and value starts without re-checking the grammar.
    line_starts = [0, *(match.end() for match in re.finditer("\n", text))]

    def where(offset: int) -> Position:
        line = bisect.bisect_right(line_starts, offset)
        return (line, offset - line_starts[line - 1] + 1)

    key_positions: dict[Path, Position] = {}
    value_positions: dict[Path, Position] = {}
    duplicates: list[Path] = []
    frames: list[_Frame] = []
    offset = _JSON_SPACE.match(text, 0).end()  # type: ignore[union-attr]
    while offset < len(text):
        char = text[offset]
        frame = frames[-1] if frames else None
        if frame is not None and frame.is_object and frame.key is None and char == '"':
            key, end = json.decoder.scanstring(text, offset + 1)  # type: ignore[attr-defined]
            member = (*frame.path, key)
            if key in frame.keys:
                duplicates.append(member)
            frame.keys.add(key)
            frame.key = key
            key_positions[member] = where(offset)
            offset = end
        elif char in ",:}]":
            if char == "," and frame is not None:
                frame.key, frame.index = None, frame.index + 1
            elif char in "}]":
                frames.pop()
            offset += 1
        else:
            path = _member(frame)
            value_positions[path] = where(offset)
            if frame is not None and not frame.is_object:
                key_positions[path] = value_positions[path]
            if char in "{[":
                if len(frames) >= MAX_DEPTH:
                    raise DocumentError(f"nesting deeper than {MAX_DEPTH} levels", *where(offset))
                frames.append(_Frame(path, char == "{"))
                offset += 1
            elif char == '"':
                offset = json.decoder.scanstring(text, offset + 1)[1]  # type: ignore[attr-defined]
            else:
                token = _JSON_SCALAR.match(text, offset)
                if token is None:  # pragma: no cover - json.loads accepted the text
                    raise DocumentError("syntax error", *where(offset))
                if token.group() in ("NaN", "Infinity", "-Infinity") or _overflows(token.group()):
                    raise _non_finite(token.group(), *where(offset))
                offset = token.end()
        offset = _JSON_SPACE.match(text, offset).end()  # type: ignore[union-attr]
    return Document(file, data, key_positions, value_positions, tuple(sorted(set(duplicates))))


def _member(frame: _Frame | None) -> Path:
    """The location of the value about to start in ``frame``."""
    if frame is None:
        return ()
    return (
        (*frame.path, frame.key) if frame.is_object and frame.key is not None else (*frame.path, frame.index)
    )


def _overflows(token: str) -> bool:
    """A number literal too large for a float (1e400): json.loads reads it as infinity."""
    is_float = token[0] in "-0123456789" and any(mark in token for mark in ".eE")
    return is_float and not math.isfinite(float(token))


def parse(text: str, file: str) -> Document:
    """JSON for ``*.json``, YAML for ``*.yaml``/``*.yml``; otherwise JSON if it starts like JSON."""
    suffix = FilePath(file).suffix.lower()
    if suffix == ".json" or (suffix not in (".yaml", ".yml") and text.lstrip()[:1] in ("{", "[")):
        return parse_json(text, file)
    return parse_yaml(text, file)


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
    return parse(decode(path.read_bytes()), display_name or str(path))
