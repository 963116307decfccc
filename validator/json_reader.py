"""JSON to a Document: the standard library's exact semantics, positions indexed on demand.

``json.loads`` reads the data (big integers exact, surrogate pairs, ``\\/``),
and hooks notice duplicate keys and non-finite numbers cheaply. Where each key
and value starts is found by one forward scan of the text, run only when a
finding needs a position, so clean files never pay for it.
"""

from __future__ import annotations

import bisect
import functools
import json
import math
import re
from typing import Any

from validator.document_types import (
    MAX_DEPTH,
    Document,
    DocumentError,
    Position,
    PositionTable,
    known_tables,
    non_finite,
)
from validator.findings import Path

_JSON_SCALAR = re.compile(r"-?(?:Infinity|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|true|false|null|NaN")
_JSON_SPACE = re.compile(r"[ \t\n\r]*")


class _NonFinite(Exception):
    """Raised from json.loads hooks; the indexer then finds and reports the number with its place."""


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _NonFinite
    return number


def _reject_constant(name: str) -> Any:
    raise _NonFinite


def parse_json(text: str, file: str) -> Document:
    """Parse JSON with the standard library's exact semantics; positions are indexed when first asked."""
    if not text.strip():
        raise DocumentError("the file is empty; expected a JSON document")
    repeated: list[bool] = []

    def build_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        built = dict(pairs)
        if len(built) != len(pairs):
            repeated.append(True)
        return built

    try:
        data = json.loads(
            text, object_pairs_hook=build_object, parse_float=_finite_float, parse_constant=_reject_constant
        )
    except json.JSONDecodeError as error:
        raise DocumentError(f"syntax error: {error.msg}", error.lineno, error.colno) from None
    except RecursionError:
        raise DocumentError(f"nesting deeper than {MAX_DEPTH} levels") from None
    except _NonFinite:
        _index_json(text)  # raises the DocumentError that says where
        raise DocumentError("a number JSON does not allow", rule="non-finite-number") from None
    if repeated or _too_deep(text):
        key_positions, value_positions, duplicates = _index_json(text)  # finds them, with their places
        return Document(
            file, data, duplicates, functools.partial(known_tables, key_positions, value_positions)
        )
    return Document(file, data, (), functools.partial(_positions, text))


def _positions(text: str) -> tuple[PositionTable, PositionTable]:
    key_positions, value_positions, _ = _index_json(text)
    return key_positions, value_positions


def _too_deep(text: str) -> bool:
    """Cheap bound: only text with more than MAX_DEPTH brackets can nest that deep."""
    return text.count("[") + text.count("{") > MAX_DEPTH


class _Frame:
    """An open JSON object or array while indexing."""

    __slots__ = ("index", "is_object", "key", "keys", "path")

    def __init__(self, path: Path, is_object: bool) -> None:
        self.path = path
        self.is_object = is_object
        self.index = 0
        self.key: str | None = None
        self.keys: set[str] = set()


def _index_json(  # noqa: PLR0912 - one dispatch on token kinds
    text: str,
) -> tuple[PositionTable, PositionTable, tuple[Path, ...]]:
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
                    raise non_finite(token.group(), *where(offset))
                offset = token.end()
        offset = _JSON_SPACE.match(text, offset).end()  # type: ignore[union-attr]
    return key_positions, value_positions, tuple(sorted(set(duplicates)))


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
