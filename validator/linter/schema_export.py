"""A standalone JSON Schema for policy files, made from the spec's request schema, for editors.

Every ``$ref`` the request schema reaches is copied under ``$defs`` with its
descriptions, so the file needs nothing outside itself (YAML and JSON
language servers, SchemaStore). OpenAPI's ``example`` becomes ``examples``;
``x-`` extensions are left out. The API ignores a ``$schema`` member, and so
does the linter, so a policy file may name this schema.
"""

from __future__ import annotations

from typing import Any

from validator import spec as spec_module
from validator.linter.model import OPERATIONS, Kind
from validator.spec import from_pointer

DRAFT = "https://json-schema.org/draft/2020-12/schema"
#: Keywords whose value maps names to schemas (a property may be called "example").
_SCHEMA_MAPS = ("properties", "patternProperties", "dependentSchemas", "$defs")


def export_schema(kind: Kind) -> dict[str, Any]:
    """The JSON Schema of one body kind's file."""
    contract = spec_module.bundled()
    operation = OPERATIONS[kind]
    location = contract.operations[operation].request_schema
    if location is None:  # pragma: no cover - every linted operation has a request body
        raise ValueError(f"{operation} has no request body")
    definitions: dict[str, Any] = {}
    names: dict[str, str] = {}

    def define(reference: str) -> str:
        if reference not in names:
            base = reference.rsplit("/", 1)[-1] or "root"
            name, count = base, 1
            while name in definitions:
                count += 1
                name = f"{base}{count}"
            names[reference] = name
            definitions[name] = {}  # taken before converting, so a recursive schema ends
            definitions[name] = convert(contract.get(from_pointer(reference[1:])))
        return names[reference]

    def convert(node: Any) -> Any:
        if isinstance(node, list):
            return [convert(item) for item in node]
        if not isinstance(node, dict):
            return node
        converted: dict[str, Any] = {}
        for key, value in node.items():
            if key.startswith("x-"):
                continue
            if key == "example":
                converted["examples"] = [value]
            elif key == "$ref" and isinstance(value, str) and value.startswith("#"):
                converted["$ref"] = f"#/$defs/{define(value)}"
            elif key in _SCHEMA_MAPS and isinstance(value, dict):
                converted[key] = {name: convert(member) for name, member in value.items()}
            else:
                converted[key] = convert(value)
        return converted

    body = convert(contract.get(location))
    schema: dict[str, Any] = {
        "$schema": DRAFT,
        "title": f"LaunchDarkly release policy: the {operation} request body",
        "description": (
            f"A {kind} body of LaunchDarkly's release-policies (beta) API, from the release-policy-validator"
            " contract. Made by `release-policy schema`."
        ),
    }
    if kind != "order":
        schema["properties"] = {
            "$schema": {"type": "string", "description": "This schema, for editors; the API ignores it."}
        }
    schema["allOf"] = [body]
    schema["$defs"] = definitions
    return schema
