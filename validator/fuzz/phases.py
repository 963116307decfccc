"""Schemathesis' phases (examples, coverage, fuzzing, stateful) and checks, configured to the contract.

Schemathesis generates the requests and judges the answers; this module only
tells it what the contract allows (``validator.contract``) and turns
each failure into a :class:`Violation` with the exchanges that reproduce it.
Only the fuzz command imports it, so the lint path never loads Schemathesis.
"""

from __future__ import annotations

import copy
import itertools
import math
import threading
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema
from schemathesis.engine.recorder import ScenarioRecorder
from schemathesis.engine.run import PhaseName

from validator import spec as spec_module
from validator.fuzz.progress import Progress
from validator.fuzz.target import BASE, Exchange, Target
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
#: The phases that send test cases (probing and schema analysis only prepare the run).
TESTING = frozenset({PhaseName.EXAMPLES, PhaseName.COVERAGE, PhaseName.FUZZING, PhaseName.STATEFUL_TESTING})


@dataclass(frozen=True)
class PhasesResult:
    """What one run of the phases found."""

    violations: tuple[Violation, ...]
    #: How many test cases (requests generated) Schemathesis ran and the server answered.
    test_cases: int
    #: Engine and network errors worded for a human (not violations), e.g. connection refused.
    errors: tuple[str, ...]


def _exchange(response: schemathesis.Response) -> Exchange:
    request = response.request
    body = request.body.encode() if isinstance(request.body, str) else request.body
    return Exchange(
        str(request.method), str(request.url),
        tuple((name, value if isinstance(value, str) else value.decode("latin-1"))
              for name, value in request.headers.items()),
        body if isinstance(body, bytes) else None, response.status_code,
        tuple((name, value) for name, values in response.headers.items() for value in values),
        response.content,
    )  # fmt: skip


# Registered once, at import (Schemathesis accepts a re-registration from the same module). Its
# registry is global, so the check leaves the operations of any other API alone.
@schemathesis.check
def release_policy_error_body(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case[Any]
) -> bool | None:
    """Section 3: every 4xx and 5xx answer is the JSON ``{code, message}`` with its status's code."""
    if response.status_code < 400 or not case.operation.path.startswith(BASE.format(project="{projectKey}")):
        return None
    problem = error_problem(_exchange(response), response.status_code)
    if problem:
        raise AssertionError(problem)
    return True


@dataclass
class _Keys:
    """The keys a run's project holds (as its answers showed), and the next fresh one's number."""

    held: set[str] = field(default_factory=set)
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


#: The runs under way, by the id of the run's schema.
_RUNS: dict[int, _Keys] = {}


def _operation_id(case: schemathesis.Case[Any]) -> str | None:
    method, path = case.operation.method.upper(), case.operation.path
    found = (
        op.operation_id
        for op in spec_module.bundled().operations.values()
        if (op.method, op.path) == (method, path)
    )
    return next(found, None)


# Schemathesis calls ``before_call`` and ``after_call`` hooks only from its global registry; these
# leave alone the cases of any schema but a run's own (a user's suite may run Schemathesis here too).
@schemathesis.hook
def before_call(ctx: Any, case: schemathesis.Case[Any], **kwargs: Any) -> None:
    """A generated create never reuses a key the project holds, so a 409 never stands in for the 400
    its body earns. Any other key is left as generated (the spec's examples create, then update, theirs).
    """
    keys = _RUNS.get(id(case.operation.schema))
    body = case.body
    if keys is None or _operation_id(case) != "PostReleasePolicy" or not isinstance(body, dict):
        return
    if isinstance(body.get("key"), str) and body["key"] in keys.held:
        case.body = {**body, "key": f"st-{next(keys.counter)}"}


@schemathesis.hook
def after_call(ctx: Any, case: schemathesis.Case[Any], response: schemathesis.Response) -> None:
    """Follow which keys the project holds: created by a 201, gone after a 204."""
    keys = _RUNS.get(id(case.operation.schema))
    if keys is None:
        return
    operation = _operation_id(case)
    if operation == "PostReleasePolicy" and response.status_code == 201 and isinstance(case.body, dict):
        keys.held.add(str(case.body.get("key")))
    elif operation == "DeleteReleasePolicy" and response.status_code == 204:
        keys.held.discard(str((case.path_parameters or {}).get("policyKey")))


def _config(target: Target, seed: int, examples: int, max_time: float | None, workers: int) -> dict[str, Any]:
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
            }
        ],
    }
    if max_time is not None:
        # Whole seconds; Schemathesis splits them among the phases and fuzzes until they are spent.
        config["max-time"] = max(1, math.ceil(max_time))
    return config


def _steps(recorder: ScenarioRecorder, phase: PhaseName, case_id: str, related: tuple[str, ...]) -> list[str]:
    """The cases that reproduce a failure: a stateful scenario's steps up to it, else its own chain."""
    if phase == PhaseName.STATEFUL_TESTING:
        ids = list(recorder.cases)
        return ids[: ids.index(case_id) + 1]
    return [case.id for case in recorder.iter_chain_cases(case_id=case_id, related_case_ids=related)]


