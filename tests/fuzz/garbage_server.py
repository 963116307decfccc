"""A server that answers garbage, one way per mode, to prove that a broken server never crashes the fuzzer.

It is the reference server behind an ASGI layer: the first ``after`` requests
(by default the fuzzer's preflight) are answered correctly, so the run starts,
and garbage comes afterwards. ``python -m tests.fuzz.garbage_server MODE
[AFTER]`` prints the server's URL, then serves until its standard input
closes; :func:`garbage_server` starts and stops it, in a process of its own so
that a 50 MB answer or a hung request never weighs on the fuzzer's process.

Modes: ``not-json`` (2xx bodies that are not JSON), ``not-object`` (JSON of
another kind where an object or array is due), ``wrong-types`` (every member
at one depth, by request, of another JSON type, error bodies too),
``too-deep`` (2xx bodies nested 100 000 levels), ``closes`` (the connection
closed unanswered), ``hangs`` (no answer), ``redirect`` (302 and 307 to the
same request elsewhere on the server), ``huge`` (50 MB 2xx answers) and
``mixed`` (the cheap ones in turn, with correct answers among them).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.support import served

#: The requests of the fuzzer's preflight: a GET per project (two), a count, and the two lists
#: that empty the project. They are answered correctly unless a test asks for fewer.
PREFLIGHT = 5
#: Where ``redirect`` sends a request: the same server, which answers there correctly, so only a
#: client that follows redirects would miss that the contract has none.
MOVED = "/moved"
HUGE_BYTES = 50 * 1024 * 1024
#: Bodies that are not JSON (1e400 is, but no float holds it), each sent as application/json so that
#: the fuzzer gets as far as reading them.
NOT_JSON = (
    b"<html><body>Service unavailable</body></html>",
    b'{"items": [',
    b"\xff\xfe\xfd not UTF-8",
    b"",
    b"NaN",
    b'{"items": [], "totalCount": 1e400}',
    b'{"key": "a"} {"key": "b"}',
)
#: Valid JSON nested far deeper than any parser's stack: each read of it must be bounded.
TOO_DEEP = b"[" * 100_000 + b"]" * 100_000
#: JSON where an object is due (an order's answer, an array, gets an object instead).
NOT_OBJECT = (b"[]", b'"\\ud800 a lone surrogate"', b"42", b"null", b"true", b'[{"items": []}]')

Handler = Callable[[ASGIApp, int, Scope, Receive, Send], Awaitable[None]]


@dataclass
class Answer:
    """The reference server's answer to a request, held back so that it can be spoiled."""

    status: int = 500
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""


async def answer_of(app: ASGIApp, scope: Scope, receive: Receive) -> Answer:
    answer = Answer()

    async def capture(message: Message) -> None:
        if message["type"] == "http.response.start":
            answer.status, answer.headers = message["status"], list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            answer.body += message.get("body", b"")

    await app(scope, receive, capture)
    return answer


