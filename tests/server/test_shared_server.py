"""One shared staging server: real ``release-policy serve`` processes (workers, replicas) on one
PostgreSQL database, under load while a replica is killed or the database restarts, stopped while a
request is in flight, and fuzzed with projects on demand.

Every wait is for an observed state (a write acknowledged, a connection closed by the server, a
statement waiting for a lock), in bounded loops; the load is the exactly-known one of
``tests.server.workload``.
"""

from __future__ import annotations

import json
import signal
import threading
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.server.live import READER, WRITER
from tests.server.postgres import PASSWORD, Cluster
from tests.server.processes import (
    HEADERS,
    REQUEST_SECONDS,
    ServerProcess,
    call,
    closed_by_server,
    one_connection_per_worker,
    start,
)
from tests.server.workload import (
    PROJECTS,
    Load,
    acknowledged,
    listing,
    policy_of,
    verify_all,
    wait_for_acknowledged,
    wait_until,
    workers_of,
)
from validator.cli import main
from validator.state import Project, stored_fields

pytestmark = pytest.mark.slow
SEED = 14
#: Writes each worker of the surviving replica must get acknowledged after the other is killed.
AFTER_THE_KILL = 15
ROUNDS = 12  # of write-on-one-worker, read-on-the-other
FUZZ_EXAMPLES = 10
ERROR_FIELDS = {"code", "message", "id"}  # the contract's error body


def body(key: str, index: int, *, scoped: bool = True) -> dict[str, Any]:
    sent: dict[str, Any] = {"key": key, "name": f"Policy {index}", "releaseMethod": "guarded-release"}
    if scoped:
        sent["scope"] = {"environmentKeys": [f"env-{index % 3}"]}
    return sent


def test_every_worker_reads_every_others_writes_at_once(
    postgres_url: str, spawned: list[ServerProcess], tmp_path: Path
) -> None:
    server = start(spawned, postgres_url, tmp_path / "serve.log", ("default",), "--workers", "2")
    path = "/api/v2/projects/default/release-policies"
    with one_connection_per_worker(server, 2) as connections:
        pids = sorted(connections)
        model = Project()
        for index in range(ROUNDS):
            writer, reader = connections[pids[index % 2]], connections[pids[1 - index % 2]]
            key = f"k{index}"
            if index % 4 == 3:  # a delete of the last, a PUT of the first, else a create
                key = model.policies[-1].key
                assert call(writer, "DELETE", f"{path}/{key}") == (204, None)
                model = model.delete(key)
                assert call(reader, "GET", f"{path}/{key}")[0] == 404
            else:
                sent = body(key, index, scoped=index != 0)
                if index % 4 == 2:
                    key = model.policies[0].key
                    sent = {**body(key, index, scoped=not model.policies[0].is_default), "key": key}
                    status, answer = call(writer, "PUT", f"{path}/{key}", sent)
                    model = model.update(key, stored_fields(sent))[0]
                else:
                    status, answer = call(writer, "POST", path, sent)
                    model = model.create(answer["_id"], key, stored_fields(sent))[0]
                assert status in (200, 201), answer
                assert call(reader, "GET", f"{path}/{key}") == (200, answer)
            status, listed = call(reader, "GET", path)
            assert status == 200
            assert Project(tuple(policy_of(item) for item in listed["items"])) == model
        # Both connections stayed with their workers throughout.
        assert sorted(call(each, "GET", "/healthz")[1]["process"] for each in connections.values()) == pids


def test_a_replica_killed_mid_load_loses_nothing_and_the_other_serves_on(
    postgres_url: str, spawned: list[ServerProcess], tmp_path: Path
) -> None:
    log = tmp_path / "replicas.log"
    doomed, survivor = (start(spawned, postgres_url, log, PROJECTS) for _ in range(2))
    workers = workers_of(uuid.uuid4().hex[:8], SEED)
    # Owned projects split between the replicas; the shared project written through both.
    on_doomed, on_survivor = workers[0::2], workers[1::2]
    load = Load([(worker, doomed) for worker in on_doomed] + [(worker, survivor) for worker in on_survivor])
    for each in on_doomed + on_survivor:
        wait_for_acknowledged([each], 5)
    at_the_kill = {worker.name: acknowledged([worker]) for worker in on_survivor}
    doomed.kill()
    for worker in on_survivor:
        wait_for_acknowledged([worker], at_the_kill[worker.name] + AFTER_THE_KILL)
    load.end()
    assert [failure for worker in workers for failure in worker.failures] == []
    assert [worker.name for worker in on_doomed if not worker.interrupted] == []
    assert [worker.interrupted for worker in on_survivor if worker.interrupted] == []
    verify_all(survivor, workers)  # the doomed replica's unanswered writes may or may not be there


