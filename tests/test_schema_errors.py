"""One problem, one error: schema errors narrowed, worded, and never said twice."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from validator import spec
from validator.schema_errors import SchemaError, schema_errors

TWICE = {
    "type": "object",
    "allOf": [{"$ref": "#/$defs/body"}],
    "$defs": {
        "body": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 3, "pattern": "^[a-z]+$"},
                "mode": {"allOf": [{"enum": ["a", "b"]}, {"enum": ["a", "b"]}], "type": "string"},
            },
        }
    },
}


def errors(schema: dict[str, Any], instance: Any) -> list[tuple[tuple[str | int, ...], str, str]]:
    return [(e.path, e.keyword, e.message) for e in schema_errors(Draft202012Validator(schema), instance)]


@pytest.mark.parametrize(("body", "shown"), [([1], "[1]"), ("x", '"x"'), (None, "null")])
def test_a_body_of_the_wrong_type_is_one_error(body: Any, shown: str) -> None:
    """The schema states ``type: object`` at the top and again in the ``allOf`` entry."""
    assert errors(TWICE, body) == [((), "type", f'{shown} is not of type "object"')]


def test_a_value_of_the_wrong_type_gets_only_its_type_error() -> None:
    """5 also breaks ``enum`` (twice); that is the same problem as its type."""
    assert errors(TWICE, {"mode": 5}) == [(("mode",), "type", '5 is not of type "string"')]


def test_the_same_words_from_two_schemas_are_one_error() -> None:
    assert errors(TWICE, {"mode": "c"}) == [(("mode",), "enum", '"c" is not one of ["a", "b"]')]


def test_different_problems_at_one_place_are_all_reported() -> None:
    assert errors(TWICE, {"name": "A"}) == [
        (("name",), "minLength", "is 1 character long; it must be at least 3 characters"),
        (("name",), "pattern", '"A" does not match the pattern ^[a-z]+$'),
    ]


@pytest.mark.parametrize("operation", ["PostReleasePolicy", "PutReleasePolicy"])
def test_the_bundled_request_schemas_report_a_non_object_body_once(operation: str) -> None:
    validator = spec.bundled().request_validator(operation)
    assert list(schema_errors(validator, [1])) == [SchemaError((), "type", '[1] is not of type "object"')]
