"""Every constraint of the spec's body schemas (spec/CONTRACT.md section 4), probed at its boundary
through the spec's own validators."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from validator.findings import Path, dotted_path
from validator.schema_errors import schema_errors
from validator.spec import Spec

VALID_CREATE: dict[str, Any] = {
    "key": "production-release",
    "name": "Production Release",
    "releaseMethod": "guarded-release",
    "scope": {"environmentKeys": ["production"]},
    "guardedReleaseConfig": {
        "metricKeys": ["http-errors"],
        "stages": [{"allocation": 25000, "durationMillis": 60000}],
    },
    "progressiveReleaseConfig": {"stages": [{"allocation": 50000, "durationMillis": 0}]},
}
POLICY: dict[str, Any] = {
    "_id": "550e8400-e29b-41d4-a716-446655440000",
    "key": "production-release",
    "name": "Production Release",
    "rank": 1,
    "releaseMethod": "guarded-release",
}
STAGE = {"allocation": 1000, "durationMillis": 1}


def changed(base: dict[str, Any], path: Path, value: Any) -> dict[str, Any]:
    body = copy.deepcopy(base)
    target: Any = body
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return body


def without(base: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in base.items() if key not in keys}


def broken(spec: Spec, operation: str, body: Any) -> set[tuple[str, str]]:
    """(path, keyword) of every rule the body breaks."""
    validator = spec.request_validator(operation)
    return {(dotted_path(error.path), error.keyword) for error in schema_errors(validator, body)}


Expected = tuple[str, str] | set[tuple[str, str]] | None


def expect(expected: Expected) -> set[tuple[str, str]]:
    if expected is None:
        return set()
    return expected if isinstance(expected, set) else {expected}


# (case id, body, the (path, keyword) it breaks, or None when it is valid)
CREATE_CASES: list[tuple[str, Any, Expected]] = [
    ("valid", VALID_CREATE, None),
    ("name 256 chars", changed(VALID_CREATE, ("name",), "n" * 256), None),
    ("name 257 chars", changed(VALID_CREATE, ("name",), "n" * 257), ("name", "maxLength")),
    ("name 256 x e-acute", changed(VALID_CREATE, ("name",), "é" * 256), None),
    ("name 257 x e-acute", changed(VALID_CREATE, ("name",), "é" * 257), ("name", "maxLength")),
    ("name 256 astral chars", changed(VALID_CREATE, ("name",), "\U0001f680" * 256), None),
    ("name empty", changed(VALID_CREATE, ("name",), ""), ("name", "minLength")),
    ("name not a string", changed(VALID_CREATE, ("name",), 5), ("name", "type")),
    ("method progressive", changed(VALID_CREATE, ("releaseMethod",), "progressive-release"), None),
    (
        "method unknown",
        changed(VALID_CREATE, ("releaseMethod",), "immediate-release"),
        ("releaseMethod", "enum"),
    ),
    ("method case", changed(VALID_CREATE, ("releaseMethod",), "Guarded-Release"), ("releaseMethod", "enum")),
    (
        "allocation 100000",
        changed(VALID_CREATE, ("guardedReleaseConfig", "stages", 0, "allocation"), 100000),
        None,
    ),
    (
        "allocation 100001",
        changed(VALID_CREATE, ("guardedReleaseConfig", "stages", 0, "allocation"), 100001),
        ("guardedReleaseConfig.stages[0].allocation", "maximum"),
    ),
    ("allocation 0", changed(VALID_CREATE, ("guardedReleaseConfig", "stages", 0, "allocation"), 0), None),
    (
        "allocation -1",
        changed(VALID_CREATE, ("progressiveReleaseConfig", "stages", 0, "allocation"), -1),
        ("progressiveReleaseConfig.stages[0].allocation", "minimum"),
    ),
    (
        "allocation true",
        changed(VALID_CREATE, ("guardedReleaseConfig", "stages", 0, "allocation"), True),
        ("guardedReleaseConfig.stages[0].allocation", "type"),
    ),
    (
        "allocation 1000.5",
        changed(VALID_CREATE, ("guardedReleaseConfig", "stages", 0, "allocation"), 1000.5),
        ("guardedReleaseConfig.stages[0].allocation", "type"),
    ),
    (
        "allocation string",
        changed(VALID_CREATE, ("guardedReleaseConfig", "stages", 0, "allocation"), "25000"),
        ("guardedReleaseConfig.stages[0].allocation", "type"),
    ),
    ("20 stages", changed(VALID_CREATE, ("guardedReleaseConfig", "stages"), [STAGE] * 20), None),
    (
        "21 stages",
        changed(VALID_CREATE, ("guardedReleaseConfig", "stages"), [STAGE] * 21),
        ("guardedReleaseConfig.stages", "maxItems"),
    ),
    (
        "0 stages",
        changed(VALID_CREATE, ("progressiveReleaseConfig", "stages"), []),
        ("progressiveReleaseConfig.stages", "minItems"),
    ),
    (
        "stage without duration",
        changed(VALID_CREATE, ("guardedReleaseConfig", "stages"), [{"allocation": 1}]),
        ("guardedReleaseConfig.stages[0]", "required"),
    ),
    ("duration 0", changed(VALID_CREATE, ("guardedReleaseConfig", "stages", 0, "durationMillis"), 0), None),
    (
        "duration int64 max",
        changed(VALID_CREATE, ("guardedReleaseConfig", "stages", 0, "durationMillis"), 2**63 - 1),
        None,
    ),
    (
        "duration above int64",
        changed(VALID_CREATE, ("guardedReleaseConfig", "stages", 0, "durationMillis"), 2**63),
        ("guardedReleaseConfig.stages[0].durationMillis", "maximum"),
    ),
    (
        "duration -1",
        changed(VALID_CREATE, ("guardedReleaseConfig", "stages", 0, "durationMillis"), -1),
        ("guardedReleaseConfig.stages[0].durationMillis", "minimum"),
    ),
    ("flag tag 64 chars", changed(VALID_CREATE, ("scope", "flagTagKeys"), ["t" * 64]), None),
    (
        "flag tag 65 chars",
        changed(VALID_CREATE, ("scope", "flagTagKeys"), ["t" * 65]),
        ("scope.flagTagKeys[0]", "maxLength"),
    ),
    ("flag tag leading dot", changed(VALID_CREATE, ("scope", "flagTagKeys"), [".tag"]), None),
    (
        "flag tag with space",
        changed(VALID_CREATE, ("scope", "flagTagKeys"), ["has space!"]),
        ("scope.flagTagKeys[0]", "pattern"),
    ),
    ("key pattern", changed(VALID_CREATE, ("key",), "a.b_c-D9"), None),
    ("key 256 chars", changed(VALID_CREATE, ("key",), "k" * 256), None),
    ("key 257 chars", changed(VALID_CREATE, ("key",), "k" * 257), ("key", "maxLength")),
    ("key empty", changed(VALID_CREATE, ("key",), ""), {("key", "minLength"), ("key", "pattern")}),
    ("key leading dash", changed(VALID_CREATE, ("key",), "-key"), ("key", "pattern")),
    ("key with space", changed(VALID_CREATE, ("key",), "my key"), ("key", "pattern")),
    ("key non-ASCII", changed(VALID_CREATE, ("key",), "clé"), ("key", "pattern")),
    ("key order", changed(VALID_CREATE, ("key",), "order"), ("key", "not")),
    ("key Order (case-sensitive)", changed(VALID_CREATE, ("key",), "Order"), None),
    ("key orders", changed(VALID_CREATE, ("key",), "orders"), None),
    ("key missing", without(VALID_CREATE, "key"), ("", "required")),
    ("name missing", without(VALID_CREATE, "name"), ("", "required")),
    ("method missing", without(VALID_CREATE, "releaseMethod"), ("", "required")),
    ("scope absent (default policy)", without(VALID_CREATE, "scope"), None),
    ("scope null (default policy)", changed(VALID_CREATE, ("scope",), None), None),
    ("scope empty", changed(VALID_CREATE, ("scope",), {}), ("scope", "anyOf")),
    (
        "scope only unknown field",
        changed(VALID_CREATE, ("scope",), {"environments": ["a"]}),
        ("scope", "anyOf"),
    ),
    ("scope view keys only", changed(VALID_CREATE, ("scope",), {"viewKeys": ["team-a"]}), None),
    ("scope flag tags only", changed(VALID_CREATE, ("scope",), {"flagTagKeys": ["ui"]}), None),
    ("scope an array", changed(VALID_CREATE, ("scope",), ["production"]), ("scope", "type")),
    (
        "scope empty list",
        changed(VALID_CREATE, ("scope",), {"environmentKeys": []}),
        ("scope.environmentKeys", "minItems"),
    ),
    (
        "scope 1000 keys",
        changed(VALID_CREATE, ("scope",), {"environmentKeys": [f"env-{i}" for i in range(1000)]}),
        None,
    ),
    (
        "scope 1001 keys",
        changed(VALID_CREATE, ("scope",), {"environmentKeys": [f"env-{i}" for i in range(1001)]}),
        ("scope.environmentKeys", "maxItems"),
    ),
    (
        "scope 1001 flag tags",
        changed(VALID_CREATE, ("scope",), {"flagTagKeys": [f"t{i}" for i in range(1001)]}),
        ("scope.flagTagKeys", "maxItems"),
    ),
    (
        "duplicate environment key",
        changed(VALID_CREATE, ("scope",), {"environmentKeys": ["prod", "prod"]}),
        ("scope.environmentKeys", "uniqueItems"),
    ),
    (
        "duplicate flag tag",
        changed(VALID_CREATE, ("scope",), {"flagTagKeys": ["ui", "ui"]}),
        ("scope.flagTagKeys", "uniqueItems"),
    ),
    (
        "duplicate view key",
        changed(VALID_CREATE, ("scope",), {"viewKeys": ["v", "v"]}),
        ("scope.viewKeys", "uniqueItems"),
    ),
    (
        "duplicate metric key",
        changed(VALID_CREATE, ("guardedReleaseConfig", "metricKeys"), ["m", "m"]),
        ("guardedReleaseConfig.metricKeys", "uniqueItems"),
    ),
    (
        "duplicate metric group key",
        changed(VALID_CREATE, ("guardedReleaseConfig", "metricGroupKeys"), ["g", "g"]),
        ("guardedReleaseConfig.metricGroupKeys", "uniqueItems"),
    ),
    (
        "environment key pattern",
        changed(VALID_CREATE, ("scope",), {"environmentKeys": ["_prod"]}),
        ("scope.environmentKeys[0]", "pattern"),
    ),
    ("guarded config null", changed(VALID_CREATE, ("guardedReleaseConfig",), None), None),
    ("progressive config null", changed(VALID_CREATE, ("progressiveReleaseConfig",), None), None),
    ("guarded config empty object", changed(VALID_CREATE, ("guardedReleaseConfig",), {}), None),
    (
        "guarded config a string",
        changed(VALID_CREATE, ("guardedReleaseConfig",), "on"),
        ("guardedReleaseConfig", "type"),
    ),
    ("minSampleSize 1", changed(VALID_CREATE, ("guardedReleaseConfig", "minSampleSize"), 1), None),
    (
        "minSampleSize 0",
        changed(VALID_CREATE, ("guardedReleaseConfig", "minSampleSize"), 0),
        ("guardedReleaseConfig.minSampleSize", "minimum"),
    ),
    (
        "minSampleSize int32 max",
        changed(VALID_CREATE, ("guardedReleaseConfig", "minSampleSize"), 2147483647),
        None,
    ),
    (
        "minSampleSize above int32",
        changed(VALID_CREATE, ("guardedReleaseConfig", "minSampleSize"), 2147483648),
        ("guardedReleaseConfig.minSampleSize", "maximum"),
    ),
    (
        "rollbackOnRegression a string",
        changed(VALID_CREATE, ("guardedReleaseConfig", "rollbackOnRegression"), "true"),
        ("guardedReleaseConfig.rollbackOnRegression", "type"),
    ),
    ("threshold 0", changed(VALID_CREATE, ("guardedReleaseConfig", "metricRegressionThreshold"), 0), None),
    ("threshold 1", changed(VALID_CREATE, ("guardedReleaseConfig", "metricRegressionThreshold"), 1), None),
    (
        "threshold 1.01",
        changed(VALID_CREATE, ("guardedReleaseConfig", "metricRegressionThreshold"), 1.01),
        ("guardedReleaseConfig.metricRegressionThreshold", "maximum"),
    ),
    (
        "threshold -0.01",
        changed(VALID_CREATE, ("guardedReleaseConfig", "metricRegressionThreshold"), -0.01),
        ("guardedReleaseConfig.metricRegressionThreshold", "minimum"),
    ),
    (
        "context kind key pattern",
        changed(VALID_CREATE, ("progressiveReleaseConfig", "rolloutContextKindKey"), "user kind"),
        ("progressiveReleaseConfig.rolloutContextKindKey", "pattern"),
    ),
    ("unknown top-level field", changed(VALID_CREATE, ("description",), "ignored"), None),
    (
        "unknown nested field",
        changed(VALID_CREATE, ("guardedReleaseConfig", "rollbackOnRegresion"), True),
        None,
    ),
    ("unknown stage field", changed(VALID_CREATE, ("guardedReleaseConfig", "stages", 0, "weight"), 1), None),
    ("rank in a request is ignored", changed(VALID_CREATE, ("rank",), "first"), None),
    ("body an array", [VALID_CREATE], ("", "type")),
]


@pytest.mark.parametrize(
    ("body", "expected"),
    [pytest.param(body, expected, id=case) for case, body, expected in CREATE_CASES],
)
def test_create_body_boundaries(spec: Spec, body: Any, expected: Expected) -> None:
    assert broken(spec, "PostReleasePolicy", body) == expect(expected)


VALID_PUT = without(VALID_CREATE, "key")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(VALID_PUT, None, id="valid without key"),
        pytest.param(changed(VALID_PUT, ("key",), "not a valid key!"), None, id="key is an ignored field"),
        pytest.param(changed(VALID_PUT, ("key",), "order"), None, id="key order is ignored too"),
        pytest.param(without(VALID_PUT, "name"), ("", "required"), id="name required"),
        pytest.param(changed(VALID_PUT, ("name",), "x" * 257), ("name", "maxLength"), id="name 257"),
        pytest.param(changed(VALID_PUT, ("scope",), {}), ("scope", "anyOf"), id="empty scope"),
    ],
)
def test_put_body_boundaries(spec: Spec, body: Any, expected: Expected) -> None:
    assert broken(spec, "PutReleasePolicy", body) == expect(expected)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param([], None, id="empty"),
        pytest.param(["a", "b"], None, id="two keys"),
        pytest.param(["has space", "order"], None, id="any strings (unknown keys are a 400 of state)"),
        pytest.param(["a", "a"], ("", "uniqueItems"), id="duplicate"),
        pytest.param(["a", 1], ("[1]", "type"), id="not a string"),
        pytest.param({"keys": ["a"]}, ("", "type"), id="an object"),
        pytest.param("a", ("", "type"), id="a string"),
    ],
)
def test_order_body_boundaries(spec: Spec, body: Any, expected: Expected) -> None:
    assert broken(spec, "PostReleasePoliciesOrder", body) == expect(expected)


def response_broken(spec: Spec, body: Any) -> set[tuple[str, str]]:
    validator = spec.response_validator("GetReleasePolicy", 200)
    return {(dotted_path(error.path), error.keyword) for error in schema_errors(validator, body)}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(POLICY, None, id="minimal"),
        pytest.param({**POLICY, "rank": 0, "scope": None, "_access": None}, None, id="default policy, nulls"),
        pytest.param(
            {**POLICY, "scope": {"environmentKeys": ["p"]}, "guardedReleaseConfig": {"minSampleSize": 5}},
            None,
            id="with blocks",
        ),
        pytest.param({**POLICY, "rank": -1}, ("rank", "minimum"), id="negative rank"),
        pytest.param({**POLICY, "rank": "1"}, ("rank", "type"), id="rank a string"),
        pytest.param({**POLICY, "_id": 7}, ("_id", "type"), id="integer _id"),
        pytest.param({**POLICY, "_id": "abc"}, ("_id", "format"), id="_id not a UUID"),
        pytest.param(without(POLICY, "rank"), ("", "required"), id="rank missing"),
        pytest.param({**POLICY, "releaseMethod": "manual"}, ("releaseMethod", "enum"), id="method"),
        pytest.param({**POLICY, "extra": 1}, ("", "additionalProperties"), id="unknown field echoed"),
        pytest.param(
            {**POLICY, "scope": {"environmentKeys": ["p"], "extra": 1}},
            ("scope", "unevaluatedProperties"),
            id="unknown scope field echoed",
        ),
        pytest.param(
            {**POLICY, "guardedReleaseConfig": {"rollbackOnRegresion": True}},
            ("guardedReleaseConfig", "unevaluatedProperties"),
            id="unknown config field echoed",
        ),
    ],
)
def test_policy_response_schema(spec: Spec, body: Any, expected: Expected) -> None:
    assert response_broken(spec, body) == expect(expected)


def test_list_response_requires_items_and_count(spec: Spec) -> None:
    validator = spec.response_validator("GetReleasePolicies", 200)
    assert validator.is_valid({"items": [POLICY], "totalCount": 1})
    assert not validator.is_valid({"items": [POLICY]})
    assert not validator.is_valid({"items": [POLICY], "totalCount": 1, "next": None})


@pytest.mark.parametrize("status", [400, 401, 403, 404, 500])
def test_error_body_schema(spec: Spec, status: int) -> None:
    validator = spec.response_validator("GetReleasePolicy", status)
    assert validator.is_valid({"code": "not_found", "message": "Unknown project x"})
    assert validator.is_valid({"code": "not_found", "message": "m", "id": "req-1"})
    assert not validator.is_valid({"message": "no code"})
    assert not validator.is_valid({"code": "not_found"})
    assert not validator.is_valid({"code": "teapot", "message": "m"})


def test_messages_name_the_path_and_the_limit(spec: Spec) -> None:
    body = changed(VALID_CREATE, ("guardedReleaseConfig", "stages"), [STAGE, {**STAGE, "allocation": 100001}])
    messages = [
        error.api_message() for error in schema_errors(spec.request_validator("PostReleasePolicy"), body)
    ]
    assert messages == [
        "guardedReleaseConfig.stages[1].allocation: 100001 is greater than the maximum of 100000"
    ]
