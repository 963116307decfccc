"""The contract: the OpenAPI document, its operations, and compiled validators for its schemas.

This is the only module that reads the spec. Everything else (linter,
server, fuzzer, docs) asks it for validators and operations, so a schema is
written once, in the YAML, and compiled once per process.
"""

from __future__ import annotations

import functools
import json
import os
import zlib
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


#: Keywords whose value maps names to schemas (the names are data, never keywords).
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
_ANNOTATIONS = frozenset({"description", "title", "examples", "example", "default", "$comment", "deprecated"})


class _Recursive(Exception):
    """A schema that refers to itself, which cannot be inlined."""


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
            try:
                # Inlined once here, so validating does no $ref lookups: several times faster.
                schema = self._inline(self.get(path), ())
            except _Recursive:
                schema = {"$ref": SPEC_URI + "#" + quote(to_pointer(path), safe="/~")}
            found = Draft202012Validator(
                schema,
                registry=self._registry,
                format_checker=Draft202012Validator.FORMAT_CHECKER,
            )
            self._validators[path] = found
        return found

    def _inline(self, schema: Any, trail: tuple[str, ...]) -> Any:
        """``schema`` with every local ``$ref`` replaced by its target (``allOf`` keeps siblings' meaning).

        Annotations (descriptions, examples...) are left out: they never change a result.
        """
        if isinstance(schema, list):
            return [self._inline(item, trail) for item in schema]
        if not isinstance(schema, dict):
            return schema
        inlined: dict[str, Any] = {}
        for key, value in schema.items():
            if key in _SCHEMA_MAPS and isinstance(value, dict):
                inlined[key] = {name: self._inline(member, trail) for name, member in value.items()}
            elif key != "$ref" and key not in _ANNOTATIONS and not key.startswith("x-"):
                inlined[key] = self._inline(value, trail)
        reference = schema.get("$ref")
        if not isinstance(reference, str) or not reference.startswith("#"):
            return inlined if reference is None else {**inlined, "$ref": reference}
        if reference in trail:
            raise _Recursive(reference)
        target = self._inline(self.get(from_pointer(reference[1:])), (*trail, reference))
        if not inlined:
            return target
        return {**inlined, "allOf": [*inlined.get("allOf", []), target]}

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

    @functools.cached_property
    def routes(self) -> Mapping[str, Mapping[str, str]]:
        """Path template -> method (upper case, in ``HTTP_METHODS`` order) -> operationId."""
        routes: dict[str, dict[str, str]] = {}
        for operation in self.operations.values():
            routes.setdefault(operation.path, {})[operation.method] = operation.operation_id
        order = [method.upper() for method in HTTP_METHODS]
        return {
            path: dict(sorted(methods.items(), key=lambda item: order.index(item[0])))
            for path, methods in routes.items()
        }

    @property
    def base_path(self) -> str:
        """The collection's path template, which every other path extends."""
        shortest = min(self.routes, key=len)
        strays = [path for path in self.routes if not path.startswith(shortest)]
        if strays:
            raise ValueError(f"{strays[0]} does not extend the base path {shortest}")
        return shortest

    @functools.cached_property
    def error_codes(self) -> Mapping[int, str]:
        """Status -> the error body's ``code`` (``x-error-codes``)."""
        return {int(status): str(code) for status, code in self.data["x-error-codes"].items()}

    @property
    def max_body_bytes(self) -> int:
        """The largest request body a server accepts; a larger one is 413 (``x-max-body-bytes``)."""
        return int(self.data["x-max-body-bytes"])

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
    """The spec shipped with the package: the wheel's copy, or in a checkout the one file, ``spec/``'s."""
    packaged = FilePath(str(resources.files("validator") / BUNDLED_NAME))
    return packaged if packaged.is_file() else FilePath(__file__).parent.parent / "spec" / BUNDLED_NAME


def load(path: FilePath, display_name: str | None = None) -> Spec:
    return Spec(read_document(path, display_name))


@functools.cache
def bundled() -> Spec:
    """The bundled spec, parsed and wrapped once per process.

    Its data is also kept as JSON in the user's cache directory, named by the
    CRC-32 and length of the YAML, so later processes skip the YAML parser
    (start-up time matters in pre-commit) and an edited spec gets a new entry.
    The cache is only an optimisation: any failure to read or write it is ignored.
    """
    path = bundled_path()
    raw = path.read_bytes()
    cached = _cache_dir() / f"spec-{zlib.crc32(raw):08x}-{len(raw)}.json"
    try:
        data = json.loads(cached.read_bytes())
    except (OSError, ValueError):
        spec = load(path)
        _write_cache(cached, spec.data)
        return spec
    # Positions are only needed to report on the spec itself: parse the YAML then, if ever.
    return Spec(Document(str(path), data, (), lambda: read_document(path)._tables))


def _cache_dir() -> FilePath:
    base = os.environ.get("XDG_CACHE_HOME")
    return (FilePath(base) if base else FilePath.home() / ".cache") / "release-policy-validator"


def _write_cache(target: FilePath, data: Any) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(data), encoding="utf-8")
        temporary.replace(target)  # atomic: a reader never sees half a file
    except OSError:
        pass
