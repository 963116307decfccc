"""What a schema of the spec declares for a value: its members and items, derived, never restated.

The request schemas accept unknown fields (the API ignores them). The linter
reports such fields; the server and the fuzzer's oracle drop them before
storing. Both ask this module which members a schema declares, following
``$ref``, ``allOf`` and the ``anyOf`` branch that fits the value.
"""

from __future__ import annotations

from typing import Any

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


def _declared_type(spec: Spec, schema: dict[str, Any]) -> Any:
    while "$ref" in schema and "type" not in schema:
        schema = spec.get(from_pointer(schema["$ref"].removeprefix("#")))
    return schema.get("type")


def _fits(spec: Spec, schema: dict[str, Any], value: Any) -> bool:
    """Whether a branch could describe ``value`` judging by its declared type alone."""
    declared = _declared_type(spec, schema)
    if declared is None:
        return True
    types = declared if isinstance(declared, list) else [declared]
    if isinstance(value, bool):
        return "boolean" in types
    return any(isinstance(value, _JSON_TYPES.get(name, ())) for name in types)


def applicable(
    spec: Spec, schema: dict[str, Any], value: Any, *, untyped_branches: bool = True
) -> list[dict[str, Any]]:
    """The schema objects that apply to ``value``: itself, its ``$ref``, ``allOf``, fitting ``anyOf``.

    Without ``untyped_branches``, an ``anyOf`` branch that declares no type (one that only
    constrains, such as ``required: [a]``) is not followed: it is a choice, not a rule.
    """
    found: list[dict[str, Any]] = []
    stack = [schema]
    while stack:
        current = stack.pop()
        found.append(current)
        if isinstance(current.get("$ref"), str):
            stack.append(spec.get(from_pointer(current["$ref"].removeprefix("#"))))
        stack.extend(current.get("allOf", []))
        for keyword in ("anyOf", "oneOf"):
            stack.extend(
                branch
                for branch in current.get(keyword, [])
                if _fits(spec, branch, value)
                and (untyped_branches or _declared_type(spec, branch) is not None)
            )
    return found


#: (id of a schema, JSON type of a value) -> (the schema, its declared members, its item schemas).
#: The schema is kept in the entry so its id cannot be reused while the entry lives.
_SHAPES: dict[
    tuple[int, str], tuple[dict[str, Any], dict[str, list[dict[str, Any]]], list[dict[str, Any]]]
] = {}


def _json_type(value: Any) -> str:
    return "object" if isinstance(value, dict) else "array" if isinstance(value, list) else "scalar"


def shape(
    spec: Spec, schema: dict[str, Any], value: Any
) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
    """What ``schema`` declares for a value of ``value``'s type: member schemas by name, item schemas."""
    cache_key = (id(schema), _json_type(value))
    cached = _SHAPES.get(cache_key)
    if cached is None or cached[0] is not schema:
        declared: dict[str, list[dict[str, Any]]] = {}
        items: list[dict[str, Any]] = []
        for each in applicable(spec, schema, value):
            for name, child in each.get("properties", {}).items():
                declared.setdefault(name, []).append(child)
            if isinstance(each.get("items"), dict):
                items.append(each["items"])
        cached = _SHAPES[cache_key] = (schema, declared, items)
    return cached[1], cached[2]


def drop_undeclared(spec: Spec, schema: dict[str, Any], value: Any) -> Any:
    """A copy of ``value`` without the object members ``schema`` does not declare, at any depth."""
    if not isinstance(value, (dict, list)):
        return value
    declared, items = shape(spec, schema, value)
    if isinstance(value, list):
        return [_first(spec, items, item) for item in value]
    if not declared:
        return dict(value)  # a free-form object: nothing to judge by
    return {name: _first(spec, declared[name], member) for name, member in value.items() if name in declared}


def _first(spec: Spec, schemas: list[dict[str, Any]], value: Any) -> Any:
    # The contract declares each member once, so its first schema is the one.
    return drop_undeclared(spec, schemas[0], value) if schemas else value
