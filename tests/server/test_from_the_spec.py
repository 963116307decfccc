"""What the server knows comes from the spec: a changed copy changes its routes, codes and limits.

Also the operable parts outside the contract's paths: ``/healthz`` and projects on demand.
"""

from __future__ import annotations

import asyncio
import copy
import os
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from validator import spec as spec_module
from validator.documents import Document
from validator.server import ServerConfig, Store, create_app

HEADERS = {"Authorization": "w", "LD-API-Version": "beta"}
BODY = {"key": "k", "name": "n", "releaseMethod": "guarded-release", "scope": {"environmentKeys": ["e"]}}


def changed(change: Callable[[dict[str, Any]], None]) -> spec_module.Spec:
    data = copy.deepcopy(dict(spec_module.bundled().data))
    change(data)
    return spec_module.Spec(Document("changed copy", data, (), lambda: ({}, {})))


def call(
    requests: list[tuple[str, str, Any]],
    *,
    contract: spec_module.Spec | None = None,
    config: ServerConfig | None = None,
) -> list[httpx.Response]:
    """The requests in order against an in-process server over a fresh in-memory store."""
    store = Store(":memory:")
    app = create_app(store, config or ServerConfig({"w": "writer"}), contract=contract)

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=HEADERS) as client:
            return [await client.request(method, url, json=body) for method, url, body in requests]

    try:
        return asyncio.run(run())
    finally:
        store.close()


def test_a_moved_base_path_moves_every_route() -> None:
    def move(data: dict[str, Any]) -> None:
        data["paths"] = {path.replace("/api/v2/", "/api/v3/"): item for path, item in data["paths"].items()}

    moved = changed(move)
    assert moved.base_path == "/api/v3/projects/{projectKey}/release-policies"
    new, old = call(
        [
            ("POST", "/api/v3/projects/default/release-policies", BODY),
            ("GET", "/api/v2/projects/default/release-policies", None),
        ],
        contract=moved,
    )
    assert new.status_code == 201
    assert old.status_code == 404


def test_allow_lists_the_methods_the_spec_gives_a_path() -> None:
    def drop_delete(data: dict[str, Any]) -> None:
        del data["paths"]["/api/v2/projects/{projectKey}/release-policies/{policyKey}"]["delete"]

    (answer,) = call(
        [("DELETE", "/api/v2/projects/default/release-policies/k", None)], contract=changed(drop_delete)
    )
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, PUT"
    (bundled,) = call([("DELETE", "/api/v2/projects/default/release-policies/order", None)])
    assert bundled.headers["allow"] == "POST"


def test_error_codes_come_from_x_error_codes() -> None:
    def rename(data: dict[str, Any]) -> None:
        data["x-error-codes"]["404"] = "no_such_thing"

    (answer,) = call([("GET", "/api/v2/projects/nowhere/release-policies", None)], contract=changed(rename))
    assert answer.status_code == 404
    assert answer.json()["code"] == "no_such_thing"


def test_the_body_limit_comes_from_x_max_body_bytes() -> None:
    def shrink(data: dict[str, Any]) -> None:
        data["x-max-body-bytes"] = 100

    padded = {**BODY, "padding": "x" * 100}
    small, large = call(
        [
            ("POST", "/api/v2/projects/default/release-policies", BODY),
            ("POST", "/api/v2/projects/default/release-policies", padded),
        ],
        contract=changed(shrink),
    )
    assert small.status_code == 201
    assert (large.status_code, large.json()["message"]) == (413, "The request body is larger than 100 bytes")


def test_an_operation_the_server_cannot_serve_is_refused_at_start() -> None:
    def add(data: dict[str, Any]) -> None:
        path = data["paths"]["/api/v2/projects/{projectKey}/release-policies"]
        path["patch"] = {**path["get"], "operationId": "PatchReleasePolicies"}

    with pytest.raises(ValueError, match="no handler for PatchReleasePolicies"):
        create_app(Store(":memory:"), ServerConfig({"w": "writer"}), contract=changed(add))


@pytest.mark.parametrize("header", [None, "20240415"])
def test_the_403_message_is_the_spec_example(spec: spec_module.Spec, header: str | None) -> None:
    example = spec.get(("components", "responses", "Forbidden", "content", "application/json", "example"))
    store = Store(":memory:")
    app = create_app(store, ServerConfig({"w": "writer"}))
    headers = {"Authorization": "w", **({"LD-API-Version": header} if header else {})}

    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/api/v2/projects/default/release-policies", headers=headers)

    try:
        answer = asyncio.run(run())
    finally:
        store.close()
    assert {key: answer.json()[key] for key in ("code", "message")} == example


def test_projects_on_demand_exist_empty_up_to_the_limit() -> None:
    base = "/api/v2/projects/{}/release-policies"
    config = ServerConfig({"w": "writer"}, frozenset({"default"}), max_projects=2)
    answers = call(
        [
            ("GET", base.format("ci-run-1"), None),
            ("POST", base.format("ci-run-2"), BODY),
            ("GET", base.format("ci-run-1"), None),
            ("GET", base.format("ci-run-3"), None),  # a third: past the limit
            ("POST", base.format("default"), BODY),  # a configured project does not count
            ("GET", base.format("not a key"), None),
            ("GET", base.format("ci-run-2"), None),
        ],
        config=config,
    )
    assert [answer.status_code for answer in answers] == [200, 201, 200, 404, 201, 404, 200]
    assert answers[0].json() == {"items": [], "totalCount": 0}
    assert answers[3].json()["message"] == (
        "Unknown project ci-run-3: this server holds its limit of projects on demand (2)"
    )
    assert [item["key"] for item in answers[6].json()["items"]] == ["k"]


def test_without_the_option_an_unknown_project_is_404() -> None:
    (answer,) = call([("GET", "/api/v2/projects/ci-run-1/release-policies", None)])
    assert (answer.status_code, answer.json()["code"]) == (404, "not_found")


def test_healthz_reports_the_database() -> None:
    (answer,) = call([("GET", "/healthz", None)])
    assert (answer.status_code, answer.json()) == (
        200,
        {"status": "ok", "database": "sqlite", "process": os.getpid()},
    )
