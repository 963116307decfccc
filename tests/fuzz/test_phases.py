"""Schemathesis' phases: nothing found on the reference server, broken servers caught by its checks."""

from __future__ import annotations

import _thread
import json
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.server.live import READER, WRITER, LiveServer, free_port, live_server
from validator.fuzz.phases import PhasesResult, run_phases
from validator.fuzz.progress import Progress
from validator.fuzz.target import Target

Wrapper = Callable[[ASGIApp], ASGIApp]
Where = Callable[[Scope], bool]
ORDER = "POST /api/v2/projects/{projectKey}/release-policies/order"
CREATE = "POST /api/v2/projects/{projectKey}/release-policies"
PUT = "PUT /api/v2/projects/{projectKey}/release-policies/{policyKey}"


def _is(method: str, *, item: bool = False, order: bool = False) -> Where:
    """Requests of ``method`` to a policy (``item``), to the order operation, or to the collection."""

    def where(scope: Scope) -> bool:
        path = scope["path"].removesuffix("/")
        at_item = path.count("/") == 6 and not path.endswith("/order")
        return scope["method"] == method and path.endswith("/order") == order and at_item == item

    return where


def _answers(where: Where, status: int, new_status: int, change: Callable[[Any], Any]) -> Wrapper:
    """Where the server answered ``status``, answer ``new_status`` and the changed JSON body instead."""

    def wrap(app: ASGIApp) -> ASGIApp:
        async def changed(scope: Scope, receive: Receive, send: Send) -> None:
            held: list[Message] = []

            async def sending(message: Message) -> None:
                if message["type"] == "http.response.start" and message["status"] == status:
                    held.append(message)  # until its body, whose length changes
                elif message["type"] == "http.response.body" and held:
                    body = json.dumps(change(json.loads(message["body"]))).encode()
                    headers = [(k, v) for k, v in held[0]["headers"] if k.lower() != b"content-length"]
                    headers.append((b"content-length", str(len(body)).encode()))
                    await send({**held.pop(), "status": new_status, "headers": headers})
                    await send({**message, "body": body})
                else:
                    await send(message)

            await app(scope, receive, sending if scope["type"] == "http" and where(scope) else send)

        return changed

    return wrap


NOT_REPLICATED = (
    {"type": "http.response.start", "status": 500, "headers": [(b"content-type", b"application/json")]},
    {"type": "http.response.body", "body": b'{"code": "internal_error", "message": "not replicated yet"}'},
)


def _reads_lag_behind(app: ASGIApp) -> ASGIApp:
    """Answers 500 to the request right after a create if it reads or writes the policy just created.

    Only a sequence of requests shows it: Schemathesis' stateful phase, which follows the spec's links.
    """
    created: list[str] = []  # the key just created, until the next request with the token

    async def changed(scope: Scope, receive: Receive, send: Send) -> None:
        # Schemathesis' auth checks send requests without the token in between; they do not count.
        if scope["type"] != "http" or dict(scope["headers"]).get(b"authorization") != WRITER.encode():
            await app(scope, receive, send)
            return
        just, created[:] = created[:], []
        if just and scope["path"].endswith(f"/release-policies/{just[0]}"):
            for message in NOT_REPLICATED:
                await send(message)
            return
        statuses: list[int] = []

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])
            elif statuses == [201]:
                created.append(json.loads(message["body"])["key"])
            await send(message)

        await app(scope, receive, sending)

    return changed


#: One server broken four ways, none hiding another (a full run takes some 20 s, the coverage phase
#: most of it: too long to spend on each break). Each is found whatever data a seed draws: by the
#: spec's examples, the coverage phase's enumeration of invalid bodies, or the stateful phase.
BREAKS: tuple[Wrapper, ...] = (
    _answers(_is("POST", order=True), 400, 500, lambda body: body),  # a 500 coded invalid_request
    _answers(_is("POST"), 201, 201, lambda body: {k: v for k, v in body.items() if k != "rank"}),
    _answers(_is("PUT", item=True), 400, 200, lambda body: body),
    _reads_lag_behind,
)
CAUGHT = [
    ("not_a_server_error", ORDER),
    ("release_policy_error_body", ORDER),
    ("response_schema_conformance", CREATE),
    ("negative_data_rejection", PUT),
]


def _broken(app: ASGIApp) -> ASGIApp:
    for wrap in BREAKS:
        app = wrap(app)
    return app


@pytest.fixture(scope="module")
def broken() -> Iterator[PhasesResult]:
    with live_server(wrap=_broken) as server:
        yield run_phases(Target(server.url, WRITER), seed=1, max_examples=5)


def _recording(paths: list[str]) -> Wrapper:
    def wrap(app: ASGIApp) -> ASGIApp:
        async def recorded(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                paths.append(scope["path"])
            await app(scope, receive, send)

        return recorded

    return wrap


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "workers"), [(1, 1), (2, 2)])
def test_reference_server_passes_every_phase(
    seed: int, workers: int, capsys: pytest.CaptureFixture[str]
) -> None:
    paths: list[str] = []
    lines: list[str] = []
    with live_server(wrap=_recording(paths)) as server:
        target = Target(server.url, WRITER, ("default", "other"), READER)
        progress = Progress(note=lines.append)
        result = run_phases(target, seed=seed, max_examples=5, workers=workers, progress=progress)
    assert [(v.check, v.message) for v in result.violations] == []
    assert result.errors == ()
    assert result.test_cases > 500  # the coverage phase alone sends hundreds
    for phase in ("examples", "coverage", "fuzzing", "stateful"):
        assert f"{phase}: started" in lines
    assert len(lines) == 8  # each phase starting and ending, never a line per operation
    # Every answer is counted, and the phases reach statuses the contract documents on each operation.
    assert progress.tally.requests >= result.test_cases
    assert capsys.readouterr() == ("", "")
    # The fuzzer owns the first project: no request went to another one.
    assert all(p.startswith("/api/v2/projects/default/") for p in paths if p.startswith("/api/"))


