"""Fields a request schema does not know, found by walking the body alongside the spec's schema.

The request schemas accept unknown fields because the API ignores them; that
silence is what makes a typo like ``rollbackOnRegresion`` dangerous. The known
names come from the schema itself (following ``$ref``, ``allOf`` and the
``anyOf`` branch that fits the value), so nothing is restated here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from validator.findings import Path
from validator.spec import Spec, from_pointer

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


@dataclass(frozen=True)
class UnknownField:
    path: Path
    name: str
    known: tuple[str, ...]

    def suggestion(self) -> str | None:
        """The known field the author most likely meant, if any is close."""
        folded = {name.lower(): name for name in self.known}
        if self.name.lower() in folded:
            return folded[self.name.lower()]
        import difflib  # only for the rare unknown field: not on every run's import path

        close = difflib.get_close_matches(self.name, self.known, n=1, cutoff=0.75)
        return close[0] if close else None


def _fits(spec: Spec, schema: dict[str, Any], value: Any) -> bool:
    """Whether a branch could describe ``value`` judging by its declared type alone."""
    while "$ref" in schema and "type" not in schema:
        schema = spec.get(from_pointer(schema["$ref"].removeprefix("#")))
    declared = schema.get("type")
    if declared is None:
        return True
    types = declared if isinstance(declared, list) else [declared]
    if isinstance(value, bool):
        return "boolean" in types
    return any(isinstance(value, _JSON_TYPES.get(name, ())) for name in types)


def _applicable(spec: Spec, schema: dict[str, Any], value: Any) -> list[dict[str, Any]]:
    """The schema objects that apply to ``value``: itself, its ``$ref``, ``allOf``, fitting ``anyOf``."""
    found: list[dict[str, Any]] = []
    stack = [schema]
    while stack:
        current = stack.pop()
        found.append(current)
        if isinstance(current.get("$ref"), str):
            stack.append(spec.get(from_pointer(current["$ref"].removeprefix("#"))))
        stack.extend(current.get("allOf", []))
        for keyword in ("anyOf", "oneOf"):
            stack.extend(branch for branch in current.get(keyword, []) if _fits(spec, branch, value))
    return found


#: (id of a schema, JSON type of a value) -> (the schema, its declared members, its item schemas).
#: The schema is kept in the entry so its id cannot be reused while the entry lives.
_SHAPES: dict[
    tuple[int, str], tuple[dict[str, Any], dict[str, list[dict[str, Any]]], list[dict[str, Any]]]
] = {}


def _json_type(value: Any) -> str:
    return "object" if isinstance(value, dict) else "array" if isinstance(value, list) else "scalar"


def _shape(
    spec: Spec, schema: dict[str, Any], value: Any
) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
    """What ``schema`` declares for a value of ``value``'s type: member schemas by name, item schemas."""
    cache_key = (id(schema), _json_type(value))
    cached = _SHAPES.get(cache_key)
    if cached is None or cached[0] is not schema:
        declared: dict[str, list[dict[str, Any]]] = {}
        items: list[dict[str, Any]] = []
        for each in _applicable(spec, schema, value):
            for name, child in each.get("properties", {}).items():
                declared.setdefault(name, []).append(child)
            if isinstance(each.get("items"), dict):
                items.append(each["items"])
        cached = _SHAPES[cache_key] = (schema, declared, items)
    return cached[1], cached[2]


def unknown_fields(spec: Spec, schema: dict[str, Any], body: Any) -> Iterator[UnknownField]:
    """Every object member of ``body`` that ``schema`` does not declare, at any depth."""
    stack: list[tuple[dict[str, Any], Any, Path]] = [(schema, body, ())]
    reported: set[Path] = set()  # a member declared by two applicable schemas is walked twice
    while stack:
        current, value, path = stack.pop()
        if not isinstance(value, (dict, list)):
            continue
        declared, items = _shape(spec, current, value)
        if isinstance(value, dict):
            for name, member in value.items():
                if name in declared:
                    stack.extend((child, member, (*path, name)) for child in declared[name])
                elif declared and (*path, name) not in reported:
                    reported.add((*path, name))
                    yield UnknownField((*path, name), name, tuple(sorted(declared)))
        else:
            for index, item in enumerate(value):
                stack.extend((child, item, (*path, index)) for child in items)
