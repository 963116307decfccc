"""Safe fixes as text edits at a finding's position, in the manner of ruff's ``Fix`` of ``Edit``s.

A fixer finds the exact text of the key or item it changes (the written token
must spell the parsed value) and replaces only that range, so comments, key
order, indentation and line endings stay byte for byte. When the text is not
what a fixer can be sure of (an escaped key, a comment on a line it would
remove, a rename that would collide), it returns no edit and the finding stays.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from validator import spec as spec_module
from validator.findings import Path
from validator.linter.fields import unknown_fields
from validator.linter.model import OPERATIONS, Edit, Source

_SPACE = " \t\r\n"
_SEQUENCE_DASH = re.compile(r"[ \t]*-[ \t]+")


def _offset(text: str, position: tuple[int, int]) -> int:
    line, column = position
    starts = [0, *(match.end() for match in re.finditer("\n", text))]
    return starts[min(line, len(starts)) - 1] + column - 1


def _token_end(text: str, start: int, value: Any) -> int | None:
    """Where the token spelling ``value`` that starts at ``start`` ends, if it is spelled plainly."""
    if isinstance(value, bool) or value is None or not isinstance(value, (str, int)):
        return None
    spellings = [json.dumps(value), json.dumps(value, ensure_ascii=False)]
    if isinstance(value, str) and value and "'" not in value:
        spellings += [value, f"'{value}'"]
    for spelling in spellings:
        if text.startswith(spelling, start):
            end = start + len(spelling)
            # A plain YAML scalar must end there, not run on (``key`` inside ``keys``).
            if end == len(text) or not (text[end].isalnum() or text[end] in "-_."):
                return end
    return None


def _line_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, start) + 1
    newline = text.find("\n", end)
    return line_start, len(text) if newline < 0 else newline + 1


def _remove(source: Source, start: int, end: int, *, sequence: bool) -> Edit | None:
    """Remove the element ``text[start:end]`` of an object or array, with its separator."""
    text = source.text
    line_start, line_end = _line_bounds(text, start, end)
    before, after = text[line_start:start], text[end:line_end]
    if not source.document.file.lower().endswith(".json") and not after.strip(_SPACE):
        block = _SEQUENCE_DASH.fullmatch(before) if sequence else not before.strip(" \t")
        if block:  # a YAML block element alone on its line: the line goes
            return Edit(line_start, line_end)
    previous = len(text[:start].rstrip(_SPACE)) - 1
    if previous >= 0 and text[previous] == ",":
        return Edit(previous, end)
    following = len(text) - len(text[end:].lstrip(_SPACE))
    if following < len(text) and text[following] == ",":
        next_start = len(text) - len(text[following + 1 :].lstrip(_SPACE))
        return Edit(start, next_start)
    return None  # the only element: removing it is not a mechanical edit


_ABSENT = object()


def _value(body: Any, path: Path) -> Any:
    """The value at ``path``, or _ABSENT where the body has none (a problem about a missing member)."""
    for segment in path:
        try:
            body = body[segment]
        except (KeyError, IndexError, TypeError):
            return _ABSENT
    return body


def remove_repeated_items(source: Source, path: Path) -> Sequence[Edit]:
    """A key list with an item written twice: the later copies go (the list means the same)."""
    items = _value(source.document.data, path)
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        return ()
    edits, seen = [], set()
    for index, item in enumerate(items):
        if item not in seen:
            seen.add(item)
            continue
        start = _offset(source.text, source.document.position((*path, index), of="value"))
        end = _token_end(source.text, start, item)
        edit = None if end is None else _remove(source, start, end, sequence=True)
        if edit is None:
            return ()
        edits.append(edit)
    return edits


def fix_unknown_field(source: Source, path: Path) -> Sequence[Edit]:
    """A stray ``key`` in an update body goes; a field with exactly one close match is renamed."""
    if source.kind == "update" and path == ("key",):
        return _remove_member(source, path)
    contract = spec_module.bundled()
    schema = contract.operations[OPERATIONS[source.kind]].request_schema
    if schema is None:
        return ()
    fields = unknown_fields(contract, contract.get(schema), source.document.data)
    field = next((found for found in fields if found.path == path), None)
    target = None if field is None else field.unique_suggestion()
    if field is None or target is None or target in _value(source.document.data, path[:-1]):
        return ()  # no single intended name, or renaming would write a key twice
    start = _offset(source.text, source.document.position(path))
    end = _token_end(source.text, start, field.name)
    if end is None:
        return ()
    quote = source.text[start]
    spelled = json.dumps(target) if quote == '"' else f"'{target}'" if quote == "'" else target
    return (Edit(start, end, spelled),)


def _remove_member(source: Source, path: Path) -> Sequence[Edit]:
    value = _value(source.document.data, path)
    start = _offset(source.text, source.document.position(path))
    key_end = _token_end(source.text, start, path[-1])
    value_start = _offset(source.text, source.document.position(path, of="value"))
    end = _token_end(source.text, value_start, value)
    if key_end is None or end is None:
        return ()
    edit = _remove(source, start, end, sequence=False)
    return () if edit is None else (edit,)


def apply(text: str, fixes: Sequence[Sequence[Edit]]) -> tuple[str, list[int]]:
    """The text with each fix whose edits overlap no fix taken before it; the indices of those taken."""
    taken: list[int] = []
    edits: list[Edit] = []
    for index, fix in enumerate(fixes):
        if fix and not any(a.start < b.end and b.start < a.end for a in fix for b in edits):
            taken.append(index)
            edits.extend(fix)
    for edit in sorted(edits, reverse=True):
        text = text[: edit.start] + edit.replacement + text[edit.end :]
    return text, taken
