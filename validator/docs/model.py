"""What the reference says, taken from its sources: the spec, the contract's rule table, the lint rule table.

Both renderers (Markdown and HTML) read this model, so they can never differ
in content, and nothing here is written twice: every row comes from a schema,
every rule from the table the linter runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from validator import contract
from validator.findings import Path, RuleInfo
from validator.linter.registry import RULES
from validator.spec import Spec, from_pointer

#: The project the curl examples address (their host is the spec's first server).
CURL_PROJECT = "default"


@dataclass(frozen=True)
class FieldRow:
    """One field of a schema: where, its type, whether required, its limits, what it means."""

    name: str
    type: str
    required: bool
    limits: str
    description: str


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str
    required: bool
    type: str
    description: str


@dataclass(frozen=True)
class Status:
    code: str
    meaning: str
    schema: str | None


@dataclass(frozen=True)
class Example:
    title: str
    body: str


@dataclass(frozen=True)
class OperationDoc:
    operation_id: str
    method: str
    path: str
    summary: str
    description: str
    parameters: tuple[Parameter, ...]
    request_schema: str | None
    request_fields: tuple[FieldRow, ...]
    statuses: tuple[Status, ...]
    request_examples: tuple[Example, ...]
    response_examples: tuple[Example, ...]
    curl: str


@dataclass(frozen=True)
class SchemaDoc:
    """A named schema: its fields when it is an object, else its own type and limits."""

    name: str
    description: str
    type: str
    limits: str
    fields: tuple[FieldRow, ...]


@dataclass(frozen=True)
class ContractSection:
    section: contract.Section
    rules: tuple[contract.Rule, ...]
    #: The section that lists the operations shows the spec's table of them.
    lists_operations: bool


@dataclass(frozen=True)
class LintRuleDoc:
    """A lint rule as the docs show it: its description, and whether ``--fix`` fixes its findings."""

    info: RuleInfo
    fixes: bool


@dataclass(frozen=True)
class Reference:
    title: str
    version: str
    description: str
    server: str
    #: The parent of the base path: the contract's operations table shows paths under it.
    path_root: str
    operations: tuple[OperationDoc, ...]
    schemas: tuple[SchemaDoc, ...]
    contract: tuple[ContractSection, ...]
    lint_rules: tuple[LintRuleDoc, ...]


def _resolve(spec: Spec, schema: dict[str, Any]) -> dict[str, Any]:
    while isinstance(schema.get("$ref"), str):
        siblings = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**spec.get(from_pointer(schema["$ref"].removeprefix("#"))), **siblings}
    return schema


def _ref_name(schema: dict[str, Any]) -> str | None:
    reference = schema.get("$ref")
    return reference.rsplit("/", 1)[-1] if isinstance(reference, str) else None


def _non_null(spec: Spec, schema: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The schema without an ``anyOf [X, null]`` wrapper, and whether null is allowed."""
    branches = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(branches, list) and any(b.get("type") == "null" for b in branches):
        others = [b for b in branches if b.get("type") != "null"]
        if len(others) == 1:
            return {**{k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}, **others[0]}, True
    return schema, False


def _type(spec: Spec, schema: dict[str, Any]) -> str:
    schema, nullable = _non_null(spec, schema)
    name = _ref_name(schema)
    resolved = _resolve(spec, schema)
    for part in resolved.get("allOf", []):
        resolved = {**_resolve(spec, part), **resolved}
    kind = str(resolved.get("type", "object" if "properties" in resolved else "any"))
    if kind == "array":
        kind = f"array of {_type(spec, resolved.get('items', {}))}"
    elif name and kind == "object":
        kind = name
    if resolved.get("format") and kind in ("string", "integer", "number"):
        kind = f"{kind} ({resolved['format']})"
    return f"{kind} or null" if nullable else kind


