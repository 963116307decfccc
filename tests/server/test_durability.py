"""A real ``release-policy serve`` process, killed with SIGKILL under write load, loses no acknowledged write.

The contract's `rejected-changes-nothing`, `ranks` and `read-your-writes` rules
(spec/CONTRACT.md): every operation is atomic, the ranks stay contiguous and
unique, and no acknowledged write (a 2xx answer) is lost even if the server
process is killed right after answering.

How the expected state is known exactly. The load runs in several client
threads at once, so the store's group commit really commits several writes per
transaction, but every thread owns what it writes, so each thread's
acknowledgement order is its own send order (one request at a time) and is
well defined:

- each "owned" worker is the only writer of its own project. Its model is a
  ``validator.state.Project`` to which every acknowledged write is applied in
  order; the model also predicts every answer (status and body, rank included),
  and after a restart the whole project must equal the model;
- two "shared" workers write in one project, each under its own key prefix,
  and only create scoped policies, PUT them (staying scoped) and delete them.
  Their writes interleave in the store, so a worker cannot predict absolute
  ranks, but appends, deletes and scope-keeping PUTs never change the relative
  order of its policies: its model is a ``Project`` of its own policies ranked
  1..m, compared with the server's listing filtered to its prefix and
  renumbered. Its answers are checked but for the rank (which must be >= 1).

A worker sends one write at a time, so when the server is killed at most one
write per worker is unanswered: after the restart the worker's view must equal
its model, or its model with that one write applied (for a create, with the
``_id`` the server shows). The model is then re-synced from the server, and the
next cycle starts.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.live import BASE, free_port
from tests.server.postgres import Cluster
from tests.support import REPOSITORY, rank_problems
from validator.server.serve import READER_TOKENS_VARIABLE, TOKENS_VARIABLE
from validator.state import Policy, Project, stored_fields

#: Fixes the kill moments and every worker's choices (the timing of the answers is the machine's).
SEED = 20_240_611
CYCLES = 4
#: The longest a load phase runs; the kill comes within KILL_WINDOW seconds of its start.
LOAD_SECONDS = 2.0
KILL_WINDOW = (0.2, 1.4)
MAX_WRITES = 5_000  # per worker and phase: a bound the time limit reaches first
START_SECONDS = 20.0
REQUEST_SECONDS = 10.0
MAX_POLICIES = 12  # per worker: beyond it a worker deletes instead of creating

TOKEN = "durability-writer-token"  # noqa: S105 - a test token for a loopback server
HEADERS = {"Authorization": TOKEN, "LD-API-Version": "beta"}
OWNED = ("owned-0", "owned-1", "owned-2", "owned-3")
SHARED = "shared"
SHARED_WORKERS = 2
ENVIRONMENTS = ("production", "staging", "qa", "dev", "eu-west")
METHODS = ("guarded-release", "progressive-release")
STATUS = {"create": 201, "update": 200, "flip": 200, "delete": 204, "order": 200}


@dataclass
class ServerProcess:
    popen: subprocess.Popen[bytes]
    url: str
    log: Path

    def policies(self, project: str) -> str:
        return self.url + BASE.format(project=project)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)


@pytest.fixture
def spawned() -> Iterator[list[ServerProcess]]:
    """Every server process a test starts; any still running at the end is killed."""
    started: list[ServerProcess] = []
    yield started
    for process in started:
        process.kill()


def start(
    spawned: list[ServerProcess],
    db: Path | str,
    log: Path,
    projects: Sequence[str],
    *options: str,
    token_in_environment: bool = True,
) -> ServerProcess:
    """``release-policy serve`` on a free loopback port, once it answers a list request."""
    port = free_port()
    command = [sys.executable, "-m", "validator", "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--db", str(db), *(f"--project={project}" for project in projects), *options]
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in (TOKENS_VARIABLE, READER_TOKENS_VARIABLE)
    }
    if token_in_environment:
        environment[TOKENS_VARIABLE] = TOKEN
    else:
        command += ["--token", TOKEN]
    with log.open("ab") as sink:
        popen = subprocess.Popen(
            command, cwd=REPOSITORY, env=environment, stdout=sink, stderr=subprocess.STDOUT
        )
    process = ServerProcess(popen, f"http://127.0.0.1:{port}", log)
    spawned.append(process)
    deadline = time.monotonic() + START_SECONDS
    with httpx.Client(headers=HEADERS, timeout=2) as client:
        while True:
            if popen.poll() is not None:
                raise AssertionError(f"the server exited with {popen.returncode}:\n{process.output()}")
            try:
                if client.get(process.policies(projects[0])).status_code == 200:
                    return process
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the server did not answer within {START_SECONDS} s:\n{process.output()}"
                )
            time.sleep(0.05)


def policy_of(item: dict[str, Any]) -> Policy:
    fields = {name: value for name, value in item.items() if name not in ("_id", "key", "rank")}
    return Policy(item["_id"], item["key"], item["rank"], fields)


def listing(server: ServerProcess, project: str) -> list[dict[str, Any]]:
    """The project's list, after checking the rank rules on it."""
    response = httpx.get(server.policies(project), headers=HEADERS, timeout=REQUEST_SECONDS)
    assert response.status_code == 200, response.text
    payload = response.json()
    items: list[dict[str, Any]] = payload["items"]
    assert payload["totalCount"] == len(items)
    state = Project(tuple(policy_of(item) for item in items))
    assert rank_problems(state) == [], (project, rank_problems(state))
    assert [item["key"] for item in items] == [policy.key for policy in state.policies], "not sorted by rank"
    return items


