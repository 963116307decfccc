"""Schema validation errors narrowed to their cause and worded for people.

The linter's findings and the server's 400 messages both come from here, so
a body breaks the same rule in the same words wherever it is checked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator

from validator.counts import counted
from validator.findings import Path, dotted_path


@dataclass(frozen=True)
class SchemaError:
    """One broken schema rule: where (in the instance), which keyword, and what is allowed."""

    path: Path
    keyword: str
    message: str

    def api_message(self) -> str:
        """The error message a server answers with: ``stages[1].allocation: ...``."""
        where = dotted_path(self.path)
        return f"{where}: {self.message}" if where else self.message


def schema_errors(validator: Validator, instance: Any) -> Iterator[SchemaError]:
    """Every problem ``instance`` has, once each, narrowed to the most specific cause.

    Schemas say things twice (a ``type`` at the top and again in an ``allOf``
    entry or a ``$ref``'d schema), and a value of the wrong type breaks its
    ``enum`` or ``minLength`` as well. So one place gets one error per
    wording, and a place whose value has the wrong type gets only its first
    type error: the rest is the same problem again.
    """
    errors = [
        SchemaError(tuple(leaf.absolute_path), *_describe(leaf))
        for error in validator.iter_errors(instance)
        for leaf in _narrow(error)
    ]
    mistyped = {error.path for error in errors if error.keyword == "type"}
    reported: set[tuple[Any, ...]] = set()
    for error in errors:
        if error.path in mistyped and error.keyword != "type":
            continue
        problem = (error.path,) if error.path in mistyped else (error.path, error.message)
        if problem not in reported:
            reported.add(problem)
            yield error


def _branches(error: ValidationError) -> list[list[ValidationError]]:
    grouped: dict[Any, list[ValidationError]] = {}
    for sub in error.context or ():
        grouped.setdefault(sub.relative_schema_path[0], []).append(sub)
    return list(grouped.values())


def _is_type_mismatch(errors: list[ValidationError]) -> bool:
    return all(e.validator == "type" and not e.relative_path for e in errors)


def _narrow(error: ValidationError) -> Iterator[ValidationError]:
    # In `anyOf: [schema, {type: "null"}]` a non-null value can only have
    # meant `schema`: report what `schema` says rather than "not valid under
    # any of the given schemas".
    if error.validator in ("anyOf", "oneOf") and error.context:
        viable = [branch for branch in _branches(error) if not _is_type_mismatch(branch)]
        if len(viable) == 1:
            for sub in viable[0]:
                yield from _narrow(sub)
            return
    yield error


def _describe(error: ValidationError) -> tuple[str, str]:
    """The keyword to report and the message, for the error's rule."""
    keyword = str(error.validator)
    if keyword in ("anyOf", "oneOf"):
        branches = _branches(error)
        if branches and all(_is_type_mismatch(branch) for branch in branches):
            types = " or ".join(_short(branch[0].validator_value) for branch in branches)
            return "type", f"{_short(error.instance)} is not of type {types}"
        if branches and all(len(b) == 1 and b[0].validator == "required" for b in branches):
            names = ", ".join(str(cast(list[str], b[0].validator_value)[0]) for b in branches)
            return keyword, f"must contain at least one of: {names}"
    return keyword, _message(error)


def _message(error: ValidationError) -> str:
    if (
        error.validator == "not"
        and isinstance(error.validator_value, dict)
        and "const" in error.validator_value
    ):
        return f"{_short(error.instance)} is reserved and not allowed here"
    if error.validator == "type":
        return f"{_short(error.instance)} is not of type {_short(error.validator_value)}"
    if error.validator == "enum":
        return f"{_short(error.instance)} is not one of {_short(error.validator_value)}"
    if error.validator == "uniqueItems":
        return f"{_short(error.instance)} has duplicate items; each item must be unique"
    if error.validator in ("minLength", "maxLength") and isinstance(error.instance, str):
        limit = "at least" if error.validator == "minLength" else "at most"
        return (
            f"is {counted(len(error.instance), 'character')} long;"
            f" it must be {limit} {counted(cast(int, error.validator_value), 'character')}"
        )
    if error.validator == "pattern":
        return f"{_short(error.instance)} does not match the pattern {error.validator_value}"
    return error.message


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."