def _violations(recorder: ScenarioRecorder, phase: PhaseName) -> Iterator[tuple[Hashable, Violation]]:
    """Each failure of a scenario, keyed by its check, its answer's status and Schemathesis' identity.

    Schemathesis deems two failures the same when they are of one kind on one operation (a schema
    error at one schema keyword, a custom check's one ``raise``). The message alone would not do:
    schema errors quote the generated value and error bodies carry a random id.
    """
    for case_id, checks in recorder.checks.items():
        for check in checks:
            if check.failure_info is None:
                continue
            failure = check.failure_info.failure
            failing = failure.case_id or case_id
            operation = recorder.cases[failing].value.operation.label
            # A custom check's title only says "Custom check failed" and its name; the message says it all.
            title = "" if check.name == ERROR_BODY_CHECK else failure.title
            detail = failure.message.splitlines()[0] if failure.message else ""
            exchanges = tuple(
                _exchange(response)
                for step in _steps(recorder, phase, failing, failure.related_case_ids())
                if (response := recorder.find_response(case_id=step)) is not None
            )
            message = ": ".join(part for part in (operation, title, detail) if part)
            answer = recorder.find_response(case_id=failing)
            status = answer.status_code if answer is not None else 0
            violation = Violation(
                RULES.get(check.name, "response-schema"), message, exchanges, f"schemathesis:{check.name}"
            )
            yield (check.name, status, failure), violation


def _keep_shortest(kept: dict[Hashable, Violation], key: Hashable, violation: Violation) -> None:
    if key not in kept or len(violation.exchanges) < len(kept[key].exchanges):
        kept[key] = violation


def _phase(event: events.EngineEvent) -> tuple[str, str] | None:
    """The phase and a line when a testing phase starts or ends (the status line counts the rest)."""
    if isinstance(event, events.PhaseStarted) and event.phase.name in TESTING:
        return f"schemathesis {event.phase.name.value}", f"{event.phase.name.value}: started"
    if isinstance(event, events.PhaseFinished) and event.phase.name in TESTING:
        return f"schemathesis {event.phase.name.value}", f"{event.phase.name.value}: {event.status.value}"
    return None


def _error(event: events.NonFatalError) -> str:
    extras = event.info.extras
    return f"{event.label}: {event.info.title}: {event.info.message}" + (f" ({extras[0]})" if extras else "")


def _scenario(event: events.ScenarioFinished, progress: Progress, found: dict[Hashable, Violation]) -> int:
    """Count a finished scenario's answers and keep its failures (told the moment they are new)."""
    answered = 0
    for done in event.recorder.interactions.values():
        if done.response is not None:
            answered += 1
            progress.tally.answer(done.request.method, done.request.uri, done.response.status_code)
    assert event.phase is not None
    for key, violation in _violations(event.recorder, event.phase):
        if key not in found:
            progress.violation(violation.check, violation.message)
        _keep_shortest(found, key, violation)
    return answered


def run_phases(
    target: Target,
    *,
    seed: int,
    max_examples: int,
    max_time: float | None = None,
    workers: int = 1,
    progress: Progress | None = None,
) -> PhasesResult:
    """Run Schemathesis' phases against ``target``: one violation per distinct failure, the shortest seen."""
    progress = progress or Progress()
    config = SchemathesisConfig.from_dict(_config(target, seed, max_examples, max_time, workers))
    # Schemathesis changes the document it is given, and the bundled spec is shared by the process.
    data = copy.deepcopy(dict(spec_module.bundled().data))
    schema = schemathesis.openapi.from_dict(data, config=config)
    _RUNS[id(schema)] = _Keys()
    stream = from_schema(schema).execute()
    found: dict[Hashable, Violation] = {}
    errors: dict[str, None] = {}
    # Schemathesis' workers die on some answers (JSON nested too deep to read); the run then goes on
    # without them. Said as an error of the run, not as a traceback on the user's terminal.
    previous_hook = threading.excepthook
    threading.excepthook = lambda died: errors.setdefault(
        f"a Schemathesis worker stopped: {died.exc_type.__name__}: {died.exc_value}", None
    )
    answered = 0
    stopped = interrupted = False
    try:
        for event in stream:
            phase = _phase(event)
            if phase is not None:
                progress.enter(*phase)
            if isinstance(event, events.ScenarioFinished) and event.phase in TESTING:
                answered += _scenario(event, progress, found)
            elif isinstance(event, events.NonFatalError):
                errors[_error(event)] = None
                # A network error (requests' are OSErrors) before any answer: nothing listens there,
                # and the other phases would only generate requests nobody answers.
                if isinstance(event.value, OSError) and not answered:
                    stopped = True
                    stream.stop()
            elif isinstance(event, events.FatalError):
                errors[f"Schemathesis stopped: {event.exception}"] = None
            elif isinstance(event, events.Interrupted):
                # Schemathesis catches Ctrl-C (and reports our own stop the same way).
                interrupted |= not stopped
    finally:
        stream.stop()
        threading.excepthook = previous_hook
        del _RUNS[id(schema)]
    if interrupted:
        raise KeyboardInterrupt  # the caller decides what an interrupted run means
    distinct: dict[Hashable, Violation] = {}
    for violation in found.values():
        _keep_shortest(distinct, (violation.check, violation.message), violation)
    return PhasesResult(tuple(distinct.values()), answered, tuple(errors))
