"""Every constraint of a request schema, and bodies just inside and just outside each one.

The walk follows an operation's request schema alongside a valid body that
holds every declared member at every depth (the spec's example, completed),
and for each constraint keyword it meets builds that body changed at that
one place. The spec's own validator judges every candidate: an inside body
must be valid, an outside body must break exactly that constraint, at that
place, and nothing else, so no other rejection can hide a gap. Nothing is
listed by hand: a keyword added to the spec is swept with no code change, and
one the sweep cannot build values for is reported as unswept.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from jsonschema.protocols import Validator

from validator.findings import Path, dotted_path
from validator.schema_errors import schema_errors
from validator.schema_shapes import applicable
from validator.spec import Spec, from_pointer

Side = Literal["inside", "outside"]
JSON_TYPES = ("null", "boolean", "integer", "number", "string", "array", "object")
#: One value of each JSON type, for the values of a type a place does not allow.
_OF_TYPE: Mapping[str, tuple[Any, ...]] = {
    "null": (None,), "boolean": (True, False), "integer": (7, 1, 0), "number": (0.5,), "string": ("7", "a"),
    "array": ([],), "object": ({},),
}  # fmt: skip
#: Characters that test a pattern from every side: multi-byte ones first, then ASCII classes.
_PROBES = ("😀", "é", " ", "/", "!", "~", ":", ".", "_", "-", "A", "z", "9")
#: Keywords that shape the walk (or only annotate) rather than constrain a value.
_STRUCTURE = frozenset(
    {
        "properties", "items", "allOf", "$ref", "anyOf", "oneOf", "description", "title", "examples",
        "example", "default", "deprecated", "readOnly", "writeOnly", "$comment", "format",
    }
)  # fmt: skip
_UNKNOWN = "rpvUnknownMember"


class SweepError(Exception):
    """The spec gives no valid body to start from (its examples do not validate)."""


@dataclass(frozen=True)
class Constraint:
    """One constraint keyword at one place of one operation's request body."""

    operation_id: str
    path: Path  # where in the body; array items at index 0
    keyword: str  # a JSON Schema keyword, or "unknown-member" (members the API ignores)
    detail: str  # the keyword's argument, or the required member

    @property
    def id(self) -> str:
        where = dotted_path(self.path) or "body"
        return f"{self.operation_id}:{where}:{self.keyword}" + (
            f"={self.detail}" if self.keyword == "required" else ""
        )


@dataclass(frozen=True)
class Case:
    """A body to send, and the constraints (with the side) whose boundary it stands for."""

    operation_id: str
    side: Side
    label: str
    body: Any
    credits: tuple[Constraint, ...]


@dataclass(frozen=True)
class _Place:
    contract: Spec
    body: Any  # the whole valid body
    path: Path
    schemas: tuple[dict[str, Any], ...]  # the schema objects that apply here
    allowed: frozenset[str]  # the JSON types allowed here
    validator: Validator  # of the whole body

    @property
    def value(self) -> Any:
        node = self.body
        for part in self.path:
            node = node[part]
        return node

    def replaced(self, value: Any) -> Any:
        body = copy.deepcopy(self.body)
        if not self.path:
            return value
        node = body
        for part in self.path[:-1]:
            node = node[part]
        node[self.path[-1]] = value
        return body

    def valid(self, value: Any) -> bool:
        return bool(self.validator.is_valid(self.replaced(value)))


Candidate = tuple[Side, str, Any]  # side, label, the value to put at the place
Generator = Callable[[_Place, Any], Iterator[Candidate]]


def _resolve(contract: Spec, schema: dict[str, Any]) -> dict[str, Any]:
    while isinstance(schema.get("$ref"), str) and len(schema) == 1:
        schema = contract.get(from_pointer(schema["$ref"].removeprefix("#")))
    return schema


def _typed(contract: Spec, branches: list[dict[str, Any]]) -> bool:
    return all(allowed_types(contract, branch) != frozenset(JSON_TYPES) for branch in branches)


