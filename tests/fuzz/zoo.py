"""Deliberately broken servers: the reference server behind a layer that breaks one contract rule.

Each entry maps a name to a wrapper of the ASGI app; the fuzzer's tests
assert that it finds every one, and finds nothing on the correct server.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.server.live import READER, WRITER

Wrapper = Callable[[ASGIApp], ASGIApp]


def _headers(scope: Scope, change: Callable[[dict[bytes, bytes]], None]) -> Scope:
    headers = dict(scope["headers"])
    change(headers)
    return {**scope, "headers": list(headers.items())}


def _requests(change: Callable[[Scope], Scope]) -> Wrapper:
    def wrap(app: ASGIApp) -> ASGIApp:
        async def changed(scope: Scope, receive: Receive, send: Send) -> None:
            await app(change(scope) if scope["type"] == "http" else scope, receive, send)

        return changed

    return wrap


def _responses(change: Callable[[Message], Message]) -> Wrapper:
    def wrap(app: ASGIApp) -> ASGIApp:
        async def changed(scope: Scope, receive: Receive, send: Send) -> None:
            async def sending(message: Message) -> None:
                await send(change(message) if message["type"] == "http.response.start" else message)

            await app(scope, receive, sending)

        return changed

    return wrap


def _any_token(headers: dict[bytes, bytes]) -> None:
    if headers.get(b"authorization") not in (WRITER.encode(), READER.encode()):
        headers[b"authorization"] = WRITER.encode()


def _beta_always(headers: dict[bytes, bytes]) -> None:
    headers[b"ld-api-version"] = b"beta"


def _reader_is_writer(headers: dict[bytes, bytes]) -> None:
    if headers.get(b"authorization") == READER.encode():
        headers[b"authorization"] = WRITER.encode()


def _status(old: int, new: int) -> Callable[[Message], Message]:
    return lambda message: {**message, "status": new} if message["status"] == old else message


def _without_allow(message: Message) -> Message:
    return {**message, "headers": [(k, v) for k, v in message["headers"] if k.lower() != b"allow"]}


def _errors_as_text(message: Message) -> Message:
    if message["status"] < 400:
        return message
    headers = [(k, v) for k, v in message["headers"] if k.lower() != b"content-type"]
    return {**message, "headers": [*headers, (b"content-type", b"text/plain")]}


def _one_project(scope: Scope) -> Scope:
    path = scope["path"].replace("/projects/other/", "/projects/default/")
    return {**scope, "path": path, "raw_path": path.encode()}


ZOO: dict[str, tuple[str, Wrapper]] = {
    # name: (the probe that must catch it, the breaking layer)
    "accepts-any-token": ("unauthenticated", _requests(lambda s: _headers(s, _any_token))),
    "ignores-beta-header": ("beta-header", _requests(lambda s: _headers(s, _beta_always))),
    "reader-may-write": ("reader-cannot-write", _requests(lambda s: _headers(s, _reader_is_writer))),
    "405-without-allow": ("method-not-allowed", _responses(_without_allow)),
    "413-as-400": ("payload-too-large", _responses(_status(413, 400))),
    "malformed-json-is-500": ("malformed-bodies", _responses(_status(400, 500))),
    "errors-as-text": ("unauthenticated", _responses(_errors_as_text)),
    "projects-shared": ("isolation", _requests(_one_project)),
}
