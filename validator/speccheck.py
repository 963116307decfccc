"""``release-policy spec check``: an OpenAPI 3.1 document checked as this project needs it.

openapi-spec-validator checks the document's structure; the rules below check
what it does not: every ``$ref`` resolves, every example fits its schema,
operationIds are unique, every operation documents the contract's errors
with the error schema, every path parameter is declared.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Any

from validator.documents import Document, DocumentError, read_document
from validator.findings import Finding, Path, RuleInfo, json_path
from validator.schema_errors import schema_errors
from validator.spec import HTTP_METHODS, Spec, from_pointer

#: A rule's raw result: where (in the document) and what is wrong.
Problem = tuple[Path, str]
ERROR_STATUSES = ("400", "401", "403", "404", "500")
ERROR_SCHEMA_REF = "#/components/schemas/Error"

_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_SINGLES = (
    "items", "additionalProperties", "unevaluatedProperties", "unevaluatedItems",
    "not", "if", "then", "else", "contains", "propertyNames",
)  # fmt: skip


@dataclass(frozen=True)
class SpecRule:
    info: RuleInfo
    check: Callable[[Spec], Iterator[Problem]]


def _operations(spec: Spec) -> Iterator[tuple[Path, dict[str, Any]]]:
    for template, item in spec.data.get("paths", {}).items():
        for method in HTTP_METHODS:
            if isinstance(item, dict) and method in item:
                yield ("paths", template, method), item[method]


def _label(where: Path) -> str:
    """An operation as people write it: ``GET /api/v2/...``."""
    return f"{str(where[2]).upper()} {where[1]}"


def _walk_refs(node: Any, path: Path) -> Iterator[tuple[Path, Any]]:
    stack = [(node, path)]
    while stack:
        current, where = stack.pop()
        if isinstance(current, dict):
            if "$ref" in current:
                yield (*where, "$ref"), current["$ref"]
            stack.extend((value, (*where, key)) for key, value in current.items())
        elif isinstance(current, list):
            stack.extend((value, (*where, index)) for index, value in enumerate(current))


def check_refs(spec: Spec) -> Iterator[Problem]:
    for where, ref in _walk_refs(spec.data, ()):
        if not isinstance(ref, str) or not ref.startswith("#"):
            yield where, f"$ref {ref!r} is not a local reference (#/...); only local references are supported"
            continue
        try:
            spec.get(from_pointer(ref[1:]))
        except (KeyError, IndexError, TypeError, ValueError):
            yield where, f"$ref {ref!r} points to nothing in this document"


def _schema_locations(spec: Spec, root: Path) -> Iterator[Path]:
    stack = [root]
    while stack:
        where = stack.pop()
        schema = spec.get(where)
        if not isinstance(schema, dict):
            continue
        yield where
        for keyword in _SCHEMA_MAPS:
            if isinstance(schema.get(keyword), dict):
                stack.extend((*where, keyword, name) for name in schema[keyword])
        for keyword in _SCHEMA_LISTS:
            if isinstance(schema.get(keyword), list):
                stack.extend((*where, keyword, index) for index in range(len(schema[keyword])))
        stack.extend((*where, keyword) for keyword in _SCHEMA_SINGLES if keyword in schema)


def _examples_of(spec: Spec, holder: Path) -> Iterator[tuple[str, Path]]:
    """The examples of a media type or parameter object: (name, location of the value)."""
    data = spec.get(holder)
    if "example" in data:
        yield "example", (*holder, "example")
    for name in data.get("examples", {}):
        example = spec.follow((*holder, "examples", name))
        if "value" in spec.get(example):
            yield str(name), (*example, "value")


def _example_holders(spec: Spec) -> Iterator[Path]:
    """Media types and parameters: the objects that carry both a schema and examples."""
    for where, operation in _operations(spec):
        parameters = [(*where[:2], "parameters"), (*where, "parameters")]
        for location in parameters:
            for index in range(len(spec.get(location)) if _exists(spec, location) else 0):
                yield spec.follow((*location, index))
        bodies = [spec.follow((*where, "requestBody"))] if "requestBody" in operation else []
        bodies += [spec.follow((*where, "responses", status)) for status in operation.get("responses", {})]
        for body in bodies:
            for media_type in spec.get(body).get("content", {}):
                yield (*body, "content", media_type)


def _exists(spec: Spec, path: Path) -> bool:
    try:
        spec.get(path)
    except (KeyError, IndexError, TypeError):
        return False
    return True


def _invalid(spec: Spec, schema: Path, value: Path, label: str) -> Iterator[Problem]:
    for error in schema_errors(spec.validator(schema), spec.get(value)):
        yield (*value, *error.path), f"{label} does not match its schema: {error.api_message()}"


def check_examples(spec: Spec) -> Iterator[Problem]:
    for holder in _example_holders(spec):
        if "schema" in spec.get(holder):
            for name, value in _examples_of(spec, holder):
                yield from _invalid(spec, (*holder, "schema"), value, f"example {name!r}")
    roots = [("components", "schemas", name) for name in spec.data.get("components", {}).get("schemas", {})]
    for root in roots:
        for schema in _schema_locations(spec, root):
            data = spec.get(schema)
            for index in range(len(data["examples"]) if isinstance(data.get("examples"), list) else 0):
                yield from _invalid(spec, schema, (*schema, "examples", index), "schema example")
            if "example" in data:
                yield from _invalid(spec, schema, (*schema, "example"), "schema example")


def check_operation_ids(spec: Spec) -> Iterator[Problem]:
    first: dict[str, Path] = {}
    for where, operation in _operations(spec):
        operation_id = operation.get("operationId")
        if not isinstance(operation_id, str):
            yield where, f"{_label(where)} has no operationId"
        elif operation_id in first:
            other = first[operation_id]
            yield (
                (*where, "operationId"),
                (f"operationId {operation_id!r} is used already by {_label(other)}"),
            )
        else:
            first[operation_id] = where


def check_error_responses(spec: Spec) -> Iterator[Problem]:
    for where, operation in _operations(spec):
        name = operation.get("operationId", _label(where))
        responses = operation.get("responses", {})
        for status in ERROR_STATUSES:
            if status not in responses:
                yield (*where, "responses"), f"{name} does not document {status}"
        for status in responses:
            if not str(status).startswith(("4", "5")):
                continue
            response = spec.get(spec.follow((*where, "responses", status)))
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            if schema.get("$ref") != ERROR_SCHEMA_REF:
                yield (
                    (*where, "responses", status),
                    (
                        f"{name} answers {status} without the error schema"
                        f" (application/json with $ref {ERROR_SCHEMA_REF!r})"
                    ),
                )


def check_path_parameters(spec: Spec) -> Iterator[Problem]:
    for where, operation in _operations(spec):
        template = str(where[1])
        wanted = set(re.findall(r"\{([^}]+)\}", template))
        declared: dict[str, Path] = {}
        for location in ((*where[:2], "parameters"), (*where, "parameters")):
            for index in range(len(spec.get(location)) if _exists(spec, location) else 0):
                parameter = spec.get(spec.follow((*location, index)))
                if parameter.get("in") == "path":
                    declared[parameter.get("name")] = (*location, index)
        name = operation.get("operationId", _label(where))
        for missing in sorted(wanted - declared.keys()):
            yield where, f"{name}: path parameter {missing!r} of {template} is not declared"
        for extra in sorted(declared.keys() - wanted):
            yield (
                declared[extra],
                f"{name}: path parameter {extra!r} is declared but {template} has no {{{extra}}}",
            )


def check_links(spec: Spec) -> Iterator[Problem]:
    parameters: dict[str, set[str]] = {}
    for where, operation in _operations(spec):
        names = set()
        for location in ((*where[:2], "parameters"), (*where, "parameters")):
            for index in range(len(spec.get(location)) if _exists(spec, location) else 0):
                names.add(str(spec.get(spec.follow((*location, index))).get("name")))
        parameters[str(operation.get("operationId"))] = names
    for where, operation in _operations(spec):
        for status in operation.get("responses", {}):
            response = spec.follow((*where, "responses", status))
            for name in spec.get(response).get("links", {}):
                link_at = spec.follow((*response, "links", name))
                link = spec.get(link_at)
                target = link.get("operationId")
                if target is None:
                    continue  # an operationRef: openapi-spec-validator checks its form
                if target not in parameters:
                    yield (
                        (*link_at, "operationId"),
                        f"link {name!r} targets {target!r}, which no operation has",
                    )
                    continue
                for parameter in link.get("parameters", {}):
                    if parameter not in parameters[target]:
                        yield (
                            (*link_at, "parameters", parameter),
                            (f"link {name!r}: {parameter!r} is not a parameter of {target}"),
                        )


RULES: tuple[SpecRule, ...] = (
    SpecRule(
        RuleInfo("ref-resolves", "error", "Every $ref points to something in the document."), check_refs
    ),
    SpecRule(
        RuleInfo("example-valid", "error", "Every example validates against its own schema."),
        check_examples,
    ),
    SpecRule(
        RuleInfo("operation-id-unique", "error", "Every operation has an operationId, used once."),
        check_operation_ids,
    ),
    SpecRule(
        RuleInfo(
            "error-responses",
            "error",
            "Every operation documents 400/401/403/404/500, and every error is application/json"
            " with the Error schema.",
        ),
        check_error_responses,
    ),
    SpecRule(
        RuleInfo("path-params-declared", "error", "Every {parameter} of a path is declared, and only those."),
        check_path_parameters,
    ),
    SpecRule(
        RuleInfo(
            "links-resolve", "error", "Every link targets an operationId that exists, with its parameters."
        ),
        check_links,
    ),
)
DOCUMENT_RULES = (
    RuleInfo("syntax", "error", "The file is UTF-8 JSON or YAML holding one document."),
    RuleInfo("duplicate-key", "error", "No object has the same key twice (parsers keep only the last)."),
    RuleInfo("openapi-schema", "error", "The document is valid OpenAPI 3.1 (openapi-spec-validator)."),
)
RULE_INFO = {info.id: info for info in (*DOCUMENT_RULES, *(rule.info for rule in RULES))}


def _finding(document: Document, rule: str, path: Path, message: str) -> Finding:
    line, column = document.position(path)
    return Finding(document.file, line, column, json_path(path), rule, RULE_INFO[rule].severity, message)


class MissingExtra(Exception):
    """A package this check needs is not installed; the message says how to install it."""


def _openapi_problems(spec: Spec) -> Iterator[Problem]:
    # Imported here: it is slow to import and only this command needs it.
    from openapi_spec_validator import OpenAPIV31SpecValidator
    from openapi_spec_validator.validation.exceptions import (
        DuplicateOperationIDError,
        UnresolvableParameterError,
    )

    version = spec.data.get("openapi")
    if not (isinstance(version, str) and version.startswith("3.1.")):
        yield ("openapi",), f"expected an OpenAPI 3.1.x document, found openapi: {version!r}"
        return
    covered = (DuplicateOperationIDError, UnresolvableParameterError)  # reported, with positions, by RULES
    try:
        for error in OpenAPIV31SpecValidator(spec.data).iter_errors():
            if not isinstance(error, covered):
                path = _document_path(spec.data, getattr(error, "absolute_path", ()))
                yield path, str(getattr(error, "message", error))
    except Exception as error:  # noqa: BLE001 - a validator crash is reported, not raised
        yield (), f"openapi-spec-validator could not finish: {type(error).__name__}: {error}"


def _document_path(data: Any, path: Iterable[Any]) -> tuple[str | int, ...]:
    """The error's path as the document spells it: recent releases give ``responses[204]`` an int key."""
    spelled: list[str | int] = []
    node = data
    for given in path:
        part = str(given) if isinstance(node, dict) else given
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            node = None
        spelled.append(part)
    return tuple(spelled)


