"""What a fuzz run exercised: each documented status of each operation, each swept constraint on each
side, and each state rule of the contract, so that "no violation" can be told from "nothing tried".

A :class:`Tally` is fed every answer (from the fuzzer's own client and from
Schemathesis) and every step the model predicted; :func:`measure` sets it
against the goals, which come from the spec (statuses, constraints) and from
``STATE_RULES`` below. A server error (5xx) is never a goal: a correct server
does not answer one. A status the spec marks ``x-coverage-exempt`` on an
operation (with the reason) is not one either.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from validator.fuzz.boundaries import Side
from validator.fuzz.model import Prediction
from validator.fuzz.steps import Step
from validator.spec import Spec
from validator.state import Project

#: The contract's state rules (section 5), each as the event that shows it was exercised.
STATE_RULES: Mapping[str, str] = {
    "create-scoped": "a create with a scope is appended at rank n+1",
    "create-default": "a create without scope makes the default policy, rank 0",
    "case-sensitive-key": "a key that differs from another only in case is a policy of its own",
    "duplicate-key": "creating a key that exists is 409",
    "second-default": "a second default policy, by create or by update, is 409",
    "unknown-policy": "GET, PUT or DELETE of a policy that does not exist is 404",
    "reserved-key-405": "GET, PUT or DELETE of the reserved key order is 405",
    "reserved-key-400": "creating a policy with the reserved key order is 400",
    "put-keeps-rank": "an update that keeps a policy scoped keeps its rank",
    "put-to-default": "updating a scoped policy into the default one takes rank 0 and closes the gap",
    "put-to-scoped": "updating the default policy into a scoped one appends it at n+1",
    "put-clears-block": "an update that leaves out a block clears it",
    "delete-closes-gap": "deleting a scoped policy ranked above others closes the gap",
    "delete-default": "deleting the default policy",
    "order-applied": "an order of two or more scoped policies ranks them as listed",
    "order-empty": "an empty order, when no policy is scoped",
    "order-missing-key": "an order that leaves out a scoped policy is 400",
    "order-unknown-key": "an order naming an unknown key is 400",
    "order-default-key": "an order naming the default policy is 400",
    "order-duplicate-key": "an order naming a key twice is 400",
    "list-exclude-default": "excludeDefault=true leaves the default policy out",
}


def _success_events(before: Project, step: Step, predicted: Prediction) -> Iterable[str]:
    after = predicted.after
    if step.kind == "create":
        key = str(predicted.body["key"])
        yield "create-default" if after.get(key).is_default else "create-scoped"
        if any(p.key != key and p.key.lower() == key.lower() for p in before.policies):
            yield "case-sensitive-key"
    elif step.kind == "put":
        old, new = before.get(step.key), after.get(step.key)
        moves = {
            (False, False): "put-keeps-rank",
            (False, True): "put-to-default",
            (True, False): "put-to-scoped",
        }
        yield moves.get((old.is_default, new.is_default), "")
        if any(old.fields.get(name) is not None and name not in new.fields for name in old.fields):
            yield "put-clears-block"
    elif step.kind == "delete":
        gone = before.get(step.key)
        yield (
            "delete-default"
            if gone.is_default
            else "delete-closes-gap"
            if gone.rank < len(before.scoped)
            else ""
        )
    elif step.kind == "order":
        yield "order-applied" if len(predicted.body) >= 2 else "order-empty" if not predicted.body else ""
    elif step.kind == "list" and step.exclude_default and before.default is not None:
        yield "list-exclude-default"


def state_events(before: Project, step: Step, predicted: Prediction) -> set[str]:
    """The state rules a step exercises, as the model predicted it."""
    if predicted.refusal:
        return {predicted.refusal}
    if predicted.rule == "reserved-key":
        return {f"reserved-key-{predicted.status}"}
    if predicted.status == 400 and step.kind == "order":
        keys = step.data()
        repeated = isinstance(keys, list) and len({repr(key) for key in keys}) < len(keys)
        return {"order-duplicate-key"} if repeated else set()
    if predicted.status >= 400:
        return set()
    return set(_success_events(before, step, predicted)) - {""}


@dataclass
class Tally:
    """What a run did so far: answers by (method, path, status), state rules, swept constraints, requests."""

    answers: set[tuple[str, str, int]] = field(default_factory=set)
    rules: set[str] = field(default_factory=set)
    constraints: set[tuple[str, Side]] = field(default_factory=set)
    requests: int = 0

    def answer(self, method: str, url: str, status: int) -> None:
        self.requests += 1
        if status:
            self.answers.add((method.upper(), urlsplit(url).path, status))

    def step(self, before: Project, step: Step, predicted: Prediction) -> None:
        self.rules |= state_events(before, step, predicted)


Route = tuple[int, str, str, "re.Pattern[str]"]  # placeholders, method, operationId, path pattern


@functools.cache
def _routes(contract: Spec) -> tuple[Route, ...]:
    """Each operation's method and path as a pattern, the most literal paths first."""
    return tuple(
        sorted(
            (
                operation.path.count("{"),
                operation.method,
                operation.operation_id,
                re.compile("[^/]+".join(re.escape(part) for part in re.split(r"\{[^/}]+\}", operation.path))),
            )
            for operation in contract.operations.values()
        )
    )


