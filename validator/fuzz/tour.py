"""The state tour: one fixed sequence that exercises every state rule of the contract, judged by the model.

The oracle's random sequences reach every rule sooner or later; this tour
reaches each in every run, whatever the budget or the seed, in a few dozen
requests (the reserved key's 405 from GET, PUT and DELETE included, so a
sharded run's coverage never depends on which sequences its oracle drew).
Like every oracle sequence it starts from an empty project, each answer is
predicted by :mod:`validator.state` and judged, and a failure replays exactly.
``tests/fuzz/test_tour.py`` proves it reaches every entry of ``coverage.STATE_RULES``.
"""

from __future__ import annotations

import json
from typing import Any

from validator import spec as spec_module
from validator.fuzz.boundaries import base_body
from validator.fuzz.oracle import ResetFailed, replay
from validator.fuzz.steps import Step
from validator.fuzz.target import Session
from validator.fuzz.violation import Violation


def _bodies() -> tuple[dict[str, Any], dict[str, Any]]:
    """A scoped policy (the create example, every block present) and the same without scope."""
    scoped = base_body(spec_module.bundled(), "PostReleasePolicy")
    return scoped, {name: value for name, value in scoped.items() if name != "scope"}


def tour_steps() -> list[Step]:
    scoped, default = _bodies()

    def create(key: str, body: dict[str, Any]) -> Step:
        return Step("create", body=json.dumps({**body, "key": key}))

    def put(key: str, body: dict[str, Any]) -> Step:
        return Step("put", key, json.dumps({k: v for k, v in body.items() if k != "key"}))

    def order(*keys: str) -> Step:
        return Step("order", body=json.dumps(list(keys)))

    bare = {"name": scoped["name"], "releaseMethod": scoped["releaseMethod"], "scope": scoped["scope"]}
    return [
        create("tour-a", scoped), create("tour-b", scoped), create("tour-c", scoped),
        create("Tour-a", scoped),  # differs from tour-a only in case
        create("tour-a", scoped),  # exists: 409
        create("tour-d", default), create("tour-e", default),  # a default policy, then a second one: 409
        Step("get", "tour-absent"), create("order", scoped),
        # The reserved key's 405 from each of the three operations that take a key, so that every
        # run covers all three statuses whatever its seed (the oracle only draws some of them).
        Step("get", "order"), put("order", scoped), Step("delete", "order"),
        Step("list", exclude_default=True),
        put("tour-a", scoped), put("tour-a", bare),  # keeps its rank, then clears both configs
        put("tour-b", default),  # a second default policy by update: 409
        Step("delete", "tour-d"),
        put("tour-b", default), put("tour-b", scoped),  # into the default policy, and back, appended
        Step("list"),
        order("tour-b", "Tour-a", "tour-c", "tour-a"), Step("list"),
        order("tour-b", "Tour-a", "tour-c"), order("tour-b", "Tour-a", "tour-c", "tour-a", "tour-absent"),
        create("tour-f", default), order("tour-f", "tour-b", "Tour-a", "tour-c", "tour-a"),
        order("tour-b", "tour-b", "Tour-a", "tour-c", "tour-a"),
        Step("delete", "tour-b"), Step("list"),  # ranked above the others: the gap closes
        Step("delete", "Tour-a"), Step("delete", "tour-c"), Step("delete", "tour-a"), order(),
        Step("list"),
    ]  # fmt: skip


def run_tour(session: Session) -> tuple[list[Violation], dict[str, tuple[Step, ...]]]:
    """The tour against the session's target: the first rule it breaks, if any, with its steps."""
    steps = tour_steps()
    try:
        failure = replay(session, steps)
    except ResetFailed as error:
        return [Violation("delete-removes", str(error), tuple(session.exchanges), "tour:reset")], {}
    if failure is None:
        return [], {}
    check = f"tour:{failure.verdict.rule}"
    violation = Violation(failure.verdict.rule, failure.verdict.message, failure.exchanges, check)
    return [violation], {check: failure.steps}
