"""The seeds' own bodies fit the spec: LaunchDarkly's examples are the contract's first test cases."""

from __future__ import annotations

import pytest

from tests.support import load_seed
from validator.schema_errors import schema_errors
from validator.spec import Spec


@pytest.mark.parametrize(
    ("seed", "operation"),
    [
        ("create-request.json", "PostReleasePolicy"),
        ("put-request.json", "PutReleasePolicy"),
        ("put-request-python.json", "PutReleasePolicy"),
        ("order-request.json", "PostReleasePoliciesOrder"),
    ],
)
def test_seed_request_bodies_validate(spec: Spec, seed: str, operation: str) -> None:
    assert [e.api_message() for e in schema_errors(spec.request_validator(operation), load_seed(seed))] == []


def test_python_seed_carries_the_threshold(spec: Spec) -> None:
    body = load_seed("put-request-python.json")
    assert body["guardedReleaseConfig"]["metricRegressionThreshold"] == 0.05
    body["guardedReleaseConfig"]["metricRegressionThreshold"] = 5
    assert not spec.request_validator("PutReleasePolicy").is_valid(body)


def test_reference_response_validates(spec: Spec) -> None:
    body = load_seed("put-response.json")
    for operation, status in [
        ("PutReleasePolicy", 200),
        ("PostReleasePolicy", 201),
        ("GetReleasePolicy", 200),
    ]:
        assert list(schema_errors(spec.response_validator(operation, status), body)) == []
    assert list(schema_errors(spec.response_validator("PostReleasePoliciesOrder", 200), [body])) == []


@pytest.mark.parametrize(
    ("seed", "operation", "status"),
    [
        ("create-response-mintlify.json", "PostReleasePolicy", 201),
        ("put-response-mintlify.json", "PutReleasePolicy", 200),
        ("order-response-mintlify.json", "PostReleasePoliciesOrder", 200),
    ],
)
def test_mintlify_responses_differ_only_by_null_placeholders(
    spec: Spec, seed: str, operation: str, status: int
) -> None:
    body = load_seed(seed)
    errors = list(schema_errors(spec.response_validator(operation, status), body))
    # The renderer writes [null, null] for arrays of ActionSpecifier strings; nothing else is wrong.
    assert errors
    assert all(e.path[-2] == "notActions" and e.keyword == "type" for e in errors)
    policies = body if isinstance(body, list) else [body]
    for policy in policies:
        for side in ("allowed", "denied"):
            for rule in policy["_access"][side]:
                rule["reason"]["notActions"] = ["string", "string"]
    assert list(schema_errors(spec.response_validator(operation, status), body)) == []


def test_spec_examples_are_the_seeds(spec: Spec) -> None:
    post = spec.get(("paths", "/api/v2/projects/{projectKey}/release-policies", "post"))
    example = post["requestBody"]["content"]["application/json"]["examples"]["production-release"]["value"]
    assert example == load_seed("create-request.json")
    put = spec.get(("paths", "/api/v2/projects/{projectKey}/release-policies/{policyKey}", "put"))
    example = put["requestBody"]["content"]["application/json"]["examples"]["production-release"]["value"]
    assert example == load_seed("put-request-python.json")
    assert spec.get(("components", "examples", "ProductionReleasePolicy", "value")) == load_seed(
        "put-response.json"
    )
