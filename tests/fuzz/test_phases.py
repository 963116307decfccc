"""Schemathesis' phases: nothing found on the reference server, broken servers caught by its checks."""

from __future__ import annotations

import _thread
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.server.live import READER, WRITER, LiveServer, free_port, live_server
from validator.fuzz.phases import PhasesResult, run_phases
from validator.fuzz.target import Target

Wrapper = Callable[[ASGIApp], ASGIApp]
Where = Callable[[Scope], bool]
ORDER = "POST /api/v2/projects/{projectKey}/release-policies/order"
CREATE = "POST /api/v2/projects/{projectKey}/release-policies"
PUT = "PUT /api/v2/projects/{projectKey}/release-policies/{policyKey}"
GET = "GET /api/v2/projects/{projectKey}/release-policies/{policyKey}"


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


def _forgets_deletes(app: ASGIApp) -> ASGIApp:
    """Answers every DELETE of a policy 204, and deletes nothing."""

    async def changed(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _is("DELETE", item=True)(scope):
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
        else:
            await app(scope, receive, send)

    return changed


#: One server broken five ways, one per operation so that no break hides another: a full run takes
#: some 20 s (the coverage phase alone takes most of it), too long to spend on each break.
BREAKS: dict[str, tuple[str, Wrapper]] = {
    # the check that must catch it: (the operation it names, the breaking layer)
    "not_a_server_error": (
        ORDER,
        _answers(_is("POST", order=True), 400, 500, lambda body: {**body, "code": "internal_error"}),
    ),
    "response_schema_conformance": (
        CREATE,
        _answers(_is("POST"), 201, 201, lambda body: {k: v for k, v in body.items() if k != "rank"}),
    ),
    "negative_data_rejection": (PUT, _answers(_is("PUT", item=True), 400, 200, lambda body: body)),
    "release_policy_error_body": (
        GET,
        _answers(_is("GET", item=True), 404, 404, lambda body: {**body, "code": "invalid_request"}),
    ),
    # the GET after the DELETE shows it
    "use_after_free": (GET, _forgets_deletes),
}


def _broken(app: ASGIApp) -> ASGIApp:
    for _, wrap in BREAKS.values():
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


@pytest.mark.parametrize(("seed", "workers"), [(1, 1), (2, 2)])
def test_reference_server_passes_every_phase(
    seed: int, workers: int, capsys: pytest.CaptureFixture[str]
) -> None:
    paths: list[str] = []
    lines: list[str] = []
    with live_server(wrap=_recording(paths)) as server:
        target = Target(server.url, WRITER, ("default", "other"), READER)
        result = run_phases(target, seed=seed, max_examples=5, workers=workers, progress=lines.append)
    assert [(v.check, v.message) for v in result.violations] == []
    assert result.errors == ()
    assert result.test_cases > 500  # the coverage phase alone sends hundreds
    for phase in ("examples", "coverage", "fuzzing", "stateful"):
        assert f"{phase}: started" in lines
    assert capsys.readouterr() == ("", "")
    # The fuzzer owns the first project: no request went to another one.
    assert all(p.startswith("/api/v2/projects/default/") for p in paths if p.startswith("/api/"))


def test_max_time_bounds_the_run() -> None:
    with live_server() as server:
        started = time.monotonic()
        result = run_phases(Target(server.url, WRITER), seed=3, max_examples=100, max_time=2)
    assert time.monotonic() - started < 10
    assert result.violations == ()
    assert result.test_cases > 0


@pytest.mark.parametrize("check", sorted(BREAKS))
def test_each_break_is_caught_by_its_schemathesis_check(check: str, broken: PhasesResult) -> None:
    found = {(v.check, v.message.split(": ")[0]) for v in broken.violations}
    assert (f"schemathesis:{check}", BREAKS[check][0]) in found, f"found only {sorted(found)}"


def test_every_violation_has_a_rule_and_the_exchanges_that_show_it(broken: PhasesResult) -> None:
    assert broken.errors == ()
    for violation in broken.violations:
        assert violation.check.startswith("schemathesis:")
        assert all((violation.rule, violation.message, violation.exchanges))
        assert all(exchange.status for exchange in violation.exchanges)
    keys = [(v.check, v.message) for v in broken.violations]
    assert len(keys) == len(set(keys))


def test_a_stateful_failure_comes_with_its_whole_sequence(broken: PhasesResult) -> None:
    violation = next(v for v in broken.violations if v.check == "schemathesis:use_after_free")
    *before, last = violation.exchanges
    # The scenario's steps in order, up to the one that shows it: created, deleted, and still there.
    assert (last.method, last.status) == ("GET", 200)
    steps = [(e.method, e.status, e.url) for e in before]
    deleted = steps.index(("DELETE", 204, last.url))
    assert ("POST", 201) in [(method, status) for method, status, _ in steps[:deleted]]


def test_a_refused_connection_is_an_error_not_a_violation() -> None:
    result = run_phases(Target(f"http://127.0.0.1:{free_port()}", WRITER), seed=1, max_examples=5)
    assert result.violations == ()
    assert result.test_cases == 0
    assert len(result.errors) == 1
    assert "Connection refused" in result.errors[0]


def test_ctrl_c_reaches_the_caller(server: LiveServer) -> None:
    # Schemathesis catches KeyboardInterrupt to wind down its workers; the fuzz command must still see it.
    timer = threading.Timer(1, _thread.interrupt_main)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_phases(Target(server.url, WRITER), seed=1, max_examples=5)  # some 20 s if not interrupted
    finally:
        timer.cancel()
