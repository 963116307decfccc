"""The server answers the seeds' create body as the contract says, over a real socket."""

from __future__ import annotations

import httpx

from tests.server.live import LiveServer
from tests.support import load_seed
from validator import spec


def test_create_then_read_back(server: LiveServer, writer: httpx.Client) -> None:
    created = writer.post(server.policies(), json=load_seed("create-request.json"))
    assert created.status_code == 201
    assert created.headers["content-type"] == "application/json"
    body = created.json()
    assert spec.bundled().response_validator("PostReleasePolicy", 201).is_valid(body)
    assert writer.get(server.policies() + "/production-release").json() == body
