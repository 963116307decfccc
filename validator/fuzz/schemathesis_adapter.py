"""Schemathesis behind one thin adapter: the only module of the fuzzer that imports it.

The rest of the fuzzer speaks its own types (:class:`Exchange`, the events
below, plain callables for hooks and checks), so a Schemathesis upgrade that
moves an internal (the engine's events, its recorder, its hook registry)
changes this module alone. The version range it was written against is
pinned in ``pyproject.toml`` (the ``fuzz`` extra).
"""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import hypothesis
import schemathesis
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema
from schemathesis.engine.recorder import ScenarioRecorder
from schemathesis.engine.run import PhaseName

from validator.fuzz.pacing import Gate, RunStopped
from validator.fuzz.target import Exchange

#: The phases that send test cases (probing and schema analysis only prepare the run).
TESTING = frozenset({PhaseName.EXAMPLES, PhaseName.COVERAGE, PhaseName.FUZZING, PhaseName.STATEFUL_TESTING})


@dataclass(frozen=True)
class Failure:
    """One failed check of a scenario, with the exchanges that reproduce it."""

    #: Schemathesis' identity of the failure: two are the same when of one kind on one operation.
    key: Hashable
    check: str
    operation: str  # "POST /api/v2/..."
    title: str
    message: str
    status: int
    exchanges: tuple[Exchange, ...]


@dataclass(frozen=True)
class PhaseChanged:
    phase: str
    status: str  # "started", or how it finished


@dataclass(frozen=True)
class ScenarioDone:
    #: (method, URL, status) of every answered request.
    answers: tuple[tuple[str, str, int], ...]
    failures: tuple[Failure, ...]


@dataclass(frozen=True)
class EngineError:
    message: str
    #: A network error (nothing listens, the connection broke): the caller may stop the run.
    network: bool = False
    fatal: bool = False


@dataclass(frozen=True)
class Interrupted:
    """Ctrl-C (or the run's own stop), which Schemathesis catches to wind down its workers."""


Event = PhaseChanged | ScenarioDone | EngineError | Interrupted


@dataclass(frozen=True)
class Call:
    """A generated request, about to be sent or just answered, as the hooks see it."""

    method: str
    path: str  # the operation's path template
    body: Any
    path_parameters: Mapping[str, Any]


#: A run's hooks: ``before`` may return a new body for the request; ``after`` sees each answer's status.
Before = Callable[[Call], Any]
After = Callable[[Call, int], None]


@dataclass
class _Hooks:
    before: Before
    after: After
    #: The fuzzer's gate: every request Schemathesis sends, and every resend after a 429, passes it.
    gate: Gate
    #: Why the run had to stop (the budget, a server ignoring its 429s), raised once the engine is done.
    stopped: RunStopped | None = None


class _Halted(Exception):  # an Exception: Schemathesis ends the case on one, not the run
    """The case cannot be sent: the run is stopping."""


#: The hooks of the runs under way, by the id of the run's schema (Schemathesis' registry is global).
_RUNS: dict[int, _Hooks] = {}
_KEEP = object()


def exchange(response: schemathesis.Response) -> Exchange:
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


def _call(case: schemathesis.Case[Any]) -> Call:
    return Call(
        case.operation.method.upper(), case.operation.path, case.body, dict(case.path_parameters or {})
    )


@schemathesis.hook
def before_call(ctx: Any, case: schemathesis.Case[Any], kwargs: dict[str, Any]) -> None:
    hooks = _RUNS.get(id(case.operation.schema))
    if hooks is None:
        return  # a case of another schema (a user's suite may run Schemathesis in this process too)
    body = hooks.before(_call(case))
    if body is not _KEEP:
        case.body = body
    _through_gate(hooks, hooks.gate.admit)
    # requests calls a response hook before anyone sees the answer: a 429 is waited out and resent
    # there, so Schemathesis never judges one (its own `rate-limit: auto` knows only Retry-After).
    kwargs["hooks"] = {"response": [functools.partial(_until_not_limited, hooks)]}


def _through_gate(hooks: _Hooks, step: Callable[[], None]) -> None:
    if hooks.stopped is not None:
        raise _Halted(str(hooks.stopped))
    try:
        step()
    except RunStopped as stop:
        hooks.stopped = stop
        raise _Halted(str(stop)) from None


def _until_not_limited(hooks: _Hooks, response: Any, **send: Any) -> Any:
    in_a_row = 0
    while response.status_code == 429:
        in_a_row += 1
        response.content  # noqa: B018 - read it all, so its connection goes back to the pool
        _through_gate(hooks, functools.partial(hooks.gate.limited_wait, response.headers.items(), in_a_row))
        _through_gate(hooks, hooks.gate.admit)
        response = response.connection.send(response.request, **send)
    return response


@schemathesis.hook
def after_call(ctx: Any, case: schemathesis.Case[Any], response: schemathesis.Response) -> None:
    hooks = _RUNS.get(id(case.operation.schema))
    if hooks is not None:
        hooks.after(_call(case), response.status_code)


def keep() -> Any:
    """What a ``before`` hook returns to leave the body as generated."""
    return _KEEP