def allowed_types(contract: Spec, schema: dict[str, Any]) -> frozenset[str]:
    """The JSON types a value may have under ``schema`` ("number" admits integers)."""
    found = frozenset(JSON_TYPES)
    declared = schema.get("type")
    if declared is not None:
        found &= frozenset(declared if isinstance(declared, list) else [declared])
        if "number" in found:
            found |= {"integer"}
    if isinstance(schema.get("$ref"), str):
        found &= allowed_types(contract, contract.get(from_pointer(schema["$ref"].removeprefix("#"))))
    for part in schema.get("allOf", []):
        found &= allowed_types(contract, part)
    for keyword in ("anyOf", "oneOf"):
        if keyword in schema:
            found &= frozenset().union(*(allowed_types(contract, b) for b in schema[keyword]))
    return found


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    return {dict: "object", list: "array", str: "string", type(None): "null"}[type(value)]


def _applicable(contract: Spec, schema: dict[str, Any], value: Any) -> list[dict[str, Any]]:
    """The schema objects that constrain ``value`` here (an ``anyOf`` of constraints is one rule)."""
    return applicable(contract, schema, value, untyped_branches=False)


def _example(contract: Spec, schema: dict[str, Any]) -> tuple[bool, Any]:
    for each in (schema, _resolve(contract, schema)):
        for keyword in ("examples", "example", "const", "enum", "default"):
            if keyword in each:
                value = each[keyword]
                return True, copy.deepcopy(value[0] if keyword in ("examples", "enum") else value)
    return False, None


def _synthesize(contract: Spec, schema: dict[str, Any]) -> Any:
    """A value for a member the example leaves out: the schema's own example, else the least it allows."""
    found, value = _example(contract, schema)
    if found:
        return value
    schema = _resolve(contract, schema)
    for keyword in ("anyOf", "oneOf"):
        for branch in schema.get(keyword, []):
            if "null" not in allowed_types(contract, branch):
                return _synthesize(contract, branch)
    allowed = allowed_types(contract, schema)
    merged: dict[str, Any] = {}
    for each in _applicable(contract, schema, None):
        merged.update({k: v for k, v in each.items() if k not in ("$ref", "allOf")})
    if "object" in allowed:
        return {}
    if "array" in allowed:
        return [_synthesize(contract, merged.get("items", {}))] * max(1, merged.get("minItems", 1))
    if "string" in allowed:
        return "a" * max(1, merged.get("minLength", 1))
    if "integer" in allowed or "number" in allowed:
        return merged.get("minimum", min(0, merged.get("maximum", 0)))
    return True if "boolean" in allowed else None


def complete(contract: Spec, schema: dict[str, Any], value: Any) -> Any:
    """``value`` with every declared member present, at every depth, and every array holding an item."""
    objects = _applicable(contract, schema, value)
    if isinstance(value, dict):
        members = {name: child for each in objects for name, child in each.get("properties", {}).items()}
        filled = dict(value)
        for name, child in members.items():
            present = filled.get(name)
            filled[name] = complete(
                contract, child, present if present is not None else _synthesize(contract, child)
            )
        return filled
    if isinstance(value, list):
        items = next((each["items"] for each in objects if isinstance(each.get("items"), dict)), None)
        if items is None:
            return value
        return [complete(contract, items, item) for item in (value or [_synthesize(contract, items)])]
    return value


def base_body(contract: Spec, operation_id: str) -> Any:
    """A valid body holding every declared member: the operation's first example, completed."""
    operation = contract.operations[operation_id]
    assert operation.request_schema is not None
    media = contract.get(operation.request_schema[:-1])
    examples = [e.get("value") for e in media.get("examples", {}).values() if isinstance(e, dict)]
    start = examples[0] if examples else media.get("example")
    schema = contract.get(operation.request_schema)
    body = complete(contract, schema, start if start is not None else _synthesize(contract, schema))
    if not contract.request_validator(operation_id).is_valid(body):
        raise SweepError(f"{operation_id}: no valid body to start from (its example does not validate)")
    return body


def _strings(length: int) -> Iterator[str]:
    # Multi-byte first: a limit must count characters, not bytes or UTF-16 units.
    for char in ("😀", "é", "a", "0"):
        yield char * length


def _min_length(place: _Place, limit: Any) -> Iterator[Candidate]:
    yield from (("inside", f"{limit} characters", text) for text in _strings(limit))
    if limit > 0:
        yield from (("outside", f"{limit - 1} characters", text) for text in _strings(limit - 1))


