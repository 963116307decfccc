"""PostgreSQL's own concerns: an outage is a 500 with the contract's body, never a hang, and the server
recovers by itself, losing no acknowledged write; the schema is versioned; passwords are never shown.
(The contract itself is proved on PostgreSQL by the parametrized tests beside this file.)"""

from __future__ import annotations

import time

import httpx
import pytest

from tests.server.live import WRITER, live_server
from tests.server.postgres import PASSWORD, Cluster
from validator.cli import main
from validator.server.pgstore import WAIT_SECONDS, PostgresStore
from validator.server.store import StoreError

pytestmark = pytest.mark.slow
HEADERS = {"Authorization": WRITER, "LD-API-Version": "beta"}
BODY = {"name": "n", "releaseMethod": "guarded-release", "scope": {"environmentKeys": ["e"]}}


def test_an_outage_is_a_500_then_the_server_recovers_by_itself(postgres: Cluster) -> None:
    postgres.reset()
    with live_server(db=postgres.url) as server, httpx.Client(headers=HEADERS, timeout=30) as client:
        assert client.post(server.policies(), json={"key": "before", **BODY}).status_code == 201
        postgres.stop()
        try:
            started = time.monotonic()
            failed = client.post(server.policies(), json={"key": "during", **BODY})
            waited = time.monotonic() - started
            assert failed.status_code == 500, failed.text
            assert failed.json()["code"] == "internal_error"
            assert failed.json()["message"].startswith("database error: ")
            assert PASSWORD not in failed.text
            assert waited < 3 * WAIT_SECONDS  # bounded by the store's waits, not by the client's timeout
            health = client.get(server.url + "/healthz")
            assert (health.status_code, health.json()["status"]) == (503, "unavailable")
        finally:
            postgres.start()
        for _ in range(100):  # until the pool has reconnected: bounded
            if client.get(server.url + "/healthz").status_code == 200:
                break
        listed = client.get(server.policies()).json()
        assert [item["key"] for item in listed["items"]] == ["before"]
        assert client.post(server.policies(), json={"key": "after", **BODY}).status_code == 201


def test_a_newer_schema_is_refused_with_a_clear_message(postgres: Cluster) -> None:
    postgres.reset()
    PostgresStore(postgres.url).close()
    postgres.sql("UPDATE release_policy_meta SET value = '99' WHERE name = 'schema_version'")
    with pytest.raises(StoreError, match="has schema version 99; this server knows up to 1"):
        PostgresStore(postgres.url)


def test_an_unreachable_database_is_a_usage_error_without_the_password(
    postgres: Cluster, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = postgres.url.replace(PASSWORD, "not-the-password")
    assert main(["serve", "--db", wrong, "--token", "t", "--port", "1"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "not-the-password" not in captured.err
    assert captured.err.startswith("release-policy: cannot open the database postgresql://postgres:***@")
