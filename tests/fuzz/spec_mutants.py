"""Spec mutants: the reference server keeping a copy of the spec with one request-schema constraint undone.

Generated, not picked: every keyword of JSON Schema's validation vocabulary
(and ``not``, and an ``anyOf`` of ``required`` branches) found in a schema a
request body reaches is deleted in its own mutant, each ``required`` member
on its own; a nullable place (``anyOf`` with a ``null`` branch) loses its
``null`` branch, so that server refuses what the contract allows. The walk
below follows the spec document itself, not the sweep's walk, so the sweep is
tested against mutants it did not choose.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator, Mapping
from typing import Any

from validator import spec as spec_module
from validator.documents import Document
from validator.spec import Spec, from_pointer, to_pointer

#: JSON Schema 2020-12's validation vocabulary, and the applicators that constrain on their own.
VOCABULARY = frozenset(
    {
        "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
        "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "maxContains",
        "minContains", "maxProperties", "minProperties", "required", "dependentRequired", "not",
    }
)  # fmt: skip

#: Mutants no request body can tell from the spec, each with the reason (checked by a test).
EQUIVALENT: Mapping[str, str] = {
    "/components/schemas/ResourceKey/minLength": "the pattern needs one character already",
    "/components/schemas/FlagTagKey/minLength": "the pattern (+) needs one character already",
    "/components/schemas/ReleaseMethod/type": "every value of the enum is a string",
    "/components/schemas/PostReleasePolicyRequest/type": "its allOf (the PUT body) must be an object already",
    "/components/schemas/PostReleasePoliciesOrderRequest/uniqueItems": (
        "the state rules refuse a key named twice in an order with the same 400"
    ),
}


def _reachable(contract: Spec) -> Iterator[tuple[str | int, ...]]:
    """Every schema location a request body reaches, once each."""
    seen: set[tuple[str | int, ...]] = set()
    stack = [op.request_schema for op in contract.operations.values() if op.request_schema is not None]
    while stack:
        location = stack.pop()
        if location in seen:
            continue
        seen.add(location)
        yield location
        schema = contract.get(location)
        if isinstance(schema.get("$ref"), str):
            stack.append(from_pointer(schema["$ref"].removeprefix("#")))
        for name in schema.get("properties", {}):
            stack.append((*location, "properties", name))
        if isinstance(schema.get("items"), dict):
            stack.append((*location, "items"))
        for keyword in ("allOf", "anyOf", "oneOf"):
            stack.extend((*location, keyword, index) for index in range(len(schema.get(keyword, []))))


def _without(data: Any, location: tuple[str | int, ...], keyword: str, member: Any = None) -> Any:
    mutated = copy.deepcopy(data)
    schema = mutated
    for part in location:
        schema = schema[part]
    if member is None:
        del schema[keyword]
    else:
        schema[keyword] = [each for each in schema[keyword] if each != member]
    return mutated


@functools.cache
def mutants() -> Mapping[str, Any]:
    """Mutant name (where and what was undone) -> the mutated spec's data."""
    contract = spec_module.bundled()
    found: dict[str, Any] = {}
    for location in _reachable(contract):
        schema = contract.get(location)
        where = to_pointer(location)
        for keyword in sorted(VOCABULARY & schema.keys()):
            if keyword == "required":
                for member in schema[keyword]:
                    found[f"{where}/required/{member}"] = _without(contract.data, location, keyword, member)
            else:
                found[f"{where}/{keyword}"] = _without(contract.data, location, keyword)
        branches = schema.get("anyOf", [])
        if branches and all(set(branch) == {"required"} for branch in branches):
            found[f"{where}/anyOf"] = _without(contract.data, location, "anyOf")
        for branch in branches:
            if branch == {"type": "null"}:
                found[f"{where}/anyOf/null"] = _without(contract.data, location, "anyOf", branch)
    return found


def serve_mutant(name: str) -> None:
    """In the server's process: make ``validator.spec.bundled`` the mutant's spec."""
    data = mutants()[name]
    mutant = Spec(Document(f"mutant {name}", data, (), lambda: ({}, {})))
    spec_module.bundled = lambda: mutant  # type: ignore[assignment]