def _max_length(place: _Place, limit: Any) -> Iterator[Candidate]:
    yield from (("inside", f"{limit} characters", text) for text in _strings(limit))
    yield from (("outside", f"{limit + 1} characters", text) for text in _strings(limit + 1))


def _beside(place: _Place, limit: Any, direction: float) -> Any:
    """The nearest value beyond ``limit`` towards ``direction``: an integer, or the next float."""
    if "number" not in place.allowed and float(limit).is_integer():
        return int(limit) + (1 if direction > 0 else -1)
    return math.nextafter(float(limit), direction)


def _bound(side_at_limit: Side, direction: float) -> Generator:
    """``minimum`` and the like: the limit itself is on one side, its neighbour beyond it on the other."""
    other: Side = "outside" if side_at_limit == "inside" else "inside"

    def generate(place: _Place, limit: Any) -> Iterator[Candidate]:
        yield side_at_limit, f"{limit}", limit
        beyond = _beside(place, limit, direction)
        yield other, f"{beyond}", beyond

    return generate


def _multiple_of(place: _Place, factor: Any) -> Iterator[Candidate]:
    value = place.value if isinstance(place.value, (int, float)) else 0
    multiple = factor * round(value / factor)
    yield "inside", f"{multiple}", multiple
    yield "outside", f"{multiple + factor / 2}", multiple + factor / 2


def _near_misses(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, str) and value:
        yield "another case", value.swapcase()
        yield "one character short", value[:-1]
        yield "one character more", value + value[-1]
    else:
        yield "another value", json.dumps(value)


def _enum(place: _Place, values: Any) -> Iterator[Candidate]:
    for value in values:
        yield "inside", f"{value!r}", value
    for label, value in _near_misses(values[0]):
        yield "outside", f"{label}: {value!r}", value


def _const(place: _Place, value: Any) -> Iterator[Candidate]:
    yield from _enum(place, [value])


def _not(place: _Place, schema: Any) -> Iterator[Candidate]:
    forbidden = [schema["const"]] if "const" in schema else list(schema.get("enum", []))
    for value in forbidden:
        yield "outside", f"the excluded {value!r}", value
        for label, near in _near_misses(value):
            yield "inside", f"{label}: {near!r}", near


def _forbidding(pattern: str, make: Callable[[str], str]) -> Iterator[str]:
    """Characters that make ``make(char)`` miss the pattern, multi-byte ones first; all, if unsure."""
    alphabet = [*_PROBES, *(chr(code) for code in range(32, 127))]
    try:
        compiled = re.compile(pattern)
    except re.error:  # an ECMA-262 construct Python lacks: let the validator judge them all
        yield from alphabet
        return
    yield from (char for char in alphabet if compiled.search(make(char)) is None)


def _pattern(place: _Place, pattern: Any) -> Iterator[Candidate]:
    value = str(place.value)
    # Every character the pattern admits after the value, at once: a server must allow them all.
    admitted = "".join(char for char in _PROBES if place.valid(value + char))
    yield "inside", "every character the pattern allows", value + admitted
    places: tuple[tuple[str, Callable[[str], str]], ...] = (
        ("first", lambda char: char + value),
        ("inside", lambda char: value[:1] + char + value[1:]),
        ("last", lambda char: value + char),
    )
    for where, make in places:
        for char in _forbidding(str(pattern), make):
            yield "outside", f"a character the pattern forbids, {where}", make(char)


def _items(place: _Place, count: int) -> list[Any]:
    """``count`` valid items like the first one, distinct where the place needs unique items."""
    first = place.value[0]
    if not any(schema.get("uniqueItems") for schema in place.schemas):
        return [copy.deepcopy(first) for _ in range(count)]
    if isinstance(first, str):
        return [first, *(f"{first}{index}" for index in range(1, count))][:count]
    if isinstance(first, (int, float)) and not isinstance(first, bool):
        return [first + index for index in range(count)]
    return [copy.deepcopy(first) for _ in range(count)]  # no distinct variants: will not qualify


