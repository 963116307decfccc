"""Each operation of the spec as a request a probe can send: method, URL and a valid body, from the spec.

The probes check what every operation must do (401, 403, 404, 413...) by
walking this list, so an operation added to the spec is probed with no code
change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from validator import spec as spec_module
from validator.fuzz.boundaries import base_body
from validator.fuzz.target import Target
from validator.spec import Operation


@dataclass(frozen=True)
class Call:
    operation_id: str
    method: str
    url: str
    #: A body the operation's schema accepts (None: the operation takes none).
    body: Any
    #: The policy its path names (None: a path of the project's collection).
    policy_key: str | None = None
    #: Its query parameters that not every string fits (a boolean, a number, an enum...).
    typed_query: tuple[str, ...] = ()


def _typed_query(operation: Operation) -> tuple[str, ...]:
    """The operation's query parameters (its path's and its own) whose schema not every string fits."""
    contract = spec_module.bundled()
    found = []
    for owner in (("paths", operation.path), ("paths", operation.path, operation.method.lower())):
        for index in range(len(contract.get(owner).get("parameters", []))):
            parameter = contract.get(contract.follow((*owner, "parameters", index)))
            schema = parameter.get("schema", {})
            if parameter.get("in") == "query" and (schema.get("type") != "string" or len(schema) > 1):
                found.append(str(parameter["name"]))
    return tuple(found)


def calls(target: Target, key: str, project: str | None = None) -> list[Call]:
    """Every operation against ``project`` (default: the fuzzer's), naming the policy ``key``."""
    contract = spec_module.bundled()
    values = {"projectKey": project or target.projects[0], "policyKey": key}
    found = []
    for operation in contract.operations.values():
        named = re.findall(r"\{([^/}]+)\}", operation.path)
        path = re.sub(r"\{([^/}]+)\}", lambda match: quote(values[match.group(1)], safe=""), operation.path)
        body = None
        if operation.request_schema is not None:
            body = base_body(contract, operation.operation_id)
            if isinstance(body, dict) and "key" in body:
                body = {**body, "key": key}
        policy = key if "policyKey" in named else None
        found.append(
            Call(
                operation.operation_id,
                operation.method,
                target.url.rstrip("/") + path,
                body,
                policy,
                _typed_query(operation),
            )
        )
    return found