def _limits(spec: Spec, schema: dict[str, Any]) -> str:
    schema = _resolve(spec, _non_null(spec, schema)[0])
    for part in schema.get("allOf", []):
        schema = {**_resolve(spec, part), **schema}
    parts = []

    def span(low: Any, high: Any, unit: str) -> None:
        if low is not None and high is not None:
            parts.append(f"{low} to {high}{unit}")
        elif low is not None:
            parts.append(f"at least {low}{unit}")
        elif high is not None:
            parts.append(f"at most {high}{unit}")

    span(schema.get("minLength"), schema.get("maxLength"), " characters")
    span(schema.get("minimum"), schema.get("maximum"), "")
    span(schema.get("minItems"), schema.get("maxItems"), " items")
    if schema.get("uniqueItems"):
        parts.append("unique items")
    if "enum" in schema:
        parts.append("one of " + ", ".join(f"`{value}`" for value in schema["enum"]))
    if "pattern" in schema:
        parts.append(f"pattern `{schema['pattern']}`")
    negated = schema.get("not", {})
    if isinstance(negated, dict) and "const" in negated:
        parts.append(f"not `{negated['const']}`")
    if isinstance(schema.get("anyOf"), list) and all(set(b) == {"required"} for b in schema["anyOf"]):
        parts.append("at least one of " + ", ".join(f"`{b['required'][0]}`" for b in schema["anyOf"]))
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        inner = _limits(spec, schema["items"])
        if inner:
            parts.append(f"each item: {inner}")
    return "; ".join(parts)


def _description(spec: Spec, schema: dict[str, Any]) -> str:
    text = schema.get("description") or _resolve(spec, _non_null(spec, schema)[0]).get("description", "")
    return " ".join(str(text).split())


def field_rows(spec: Spec, schema: dict[str, Any], prefix: str = "", depth: int = 0) -> list[FieldRow]:
    """Every field under ``schema``, nested ones as ``a.b[].c``, in the schema's order."""
    resolved = _resolve(spec, _non_null(spec, schema)[0])
    properties: dict[str, Any] = {}
    required: set[str] = set()
    # A schema's own members lead, then those it extends through allOf (`key`, then the update's fields).
    for each in [resolved, *resolved.get("allOf", [])]:
        part = _resolve(spec, each)
        for name, child in part.get("properties", {}).items():
            properties.setdefault(name, child)
        required.update(part.get("required", []))
    if resolved.get("type") == "array" and isinstance(resolved.get("items"), dict) and depth < 6:
        return field_rows(spec, resolved["items"], prefix + "[]", depth + 1)
    rows = []
    for name, child in properties.items():
        where = f"{prefix}.{name}" if prefix else name
        rows.append(
            FieldRow(
                where, _type(spec, child), name in required, _limits(spec, child), _description(spec, child)
            )
        )
        inner = _resolve(spec, _non_null(spec, child)[0])
        nested = inner.get("items") if inner.get("type") == "array" else inner
        if (
            depth < 6
            and isinstance(nested, dict)
            and (_resolve(spec, nested).get("properties") or "allOf" in nested)
        ):
            rows.extend(field_rows(spec, child, where, depth + 1))
    return rows


def _examples(spec: Spec, media: Path, kind: str) -> tuple[Example, ...]:
    data = spec.get(media)
    found = []
    for name in data.get("examples", {}):
        example = spec.get(spec.follow((*media, "examples", name)))
        title = example.get("summary") or name
        found.append(Example(f"{kind}: {title}", json.dumps(example["value"], indent=2, ensure_ascii=False)))
    if "example" in data:
        found.append(Example(kind, json.dumps(data["example"], indent=2, ensure_ascii=False)))
    return tuple(found)


