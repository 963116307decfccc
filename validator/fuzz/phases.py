"""Schemathesis' phases (examples, coverage, fuzzing, stateful) and checks, configured to the contract.

Schemathesis generates the requests and judges the answers; this module only
tells it what the contract allows (``validator.contract``) and turns each
failure into a :class:`Violation` with the exchanges that reproduce it. It
speaks to Schemathesis through ``schemathesis_adapter`` alone; only the fuzz
command imports it, so the lint path never loads Schemathesis.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from validator import spec as spec_module
from validator.fuzz import schemathesis_adapter as engine
from validator.fuzz.pacing import Gate
from validator.fuzz.progress import Progress
from validator.fuzz.shard import WHOLE, Shard
from validator.fuzz.steps import well_formed_key
from validator.fuzz.target import BASE, DEFAULT_PREFIX, Exchange, Owned, Target
from validator.fuzz.violation import Violation, error_problem

ERROR_BODY_CHECK = "release_policy_error_body"
#: Schemathesis check -> the id of the contract rule it enforces (``validator.contract``); any other
#: check enforces ``response-schema``.
RULES = {
    "not_a_server_error": "response-schema",
    "status_code_conformance": "response-schema",
    "response_schema_conformance": "response-schema",
    "response_headers_conformance": "response-schema",
    "negative_data_rejection": "invalid-rejected",
    "positive_data_acceptance": "valid-accepted",
    "content_type_conformance": "json-responses",
    "use_after_free": "read-your-writes",
    "ensure_resource_availability": "read-your-writes",
    "ignored_auth": "auth",
    "missing_required_header": "beta-header",
    "unsupported_method": "method-not-allowed",
    "allow_header_conformance": "method-not-allowed",
    ERROR_BODY_CHECK: "error-shape",
}


@dataclass(frozen=True)
class PhasesResult:
    """What one run of the phases found."""

    violations: tuple[Violation, ...]
    #: How many test cases (requests generated) Schemathesis ran and the server answered.
    test_cases: int
    #: Engine and network errors worded for a human (not violations), e.g. connection refused.
    errors: tuple[str, ...]


def release_policy_error_body(answer: Exchange, path: str) -> str | None:
    """Every 4xx and 5xx answer is the JSON ``{code, message}`` with its status's code (``error-shape``)."""
    if (answer.status or 0) < 400 or not path.startswith(BASE.format(project="{projectKey}")):
        return None
    return error_problem(answer, answer.status or 0)


# Registered once, at import. Schemathesis' registry is global, so the check leaves the operations of
# any other API alone.
engine.register_check(ERROR_BODY_CHECK, release_policy_error_body)


@functools.cache
def _example_strings() -> frozenset[str]:
    """Every string in the spec's examples: the keys its examples create, then update, stay theirs."""
    found: set[str] = set()

    def walk(node: Any, inside: bool) -> None:
        if isinstance(node, dict):
            for name, value in node.items():
                walk(value, inside or name in ("example", "examples"))
        elif isinstance(node, list):
            for value in node:
                walk(value, inside)
        elif inside and isinstance(node, str):
            found.add(node)

    walk(spec_module.bundled().data, False)
    return frozenset(found)


