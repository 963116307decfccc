"""What a policy stores is the spec's to say: a member added to a copy of the spec's request schema is
stored, echoed and replaced by the reference server, and predicted so by the fuzzer's model, with no
change to ``validator.state``."""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import httpx

from validator import spec as spec_module
from validator.documents import Document
from validator.fuzz.model import predict
from validator.fuzz.steps import Step
from validator.server import ServerConfig, Store, create_app
from validator.spec import Spec
from validator.state import Project

NOTE = {"type": "string", "maxLength": 100, "description": "A free text note (added by this test)."}
HEADERS = {"Authorization": "writer-token", "LD-API-Version": "beta"}
BODY = {"key": "noted", "name": "Noted", "releaseMethod": "guarded-release", "scope": {"viewKeys": ["v"]}}


def _with_note() -> Spec:
    data = copy.deepcopy(dict(spec_module.bundled().data))
    schemas = data["components"]["schemas"]
    schemas["PutReleasePolicyRequest"]["properties"]["note"] = NOTE
    schemas["ReleasePolicy"]["properties"]["note"] = NOTE
    return Spec(Document("copy with a note", data, (), lambda: ({}, {})))


async def _exchanges() -> list[httpx.Response]:
    store = Store(":memory:")
    app = create_app(store, ServerConfig(tokens={"writer-token": "writer"}), contract=_with_note())
    url = "http://127.0.0.1/api/v2/projects/default/release-policies"
    body = {name: value for name, value in BODY.items() if name != "key"}
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), headers=HEADERS) as client:
            return [
                await client.post(url, json={**BODY, "note": "first", "undeclared": 1}),
                await client.get(f"{url}/noted"),
                await client.put(f"{url}/noted", json={**body, "note": "second"}),
                await client.put(f"{url}/noted", json=body),
                await client.put(f"{url}/noted", json={**body, "note": "x" * 101}),
            ]
    finally:
        store.close()


def test_the_server_stores_echoes_and_replaces_a_member_the_spec_added() -> None:
    created, read, replaced, cleared, too_long = asyncio.run(_exchanges())
    assert created.status_code == 201, created.text
    assert (created.json()["note"], "undeclared" in created.json()) == ("first", False)
    assert read.json()["note"] == "first"
    assert replaced.json()["note"] == "second"
    assert cleared.status_code == 200
    assert "note" not in cleared.json()  # PUT replaces: a member left out is cleared
    assert too_long.status_code == 400


def test_the_oracle_predicts_the_added_member_from_the_same_copy() -> None:
    step = Step("create", body=json.dumps({**BODY, "note": "first"}))
    assert predict(Project(), step, _with_note()).body["note"] == "first"
    bundled: Any = predict(Project(), step).body
    assert "note" not in bundled  # the bundled spec does not declare it: ignored, not stored
