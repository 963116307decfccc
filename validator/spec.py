"""The contract: the OpenAPI document, its operations, and compiled validators for its schemas.

This is the only module that reads the spec. Everything else (linter,
server, fuzzer, docs) asks it for validators and operations, so a schema is
written once, in the YAML, and compiled once per process.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path as FilePath
from typing import Any
from urllib.parse import quote

from jsonschema import Draft202012Validator
from jsonschema.protocols import Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from validator.documents import Document, read_document
from validator.findings import Path

#: Where schemas are registered; `$ref`s inside the spec resolve against it.
SPEC_URI = "urn:release-policy-validator:spec"
BUNDLED_NAME = "release-policies.yaml"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
JSON_MEDIA_TYPE = "application/json"


def to_pointer(path: Path) -> str:
    """A location as a JSON Pointer (RFC 6901)."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def from_pointer(pointer: str) -> Path:
    """A JSON Pointer (as written in a local ``$ref``, without ``#``) as a location."""
    if not pointer:
        return ()
    return tuple(part.replace("~1", "/").replace("~0", "~") for part in pointer.lstrip("/").split("/"))


@dataclass(frozen=True)
class Operation:
    """One operation of the spec, with the locations of its schemas."""

    operation_id: str
    method: str
    path: str
    #: Location of the JSON request body's schema, if the operation takes one.
    request_schema: Path | None
    request_required: bool
    #: Status code -> location of the JSON response schema (None: no body).
    responses: Mapping[str, Path | None]
    #: One of the operations documented by LaunchDarkly's API reference pages.
    seeded: bool


class Spec:
    """A parsed OpenAPI document and the validators compiled from it."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.data: Mapping[str, Any] = document.data
        resource: Resource[Any] = DRAFT202012.create_resource(document.data)
        self._registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
        self._validators: dict[Path, Validator] = {}

    @property
    def file(self) -> str:
        return self.document.file

    def get(self, path: Path) -> Any:
        """The value at a location; KeyError, IndexError or TypeError if there is none."""
        node: Any = self.data
        for part in path:
            node = node[int(part)] if isinstance(node, list) else node[part]
        return node

    def follow(self, path: Path) -> Path:
        """Follow local ``$ref`` objects (responses, parameters, examples) to the object itself."""
        seen: set[Path] = set()
        node = self.get(path)
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            if path in seen:
                raise ValueError(f"circular $ref at {to_pointer(path)}")
            seen.add(path)
            path = from_pointer(node["$ref"].removeprefix("#"))
            node = self.get(path)
        return path

    def validator(self, path: Path) -> Validator:
        """A compiled Draft 2020-12 validator for the schema at ``path`` (cached)."""
        found = self._validators.get(path)
        if found is None:
            reference = SPEC_URI + "#" + quote(to_pointer(path), safe="/~")
            found = Draft202012Validator(
                {"$ref": reference},
                registry=self._registry,
                format_checker=Draft202012Validator.FORMAT_CHECKER,
            )
            self._validators[path] = found
        return found

    def schema_validator(self, name: str) -> Validator:
        """The validator of ``#/components/schemas/<name>``."""
        return self.validator(("components", "schemas", name))

    @functools.cached_property
    def operations(self) -> Mapping[str, Operation]:
        """Every operation by operationId: the seeded ones (``x-seeded``) first, then document order."""
        found: list[Operation] = []
        for template, item in self.data.get("paths", {}).items():
            for method in HTTP_METHODS:
                if method in item:
                    found.append(self._operation(("paths", template, method)))
        found.sort(key=lambda operation: not operation.seeded)
        return {operation.operation_id: operation for operation in found}

    def _operation(self, where: Path) -> Operation:
        data = self.get(where)
        request_schema: Path | None = None
        request_required = False
        if "requestBody" in data:
            body = self.follow((*where, "requestBody"))
            request_required = bool(self.get(body).get("required", False))
            request_schema = (*body, "content", JSON_MEDIA_TYPE, "schema")
        responses: dict[str, Path | None] = {}
        for status in data.get("responses", {}):
            response = self.follow((*where, "responses", status))
            has_body = JSON_MEDIA_TYPE in self.get(response).get("content", {})
            responses[status] = (*response, "content", JSON_MEDIA_TYPE, "schema") if has_body else None
        return Operation(
            operation_id=data["operationId"],
            method=str(where[2]).upper(),
            path=str(where[1]),
            request_schema=request_schema,
            request_required=request_required,
            responses=responses,
            seeded=data.get("x-seeded") is True,
        )

    def request_validator(self, operation_id: str) -> Validator:
        location = self.operations[operation_id].request_schema
        if location is None:
            raise KeyError(f"{operation_id} takes no request body")
        return self.validator(location)

    def response_validator(self, operation_id: str, status: int | str) -> Validator:
        location = self.operations[operation_id].responses[str(status)]
        if location is None:
            raise KeyError(f"{operation_id} answers {status} without a body")
        return self.validator(location)


def bundled_path() -> FilePath:
    """The spec shipped with the package (a copy of ``spec/`` inside the wheel)."""
    return FilePath(str(resources.files("validator") / BUNDLED_NAME))


def load(path: FilePath, display_name: str | None = None) -> Spec:
    return Spec(read_document(path, display_name))


@functools.cache
def bundled() -> Spec:
    """The bundled spec, parsed and wrapped once per process."""
    return load(bundled_path())
