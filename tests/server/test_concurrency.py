"""Concurrent clients cannot break the rank rules or get a 5xx (the contract's
`concurrency` rule, spec/CONTRACT.md).

Several client threads hit one project of the in-process live server at once,
with creates, PUTs (scoped <-> default flips included), deletes, orders and
lists. Every list a client reads, and every answer, must obey the state rules
on its own: a client can only see a state between two whole operations. A
write may lose a race (404 for a policy deleted meanwhile, 409 for a second
default, 400 for an order built from a set that changed), never answer 5xx.
At the end no acknowledged create or delete is lost, and (for a file database)
the database reopened holds what the server last answered. Races of creates of
one key, and of two default policies, have exactly one winner.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.live import READER, WRITER, LiveServer, live_server
from tests.server.processes import ServerProcess, start
from tests.support import rank_problems
from validator.server import ServerConfig, Store, create_app
from validator.server.serve import open_store
from validator.server.store import Operation, Result
from validator.state import Policy, Project

THREADS = 6
OPERATIONS = 80  # per thread
SECONDS = 8.0  # per thread, whatever the operation count
RACES = 5  # rounds of the same-key and the two-defaults races
RACERS = 8
TIMEOUT = 30.0
ENVIRONMENTS = ("production", "staging", "qa", "dev")
#: Where the clients send requests: a server in this process, or a ``serve`` process.
Server = LiveServer | ServerProcess


def client(token: str = WRITER) -> httpx.Client:
    return httpx.Client(headers={"Authorization": token, "LD-API-Version": "beta"}, timeout=TIMEOUT)


def policy_of(item: dict[str, Any]) -> Policy:
    fields = {name: value for name, value in item.items() if name not in ("_id", "key", "rank")}
    return Policy(item["_id"], item["key"], item["rank"], fields)


def listing_problems(payload: Any, *, exclude_default: bool = False) -> list[str]:
    """What is wrong with a list answer: the rank rules, its order, its count."""
    items = payload["items"]
    state = Project(tuple(policy_of(item) for item in items))
    problems = rank_problems(state)
    if payload["totalCount"] != len(items):
        problems.append(f"totalCount {payload['totalCount']} for {len(items)} items")
    if [item["key"] for item in items] != [policy.key for policy in state.policies]:
        problems.append(f"not sorted by rank: {[(item['key'], item['rank']) for item in items]}")
    if exclude_default and state.default is not None:
        problems.append(f"excludeDefault=true listed the default policy {state.default.key}")
    return problems


def seeded(seed: str) -> random.Random:
    return random.Random(seed)  # noqa: S311 - reproducible choices, not secrets


def body(rng: random.Random, *, scoped: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": f"Policy {rng.randrange(1_000_000)}",
        "releaseMethod": rng.choice(("guarded-release", "progressive-release")),
    }
    if scoped:
        fields["scope"] = {"environmentKeys": rng.sample(ENVIRONMENTS, rng.randint(1, 2))}
    elif rng.random() < 0.5:
        fields["scope"] = None
    return fields


@dataclass
class Client:
    """One client thread: a mix of operations on one project; what it saw, and what was wrong."""

    name: str
    server: Server
    rng: random.Random
    counts: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    created: int = 0
    acknowledged: dict[str, str] = field(default_factory=dict)  # key -> _id of each create answered 201
    deleted: set[str] = field(default_factory=set)  # keys of each delete answered 204

    def run(self, barrier: threading.Barrier) -> None:
        try:
            with client() as writer, client(READER) as reader:
                barrier.wait(timeout=TIMEOUT)
                deadline = time.monotonic() + SECONDS
                operations: list[Callable[[httpx.Client, httpx.Client], None]] = [
                    self.create,
                    self.update,
                    self.delete,
                    self.order,
                    self.read,
                ]
                for _ in range(OPERATIONS):
                    if time.monotonic() > deadline or self.problems:
                        return
                    self.rng.choices(operations, weights=(3, 3, 2, 2, 2))[0](writer, reader)
        except Exception as error:  # noqa: BLE001 - reported by the test's thread, not lost in this one
            self.problems.append(f"{self.name}: {type(error).__name__}: {error}")

    def answered(self, operation: str, response: httpx.Response, allowed: tuple[int, ...]) -> bool:
        """Record the answer; a problem unless its status is one the race allows. True on 2xx."""
        self.counts[f"{operation} {response.status_code}"] += 1
        if response.status_code not in allowed:
            request = response.request
            self.problems.append(
                f"{self.name}: {request.method} {request.url.path} {request.content!r}"
                f" answered {response.status_code} {response.text}"
            )
        return response.is_success and response.status_code in allowed

    def fresh(self, connection: httpx.Client, *, exclude_default: bool = False) -> list[dict[str, Any]]:
        """The current list, checked."""
        params = {"excludeDefault": "true"} if exclude_default else {}
        response = connection.get(self.server.policies(), params=params)
        if self.answered("list", response, (200,)):
            problems = listing_problems(response.json(), exclude_default=exclude_default)
            self.problems.extend(f"{self.name}: a list answer: {problem}" for problem in problems)
            items: list[dict[str, Any]] = response.json()["items"]
            return items
        return []

    def read(self, writer: httpx.Client, reader: httpx.Client) -> None:
        self.fresh(self.rng.choice((writer, reader)), exclude_default=self.rng.random() < 0.3)

    def create(self, writer: httpx.Client, reader: httpx.Client) -> None:
        self.created += 1
        scoped = self.rng.random() < 0.8
        sent = {"key": f"{self.name}-{self.created}", **body(self.rng, scoped=scoped)}
        response = writer.post(self.server.policies(), json=sent)
        # Keys are this client's own: only a second default can conflict.
        if self.answered("create", response, (201,) if scoped else (201, 409)):
            answer = response.json()
            self.acknowledged[sent["key"]] = answer["_id"]
            rank = answer["rank"]
            rank_ok = rank >= 1 if scoped else rank == 0
            if not rank_ok or answer != {"_id": answer["_id"], "rank": rank, **sent}:
                self.problems.append(f"{self.name}: create {sent} answered {answer}")

    def update(self, writer: httpx.Client, reader: httpx.Client) -> None:
        items = self.fresh(writer)
        if not items:
            return
        target = self.rng.choice(items)
        is_default = target.get("scope") is None
        # Flips both ways: the default becomes scoped; a scoped one becomes the default 40% of the time.
        scoped = is_default or self.rng.random() >= 0.4
        sent = body(self.rng, scoped=scoped)
        response = writer.put(f"{self.server.policies()}/{target['key']}", json=sent)
        # 404: deleted meanwhile; 409: a second default (there was one, or another client made one).
        if self.answered("update", response, (200, 404, 409)):
            answer = response.json()
            rank = answer["rank"]
            if (rank == 0) == scoped or answer != {
                "_id": target["_id"],
                "key": target["key"],
                "rank": rank,
                **sent,
            }:
                self.problems.append(f"{self.name}: PUT {target['key']} {sent} answered {answer}")
            self.counts["flip" if scoped == is_default else "keep"] += 1

    def delete(self, writer: httpx.Client, reader: httpx.Client) -> None:
        items = self.fresh(writer)
        if items:
            key = self.rng.choice(items)["key"]
            if self.answered("delete", writer.delete(f"{self.server.policies()}/{key}"), (204, 404)):
                self.deleted.add(key)

    def order(self, writer: httpx.Client, reader: httpx.Client) -> None:
        keys = [item["key"] for item in self.fresh(writer, exclude_default=True)]
        self.rng.shuffle(keys)
        response = writer.post(f"{self.server.policies()}/order", json=keys)
        # 400: the set of scoped policies changed since the list was read.
        if self.answered("order", response, (200, 400)):
            answer = response.json()
            if [(item["key"], item["rank"]) for item in answer] != [
                (key, rank) for rank, key in enumerate(keys, start=1)
            ]:
                self.problems.append(f"{self.name}: order {keys} answered {answer}")


@pytest.fixture(params=["memory", "file", pytest.param("postgresql", marks=pytest.mark.slow)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
        return url
    return ":memory:" if request.param == "memory" else str(tmp_path / "c.db")


def run_all(clients: list[Client]) -> None:
    """Start every client at once, wait (bounded) for all, and require that none saw a problem."""
    barrier = threading.Barrier(len(clients))
    threads = [threading.Thread(target=each.run, args=(barrier,)) for each in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + 2 * TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a client thread hangs"
    assert [problem for each in clients for problem in each.problems] == []


def test_concurrent_clients_keep_the_rank_rules(database: str) -> None:
    with live_server(db=database) as server:
        clients = [Client(f"c{index}", server, seeded(f"concurrency-{index}")) for index in range(THREADS)]
        run_all(clients)
        counts = sum((each.counts for each in clients), Counter[str]())
        assert not [outcome for outcome in counts if outcome.split()[-1].startswith("5")]
        # The mix really ran: every kind of write succeeded, flips included.
        for outcome in ("create 201", "update 200", "delete 204", "order 200", "flip", "keep"):
            assert counts[outcome] > 0, (outcome, counts)
        with client() as writer:
            final = writer.get(server.policies())
            assert final.status_code == 200
            assert listing_problems(final.json()) == []
            scoped = [item["key"] for item in final.json()["items"] if item.get("scope") is not None]
            reordered = writer.post(f"{server.policies()}/order", json=scoped[::-1])
            assert reordered.status_code == 200
            assert [item["key"] for item in reordered.json()] == scoped[::-1]
            last = writer.get(server.policies()).json()
        assert listing_problems(last) == []
        served = Project(tuple(policy_of(item) for item in last["items"]))
        # No acknowledged write was lost (keys are never reused): every policy created and not deleted
        # is there with the _id it was created with, and every deleted one is gone.
        created = {key: id_ for each in clients for key, id_ in each.acknowledged.items()}
        deleted = {key for each in clients for key in each.deleted}
        assert deleted <= created.keys()
        assert {policy.key: policy.id for policy in served.policies} == {
            key: id_ for key, id_ in created.items() if key not in deleted
        }
        assert [policy.key for policy in served.scoped] == scoped[::-1]
    if database != ":memory:":
        # What the clients were answered is what the database holds: reopen it and compare.
        store = open_store(database)
        try:
            stored = store.submit("default", lambda state: (state, state)).result(timeout=TIMEOUT)
        finally:
            store.close()
        assert stored == served


@contextmanager
def two_in_process(database: Path) -> Iterator[tuple[Server, Server]]:
    """Two servers in this process, each with its own store, on one SQLite file."""
    with live_server(db=str(database)) as first, live_server(db=str(database)) as second:
        yield first, second


@contextmanager
def two_replicas(url: str, spawned: list[ServerProcess], log: Path) -> Iterator[tuple[Server, Server]]:
    """Two ``release-policy serve`` processes (replicas) on one PostgreSQL database."""
    yield start(spawned, url, log), start(spawned, url, log)


@pytest.fixture(params=["file", pytest.param("postgresql", marks=pytest.mark.slow)])
def two_servers(
    request: pytest.FixtureRequest, tmp_path: Path, spawned: list[ServerProcess]
) -> Iterator[tuple[Server, Server]]:
    if request.param == "postgresql":
        servers = two_replicas(request.getfixturevalue("postgres_url"), spawned, tmp_path / "replicas.log")
    else:
        servers = two_in_process(tmp_path / "shared.db")
    with servers as both:
        yield both


def test_two_servers_on_one_database_keep_the_rank_rules(two_servers: tuple[Server, Server]) -> None:
    """Two servers (replicas, or an old one still draining and its replacement) share a database, each
    with its own store, under mixed writes from both: each sees the other's commits before it writes,
    so the ranks stay contiguous and unique at every read and every acknowledged create is there. On
    PostgreSQL they are two ``serve`` processes."""
    first, second = two_servers
    clients = [
        Client(f"c{index}", (first, second)[index % 2], seeded(f"two-servers-{index}"))
        for index in range(THREADS)
    ]
    run_all(clients)
    with client() as writer:
        listed = [writer.get(server.policies()).json() for server in (first, second)]
    assert listed[0] == listed[1]
    assert listing_problems(listed[0]) == []
    created = {key: id_ for each in clients for key, id_ in each.acknowledged.items()}
    deleted = {key for each in clients for key in each.deleted}
    assert {item["key"]: item["_id"] for item in listed[0]["items"]} == {
        key: id_ for key, id_ in created.items() if key not in deleted
    }


def race(server: LiveServer, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    """POST the bodies at once, one thread each, every connection open before the start."""
    responses: list[httpx.Response | None] = [None] * len(bodies)
    barrier = threading.Barrier(len(bodies))
    failures: list[BaseException] = []

    def post(index: int) -> None:
        try:
            with client() as connection:
                connection.get(server.policies()).raise_for_status()  # connect before the race
                barrier.wait(timeout=TIMEOUT)
                responses[index] = connection.post(server.policies(), json=bodies[index])
        except Exception as error:  # noqa: BLE001 - re-raised by the test's thread
            failures.append(error)

    threads = [threading.Thread(target=post, args=(index,)) for index in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * TIMEOUT)
    assert failures == []
    answered = [response for response in responses if response is not None]
    assert len(answered) == len(bodies)
    return answered


@pytest.fixture
def racing_server() -> Iterator[LiveServer]:
    with live_server() as running:
        yield running


def test_concurrent_creates_of_one_key_give_one_201(racing_server: LiveServer) -> None:
    for round_ in range(RACES):
        key = f"contested-{round_}"
        sent = {
            "key": key,
            "name": "n",
            "releaseMethod": "progressive-release",
            "scope": {"environmentKeys": ["prod"]},
        }
        responses = race(racing_server, [{**sent, "name": f"racer {index}"} for index in range(RACERS)])
        statuses = sorted(response.status_code for response in responses)
        assert statuses == [201] + [409] * (RACERS - 1), statuses
        (winner,) = [response.json() for response in responses if response.status_code == 201]
        assert all(r.json()["code"] == "conflict" for r in responses if r.status_code == 409)
        with client() as writer:
            stored = writer.get(f"{racing_server.policies()}/{key}")
            listed = writer.get(racing_server.policies()).json()
        assert stored.json() == winner
        assert winner["rank"] == round_ + 1
        assert [item["key"] for item in listed["items"]] == [f"contested-{n}" for n in range(round_ + 1)]
        assert listing_problems(listed) == []


def test_concurrent_creates_of_defaults_give_one_201(racing_server: LiveServer) -> None:
    for round_ in range(RACES):
        bodies = [
            {"key": f"default-{round_}-{index}", "name": "n", "releaseMethod": "guarded-release"}
            for index in range(RACERS)
        ]
        responses = race(racing_server, bodies)
        statuses = sorted(response.status_code for response in responses)
        assert statuses == [201] + [409] * (RACERS - 1), statuses
        (winner,) = [response.json() for response in responses if response.status_code == 201]
        assert winner["rank"] == 0
        with client() as writer:
            listed = writer.get(racing_server.policies()).json()
            assert listed["items"] == [winner]
            assert listing_problems(listed) == []
            assert writer.delete(f"{racing_server.policies()}/{winner['key']}").status_code == 204


class ObservedStore(Store):
    """A store that tells when a request has reached it."""

    def __init__(self) -> None:
        super().__init__(":memory:")
        self.reached = threading.Event()

    def submit(
        self, project: str, operation: Operation[Result], *, create_limit: int | None = None
    ) -> Future[Result]:
        future = super().submit(project, operation, create_limit=create_limit)
        self.reached.set()
        return future


def test_a_request_given_up_while_it_waits_for_the_store_stops_nothing() -> None:
    """A caller cancelled while its operation is queued (asyncio.wrap_future then cancels the store's
    future) must not take the store's only writer thread down: later requests are still answered."""
    store = ObservedStore()
    app = create_app(store, ServerConfig({WRITER: "writer"}))
    release = threading.Event()

    def hold(state: Project) -> tuple[Project, None]:
        release.wait(timeout=TIMEOUT)  # keeps the writer thread busy, so the next request queues
        return state, None

    async def scenario() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": WRITER, "LD-API-Version": "beta"}
        async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as local:
            url = "/api/v2/projects/default/release-policies"
            held = store.submit("default", hold)
            store.reached.clear()
            waiting = asyncio.ensure_future(local.get(url))
            for _ in range(500):  # until the request waits for the store: at most 5 s
                if store.reached.is_set():
                    break
                await asyncio.sleep(0.01)
            assert store.reached.is_set()
            waiting.cancel()  # the client gives up
            with suppress(asyncio.CancelledError):
                await waiting
            release.set()
            await asyncio.wrap_future(held)
            return await asyncio.wait_for(local.get(url), 5)

    try:
        after = asyncio.run(scenario())
    finally:
        release.set()
        store.close()
    assert after.status_code == 200
    assert after.json() == {"items": [], "totalCount": 0}
