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


def tour_steps(prefix: str = "") -> list[Step]:
    """The tour; its keys begin with ``prefix`` (a run's), but the reserved key ``order``."""
    scoped, default = _bodies()
    own = f"{prefix}-" if prefix else ""
    # Two keys that differ only in case, and the run's other keys.
    a, big_a, b, c, d, e, f, absent = (
        own + name
        for name in ("tour-a", "Tour-a", "tour-b", "tour-c", "tour-d", "tour-e", "tour-f", "tour-absent")
    )

    def create(key: str, body: dict[str, Any]) -> Step:
        return Step("create", body=json.dumps({**body, "key": key}))

    def put(key: str, body: dict[str, Any]) -> Step:
        return Step("put", key, json.dumps({k: v for k, v in body.items() if k != "key"}))

    def order(*keys: str) -> Step:
        return Step("order", body=json.dumps(list(keys)))

    bare = {"name": scoped["name"], "releaseMethod": scoped["releaseMethod"], "scope": scoped["scope"]}
    return [
        create(a, scoped), create(b, scoped), create(c, scoped),
        create(big_a, scoped),  # differs from tour-a only in case
        create(a, scoped),  # exists: 409
        create(d, default), create(e, default),  # a default policy, then a second one: 409
        Step("get", absent), create("order", scoped),
        # The reserved key's 405 from each of the three operations that take a key, so that every
        # run covers all three statuses whatever its seed (the oracle only draws some of them).
        Step("get", "order"), put("order", scoped), Step("delete", "order"),
        Step("list", exclude_default=True),
        put(a, scoped), put(a, bare),  # keeps its rank, then clears both configs
        put(b, default),  # a second default policy by update: 409
        Step("delete", d),
        put(b, default), put(b, scoped),  # into the default policy, and back, appended
        Step("list"),
        order(b, big_a, c, a), Step("list"),
        order(b, big_a, c), order(b, big_a, c, a, absent),
        create(f, default), order(f, b, big_a, c, a),
        order(b, b, big_a, c, a),
        Step("delete", b), Step("list"),  # ranked above the others: the gap closes
        Step("delete", big_a), Step("delete", c), Step("delete", a), order(),
        Step("list"),
    ]  # fmt: skip


def run_tour(session: Session) -> tuple[list[Violation], dict[str, tuple[Step, ...]]]:
    """The tour against the session's target: the first rule it breaks, if any, with its steps."""
    steps = tour_steps(session.prefix)
    try:
        failure = replay(session, steps)
    except ResetFailed as error:
        return [Violation("delete-removes", str(error), tuple(session.exchanges), "tour:reset")], {}
    if failure is None:
        return [], {}
    check = f"tour:{failure.verdict.rule}"
    violation = Violation(failure.verdict.rule, failure.verdict.message, failure.exchanges, check)
    return [violation], {check: failure.steps}
