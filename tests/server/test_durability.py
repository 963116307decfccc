"""A real ``release-policy serve`` process, killed with SIGKILL under write load, loses no acknowledged write.

The contract's `rejected-changes-nothing`, `ranks` and `read-your-writes` rules
(spec/CONTRACT.md): every operation is atomic, the ranks stay contiguous and
unique, and no acknowledged write (a 2xx answer) is lost even if the server
process is killed right after answering. The load (``tests.server.workload``)
knows exactly what every acknowledged write did; several client threads write
at once, so the SQLite store's group commit really commits several writes per
transaction. The kill comes once a seeded number of writes has been
acknowledged in the cycle, while every worker is still writing.
"""

from __future__ import annotations

import signal
import sqlite3
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.server.processes import HEADERS, REQUEST_SECONDS, ServerProcess, start
from tests.server.workload import (
    PROJECTS,
    STATUS,
    Load,
    acknowledged,
    listing,
    seeded,
    verify_all,
    wait_for_acknowledged,
    workers_of,
)

pytestmark = pytest.mark.slow  # every test starts server processes
#: Fixes the kill moments and every worker's choices (the timing of the answers is the machine's).
SEED = 20_240_611
CYCLES = 4
#: The kill comes once this many more writes (seeded, within the range) are acknowledged in a cycle.
KILL_AFTER = (10, 150)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
        return url
    return str(tmp_path / "p.db")


def test_acknowledged_writes_survive_sigkill(
    tmp_path: Path, spawned: list[ServerProcess], database: str
) -> None:
    rng = seeded(str(SEED))
    db, log = database, tmp_path / "server.log"
    workers = workers_of(uuid.uuid4().hex[:8], SEED)
    for cycle in range(CYCLES):
        server = start(spawned, db, log, PROJECTS)
        if cycle:
            verify_all(server, workers)
        before = acknowledged(workers)
        load = Load([(worker, server) for worker in workers])
        wait_for_acknowledged(workers, before + rng.randint(*KILL_AFTER))
        server.kill()
        load.join()
        assert [failure for worker in workers for failure in worker.failures] == []
        assert server.popen.returncode == -signal.SIGKILL
        # The kill landed in the middle of the load: every worker lost its connection mid-write.
        assert [worker.name for worker in workers if not worker.interrupted] == [], f"cycle {cycle}"
        for worker in workers:
            worker.interrupted = ""
    verify_all(start(spawned, db, log, PROJECTS), workers)
    kinds = sum((worker.acknowledged for worker in workers), Counter[str]())
    assert set(kinds) == set(STATUS), f"every kind of write was acknowledged at least once: {kinds}"


def test_durable_server_starts_serves_and_keeps_writes(tmp_path: Path, spawned: list[ServerProcess]) -> None:
    db, log = tmp_path / "durable.db", tmp_path / "durable.log"
    server = start(spawned, db, log, ["default"], "--durable", token_in_environment=False)
    body = {
        "key": "k1",
        "name": "n",
        "releaseMethod": "progressive-release",
        "scope": {"environmentKeys": ["prod"]},
    }
    created = httpx.post(server.policies("default"), headers=HEADERS, json=body, timeout=REQUEST_SECONDS)
    assert created.status_code == 201, created.text
    policy = created.json()
    assert policy == {"_id": policy["_id"], "rank": 1, **body}
    assert listing(server, "default") == [policy]
    # uvicorn shuts down gracefully, then re-raises the signal it caught: the status is -SIGTERM.
    assert server.terminate() in (0, -signal.SIGTERM), server.output()
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    connection.close()
    again = start(spawned, db, log, ["default"], "--durable", token_in_environment=False)
    assert listing(again, "default") == [policy]
