"""The bundled spec as the contract's sections 2 and 3 fix it (spec/CONTRACT.md), and its loader."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import REPOSITORY
from validator import spec as spec_module
from validator.spec import Spec

BASE = "/api/v2/projects/{projectKey}/release-policies"
# The contract's operations (spec/CONTRACT.md section 2): operation -> (method, path, success, error
# statuses). The {policyKey} operations also document 405: the contract's `reserved-key` rule reserves
# the key `order`, whose path serves only POST.
OPERATIONS = {
    "PostReleasePolicy": ("POST", BASE, "201", {"400", "401", "403", "404", "409", "413", "429", "500"}),
    "PutReleasePolicy": (
        "PUT",
        BASE + "/{policyKey}",
        "200",
        {"400", "401", "403", "404", "405", "409", "413", "429", "500"},
    ),
    "PostReleasePoliciesOrder": (
        "POST",
        BASE + "/order",
        "200",
        {"400", "401", "403", "404", "413", "429", "500"},
    ),
    "GetReleasePolicies": ("GET", BASE, "200", {"400", "401", "403", "404", "429", "500"}),
    "GetReleasePolicy": (
        "GET",
        BASE + "/{policyKey}",
        "200",
        {"400", "401", "403", "404", "405", "429", "500"},
    ),
    "DeleteReleasePolicy": (
        "DELETE",
        BASE + "/{policyKey}",
        "204",
        {"400", "401", "403", "404", "405", "429", "500"},
    ),
}


def test_operations_seeded_first(spec: Spec) -> None:
    assert list(spec.operations) == list(OPERATIONS)
    assert [op.seeded for op in spec.operations.values()] == [True] * 3 + [False] * 3


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_operation_statuses(spec: Spec, operation_id: str) -> None:
    method, path, success, errors = OPERATIONS[operation_id]
    operation = spec.operations[operation_id]
    assert (operation.method, operation.path) == (method, path)
    assert set(operation.responses) == {success, *errors}
    for status in errors:
        assert operation.responses[status] == ("components", "schemas", "Error") or spec.get(
            (*operation.responses[status],)  # type: ignore[misc]
        ) == {"$ref": "#/components/schemas/Error"}
    assert (operation.responses[success] is None) == (success == "204")


def test_request_bodies(spec: Spec) -> None:
    with_body = {op for op, operation in spec.operations.items() if operation.request_schema is not None}
    assert with_body == {"PostReleasePolicy", "PutReleasePolicy", "PostReleasePoliciesOrder"}
    assert all(spec.operations[op].request_required for op in with_body)
    with pytest.raises(KeyError):
        spec.request_validator("GetReleasePolicy")
    with pytest.raises(KeyError):
        spec.response_validator("DeleteReleasePolicy", 204)


def test_headers_security_and_servers(spec: Spec) -> None:
    header = spec.get(("components", "parameters", "LdApiVersion"))
    assert (header["in"], header["name"], header["required"], header["schema"]["enum"]) == (
        "header",
        "LD-API-Version",
        True,
        ["beta"],
    )
    assert spec.get(("components", "securitySchemes", "ApiKey")) | {"description": ""} == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "",
    }
    assert spec.data["security"] == [{"ApiKey": []}]
    assert [server["url"] for server in spec.data["servers"]] == [
        "https://app.launchdarkly.com",
        "https://app.launchdarkly.us",
        "https://app.eu.launchdarkly.com",
    ]
    for template, item in spec.data["paths"].items():
        refs = [p.get("$ref") for p in item["parameters"]]
        assert "#/components/parameters/LdApiVersion" in refs, template
    listing = spec.get(("paths", BASE, "get", "parameters", 0))
    assert (listing["name"], listing["in"], listing["schema"]) == (
        "excludeDefault",
        "query",
        {"type": "boolean", "default": False},
    )


def test_create_links_to_get_put_delete(spec: Spec) -> None:
    links = spec.get(("paths", BASE, "post", "responses", "201", "links"))
    assert {link["operationId"] for link in links.values()} == {
        "GetReleasePolicy",
        "PutReleasePolicy",
        "DeleteReleasePolicy",
    }
    for link in links.values():
        assert link["parameters"] == {
            "projectKey": "$request.path.projectKey",
            "policyKey": "$response.body#/key",
        }


def test_in_a_checkout_the_bundled_spec_is_the_repository_file() -> None:
    """One file people edit: the package reads it in place (the wheel carries a copy, see test_packaging)."""
    assert spec_module.bundled_path() == REPOSITORY / "spec" / "release-policies.yaml"


def test_bundled_spec_is_loaded_once() -> None:
    assert spec_module.bundled() is spec_module.bundled()


def test_validators_are_compiled_once(spec: Spec) -> None:
    assert spec.schema_validator("ReleasePolicy") is spec.schema_validator("ReleasePolicy")


@pytest.mark.parametrize(
    ("pointer", "path"),
    [("", ()), ("/a~1b/c~0d/0", ("a/b", "c~d", "0")), ("/paths/~1api~1v2", ("paths", "/api/v2"))],
)
def test_pointers_round_trip(pointer: str, path: tuple[str, ...]) -> None:
    assert spec_module.from_pointer(pointer) == path
    assert spec_module.to_pointer(path) == pointer


def test_follow_resolves_chained_refs(spec: Spec) -> None:
    where = spec.follow(("paths", BASE, "post", "responses", "404"))
    assert where == ("components", "responses", "ProjectNotFound")


def test_load_reads_any_path(tmp_path: Path) -> None:
    copy = tmp_path / "copy.yaml"
    copy.write_bytes(spec_module.bundled_path().read_bytes())
    loaded = spec_module.load(copy)
    assert loaded.file == str(copy)
    assert list(loaded.operations) == list(OPERATIONS)