async def send_answer(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    kept = [(name, value) for name, value in headers if name.lower() != b"content-length"]
    length = (b"content-length", str(len(body)).encode())
    await send({"type": "http.response.start", "status": status, "headers": [*kept, length]})
    await send({"type": "http.response.body", "body": body})


def spoiling(spoil: Callable[[int, Answer], bytes | None]) -> Handler:
    """A handler that sends the reference answer's status with the body ``spoil`` makes (None: kept)."""

    async def handle(app: ASGIApp, count: int, scope: Scope, receive: Receive, send: Send) -> None:
        answer = await answer_of(app, scope, receive)
        spoiled = spoil(count, answer)
        await send_answer(send, answer.status, answer.headers, answer.body if spoiled is None else spoiled)

    return handle


def _not_json(count: int, answer: Answer) -> bytes | None:
    return NOT_JSON[count % len(NOT_JSON)] if 200 <= answer.status < 300 and answer.body else None


def _not_object(count: int, answer: Answer) -> bytes | None:
    if not (200 <= answer.status < 300 and answer.body):
        return None
    return b'{"0": "first"}' if answer.body.startswith(b"[") else NOT_OBJECT[count % len(NOT_OBJECT)]


def _too_deep(count: int, answer: Answer) -> bytes | None:
    return TOO_DEEP if 200 <= answer.status < 300 and answer.body else None


def _wrong_types(count: int, answer: Answer) -> bytes | None:
    """Every member at one depth (0 to 5, by request) given another JSON type; errors too."""
    if not answer.body:
        return None
    return json.dumps(retyped(json.loads(answer.body), (count // 2) % 6, count % 2)).encode()


def retyped(value: Any, depth: int, variant: int) -> Any:
    """``value`` with every member ``depth`` levels down of another JSON type (two choices: ``variant``)."""
    if depth == 0:
        return other_type(value, variant)
    if isinstance(value, dict):
        return {name: retyped(member, depth - 1, variant) for name, member in value.items()}
    if isinstance(value, list):
        return [retyped(member, depth - 1, variant) for member in value]
    return value


def other_type(value: Any, variant: int) -> Any:
    """At depth 1 of a list: items an object or numbers, totalCount a string or a list; deeper, _id a
    number, rank a string, scope a list, and so on."""
    if isinstance(value, bool):
        return ("true", 1)[variant]
    if isinstance(value, (int, float)):
        return (str(value), [value])[variant]
    if isinstance(value, str):
        return (len(value), {"value": value})[variant]
    if isinstance(value, list):
        return ({str(index): member for index, member in enumerate(value)}, list(range(len(value))))[variant]
    if isinstance(value, dict):
        return (list(value.values()), len(value))[variant]
    return (0, "null")[variant]


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _closes(app: ASGIApp, count: int, scope: Scope, receive: Receive, send: Send) -> None:
    """Every write and every other read (the first one too): the connection closed without an answer."""
    if scope["method"] == "GET" and count % 2 == 0:
        await app(scope, receive, send)
        return
    # ASGI has no message to drop a request unanswered; uvicorn's receive is a method of the
    # request's cycle, which holds the connection's transport.
    receive.__self__.transport.close()  # type: ignore[attr-defined]
    await _until_disconnect(receive)


async def _hangs(app: ASGIApp, count: int, scope: Scope, receive: Receive, send: Send) -> None:
    """Every write and every fourth read (the first one too): no answer until the client gives up."""
    if scope["method"] == "GET" and count % 4 != 1:
        await app(scope, receive, send)
        return
    await _until_disconnect(receive)


async def _redirect(app: ASGIApp, count: int, scope: Scope, receive: Receive, send: Send) -> None:
    """302 and 307 in turn, to the same request under MOVED on the same server."""
    host, port = scope["server"]
    path = scope.get("raw_path") or scope["path"].encode()
    query = b"?" + scope["query_string"] if scope["query_string"] else b""
    location = f"http://{host}:{port}{MOVED}".encode() + path + query
    await send_answer(send, (302, 307)[count % 2], [(b"location", location)], b"")


async def _huge(app: ASGIApp, count: int, scope: Scope, receive: Receive, send: Send) -> None:
    """Every 2xx: a 50 MB JSON object, sent a MiB at a time (the client may stop reading it)."""
    answer = await answer_of(app, scope, receive)
    if not 200 <= answer.status < 300:
        await send_answer(send, answer.status, answer.headers, answer.body)
        return
    head, tail, chunk = b'{"items": [], "totalCount": 0, "padding": "', b'"}', b"x" * 2**20
    headers = [(b"content-type", b"application/json"), (b"content-length", str(HUGE_BYTES).encode())]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": head, "more_body": True})
    padding = HUGE_BYTES - len(head) - len(tail)
    for _ in range(padding // len(chunk)):
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": chunk[: padding % len(chunk)] + tail})


async def _correct(app: ASGIApp, count: int, scope: Scope, receive: Receive, send: Send) -> None:
    await app(scope, receive, send)


HANDLERS: dict[str, Handler] = {
    "not-json": spoiling(_not_json),
    "not-object": spoiling(_not_object),
    "wrong-types": spoiling(_wrong_types),
    "too-deep": spoiling(_too_deep),
    "closes": _closes,
    "hangs": _hangs,
    "redirect": _redirect,
    "huge": _huge,
}


#: What ``mixed`` turns between: the garbage that costs the fuzzer no time, and a correct answer.
MIXED = ("not-json", "not-object", "wrong-types", "closes", "redirect", "correct")


async def _mixed(app: ASGIApp, count: int, scope: Scope, receive: Receive, send: Send) -> None:
    """A different kind of garbage for each request, and a correct answer among them, so some writes stick."""
    mode = MIXED[count % len(MIXED)]
    await (_correct if mode == "correct" else HANDLERS[mode])(app, count, scope, receive, send)


MODES: dict[str, Handler] = {**HANDLERS, "mixed": _mixed}


def garbage(mode: str, after: int = PREFLIGHT) -> Callable[[ASGIApp], ASGIApp]:
    """An ASGI layer that answers the first ``after`` requests correctly and the rest as ``mode`` says."""
    handler = MODES[mode]

    def wrap(app: ASGIApp) -> ASGIApp:
        count = 0

        async def spoiled(scope: Scope, receive: Receive, send: Send) -> None:
            nonlocal count
            if scope["type"] != "http":
                await app(scope, receive, send)
            elif scope["path"].startswith(MOVED + "/"):
                path = scope["path"][len(MOVED) :]
                await app({**scope, "path": path, "raw_path": path.encode()}, receive, send)
            else:
                count += 1
                await (_correct if count <= after else handler)(app, count, scope, receive, send)

        return spoiled

    return wrap


def garbage_server(mode: str, after: int = PREFLIGHT) -> AbstractContextManager[str]:
    """The URL of a reference server that answers garbage as ``mode`` says after ``after`` requests."""
    return served("tests.fuzz.garbage_server", mode, str(after))


def main(mode: str, after: int) -> None:
    from tests.server.live import live_server

    with live_server(wrap=garbage(mode, after)) as server:
        print(server.url, flush=True)
        sys.stdin.read()  # until the test closes the pipe


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else PREFLIGHT)
