"""The failure store (``--failures LOCATION``): each violation's minimal reproduction, replayed first by every
later run, so that a regression shows in seconds rather than when the search happens upon it again.

It is one of Hypothesis' example databases, not a format of our own: a directory
(``DirectoryBasedExampleDatabase``, shared between CI runs through a cache) or, for a ``redis://``
location, ``RedisExampleDatabase`` (runners sharing a live store). Every reproduction is one value under
one key, as JSON with no credential in it: the steps from an empty project (sweep, tour, oracle), the
probe's id, or the requests with their roles (Schemathesis). A stored failure that no longer reproduces is
deleted: it was fixed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase

from validator.fuzz.fingerprint import fingerprint
from validator.fuzz.oracle import ResetFailed, replay
from validator.fuzz.probes import PROBES, run_probes
from validator.fuzz.reproduce import requests_of, requests_problem
from validator.fuzz.steps import Step
from validator.fuzz.target import Session, Target
from validator.fuzz.violation import Violation

#: The one key every reproduction is stored under (versioned: a new layout starts afresh).
KEY = b"release-policy-fuzz:failures:v1"
#: How long Redis keeps a failure no run has seen again.
REDIS_EXPIRY = timedelta(days=30)


class StoreError(Exception):
    """The failure store cannot be opened: a Redis that does not answer, a missing extra."""


@dataclass(frozen=True)
class Reproduction:
    """A violation as stored: what identifies it, and one way to replay it."""

    fingerprint: str
    check: str
    rule: str
    message: str
    steps: tuple[Mapping[str, Any], ...] = ()
    probe: str = ""
    requests: tuple[Mapping[str, Any], ...] = ()


def open_store(location: str) -> ExampleDatabase:
    """The example database at ``location``: ``redis://host:port[/db]``, or a directory."""
    if not location.startswith(("redis://", "rediss://")):
        return DirectoryBasedExampleDatabase(location)
    try:
        import redis
        from hypothesis.extra.redis import RedisExampleDatabase
    except ImportError as error:
        raise StoreError(f"a redis:// failure store needs the redis package ({error})") from None
    client = redis.Redis.from_url(location, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as error:
        raise StoreError(f"cannot reach the failure store {location}: {error}") from None
    return RedisExampleDatabase(client, expire_after=REDIS_EXPIRY, key_prefix=b"release-policy-fuzz:")


def reproduction(violation: Violation, steps: tuple[Step, ...] | None, target: Target) -> Reproduction:
    """How to replay ``violation``: its steps if it has them, its probe, else its requests."""
    found = Reproduction(fingerprint(violation), violation.check, violation.rule, violation.message)
    if steps:
        return Reproduction(**{**asdict(found), "steps": tuple(asdict(step) for step in steps)})
    if violation.check in {probe.id for probe in PROBES}:
        return Reproduction(**{**asdict(found), "probe": violation.check})
    return Reproduction(**{**asdict(found), "requests": tuple(requests_of(violation.exchanges, target))})


def load(store: ExampleDatabase) -> list[Reproduction]:
    """Every stored reproduction (one per fingerprint); values this version cannot read are dropped."""
    kept: dict[str, Reproduction] = {}
    for value in store.fetch(KEY):
        try:
            data = json.loads(value)
            stored = Reproduction(
                **{**data, "steps": tuple(data["steps"]), "requests": tuple(data["requests"])}
            )
        except (ValueError, TypeError, KeyError):
            store.delete(KEY, value)
            continue
        kept.setdefault(stored.fingerprint, stored)
    return list(kept.values())


def _value(stored: Reproduction) -> bytes:
    return json.dumps(asdict(stored), sort_keys=True).encode()


def save(store: ExampleDatabase, found: Sequence[Reproduction]) -> int:
    """Store each reproduction whose fingerprint is not stored yet; how many were new."""
    known = {stored.fingerprint for stored in load(store)}
    new = [each for each in found if each.fingerprint not in known]
    for each in new:
        store.save(KEY, _value(each))
    return len(new)


def forget(store: ExampleDatabase, stored: Reproduction) -> None:
    store.delete(KEY, _value(stored))


def again(session: Session, stored: Reproduction) -> Violation | None:
    """Replay a stored failure against the session's target: the violation if it still happens."""
    if stored.probe:
        shown, _ = run_probes(session, only=stored.probe)
        same = [v for v in shown if fingerprint(v) == stored.fingerprint]
        return next(iter(same or shown), None)
    if stored.steps:
        try:
            failure = replay(session, [Step(**step) for step in stored.steps])
        except ResetFailed:
            return None
        if failure is None:
            return None
        return Violation(failure.verdict.rule, failure.verdict.message, failure.exchanges, stored.check)
    try:
        problem, exchanges = requests_problem(session, stored.requests)
    except ResetFailed:
        return None
    return None if problem is None else Violation(stored.rule, problem, tuple(exchanges), stored.check)
