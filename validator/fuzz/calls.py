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


@dataclass(frozen=True)
class Call:
    operation_id: str
    method: str
    url: str
    #: A body the operation's schema accepts (None: the operation takes none).
    body: Any
    #: The policy its path names (None: a path of the project's collection).
    policy_key: str | None = None


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
            Call(operation.operation_id, operation.method, target.url.rstrip("/") + path, body, policy)
        )
    return found