def _operation(spec: Spec, operation_id: str, server: str) -> OperationDoc:
    operation = spec.operations[operation_id]
    where: Path = ("paths", operation.path, operation.method.lower())
    data = spec.get(where)
    parameters = []
    for location in ((*where[:2], "parameters"), (*where, "parameters")):
        try:
            count = len(spec.get(location))
        except KeyError:
            continue
        for index in range(count):
            p = spec.get(spec.follow((*location, index)))
            kind = _type(spec, p.get("schema", {})) + (
                f" ({_limits(spec, p['schema'])})" if _limits(spec, p.get("schema", {})) else ""
            )
            description = " ".join(str(p.get("description", "")).split())
            parameters.append(Parameter(p["name"], p["in"], bool(p.get("required")), kind, description))
    request_fields: tuple[FieldRow, ...] = ()
    request_examples: tuple[Example, ...] = ()
    request_schema = None
    if operation.request_schema is not None:
        schema = spec.get(operation.request_schema)
        request_schema = _ref_name(schema) or _type(spec, schema)
        request_fields = tuple(field_rows(spec, schema))
        request_examples = _examples(spec, operation.request_schema[:-1], "Request")
    statuses = []
    response_examples: list[Example] = []
    for code, schema_at in operation.responses.items():
        response = spec.get(spec.follow((*where, "responses", code)))
        schema_name = None
        if schema_at is not None:
            schema_name = _ref_name(spec.get(schema_at)) or _type(spec, spec.get(schema_at))
            if code.startswith("2"):
                response_examples.extend(_examples(spec, schema_at[:-1], f"Response {code}"))
        statuses.append(Status(code, " ".join(str(response.get("description", "")).split()), schema_name))
    return OperationDoc(
        operation_id,
        operation.method,
        operation.path,
        str(data.get("summary", "")),
        " ".join(str(data.get("description", "")).split()),
        tuple(parameters),
        request_schema,
        request_fields,
        tuple(statuses),
        request_examples,
        tuple(response_examples),
        _curl(operation.method, server + operation.path, request_examples),
    )


def operation_row(op: OperationDoc, root: str) -> tuple[str, str, str, str, str]:
    """The contract's summary of an operation: id, method, path under ``root``, success and error statuses."""
    ok = [s for s in op.statuses if s.code.startswith("2")]
    success = ", ".join(f"{s.code} `{s.schema}`" if s.schema else f"{s.code} no body" for s in ok)
    errors = " ".join(sorted(s.code for s in op.statuses if s not in ok))
    return op.operation_id, op.method, op.path.removeprefix(root), success, errors


def _curl(method: str, url: str, examples: tuple[Example, ...]) -> str:
    url = url.replace("{projectKey}", CURL_PROJECT).replace("{policyKey}", "production-release")
    lines = [
        f"curl -X {method} '{url}' \\",
        '  -H "Authorization: $LD_API_TOKEN" \\',
        "  -H 'LD-API-Version: beta'",
    ]
    if examples:
        body = json.dumps(json.loads(examples[0].body), separators=(",", ":"), ensure_ascii=False)
        lines[-1] += " \\"
        lines += ["  -H 'Content-Type: application/json' \\", f"  --data '{body}'"]
    return "\n".join(lines)


def build_reference(spec: Spec) -> Reference:
    info = spec.data["info"]
    server = spec.data["servers"][0]["url"]
    schemas = spec.data["components"]["schemas"]
    documented = []
    for name, schema in schemas.items():
        is_array = _resolve(spec, schema).get("type") == "array"
        rows = () if is_array else tuple(field_rows(spec, schema))
        typed = ("", "") if rows else (_type(spec, schema), _limits(spec, schema))
        documented.append(SchemaDoc(name, _description(spec, schema), *typed, rows))
    return Reference(
        title=str(info["title"]),
        version=str(info["version"]),
        description=str(info.get("description", "")).strip(),
        server=server,
        path_root=spec.base_path.rsplit("/", 1)[0],
        operations=tuple(_operation(spec, operation_id, server) for operation_id in spec.operations),
        schemas=tuple(documented),
        contract=tuple(
            # Section 2 is the operations: their table is the spec's, never restated in the rules.
            ContractSection(section, contract.rules_of(section), section.number == 2)
            for section in contract.SECTIONS
        ),
        lint_rules=tuple(LintRuleDoc(rule.info, rule.fix is not None) for rule in RULES),
    )
