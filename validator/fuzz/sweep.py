"""The boundary sweep: every constraint of every request schema, just inside and just outside, no randomness.

It runs first in every fuzz run. :mod:`validator.fuzz.boundaries` derives the
bodies from the spec; this module sends them from a known state and lets the
oracle's model judge each answer: an inside body must be accepted, stored and
echoed exactly (and then read back); an outside body must be a 400 with the
contract's error body that changes nothing (a read follows). Creates use a
fresh key each and updates target a policy the sweep created, so no 409 or
404 can mask a gap.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from validator import spec as spec_module
from validator.counts import counted
from validator.fuzz.boundaries import Case, Plan, Side, SweepError, plan
from validator.fuzz.model import operation_id
from validator.fuzz.oracle import ResetFailed, Run, replay
from validator.fuzz.progress import Progress
from validator.fuzz.shard import WHOLE, Shard
from validator.fuzz.steps import Kind, Step
from validator.fuzz.target import Session
from validator.fuzz.violation import Violation
from validator.spec import Spec

#: A server this broken has shown enough; the rest of the sweep would repeat it.
MAX_VIOLATIONS = 40
#: Requests in a row without an answer after which the server is taken to have stopped answering.
MAX_SILENT = 5
#: Cases judged by one read: fewer requests, and a wrong answer sends each case again alone.
BATCH = 16
_KINDS: tuple[Kind, ...] = ("create", "put", "order")


@dataclass
class SweepResult:
    violations: list[Violation] = field(default_factory=list)
    plans: tuple[Plan, ...] = ()
    #: (constraint id, side) of every case the server answered.
    exercised: set[tuple[str, Side]] = field(default_factory=set)
    requests: int = 0
    #: The steps of each violation, from an empty project, for the reproduction reports.
    steps: dict[str, tuple[Step, ...]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


@functools.cache
def plans(contract: Spec) -> tuple[Plan, ...]:
    """The sweep of every operation that takes a body, the seeded ones first (made once per spec)."""
    kinds = {operation_id(Step(kind)): kind for kind in _KINDS}
    return tuple(
        plan(contract, operation.operation_id)
        for operation in contract.operations.values()
        if operation.request_schema is not None and operation.operation_id in kinds
    )


def _fixtures(swept: tuple[Plan, ...], session: Session) -> tuple[str, ...]:
    """The policies the sweep keeps: the keys the order example names (so the order cases, which the
    spec's example makes, apply to them), else one of the run's own."""
    for each in swept:
        base = each.cases[0].body
        if _kind(each) == "order" and isinstance(base, list) and all(isinstance(k, str) for k in base):
            return tuple(base)
    return (session.key("sweep-target"),)


def _kind(swept: Plan) -> Kind:
    return next(kind for kind in _KINDS if operation_id(Step(kind)) == swept.operation_id)


def _create_example(swept: tuple[Plan, ...]) -> dict[str, Any]:
    """The create sweep's starting body (its first case): the example, completed."""
    body: dict[str, Any] = next(each for each in swept if _kind(each) == "create").cases[0].body
    return body


def _fixture_body(swept: tuple[Plan, ...], key: str) -> str:
    return json.dumps({**_create_example(swept), "key": key})


def _request(case: Case, kind: Kind, target: str, base_key: Any, fresh: Iterator[str]) -> Step:
    """The case's request: a create with a fresh key (unless its key is the point), or a PUT of the target."""
    body: Any = case.body
    if kind == "create":
        if isinstance(body, dict) and body.get("key") == base_key:  # the example's key: a fresh one
            body = {**body, "key": next(fresh)}
        return Step("create", body=json.dumps(body))
    if kind == "put":
        return Step("put", target, json.dumps(body))
    return Step("order", body=json.dumps(body))


def _reads(kind: Kind, side: Side, requests: list[Step], target: str) -> list[Step]:
    """What shows the requests' effect: a read, then (for accepted creates) deleting them again."""
    if kind == "put":
        return [Step("get", target)]
    if kind == "create" and side == "inside":
        keys = [step.data().get("key") for step in requests]
        return [Step("list"), *(Step("delete", key) for key in keys if isinstance(key, str))]
    return [Step("list")]


class _Sweep:
    def __init__(self, session: Session, contract: Spec, progress: Progress) -> None:
        self.session, self.contract, self.progress = session, contract, progress
        self.result = SweepResult(plans=plans(contract))
        progress.goals = tuple((c.id, side) for each in self.result.plans for c, side in each.goals)
        self.fixtures = _fixtures(self.result.plans, session)
        self.base_key = _create_example(self.result.plans).get("key")
        self.run = Run(session, contract=contract)
        self.fresh = (session.key(f"sweep-{index}") for index in range(1, 1_000_000))
        self.kind: Kind = "create"  # of the plan being swept

    def setup(self, kind: Kind) -> None:
        """An empty project holding the fixtures, made in reverse so the order example changes their
        ranks; while orders are swept, also a default policy, which every order must leave out."""
        self.run.start()
        self.run.model = type(self.run.model)()
        for key in reversed(self.fixtures):
            self.run.step(Step("create", body=_fixture_body(self.result.plans, key)))
        if kind == "order":
            default = {
                k: v
                for k, v in json.loads(
                    _fixture_body(self.result.plans, self.session.key("sweep-default"))
                ).items()
                if k != "scope"
            }
            self.run.step(Step("create", body=json.dumps(default)))

    def send(self, cases: list[Case], kind: Kind) -> bool:
        """Send the cases' requests, then the reads that judge them; False if a batch went wrong.

        A single case is reported; a batch that went wrong is for the caller to send again case by case,
        unless the project cannot be emptied any more: then the case whose answer was wrong is reported.
        """
        target = self.fixtures[0]
        requests = [_request(case, kind, target, self.base_key, self.fresh) for case in cases]
        steps = [*requests, *_reads(kind, cases[0].side, requests, target)]
        setup = [Step("create", body=json.dumps({"key": p.key, **p.fields})) for p in self.run.model.policies]
        for index, step in enumerate(steps):
            verdict = self.run.step(step)
            if index < len(cases) and self.session.exchanges[-1].status:
                swept = {(c.id, cases[index].side) for c in cases[index].credits}
                self.result.exercised |= swept
                self.progress.tally.constraints |= swept
            if verdict is None:
                continue
            culprit = index if index < len(cases) else 0 if len(cases) == 1 else None
            shown = [*setup, *requests[culprit : (culprit or 0) + 1], *steps[len(cases) : index + 1]]
            if len(cases) == 1 and culprit is not None:
                self.report(cases[culprit], verdict.rule, verdict.message, shown)
            try:
                self.setup(self.kind)
            except ResetFailed:
                if len(cases) > 1 and culprit is not None:
                    self.report(cases[culprit], verdict.rule, verdict.message, shown)
                raise
            return False
        return True

    def batches(self, swept: Plan, cases: list[Case]) -> Iterator[list[Case]]:
        """Runs of ``cases`` one read can judge together: same side, each answered as its side says alone.

        Inside PUTs and orders go one by one: each replaces what the one before did.
        """
        kind, batch = _kind(swept), list[Case]()
        for case in cases:
            alone = (kind, case.side) in (("put", "inside"), ("order", "inside"), ("order", "outside"))
            if batch and (alone or case.side != batch[0].side or len(batch) == BATCH):
                yield batch
                batch = []
            batch.append(case)
        if batch:
            yield batch

    def report(self, case: Case, rule: str, message: str, steps: list[Step]) -> None:
        evidence = tuple(self.session.exchanges)
        try:
            again = replay(self.session, steps)  # from an empty project: the exact reproduction
        except ResetFailed:
            again = None
        if again is not None:
            evidence, rule = again.exchanges, again.verdict.rule
        named = case.credits[0].id if case.credits else case.operation_id
        check = f"sweep:{named}" + ("" if case.side == "outside" else ":inside")
        text = f"{named}, {case.side} ({case.label}): {message}"
        self.result.violations.append(Violation(rule, text, evidence, check))
        self.progress.violation(check, text)
        self.result.steps.setdefault(check, tuple(steps))

    def sweep(self, shard: Shard) -> SweepResult:
        silent = 0  # requests in a row that got no answer
        for swept in self.result.plans:
            cases = shard.mine(swept.cases, _case_name)
            if not cases:
                continue
            self.kind = _kind(swept)
            self.setup(self.kind)
            self.progress.note(f"sweep: {swept.operation_id}, {counted(len(cases), 'body', 'bodies')}")
            for batch in self.batches(swept, cases):
                self.session.exchanges.clear()
                # A read shows a batch went wrong: each of its cases again, alone, to name the one at fault.
                if not self.send(batch, _kind(swept)) and len(batch) > 1:
                    for case in batch:
                        self.session.exchanges.clear()
                        self.send([case], _kind(swept))
                self.result.requests += len(self.session.exchanges)
                if len(self.result.violations) >= MAX_VIOLATIONS:
                    self.result.errors.append(f"the sweep stopped after {MAX_VIOLATIONS} violations")
                    return self.result
                for exchange in self.session.exchanges:
                    silent = 0 if exchange.status else silent + 1
                if silent >= MAX_SILENT:
                    self.result.errors.append(
                        f"the sweep stopped: {MAX_SILENT} requests in a row got no answer"
                    )
                    return self.result
        return self.result


def _case_name(case: Case) -> str:
    """What a shard deals: the constraint a case stands for (both its sides go to one shard)."""
    return case.credits[0].id if case.credits else f"{case.operation_id}:{case.label}"


def run_sweep(
    session: Session, contract: Spec | None = None, progress: Progress | None = None, shard: Shard = WHOLE
) -> SweepResult:
    """Sweep every constraint of ``contract`` (default: the bundled spec) against the session's target;
    of a shard, only the constraints it owns."""
    contract = contract or spec_module.bundled()
    try:
        sweep = _Sweep(session, contract, progress or Progress())
    except SweepError as error:
        return SweepResult(errors=[str(error)])
    try:
        return sweep.sweep(shard)
    except ResetFailed as error:  # the server's DELETE or list is broken: no case starts clean
        sweep.result.violations.append(
            Violation("delete-removes", str(error), tuple(session.exchanges), "sweep:reset")
        )
        return sweep.result