@dataclass
class _Keys:
    """The keys a run's project holds (as its answers showed), and the next fresh one's number."""

    held: set[str] = field(default_factory=set)
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    #: The run's keys: a generated create's key is the run's, so its cleanup deletes it.
    owned: Owned = field(default_factory=Owned)
    #: The run's prefix, which every well-formed generated key is given.
    prefix: str = DEFAULT_PREFIX

    def before(self, call: engine.Call) -> Any:
        """A generated create's well-formed key becomes one of the run's (its prefix and a number), so
        a 409 never stands in for the 400 its body earns and a shared project shows whose it is. A key
        the schema rejects stays (it is the point of the case), and so do the keys of the spec's
        examples (they create, then update, theirs) and the reserved ``order``."""
        body = call.body
        if _operation_id(call) != "PostReleasePolicy" or not isinstance(body, dict):
            return engine.keep()
        key = body.get("key")
        if isinstance(key, str) and (key in self.held or _renamed(key)):
            body = {**body, "key": f"{self.prefix}-st-{next(self.counter)}"}
        if isinstance(body.get("key"), str):
            self.owned.asked(body["key"])
        return body if body is not call.body else engine.keep()

    def after(self, call: engine.Call, status: int) -> None:
        """Follow which keys the project holds: created by a 201, gone after a 204."""
        operation = _operation_id(call)
        if operation == "PostReleasePolicy" and isinstance(call.body, dict):
            self.owned.answered("POST", str(call.body.get("key")), status)
            if status == 201:
                self.held.add(str(call.body.get("key")))
        elif operation == "DeleteReleasePolicy":
            self.owned.answered("DELETE", str(call.path_parameters.get("policyKey")), status)
            if status == 204:
                self.held.discard(str(call.path_parameters.get("policyKey")))


def _renamed(key: str) -> bool:
    """Whether a generated key is given the run's prefix: well-formed, and no example's or reserved."""
    return key != "order" and key not in _example_strings() and well_formed_key(key)


def _operation_id(call: engine.Call) -> str | None:
    found = (
        op.operation_id
        for op in spec_module.bundled().operations.values()
        if (op.method, op.path) == (call.method, call.path)
    )
    return next(found, None)


def _config(
    target: Target, seed: int, examples: int, max_time: float | None, workers: int, *, others: list[str]
) -> dict[str, Any]:
    """The run's configuration, as a ``schemathesis.toml`` would hold it.

    Every built-in check runs; those below expect the contract's statuses rather than Schemathesis'
    generic ones. A 5xx is in each list because ``not_a_server_error`` reports it, once.
    ``max_response_time`` stays off: the contract sets no time limit.
    """
    # 413 is how the contract answers a schema-valid body over 1 MiB; 3xx and 429 it never answers.
    accepted = ["2xx", "401", "403", "404", "409", "413", "5xx"]
    config: dict[str, Any] = {
        "seed": seed,
        "base-url": target.url,
        "workers": workers,
        # Every distinct failure of an operation, not only the first one that Schemathesis meets.
        "continue-on-failure": True,
        # Same seed, same run: nothing replayed from an earlier run (and nothing written to disk).
        "cache": {"enabled": False},
        "generation": {"max-examples": examples, "database": "none"},
        # The fuzzer owns this project; no request may touch another one.
        "parameters": {"path.projectKey": target.projects[0]},
        # As the fuzzer's own client: a redirect is a wrong status (the contract has none), and a
        # request that hangs costs the target's timeout, no more.
        "max-redirects": 0,
        "request-timeout": target.timeout,
        "auth": {"openapi": {"ApiKey": {"api_key": target.token}}},  # the spec's one security scheme
        "checks": {
            "positive_data_acceptance": {"expected-statuses": accepted},
            # The contract's `order-of-checks` rule: a bad request stops at 401, 403, 404, 413 or 400.
            "negative_data_rejection": {"expected-statuses": ["400", "401", "403", "404", "413", "5xx"]},
            # The `beta-header` rule: no LD-API-Version is 403 (Schemathesis holds no Authorization to 401).
            "missing_required_header": {"expected-statuses": ["403"]},
        },
        "operations": [
            {
                # The `order-rejects` rule: an order not exactly the project's scoped keys is a stateful 400.
                "include-operation-id": "PostReleasePoliciesOrder",
                "checks": {"positive_data_acceptance": {"expected-statuses": [*accepted, "400"]}},
            },
            # Another shard's operations.
            *({"include-operation-id": other, "enabled": False} for other in others),
        ],
    }
    if max_time is not None:
        # Whole seconds; Schemathesis splits them among the phases and fuzzes until they are spent.
        config["max-time"] = max(1, math.ceil(max_time))
    return config