def seeded(seed: str) -> random.Random:
    return random.Random(seed)  # noqa: S311 - reproducible choices, not secrets


def policy_fields(rng: random.Random, *, scoped: bool) -> dict[str, Any]:
    """What a create or PUT sets: a scoped body, or a default one (scope left out or null)."""
    method = rng.choice(METHODS)
    body: dict[str, Any] = {"name": f"Policy {rng.randrange(1_000_000)}", "releaseMethod": method}
    if scoped:
        body["scope"] = {"environmentKeys": rng.sample(ENVIRONMENTS, rng.randint(1, 3))}
    elif rng.random() < 0.5:
        body["scope"] = None
    if rng.random() < 0.4:
        stages = [
            {"allocation": rng.randrange(1, 100) * 1000, "durationMillis": rng.randrange(1, 60) * 60_000}
            for _ in range(rng.randint(1, 3))
        ]
        block = "progressiveReleaseConfig" if method == "progressive-release" else "guardedReleaseConfig"
        body[block] = {"rolloutContextKindKey": "user", "stages": stages}
    return body


@dataclass(frozen=True)
class Write:
    """One write a worker sends; ``apply`` is what the state rules say it does and answers."""

    kind: str
    method: str
    path: str  # after the project's collection URL
    key: str
    body: Any

    def apply(self, model: Project, policy_id: str) -> tuple[Project, Any]:
        if self.kind == "create":
            after, policy = model.create(policy_id, self.key, stored_fields(self.body))
            return after, policy.to_json()
        if self.kind == "delete":
            return model.delete(self.key), None
        if self.kind == "order":
            after, ordered = model.reorder(self.body)
            return after, [policy.to_json() for policy in ordered]
        after, policy = model.update(self.key, stored_fields(self.body))
        return after, policy.to_json()


def without_rank(answer: Any) -> Any:
    return {name: value for name, value in answer.items() if name != "rank"}


@dataclass
class Worker:
    """A client thread's writes, its model of what it wrote, and what went wrong."""

    name: str
    project: str
    prefix: str
    exact: bool  # the only writer of its project: the model predicts ranks too
    rng: random.Random
    model: Project = field(default_factory=Project)
    pending: Write | None = None  # sent, not (yet) answered
    serial: int = 0
    interrupted: bool = False  # the server went away in the middle of the load
    acknowledged: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def choose(self) -> Write:
        rng, model = self.rng, self.model
        policies = model.policies
        roll = rng.random()
        creates = 0.3 if self.exact else 0.4
        if not policies or (roll < creates and len(policies) < MAX_POLICIES):
            self.serial += 1
            key = f"{self.prefix}{self.serial}"
            scoped = not self.exact or model.default is not None or rng.random() < 0.8
            return Write("create", "POST", "", key, {"key": key, **policy_fields(rng, scoped=scoped)})
        target = rng.choice(policies)
        if roll < (0.55 if self.exact else 0.7):
            body = policy_fields(rng, scoped=not target.is_default)
            return Write("update", "PUT", f"/{target.key}", target.key, body)
        if self.exact and roll < 0.7 and (target.is_default or model.default is None):
            body = policy_fields(rng, scoped=target.is_default)
            return Write("flip", "PUT", f"/{target.key}", target.key, body)
        if not self.exact or roll < 0.8 or len(policies) >= MAX_POLICIES:
            return Write("delete", "DELETE", f"/{target.key}", target.key, None)
        keys = [policy.key for policy in model.scoped]
        rng.shuffle(keys)
        return Write("order", "POST", "/order", "", keys)

    def run(self, server: ServerProcess, barrier: threading.Barrier) -> None:
        try:
            with httpx.Client(headers=HEADERS, timeout=REQUEST_SECONDS) as client:
                barrier.wait(timeout=START_SECONDS)
                deadline = time.monotonic() + LOAD_SECONDS
                for _ in range(MAX_WRITES):
                    if time.monotonic() > deadline:
                        return
                    write = self.choose()
                    self.pending = write
                    try:
                        response = client.request(
                            write.method, server.policies(self.project) + write.path, json=write.body
                        )
                    except httpx.TransportError:
                        self.interrupted = True  # no answer: the write may or may not have happened
                        return
                    problem = self.acknowledge(write, response)
                    if problem:
                        self.failures.append(f"{self.name}: {problem}")
                        return
                    self.pending = None
        except Exception as error:  # noqa: BLE001 - reported by the test's thread, not lost in this one
            self.failures.append(f"{self.name}: {type(error).__name__}: {error}")

    def acknowledge(self, write: Write, response: httpx.Response) -> str | None:
        """Check an answer against the model, then apply the write to it; a problem if they differ."""
        sent = f"{write.method} {write.path or '/'} {write.body!r}"
        if response.status_code != STATUS[write.kind]:
            return f"{sent} answered {response.status_code} {response.text}; expected {STATUS[write.kind]}"
        answer: Any = None if response.status_code == 204 else response.json()
        policy_id = answer["_id"] if write.kind == "create" else ""
        after, expected = write.apply(self.model, policy_id)
        if not self.exact and isinstance(answer, dict):
            if answer["rank"] < 1:
                return f"{sent} answered rank {answer['rank']} for a scoped policy"
            answer, expected = without_rank(answer), without_rank(expected)
        if answer != expected:
            return f"{sent} answered {answer!r}; the state rules say {expected!r}"
        self.model = after
        self.acknowledged[write.kind] += 1
        return None

    def view(self, items: list[dict[str, Any]]) -> Project:
        """The worker's part of a project's listing, ranked as its model ranks it."""
        policies = [policy_of(item) for item in items]
        if self.exact:
            return Project(tuple(policies))
        mine = [policy for policy in policies if policy.key.startswith(self.prefix)]
        return Project(tuple(replace(policy, rank=rank) for rank, policy in enumerate(mine, start=1)))

    def verify(self, items: list[dict[str, Any]]) -> str | None:
        """After a restart: every acknowledged write is there; the unanswered one may be. Then re-sync."""
        found = self.view(items)
        candidates = [self.model]
        if self.pending is not None:
            created = {item["key"]: item["_id"] for item in items}.get(self.pending.key, "")
            candidates.append(self.pending.apply(self.model, created)[0])
        if found not in candidates:
            return (
                f"{self.name} after the restart: {describe(found)}\n"
                f"acknowledged state: {describe(self.model)}\nunanswered write: {self.pending!r}"
            )
        self.model, self.pending = found, None
        return None