def test_the_database_restarted_mid_load_is_500s_then_recovery(
    postgres_url: str, postgres: Cluster, spawned: list[ServerProcess], tmp_path: Path
) -> None:
    log = tmp_path / "replicas.log"
    replicas = [start(spawned, postgres_url, log, PROJECTS) for _ in range(2)]
    workers = workers_of(uuid.uuid4().hex[:8], SEED)
    for worker in workers:
        worker.outage_allowed = True
    load = Load([(worker, replicas[index % 2]) for index, worker in enumerate(workers)])
    wait_for_acknowledged(workers, 40)
    postgres.stop()
    try:
        load.join()  # every worker ends at its first 500: a hang would be a transport error (timeout)
    finally:
        postgres.start()
    assert [failure for worker in workers for failure in worker.failures] == []
    assert [worker.interrupted for worker in workers if worker.interrupted] == []
    for worker in workers:
        assert set(worker.outage) == ERROR_FIELDS, worker.outage
        assert worker.outage["code"] == "internal_error"
        assert worker.outage["message"].startswith("database error: ")
        assert PASSWORD not in worker.outage["message"]
    with httpx.Client(timeout=REQUEST_SECONDS) as client:
        # The pools reconnect by themselves: nobody restarts the servers.
        health = [f"{replica.url}/healthz" for replica in replicas]
        wait_until(lambda: all(client.get(url).status_code == 200 for url in health), "healthy again")
    verify_all(replicas[0], workers)
    assert [listing(replicas[1], project) for project in PROJECTS] == [
        listing(replicas[0], project) for project in PROJECTS
    ]
    # The load goes on through both replicas as before.
    before = acknowledged(workers)
    load = Load([(worker, replicas[index % 2]) for index, worker in enumerate(workers)])
    wait_for_acknowledged(workers, before + 40)
    load.end()
    assert [failure for worker in workers for failure in worker.failures] == []
    verify_all(replicas[1], workers)


def lock_waiters(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE%'"
        ).fetchone()
    return int(row[0]) if row else 0


def test_sigterm_drains_a_request_in_flight(
    postgres_url: str, spawned: list[ServerProcess], tmp_path: Path
) -> None:
    """A create waits for its project's row lock (held here) when SIGTERM comes; once both workers are
    draining (each closed its idle connection), the lock is released and the create completes."""
    server = start(spawned, postgres_url, tmp_path / "serve.log", ("default",), "--workers", "2")
    first = httpx.post(server.policies(), headers=HEADERS, json=body("first", 1), timeout=REQUEST_SECONDS)
    assert first.status_code == 201, first.text  # the project's row exists from here on
    answers: list[httpx.Response] = []
    with one_connection_per_worker(server, 2) as idle, psycopg.connect(postgres_url) as holder:
        holder.execute("SELECT 1 FROM release_policy_projects WHERE key = 'default' FOR UPDATE")

        def create() -> None:
            answers.append(
                httpx.post(
                    server.policies(), headers=HEADERS, json=body("second", 2), timeout=REQUEST_SECONDS
                )
            )

        in_flight = threading.Thread(target=create)
        in_flight.start()
        try:
            wait_until(lambda: lock_waiters(postgres_url) == 1, "the create waits for the project's lock")
            server.popen.send_signal(signal.SIGTERM)
            assert [closed_by_server(connection) for connection in idle.values()] == [True, True]
        finally:
            holder.rollback()  # releases the lock
            in_flight.join(timeout=2 * REQUEST_SECONDS)
    assert [answer.status_code for answer in answers] == [201], [answer.text for answer in answers]
    assert answers[0].json() == {"_id": answers[0].json()["_id"], "rank": 2, **body("second", 2)}
    assert server.popen.wait(timeout=REQUEST_SECONDS) in (0, -signal.SIGTERM), server.output()
    with psycopg.connect(postgres_url) as connection:
        keys = connection.execute("SELECT key FROM release_policies ORDER BY rank").fetchall()
    assert keys == [("first",), ("second",)]


def test_the_fuzzer_finds_nothing_with_projects_on_demand(
    postgres_url: str, spawned: list[ServerProcess], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two projects on demand, neither named at start: the fuzzer's isolation probe runs across them.
    The limit is those two, so the fuzzer's made-up unknown project is past it: 404, as it expects."""
    server = start(spawned, postgres_url, tmp_path / "serve.log", ("default",), "--max-projects", "2")
    reports = tmp_path / "reports"
    code = main([
        "fuzz", "--url", server.url, "--token", WRITER, "--reader-token", READER,
        "--project", "ci-run-1", "--project", "ci-run-2", "--max-examples", str(FUZZ_EXAMPLES),
        "--seed", "1", "--report", "json", "--report-dir", str(reports),
    ])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, out + err
    summary = json.loads((reports / "fuzz.json").read_text(encoding="utf-8"))
    assert summary["violations"] == []
    assert summary["skipped"] == {}  # the isolation probe (which needs two projects) ran too