def _min_items(place: _Place, limit: Any) -> Iterator[Candidate]:
    yield "inside", f"{limit} items", _items(place, limit)
    if limit > 0:
        yield "outside", f"{limit - 1} items", _items(place, limit - 1)


def _max_items(place: _Place, limit: Any) -> Iterator[Candidate]:
    yield "inside", f"{limit} items", _items(place, limit)
    yield "outside", f"{limit + 1} items", _items(place, limit + 1)


def _unique_items(place: _Place, unique: Any) -> Iterator[Candidate]:
    first = place.value[0]
    if not unique:
        return
    if isinstance(first, str) and first.swapcase() != first:
        yield "inside", "items that differ only in case", [first, first.swapcase()]
    yield "inside", "distinct items", _items(place, 2)
    yield "outside", "a duplicate item", [first, copy.deepcopy(first)]


def _required(place: _Place, member: Any) -> Iterator[Candidate]:
    yield "inside", f"with {member}", place.value
    yield "outside", f"without {member}", {k: v for k, v in place.value.items() if k != member}


def _one_of_members(place: _Place, branches: Any) -> Iterator[Candidate]:
    """``anyOf`` of ``required`` branches (a scope must name a list): each alone is in, none is out."""
    named = [member for branch in branches for member in branch.get("required", [])]
    others = {k: v for k, v in place.value.items() if k not in named}
    for branch in branches:
        kept = branch.get("required", [])
        yield "inside", f"only {', '.join(kept)}", {**others, **{k: place.value[k] for k in kept}}
    yield "outside", f"none of {', '.join(named)}", others


def _type(place: _Place, allowed: Any) -> Iterator[Candidate]:
    for name in JSON_TYPES:
        side: Side = "inside" if name in allowed else "outside"
        if side == "outside" or name != json_type(place.value):
            label = "null" if name == "null" else f"a value of type {name}"
            yield from ((side, label, value) for value in _OF_TYPE[name])


def _additional_properties(place: _Place, allowed: Any) -> Iterator[Candidate]:
    if allowed is False:
        yield "inside", "only declared members", place.value
        yield "outside", "an undeclared member", {**place.value, _UNKNOWN: "x"}


def _unknown_member(place: _Place, _: Any) -> Iterator[Candidate]:
    yield "inside", "an unknown member (ignored: neither stored nor echoed)", {**place.value, _UNKNOWN: "x"}


#: Keyword -> the values just inside and just outside it. A keyword not here is reported unswept.
GENERATORS: Mapping[str, Generator] = {
    "type": _type,
    "enum": _enum,
    "const": _const,
    "not": _not,
    "pattern": _pattern,
    "minLength": _min_length,
    "maxLength": _max_length,
    "minimum": _bound("inside", -math.inf),
    "maximum": _bound("inside", math.inf),
    "exclusiveMinimum": _bound("outside", math.inf),
    "exclusiveMaximum": _bound("outside", -math.inf),
    "multipleOf": _multiple_of,
    "minItems": _min_items,
    "maxItems": _max_items,
    "uniqueItems": _unique_items,
    "required": _required,
    "anyOf": _one_of_members,
    "additionalProperties": _additional_properties,
    "unknown-member": _unknown_member,
}


def _places(
    contract: Spec, validator: Validator, schema: dict[str, Any], body: Any, path: Path
) -> Iterator[_Place]:
    """Every place of ``body`` the schema reaches, with the schema objects that apply there."""
    place = _Place(contract, body, path, (), allowed_types(contract, schema), validator)
    objects = tuple(_applicable(contract, schema, place.value))
    yield _Place(contract, body, path, objects, place.allowed, validator)
    seen: set[str | int] = set()
    for each in objects:
        if isinstance(place.value, dict):
            for name, child in each.get("properties", {}).items():
                if name in place.value and name not in seen:
                    seen.add(name)
                    yield from _places(contract, validator, child, body, (*path, name))
        elif (
            isinstance(place.value, list)
            and place.value
            and isinstance(each.get("items"), dict)
            and 0 not in seen
        ):
            seen.add(0)
            yield from _places(contract, validator, each["items"], body, (*path, 0))


