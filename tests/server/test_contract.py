"""The reference server against the contract's sections 2 to 5 (spec/CONTRACT.md), over a real socket."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.server.live import READER, WRITER, LiveServer
from tests.support import load_seed
from validator import spec

SCOPED = {"name": "Scoped", "releaseMethod": "progressive-release", "scope": {"environmentKeys": ["prod"]}}
DEFAULT = {"name": "Default", "releaseMethod": "progressive-release"}
CONTRACT = spec.bundled()


def create(
    client: httpx.Client, server: LiveServer, key: str, body: dict[str, Any] = SCOPED, **kw: Any
) -> Any:
    response = client.post(server.policies(kw.get("project", "default")), json={"key": key, **body})
    assert response.status_code == 201, response.text
    return response.json()


def keys_and_ranks(client: httpx.Client, server: LiveServer, **params: str) -> list[tuple[str, int]]:
    listed = client.get(server.policies(), params=params).json()
    assert listed["totalCount"] == len(listed["items"])
    return [(p["key"], p["rank"]) for p in listed["items"]]


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert CONTRACT.schema_validator("Error").is_valid(body), body
    assert (body["code"], bool(body["message"]), bool(body["id"])) == (code, True, True)
    return body


# --- section 2: operations and their success answers, checked against the spec's response schemas


def test_every_operation_answers_its_documented_success(server: LiveServer, writer: httpx.Client) -> None:
    seed = load_seed("create-request.json")
    created = writer.post(server.policies(), json=seed)
    assert created.status_code == 201
    assert CONTRACT.response_validator("PostReleasePolicy", 201).is_valid(created.json())
    put_body = load_seed("put-request-python.json")
    updated = writer.put(server.policies() + "/production-release", json=put_body)
    assert updated.status_code == 200
    assert CONTRACT.response_validator("PutReleasePolicy", 200).is_valid(updated.json())
    assert updated.json()["guardedReleaseConfig"]["metricRegressionThreshold"] == 0.05
    ordered = writer.post(server.policies() + "/order", json=["production-release"])
    assert ordered.status_code == 200
    assert CONTRACT.response_validator("PostReleasePoliciesOrder", 200).is_valid(ordered.json())
    listed = writer.get(server.policies())
    assert CONTRACT.response_validator("GetReleasePolicies", 200).is_valid(listed.json())
    got = writer.get(server.policies() + "/production-release")
    assert CONTRACT.response_validator("GetReleasePolicy", 200).is_valid(got.json())
    deleted = writer.delete(server.policies() + "/production-release")
    assert (deleted.status_code, deleted.content) == (204, b"")


@pytest.mark.parametrize(
    ("method", "suffix", "allow"),
    [
        ("GET", "/order", "POST"),
        ("PUT", "/order", "POST"),
        ("DELETE", "/order", "POST"),
        ("PATCH", "/some-key", "GET, PUT, DELETE"),
        ("POST", "/some-key", "GET, PUT, DELETE"),
        ("DELETE", "", "GET, POST"),
    ],
)
def test_405_with_allow(
    server: LiveServer, writer: httpx.Client, method: str, suffix: str, allow: str
) -> None:
    response = writer.request(method, server.policies() + suffix)
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == allow


# --- section 3: headers, authentication, errors


@pytest.mark.parametrize("token", [None, "", "wrong", f"Bearer {WRITER}", WRITER.upper()])
def test_401_without_a_known_raw_token(server: LiveServer, token: str | None) -> None:
    headers = {"LD-API-Version": "beta"} | ({"Authorization": token} if token is not None else {})
    assert_error(httpx.get(server.policies(), headers=headers), 401, "unauthorized")


@pytest.mark.parametrize("version", [None, "20240415", "Beta", ""])
def test_403_without_the_beta_header(server: LiveServer, version: str | None) -> None:
    headers = {"Authorization": WRITER} | ({"LD-API-Version": version} if version is not None else {})
    assert_error(httpx.get(server.policies(), headers=headers), 403, "forbidden")


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("POST", "", {"key": "r", **SCOPED}),
        ("PUT", "/a", SCOPED),
        ("DELETE", "/a", None),
        ("POST", "/order", ["a"]),
    ],
)
def test_reader_may_only_read(  # noqa: PLR0917 - fixtures and parameters are pytest's to pass
    server: LiveServer, writer: httpx.Client, reader: httpx.Client, method: str, suffix: str, body: Any
) -> None:
    create(writer, server, "a")
    assert_error(reader.request(method, server.policies() + suffix, json=body), 403, "forbidden")
    assert reader.get(server.policies() + "/a").status_code == 200
    assert reader.get(server.policies()).json()["totalCount"] == 1


def test_order_of_checks(server: LiveServer) -> None:
    huge = b"{" + b" " * (2 * 1024 * 1024) + b"}"
    unknown = server.url + "/api/v2/projects/nope/release-policies"
    cases = [
        ({}, server.policies(), huge, 401),  # no token and no beta header: 401 first
        ({"Authorization": WRITER}, unknown, huge, 403),  # then the beta header
        ({"Authorization": WRITER, "LD-API-Version": "beta"}, unknown, huge, 404),  # then the project
        ({"Authorization": WRITER, "LD-API-Version": "beta"}, server.policies(), huge, 413),  # then size
        (
            {"Authorization": READER, "LD-API-Version": "beta"},
            server.policies(),
            huge,
            403,
        ),  # role before all
    ]
    for headers, url, content, status in cases:
        response = httpx.post(url, headers={**headers, "Content-Type": "application/json"}, content=content)
        assert response.status_code == status, (headers, url, response.text)


def test_policy_404_before_413_and_400(server: LiveServer, writer: httpx.Client) -> None:
    url = server.policies() + "/missing"
    assert_error(writer.put(url, content=b"x" * (2 * 1024 * 1024)), 404, "not_found")
    assert_error(writer.put(url, json={"name": 5}), 404, "not_found")
    assert_error(writer.get(url), 404, "not_found")
    assert_error(writer.delete(url), 404, "not_found")


def test_400_before_409(server: LiveServer, writer: httpx.Client) -> None:
    create(writer, server, "a")
    assert_error(writer.post(server.policies(), json={"key": "a", "name": ""}), 400, "invalid_request")
    assert_error(writer.post(server.policies(), json={"key": "a", **SCOPED}), 409, "conflict")


def test_400_message_names_the_path_and_the_rule(server: LiveServer, writer: httpx.Client) -> None:
    body = {
        "key": "k",
        **SCOPED,
        "guardedReleaseConfig": {
            "stages": [{"allocation": 1, "durationMillis": 1}, {"allocation": 100001, "durationMillis": 1}]
        },
    }
    error = assert_error(writer.post(server.policies(), json=body), 400, "invalid_request")
    assert (
        error["message"]
        == "guardedReleaseConfig.stages[1].allocation: 100001 is greater than the maximum of 100000"
    )


@pytest.mark.parametrize(
    ("content_type", "status"),
    [("application/json", 201), ("application/json; charset=utf-8", 201), ("APPLICATION/JSON", 201),
     ("text/plain", 400), ("application/x-www-form-urlencoded", 400), (None, 400)],
)  # fmt: skip
def test_content_type(server: LiveServer, content_type: str | None, status: int) -> None:
    headers = {"Authorization": WRITER, "LD-API-Version": "beta"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = httpx.post(
        server.policies(),
        headers=headers,
        content=b'{"key": "c", "name": "n", "releaseMethod": "progressive-release"}',
    )
    assert response.status_code == status, response.text


def test_413_over_one_mebibyte_even_without_content_length(server: LiveServer, writer: httpx.Client) -> None:
    body = {"key": "big", **SCOPED, "description": "x" * (1024 * 1024)}
    assert_error(writer.post(server.policies(), json=body), 413, "payload_too_large")

    def chunks() -> Any:
        for _ in range(40):
            yield b" " * 32768

    chunked = writer.post(server.policies(), content=chunks(), headers={"Content-Type": "application/json"})
    assert_error(chunked, 413, "payload_too_large")


def test_unknown_paths_answer_json_404(server: LiveServer, writer: httpx.Client) -> None:
    assert_error(writer.get(server.url + "/api/v2/projects"), 404, "not_found")
    assert_error(writer.get(server.url + "/api/v2/projects/nope/release-policies"), 404, "not_found")


# --- section 4 and 5: schemas and state


def test_unknown_fields_are_neither_stored_nor_echoed(server: LiveServer, writer: httpx.Client) -> None:
    body = {
        "key": "u",
        **SCOPED,
        "rank": 7,
        "_id": "mine",
        "extra": {"nested": True},
        "scope": {"environmentKeys": ["prod"], "environments": ["x"]},
        "guardedReleaseConfig": {
            "rollbackOnRegresion": True,
            "stages": [{"allocation": 1, "durationMillis": 2, "w": 1}],
        },
    }
    created = create(writer, server, "u", {k: v for k, v in body.items() if k != "key"})
    for answer in (created, writer.get(server.policies() + "/u").json()):
        assert "extra" not in answer
        assert answer["_id"] != "mine"
        assert answer["rank"] == 1
        assert answer["scope"] == {"environmentKeys": ["prod"]}
        assert answer["guardedReleaseConfig"] == {"stages": [{"allocation": 1, "durationMillis": 2}]}


def test_integral_floats_come_back_as_integers(server: LiveServer, writer: httpx.Client) -> None:
    body = {**SCOPED, "progressiveReleaseConfig": {"stages": [{"allocation": 1000.0, "durationMillis": 5e3}]}}
    created = create(writer, server, "f", body)
    assert created["progressiveReleaseConfig"]["stages"] == [{"allocation": 1000, "durationMillis": 5000}]


def test_keys_with_quotes_are_just_keys(server: LiveServer, writer: httpx.Client) -> None:
    for key in ["a'b", 'a"b', "a';DROP TABLE policies;--", "%27"]:
        assert_error(writer.get(server.policies() + "/" + key), 404, "not_found")
    assert_error(writer.get(server.url + "/api/v2/projects/x';--/release-policies"), 404, "not_found")
    create(writer, server, "still-here")
    assert keys_and_ranks(writer, server) == [("still-here", 1)]


def test_duplicate_key_409_changes_nothing(server: LiveServer, writer: httpx.Client) -> None:
    original = create(writer, server, "dup")
    assert_error(writer.post(server.policies(), json={"key": "dup", **DEFAULT}), 409, "conflict")
    assert writer.get(server.policies() + "/dup").json() == original
    create(writer, server, "DUP")  # keys are case-sensitive


def test_reserved_key_order(server: LiveServer, writer: httpx.Client) -> None:
    assert_error(writer.post(server.policies(), json={"key": "order", **SCOPED}), 400, "invalid_request")


def test_default_policy_rank_zero_and_only_one(server: LiveServer, writer: httpx.Client) -> None:
    create(writer, server, "s1")
    assert create(writer, server, "d", {**DEFAULT, "scope": None})["rank"] == 0
    create(writer, server, "s2")
    assert keys_and_ranks(writer, server) == [("d", 0), ("s1", 1), ("s2", 2)]
    assert_error(writer.post(server.policies(), json={"key": "d2", **DEFAULT}), 409, "conflict")
    assert_error(writer.put(server.policies() + "/s1", json=DEFAULT), 409, "conflict")
    assert keys_and_ranks(writer, server, excludeDefault="true") == [("s1", 1), ("s2", 2)]
    assert keys_and_ranks(writer, server, excludeDefault="false") == [("d", 0), ("s1", 1), ("s2", 2)]
    assert_error(writer.get(server.policies(), params={"excludeDefault": "maybe"}), 400, "invalid_request")


def test_put_replaces_and_moves_ranks(server: LiveServer, writer: httpx.Client) -> None:
    full = {
        **SCOPED,
        "guardedReleaseConfig": {"minSampleSize": 100},
        "progressiveReleaseConfig": {"stages": [{"allocation": 5, "durationMillis": 0}]},
    }
    first = create(writer, server, "a", full)
    create(writer, server, "b")
    create(writer, server, "c")
    replaced = writer.put(server.policies() + "/a", json={**SCOPED, "name": "New", "key": "ignored"}).json()
    assert (replaced["_id"], replaced["key"], replaced["rank"], replaced["name"]) == (
        first["_id"],
        "a",
        1,
        "New",
    )
    assert "guardedReleaseConfig" not in replaced
    assert "progressiveReleaseConfig" not in replaced
    writer.put(server.policies() + "/a", json=DEFAULT)  # into the default: the gap closes
    assert keys_and_ranks(writer, server) == [("a", 0), ("b", 1), ("c", 2)]
    writer.put(server.policies() + "/a", json=SCOPED)  # back to scoped: appended
    assert keys_and_ranks(writer, server) == [("b", 1), ("c", 2), ("a", 3)]


def test_delete_closes_the_gap(server: LiveServer, writer: httpx.Client) -> None:
    for key in "abcd":
        create(writer, server, key)
    assert writer.delete(server.policies() + "/b").status_code == 204
    assert keys_and_ranks(writer, server) == [("a", 1), ("c", 2), ("d", 3)]
    assert_error(writer.get(server.policies() + "/b"), 404, "not_found")


def test_order_applies_exactly_or_not_at_all(server: LiveServer, writer: httpx.Client) -> None:
    for key in "abc":
        create(writer, server, key)
    create(writer, server, "d", DEFAULT)
    answer = writer.post(server.policies() + "/order", json=["c", "a", "b"])
    assert [(p["key"], p["rank"]) for p in answer.json()] == [("c", 1), ("a", 2), ("b", 3)]
    before = keys_and_ranks(writer, server)
    for body, words in [
        (["c", "a"], "Missing policy key"),
        (["c", "a", "b", "x"], "Unknown policy key"),
        (["c", "a", "b", "d"], "Default policy key is not allowed in ordering"),
        (["c", "a", "a", "b"], "has duplicate items"),
        ({"keys": []}, "is not of type"),
    ]:
        error = assert_error(writer.post(server.policies() + "/order", json=body), 400, "invalid_request")
        assert words in error["message"]
    assert keys_and_ranks(writer, server) == before


def test_projects_are_isolated(server: LiveServer, writer: httpx.Client) -> None:
    create(writer, server, "shared-key")
    create(writer, server, "shared-key", DEFAULT, project="other")
    other = server.policies("other")
    assert writer.get(other + "/shared-key").json()["rank"] == 0
    assert writer.get(server.policies() + "/shared-key").json()["rank"] == 1
    writer.delete(other + "/shared-key")
    assert keys_and_ranks(writer, server) == [("shared-key", 1)]
    assert writer.get(other).json() == {"items": [], "totalCount": 0}