def describe(state: Project) -> str:
    return repr([(policy.key, policy.id, policy.rank, dict(policy.fields)) for policy in state.policies])


def verify_all(server: ServerProcess, workers: list[Worker]) -> None:
    items = {project: listing(server, project) for project in (*OWNED, SHARED)}
    prefixes = tuple(worker.prefix for worker in workers if worker.project == SHARED)
    strays = [item["key"] for item in items[SHARED] if not item["key"].startswith(prefixes)]
    assert strays == [], "policies nobody created"
    problems = [problem for worker in workers if (problem := worker.verify(items[worker.project]))]
    assert problems == [], "\n".join(problems)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        running: Cluster = request.getfixturevalue("postgres")
        running.reset()
        return running.url
    return str(tmp_path / "p.db")


def test_acknowledged_writes_survive_sigkill(
    tmp_path: Path, spawned: list[ServerProcess], database: str
) -> None:
    rng = seeded(str(SEED))
    run = uuid.uuid4().hex[:8]  # keys unique per run
    db, log = database, tmp_path / "server.log"
    projects = (*OWNED, SHARED)
    workers = [
        Worker(f"owner of {project}", project, f"{run}-o{index}-", True, seeded(f"{SEED}-o{index}"))
        for index, project in enumerate(OWNED)
    ] + [
        Worker(f"shared {index}", SHARED, f"{run}-s{index}-", False, seeded(f"{SEED}-s{index}"))
        for index in range(SHARED_WORKERS)
    ]
    for cycle in range(CYCLES):
        server = start(spawned, db, log, projects)
        if cycle:
            verify_all(server, workers)
        before = sum(sum(worker.acknowledged.values()) for worker in workers)
        barrier = threading.Barrier(len(workers) + 1)
        threads = [threading.Thread(target=worker.run, args=(server, barrier)) for worker in workers]
        for thread in threads:
            thread.start()
        barrier.wait(timeout=START_SECONDS)
        time.sleep(rng.uniform(*KILL_WINDOW))
        server.kill()
        for thread in threads:
            thread.join(timeout=REQUEST_SECONDS + 5)
        assert not any(thread.is_alive() for thread in threads), "a client thread hangs"
        assert [failure for worker in workers for failure in worker.failures] == []
        assert server.popen.returncode == -signal.SIGKILL
        # The kill landed in the middle of the load: every worker lost its connection mid-write ...
        assert [worker.name for worker in workers if not worker.interrupted] == [], f"cycle {cycle}"
        # ... after the server had acknowledged writes in this cycle.
        assert sum(sum(worker.acknowledged.values()) for worker in workers) > before, f"cycle {cycle}"
        for worker in workers:
            worker.interrupted = False
    verify_all(start(spawned, db, log, projects), workers)
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
    server.popen.send_signal(signal.SIGTERM)
    # uvicorn shuts down gracefully, then re-raises the signal it caught: the status is -SIGTERM.
    assert server.popen.wait(timeout=15) in (0, -signal.SIGTERM), server.output()
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    connection.close()
    again = start(spawned, db, log, ["default"], "--durable", token_in_environment=False)
    assert listing(again, "default") == [policy]