def _constraints(operation_id: str, place: _Place) -> Iterator[tuple[Constraint, Any]]:
    """The constraints at ``place``, each with its keyword's argument."""
    if place.allowed != frozenset(JSON_TYPES):
        yield Constraint(operation_id, place.path, "type", " or ".join(sorted(place.allowed))), place.allowed
    declares = False
    for schema in place.schemas:
        for keyword, argument in schema.items():
            if keyword == "required":
                for member in argument:
                    yield Constraint(operation_id, place.path, keyword, str(member)), member
            elif keyword in ("anyOf", "oneOf"):
                if not _typed(place.contract, argument):  # typed: swept as "type", and branch by branch
                    yield Constraint(operation_id, place.path, keyword, json.dumps(argument)), argument
            elif keyword == "properties":
                declares = True
            elif keyword not in _STRUCTURE and keyword != "type" and not keyword.startswith("x-"):
                yield Constraint(operation_id, place.path, keyword, json.dumps(argument)), argument
    closed = any(schema.get("additionalProperties") is False for schema in place.schemas)
    if declares and isinstance(place.value, dict) and not closed:
        yield Constraint(operation_id, place.path, "unknown-member", ""), None


@dataclass(frozen=True)
class Plan:
    """One operation's sweep: the bodies to send, every (constraint, side) meant, and what could not be."""

    operation_id: str
    cases: tuple[Case, ...]
    goals: tuple[tuple[Constraint, Side], ...]
    #: (constraint, side) the sweep has no value for: a keyword it does not know, or no isolating value.
    unswept: tuple[tuple[Constraint, Side], ...]


def _grade(validator: Validator, body: Any, side: Side, constraint: Constraint) -> tuple[int, str]:
    """2: the body is what the side needs; 1: outside, but it also breaks another keyword at the place
    (as an empty string breaks a pattern too), named; 0: not usable."""
    if side == "inside":
        return (2, "") if validator.is_valid(body) else (0, "")
    keyword = "additionalProperties" if constraint.keyword == "unknown-member" else constraint.keyword
    broken = {(error.path, error.keyword) for error in schema_errors(validator, body)}
    if broken == {(constraint.path, keyword)}:
        return 2, ""
    if (constraint.path, keyword) in broken and {path for path, _ in broken} == {constraint.path}:
        return 1, ", ".join(sorted(other for _, other in broken if other != keyword))
    return 0, ""


def plan(contract: Spec, operation_id: str) -> Plan:
    """Every constraint of the operation's request body, with a body just inside and just outside it."""
    operation = contract.operations[operation_id]
    assert operation.request_schema is not None
    base = base_body(contract, operation_id)
    validator = contract.request_validator(operation_id)
    cases: dict[str, Case] = {
        json.dumps(base, sort_keys=True): Case(operation_id, "inside", "the example", base, ())
    }
    goals: list[tuple[Constraint, Side]] = []
    unswept: list[tuple[Constraint, Side]] = []
    for place in _places(contract, validator, contract.get(operation.request_schema), base, ()):
        for constraint, argument in _constraints(operation_id, place):
            generator = GENERATORS.get(constraint.keyword)
            if generator is None:
                goals.append((constraint, "outside"))
                unswept.append((constraint, "outside"))
                continue
            chosen: dict[tuple[Side, str], tuple[int, str, Any]] = {}
            offered: set[Side] = set()
            for side, label, value in generator(place, argument):
                offered.add(side)
                if chosen.get((side, label), (0,))[0] == 2:
                    continue
                body = place.replaced(value)
                grade, also = _grade(validator, body, side, constraint)
                if grade > chosen.get((side, label), (0,))[0]:
                    chosen[side, label] = (grade, f"{label} (also breaks {also})" if also else label, body)
            for side in sorted(offered):
                goals.append((constraint, side))
                if not any(each == side for each, _ in chosen):
                    unswept.append((constraint, side))
            for (side, _), (_, label, body) in chosen.items():
                text = json.dumps(body, sort_keys=True)
                known = cases.get(text)
                credits = (*known.credits, constraint) if known else (constraint,)
                cases[text] = Case(operation_id, side, known.label if known else label, body, credits)
    return Plan(operation_id, tuple(cases.values()), tuple(goals), tuple(unswept))