def check_document(document: Document) -> list[Finding]:
    """Every finding for a parsed document, in order of position."""
    findings = [
        _finding(document, "duplicate-key", path, f"key {path[-1]!r} occurs more than once in this object")
        for path in document.duplicate_keys
    ]
    if not isinstance(document.data, dict):
        return [*findings, _finding(document, "openapi-schema", (), "the document is not an object")]
    spec = Spec(document)
    # Later stages assume what earlier ones establish: refs resolve, then the structure is valid.
    stages: list[list[tuple[str, Callable[[Spec], Iterator[Problem]]]]] = [
        [("ref-resolves", check_refs)],
        [("openapi-schema", _openapi_problems)],
        [(rule.info.id, rule.check) for rule in RULES if rule.info.id != "ref-resolves"],
    ]
    for stage in stages:
        found = {
            _finding(document, rule, path, message) for rule, check in stage for path, message in check(spec)
        }
        findings.extend(found)
        if found:
            break
    return sorted(findings)


def require_openapi_validator() -> None:
    """Raise :class:`MissingExtra` unless openapi-spec-validator (the ``spec`` extra) can be imported."""
    try:
        import openapi_spec_validator  # noqa: F401 - only whether it imports matters
    except ImportError:
        raise MissingExtra(
            "spec check needs openapi-spec-validator, which is not installed:"
            " pip install 'release-policy-validator[spec]'"
        ) from None


def check_file(path: FilePath, display_name: str | None = None) -> list[Finding]:
    """Check the OpenAPI document in ``path``. OSError (a missing file) and MissingExtra propagate."""
    require_openapi_validator()  # before reading: whatever the file holds, the check cannot be complete
    name = display_name or str(path)
    try:
        document = read_document(path, name)
    except DocumentError as error:
        return [Finding(name, error.line, error.column, "$", "syntax", "error", error.message)]
    return check_document(document)