def test_max_time_bounds_the_run() -> None:
    with live_server() as server:
        started = time.monotonic()
        # A thousand examples per operation and phase would take many minutes.
        result = run_phases(Target(server.url, WRITER), seed=3, max_examples=1000, max_time=2)
    assert time.monotonic() - started < 30  # a generated case is never cut short, hence the slack
    assert result.violations == ()
    assert result.test_cases > 0


@pytest.mark.slow
@pytest.mark.parametrize(("check", "operation"), CAUGHT)
def test_each_break_is_caught_by_a_schemathesis_check(
    check: str, operation: str, broken: PhasesResult
) -> None:
    found = {(v.check, v.message.split(": ")[0]) for v in broken.violations}
    assert (f"schemathesis:{check}", operation) in found, f"found only {sorted(found)}"


@pytest.mark.slow
def test_every_violation_has_a_rule_and_the_exchanges_that_show_it(broken: PhasesResult) -> None:
    assert broken.errors == ()
    for violation in broken.violations:
        assert violation.check.startswith("schemathesis:")
        assert all((violation.rule, violation.message, violation.exchanges))
        assert all(exchange.status for exchange in violation.exchanges)
    keys = [(v.check, v.message) for v in broken.violations]
    assert len(keys) == len(set(keys))


@pytest.mark.slow
def test_a_stateful_failure_comes_with_its_whole_sequence(broken: PhasesResult) -> None:
    lagging = next(
        v for v in broken.violations
        if v.check == "schemathesis:not_a_server_error" and "{policyKey}" in v.message.split(": ")[0]
    )  # fmt: skip
    *before, last = lagging.exchanges
    # The scenario's steps in order, up to the one that shows it: the create, then the 500 on it.
    assert last.status == 500
    create = next(e for e in reversed(before) if (e.method, e.status) == ("POST", 201))
    assert last.url.endswith("/" + create.json()["key"])


def test_a_refused_connection_is_an_error_not_a_violation() -> None:
    result = run_phases(Target(f"http://127.0.0.1:{free_port()}", WRITER), seed=1, max_examples=5)
    assert result.violations == ()
    assert result.test_cases == 0
    assert len(result.errors) == 1
    assert "Connection refused" in result.errors[0]


@pytest.mark.slow
def test_ctrl_c_reaches_the_caller(server: LiveServer) -> None:
    # Schemathesis catches KeyboardInterrupt to wind down its workers; the fuzz command must still see it.
    # A suite started in the background inherits SIGINT ignored: Python's own handler makes Ctrl-C
    # (here simulated by interrupt_main) a KeyboardInterrupt again, for this test only.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(1, _thread.interrupt_main)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_phases(Target(server.url, WRITER), seed=1, max_examples=5)  # some 20 s if not interrupted
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)


def _create_answers(answers: list[tuple[object, int, bytes]]) -> Wrapper:
    """Records (key sent, status, body) of every create a writer sends.

    Schemathesis' auth and header checks re-send a case without them: those never reach the store.
    """

    def wrap(app: ASGIApp) -> ASGIApp:
        async def recording(scope: Scope, receive: Receive, send: Send) -> None:
            headers = dict(scope.get("headers", []))
            writer = headers.get(b"authorization") == WRITER.encode() and b"ld-api-version" in headers
            if scope["type"] != "http" or not _is("POST")(scope) or not writer:
                await app(scope, receive, send)
                return
            message = await receive()
            try:
                body = json.loads(message.get("body", b""))
            except ValueError:
                body = None
            key = body.get("key") if isinstance(body, dict) else None
            status: list[int] = []

            async def replay() -> Message:
                return message

            async def sending(sent: Message) -> None:
                if sent["type"] == "http.response.start":
                    status.append(sent["status"])
                else:
                    answers.append((key, status[0], sent.get("body", b"")))
                await send(sent)

            await app(scope, replay, sending)

        return recording

    return wrap


@pytest.mark.slow
def test_no_generated_create_reuses_a_key_the_project_holds() -> None:
    # A create that reused an existing key would earn a 409 instead of the 400 its body deserves,
    # and Schemathesis would take the 409 for a rejection: no validation gap could show.
    answers: list[tuple[object, int, bytes]] = []
    with live_server(wrap=_create_answers(answers)) as server:
        run_phases(Target(server.url, WRITER), seed=3, max_examples=5)
    assert [body for _, status, body in answers if status == 409 and b"exists already" in body] == []
    renamed = [key for key, _, _ in answers if isinstance(key, str) and key.startswith("rpv-st-")]
    assert renamed  # the spec's example is created more than once: later ones get fresh keys
    assert len(set(renamed)) == len(renamed)
