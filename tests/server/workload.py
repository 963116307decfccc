"""A write load whose every acknowledged effect is known exactly, for tests that kill servers, stop the
database or run several replicas (``release-policy serve`` processes, ``tests.server.processes``).

The load runs in several client threads ("workers") at once, but every worker owns what it writes, so
each worker's acknowledgement order is its own send order (one request at a time) and is well defined:

- each "owned" worker is the only writer of its own project. Its model is a
  ``validator.state.Project`` to which every acknowledged write is applied in
  order; the model also predicts every answer (status and body, rank included),
  and later the whole project must equal the model;
- "shared" workers write in one project, each under its own key prefix,
  and only create scoped policies, PUT them (staying scoped) and delete them.
  Their writes interleave, so a worker cannot predict absolute ranks, but
  appends, deletes and scope-keeping PUTs never change the relative order of
  its policies: its model is a ``Project`` of its own policies ranked 1..m,
  compared with the server's listing filtered to its prefix and renumbered.
  Its answers are checked but for the rank (which must be >= 1).

A worker sends one write at a time, so when its server dies (or answers 500
in a database outage) at most one write per worker is unanswered: afterwards
the worker's view must equal its model, or its model with that one write
applied (for a create, with the ``_id`` the server shows). The model is then
re-synced from the server.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from tests.server.processes import HEADERS, REQUEST_SECONDS, START_SECONDS, ServerProcess
from tests.support import rank_problems
from validator.state import Policy, Project, stored_fields

MAX_WRITES = 5_000  # per worker and phase: a bound the test's stop reaches first
MAX_POLICIES = 12  # per worker: beyond it a worker deletes instead of creating
#: Polls of a condition on the workers' progress, 10 ms apart: at most 60 s.
POLLS = 6_000
OWNED = ("owned-0", "owned-1", "owned-2", "owned-3")
SHARED = "shared"
PROJECTS = (*OWNED, SHARED)
ENVIRONMENTS = ("production", "staging", "qa", "dev", "eu-west")
METHODS = ("guarded-release", "progressive-release")
STATUS = {"create": 201, "update": 200, "flip": 200, "delete": 204, "order": 200}


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
    interrupted: str = ""  # the transport error, once the server went away in the middle of the load
    outage_allowed: bool = False  # a 500 (the database down) ends the load instead of failing it
    outage: Any = None  # the 500's body, once one ended the load
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

    def run(self, server: ServerProcess, barrier: threading.Barrier, stop: threading.Event) -> None:
        """Writes until ``stop`` is set, the server goes away, or (an outage allowed) it answers 500."""
        try:
            with httpx.Client(headers=HEADERS, timeout=REQUEST_SECONDS) as client:
                barrier.wait(timeout=START_SECONDS)
                for _ in range(MAX_WRITES):
                    if stop.is_set():
                        return
                    write = self.choose()
                    self.pending = write
                    try:
                        response = client.request(
                            write.method, server.policies(self.project) + write.path, json=write.body
                        )
                    except httpx.TransportError as error:
                        self.interrupted = repr(error)  # no answer: the write may or may not have happened
                        return
                    if response.status_code == 500 and self.outage_allowed:
                        self.outage = response.json()  # the write may or may not have happened
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


def workers_of(run: str, seed: int, shared: int = 2) -> list[Worker]:
    """An owner of each owned project and ``shared`` workers in the shared project, keys unique per run."""
    owners = [
        Worker(f"owner of {project}", project, f"{run}-o{index}-", True, seeded(f"{seed}-o{index}"))
        for index, project in enumerate(OWNED)
    ]
    sharing = [
        Worker(f"shared {index}", SHARED, f"{run}-s{index}-", False, seeded(f"{seed}-s{index}"))
        for index in range(shared)
    ]
    return owners + sharing


def acknowledged(workers: Sequence[Worker]) -> int:
    return sum(sum(worker.acknowledged.values()) for worker in workers)


def wait_for_acknowledged(workers: Sequence[Worker], count: int) -> None:
    """Until these workers have, together, ``count`` acknowledged writes."""
    wait_until(lambda: acknowledged(workers) >= count, f"{count} writes acknowledged")


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Until ``condition`` holds (an observed state), polled at most POLLS times."""
    for _ in range(POLLS):
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError(f"never observed: {what}")


class Load:
    """Workers writing through their servers in threads, from one start to one stop."""

    def __init__(self, assignments: Sequence[tuple[Worker, ServerProcess]]) -> None:
        self.stop = threading.Event()
        barrier = threading.Barrier(len(assignments) + 1)
        self.threads = [
            threading.Thread(target=worker.run, args=(server, barrier, self.stop))
            for worker, server in assignments
        ]
        for thread in self.threads:
            thread.start()
        barrier.wait(timeout=START_SECONDS)

    def end(self) -> None:
        """Stop (workers still writing finish their write) and wait, bounded, for every thread."""
        self.stop.set()
        self.join()

    def join(self) -> None:
        """Wait, bounded, for every thread to end by itself (its server gone, or the database)."""
        for thread in self.threads:
            thread.join(timeout=2 * REQUEST_SECONDS)
        assert not any(thread.is_alive() for thread in self.threads), "a client thread hangs"