def _operation_of(routes: tuple[Route, ...], method: str, path: str) -> str | None:
    """The operation a request reached: of the paths that match and serve the method, the most literal
    (``GET .../order`` is the reserved key's 405 from ``GetReleasePolicy``, not the order operation)."""
    return next(
        (op for _, served, op, pattern in routes if served == method and pattern.fullmatch(path)), None
    )


@dataclass(frozen=True)
class Coverage:
    """Each goal and whether the run reached it."""

    statuses: tuple[tuple[str, str, bool], ...]  # operation, status, returned
    constraints: tuple[tuple[str, Side, bool], ...]  # constraint id, side, exercised
    rules: tuple[tuple[str, bool], ...]  # state rule, exercised

    def missing(self) -> list[str]:
        """Every goal not reached, named."""
        return [
            *(
                f"{operation} never answered {status}"
                for operation, status, seen in self.statuses
                if not seen
            ),
            *(f"constraint {name} never swept {side}" for name, side, seen in self.constraints if not seen),
            *(f"state rule never exercised: {STATE_RULES[rule]}" for rule, seen in self.rules if not seen),
        ]

    def line(self) -> str:
        parts = (
            ("statuses", self.statuses),
            ("constraint sides", self.constraints),
            ("state rules", self.rules),
        )
        return "coverage: " + ", ".join(
            f"{sum(1 for goal in goals if goal[-1])}/{len(goals)} {name}" for name, goals in parts
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "statuses": [{"operation": o, "status": s, "returned": seen} for o, s, seen in self.statuses],
            "constraints": [{"constraint": c, "side": s, "swept": seen} for c, s, seen in self.constraints],
            "stateRules": [
                {"rule": r, "description": STATE_RULES[r], "exercised": seen} for r, seen in self.rules
            ],
            "missing": self.missing(),
        }


def measure(contract: Spec, tally: Tally, constraint_goals: Iterable[tuple[str, Side]]) -> Coverage:
    """The run's coverage: ``tally`` set against the spec's statuses, the sweep's goals and the rules."""
    # Copies first (each a single C call, so atomic): the run may add to the tally from another thread.
    answers, rules, swept = set(tally.answers), set(tally.rules), set(tally.constraints)
    routes = _routes(contract)
    returned = {(_operation_of(routes, method, path), str(status)) for method, path, status in answers}
    statuses = []
    for operation in contract.operations.values():
        exempt = contract.get(("paths", operation.path, operation.method.lower())).get(
            "x-coverage-exempt", {}
        )
        for status in operation.responses:
            if status.isdigit() and int(status) < 500 and status not in exempt:
                statuses.append(
                    (operation.operation_id, status, (operation.operation_id, status) in returned)
                )
    constraints = tuple((name, side, (name, side) in swept) for name, side in constraint_goals)
    return Coverage(tuple(statuses), constraints, tuple((rule, rule in rules) for rule in STATE_RULES))