def register_check(name: str, judge: Callable[[Exchange, str], str | None]) -> None:
    """A check of every answer (given with its operation's path template): ``judge`` returns what is
    wrong, or None. Registered once per name, at import of the caller."""

    def check(
        ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case[Any]
    ) -> bool | None:
        problem = judge(exchange(response), case.operation.path)
        if problem:
            raise AssertionError(problem)
        return True

    check.__name__ = name
    schemathesis.check(check)


def _steps(recorder: ScenarioRecorder, phase: PhaseName, case_id: str, related: tuple[str, ...]) -> list[str]:
    """The cases that reproduce a failure: a stateful scenario's steps up to it, else its own chain."""
    if phase == PhaseName.STATEFUL_TESTING:
        ids = list(recorder.cases)
        return ids[: ids.index(case_id) + 1]
    return [case.id for case in recorder.iter_chain_cases(case_id=case_id, related_case_ids=related)]


def _failures(recorder: ScenarioRecorder, phase: PhaseName) -> Iterator[Failure]:
    for case_id, checks in recorder.checks.items():
        for check in checks:
            if check.failure_info is None:
                continue
            failure = check.failure_info.failure
            failing = failure.case_id or case_id
            exchanges = tuple(
                exchange(response)
                for step in _steps(recorder, phase, failing, failure.related_case_ids())
                if (response := recorder.find_response(case_id=step)) is not None
            )
            answer = recorder.find_response(case_id=failing)
            yield Failure(
                (check.name, answer.status_code if answer is not None else 0, failure),
                check.name,
                recorder.cases[failing].value.operation.label,
                failure.title,
                failure.message,
                answer.status_code if answer is not None else 0,
                exchanges,
            )


def _event(event: events.EngineEvent) -> Event | None:
    if isinstance(event, events.PhaseStarted) and event.phase.name in TESTING:
        return PhaseChanged(event.phase.name.value, "started")
    if isinstance(event, events.PhaseFinished) and event.phase.name in TESTING:
        return PhaseChanged(event.phase.name.value, event.status.value)
    if isinstance(event, events.ScenarioFinished) and event.phase in TESTING:
        answers = tuple(
            (done.request.method, done.request.uri, done.response.status_code)
            for done in event.recorder.interactions.values()
            if done.response is not None
        )
        assert event.phase is not None
        return ScenarioDone(answers, tuple(_failures(event.recorder, event.phase)))
    if isinstance(event, events.NonFatalError):
        extras = event.info.extras
        message = f"{event.label}: {event.info.title}: {event.info.message}" + (
            f" ({extras[0]})" if extras else ""
        )
        # requests' network errors are OSErrors.
        return EngineError(message, network=isinstance(event.value, OSError))
    if isinstance(event, events.FatalError):
        return EngineError(f"Schemathesis stopped: {event.exception}", fatal=True)
    if isinstance(event, events.Interrupted):
        return Interrupted()
    return None


class Run:
    """One engine run over an OpenAPI document, as a stream of this module's events."""

    def __init__(
        self,
        document: Mapping[str, Any],
        config: dict[str, Any],
        before: Before,
        after: After,
        gate: Gate | None = None,
    ) -> None:
        # Schemathesis changes the document it is given; the caller's may be shared by the process.
        schema = schemathesis.openapi.from_dict(
            copy.deepcopy(dict(document)), config=SchemathesisConfig.from_dict(config)
        )
        self._id = id(schema)
        self._hooks = _Hooks(before, after, gate or Gate())
        _RUNS[self._id] = self._hooks
        self._stream = from_schema(schema).execute()

    def __iter__(self) -> Iterator[Event]:
        # Schemathesis' workers die on some answers (JSON nested too deep to read); the run then goes
        # on without them: said as an error of the run, not as a traceback on the user's terminal.
        died: list[EngineError] = []
        previous_hook = threading.excepthook
        threading.excepthook = lambda dead: died.append(
            EngineError(f"a Schemathesis worker stopped: {dead.exc_type.__name__}: {dead.exc_value}")
        )
        try:
            for raw in self._stream:
                if self._hooks.stopped is not None:
                    break  # the budget is spent (or the server ignores its 429s): nothing more is sent
                yield from died
                died.clear()
                event = _event(raw)
                if event is not None:
                    yield event
            yield from died
        finally:
            self.stop()
            threading.excepthook = previous_hook
        if self._hooks.stopped is not None:
            raise self._hooks.stopped

    def stop(self) -> None:
        self._stream.stop()
        _RUNS.pop(self._id, None)


@functools.cache
def _loaded(path: str) -> Any:
    """A spec file as Schemathesis loads it: once per process, not once per pool of bodies."""
    return schemathesis.openapi.from_path(path)


def draw_bodies(spec_path: str, method: str, path: str, *, negative: bool, seed: int, size: int) -> list[Any]:
    """Up to ``size`` request bodies Schemathesis generates for an operation (``negative``: bodies its
    schema rejects), the same for the same seed."""
    mode = GenerationMode("negative" if negative else "positive")
    cases = _loaded(spec_path)[path][method.upper()].as_strategy(generation_mode=mode)
    drawn: list[Any] = []

    @hypothesis.seed(seed)
    @hypothesis.settings(
        max_examples=size, database=None, deadline=None, phases=[hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
    )  # fmt: skip
    @hypothesis.given(cases)
    def collect(case: Any) -> None:
        drawn.append(case.body)

    collect()
    return drawn