def _violation(failure: engine.Failure) -> Violation:
    # A custom check's title only says "Custom check failed" and its name; the message says it all.
    title = "" if failure.check == ERROR_BODY_CHECK else failure.title
    detail = failure.message.splitlines()[0] if failure.message else ""
    message = ": ".join(part for part in (failure.operation, title, detail) if part)
    rule = RULES.get(failure.check, "response-schema")
    return Violation(rule, message, failure.exchanges, f"schemathesis:{failure.check}")


def _keep_shortest(kept: dict[Hashable, Violation], key: Hashable, violation: Violation) -> None:
    if key not in kept or len(violation.exchanges) < len(kept[key].exchanges):
        kept[key] = violation


def _scenario(event: engine.ScenarioDone, progress: Progress, found: dict[Hashable, Violation]) -> int:
    """Count a finished scenario's answers and keep its failures (told the moment they are new).

    Failures are keyed by Schemathesis' identity (one kind on one operation): the message alone would
    not do, as schema errors quote the generated value and error bodies carry a random id.
    """
    for method, url, status in event.answers:
        progress.tally.answer(method, url, status)
    for failure in event.failures:
        violation = _violation(failure)
        if failure.key not in found:
            progress.violation(violation.check, violation.message)
        _keep_shortest(found, failure.key, violation)
    return len(event.answers)


#: The one work item of the phases that is not an operation: the stateful phase needs them all (links).
STATEFUL = "stateful"
_ONLY_STATEFUL = {phase: {"enabled": False} for phase in ("examples", "coverage", "fuzzing")}


def _parts(shard: Shard) -> list[tuple[list[str], dict[str, Any]]]:
    """The engine runs of a shard: (the operations to leave out, the phases' settings) of each."""
    if shard.whole:
        return [([], {})]
    operations = [operation.operation_id for operation in spec_module.bundled().operations.values()]
    mine = shard.mine([*operations, STATEFUL])
    parts: list[tuple[list[str], dict[str, Any]]] = []
    if set(mine) - {STATEFUL}:
        parts.append(([op for op in operations if op not in mine], {STATEFUL: {"enabled": False}}))
    if STATEFUL in mine:
        parts.append(([], _ONLY_STATEFUL))
    return parts


def run_phases(
    target: Target,
    *,
    seed: int,
    max_examples: int,
    max_time: float | None = None,
    workers: int = 1,
    progress: Progress | None = None,
    shard: Shard = WHOLE,
    gate: Gate | None = None,
    owned: Owned | None = None,
    prefix: str = DEFAULT_PREFIX,
) -> PhasesResult:
    """Run Schemathesis' phases against ``target``: one violation per distinct failure, the shortest seen.

    A shard runs the examples, coverage and fuzzing phases of the operations it owns, and the stateful
    phase (over every operation) if it owns that."""
    progress = progress or Progress()
    keys = _Keys(owned=owned or Owned(), prefix=prefix)
    found: dict[Hashable, Violation] = {}
    errors: dict[str, None] = {}
    answered = 0
    stopped = interrupted = False
    for others, phases in _parts(shard):
        config = _config(target, seed, max_examples, max_time, workers, others=others)
        run = engine.Run(
            spec_module.bundled().data, {**config, "phases": phases}, keys.before, keys.after, gate
        )
        for event in run:
            if isinstance(event, engine.PhaseChanged):
                progress.enter(f"schemathesis {event.phase}", f"{event.phase}: {event.status}")
            elif isinstance(event, engine.ScenarioDone):
                answered += _scenario(event, progress, found)
            elif isinstance(event, engine.EngineError):
                errors[event.message] = None
                # A network error before any answer: nothing listens there, and the other phases would
                # only generate requests nobody answers.
                if event.network and not answered:
                    stopped = True
                    run.stop()
            elif isinstance(event, engine.Interrupted):
                # Schemathesis catches Ctrl-C (and reports our own stop the same way).
                interrupted |= not stopped
        if stopped or interrupted:
            break
    if interrupted:
        raise KeyboardInterrupt  # the caller decides what an interrupted run means
    distinct: dict[Hashable, Violation] = {}
    for violation in found.values():
        _keep_shortest(distinct, (violation.check, violation.message), violation)
    return PhasesResult(tuple(distinct.values()), answered, tuple(errors))
