"""Drift: a finding caused by the server answering something the spec does not know.

LaunchDarkly's beta API "may change without notice", so a nightly run against it must tell
"LaunchDarkly changed X" (update the spec) from "the server is wrong" (a broken rule). A violation
is drift when the answer that shows it (its last exchange) is one the spec has no words for: a status
the operation does not document, or a body that the documented schema accepts once the members it
does not declare are dropped and the enum values it does not list are replaced by a listed one.
Anything else an answer breaks (a 400 where the spec says 201, a missing member, a wrong type) is a
broken rule. A pure function of the evidence and the spec: every report calls it alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import ValidationError

from validator import spec as spec_module
from validator.findings import Path
from validator.fuzz.fingerprint import operation
from validator.fuzz.violation import Violation
from validator.schema_shapes import drop_undeclared
from validator.spec import Spec

#: Enum values replaced before giving up: a body with more is not a few new values.
_MAX_NEW_VALUES = 20


@dataclass(frozen=True)
class Drift:
    """What the server answered that the spec does not know: ``kind`` is status, member or enum value."""

    kind: str
    what: str

    def __str__(self) -> str:
        return self.what


def drift(violation: Violation, contract: Spec | None = None) -> Drift | None:
    """The drift the violation's evidence shows, if it is drift and not a broken rule."""
    contract = contract or spec_module.bundled()
    if not violation.exchanges:
        return None
    answer = violation.exchanges[-1]
    # No answer, or a 5xx: the server failed, it did not change. A 405's operation is a method the
    # path does not serve: the 405 rule judges it.
    found = contract.operations.get(operation(answer))
    if found is None or not 100 <= answer.status < 500:
        return None
    status = str(answer.status)
    if status not in found.responses:
        return Drift(
            "status", f"{found.operation_id} answered {status}, a status the spec does not document for it"
        )
    location = found.responses[status]
    try:
        body = answer.json()
    except ValueError:
        return None
    if location is None:
        return None
    kept = drop_undeclared(contract, contract.get(location), body)
    members = sorted(set(_dropped(body, kept)))
    values = _new_values(contract, location, kept)
    if values is None:
        return None
    parts = [f"member(s) the spec does not declare: {', '.join(members)}"] if members else []
    parts += [f"value(s) the spec does not list: {', '.join(values)}"] if values else []
    if not parts:
        return None
    return Drift(
        "member" if members else "enum value", f"{found.operation_id} {status} has {'; '.join(parts)}"
    )


def _dropped(before: Any, after: Any, where: str = "$") -> Iterator[str]:
    """The JSONPath of each member ``after`` lacks (items spelled ``[*]``, so a list names a member once)."""
    if isinstance(before, dict) and isinstance(after, dict):
        for name, value in before.items():
            if name in after:
                yield from _dropped(value, after[name], f"{where}.{name}")
            else:
                yield f"{where}.{name}"
    elif isinstance(before, list) and isinstance(after, list):
        for old, new in zip(before, after, strict=False):
            yield from _dropped(old, new, f"{where}[*]")


def _new_values(contract: Spec, location: Path, body: Any) -> list[str] | None:
    """The values outside their enum that alone keep ``body`` from the schema (none: it fits as it is);
    None if something else is wrong with it."""
    validator = contract.validator(location)
    new: list[str] = []
    for _ in range(_MAX_NEW_VALUES):
        errors = list(validator.iter_errors(body))
        if not errors:
            return new
        outside = list(_enums(errors))
        if not outside:
            return None
        for error in outside:
            new.append(f"{error.instance!r} at {error.json_path}")
            listed = error.validator_value
            body = _replaced(body, list(error.absolute_path), listed[0] if isinstance(listed, list) else None)
    return None


def _enums(errors: Iterable[ValidationError]) -> Iterator[ValidationError]:
    """The enum errors among ``errors`` and, through anyOf and oneOf, the errors of their branches."""
    for error in errors:
        if error.validator == "enum" and isinstance(error.validator_value, list) and error.validator_value:
            yield error
        elif error.context:
            yield from _enums(error.context)


def _replaced(value: Any, path: list[str | int], new: Any) -> Any:
    """A copy of ``value`` with ``new`` at ``path``."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replaced(value[head], rest, new)}
    if isinstance(value, list) and isinstance(head, int):
        return [_replaced(item, rest, new) if index == head else item for index, item in enumerate(value)]
    return value
