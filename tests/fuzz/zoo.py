"""Deliberately broken servers: the reference server with one contract rule broken, one kind each.

A variant's ``breaks`` runs inside the broken server's own process (see
``zoo_server.py``): it may patch the state rules, the store or the app there
without touching the fuzzer's model, and may return an ASGI layer to wrap
around the app. ``catches`` lists the checks any of which must report it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.server.live import READER, WRITER

Wrapper = Callable[[ASGIApp], ASGIApp]


@dataclass(frozen=True)
class Variant:
    kind: str
    catches: frozenset[str]
    breaks: Callable[[], Wrapper | None]


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


def _headers(change: Callable[[dict[bytes, bytes]], None]) -> Wrapper:
    def scoped(scope: Scope) -> Scope:
        headers = dict(scope["headers"])
        change(headers)
        return {**scope, "headers": list(headers.items())}

    return _requests(scoped)


def _any_token(headers: dict[bytes, bytes]) -> None:
    if headers.get(b"authorization") not in (WRITER.encode(), READER.encode()):
        headers[b"authorization"] = WRITER.encode()


def _beta_always(headers: dict[bytes, bytes]) -> None:
    headers[b"ld-api-version"] = b"beta"


def _reader_is_writer(headers: dict[bytes, bytes]) -> None:
    if headers.get(b"authorization") == READER.encode():
        headers[b"authorization"] = WRITER.encode()


def _json_whatever_sent(headers: dict[bytes, bytes]) -> None:
    if b"content-type" in headers:
        headers[b"content-type"] = b"application/json"


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


def _any_project(scope: Scope) -> Scope:
    parts = scope["path"].split("/")
    if len(parts) > 4 and parts[3] == "projects" and parts[4] not in ("default", "other"):
        parts[4] = "default"
    path = "/".join(parts)
    return {**scope, "path": path, "raw_path": path.encode()}


def _no_query(scope: Scope) -> Scope:
    return {**scope, "query_string": b""}


def _patch(owner: Callable[[], Any], name: str, make: Callable[[Any], Any]) -> Callable[[], None]:
    """A ``breaks`` that replaces ``owner().name`` with ``make(original)``; imports happen in the server."""

    def breaks() -> None:
        where = owner()
        setattr(where, name, make(getattr(where, name)))

    return breaks


def _state() -> Any:
    from validator import state

    return state


def _app() -> Any:
    from validator.server import app

    return app


def _put_not_stored(update: Any) -> Any:
    return lambda self, key, fields: (self, update(self, key, fields)[1])


def _put_merges(update: Any) -> Any:
    return lambda self, key, fields: update(self, key, {**self.get(key).fields, **fields})


def _create_overwrites(create: Any) -> Any:
    def created(self: Any, policy_id: str, key: str, fields: Any) -> Any:
        if any(policy.key == key for policy in self.policies):
            return self.update(key, fields)
        return create(self, policy_id, key, fields)

    return created


def _rank_collides(create: Any) -> Any:
    def created(self: Any, policy_id: str, key: str, fields: Any) -> Any:
        after, policy = create(self, policy_id, key, fields)
        if policy.rank > 1:
            moved = replace(policy, rank=policy.rank - 1)
            return type(self)((*(p for p in after.policies if p.key != key), moved)), moved
        return after, policy

    return created


def _delete_leaves_gap(delete: Any) -> Any:
    return lambda self, key: (self.get(key), type(self)(tuple(p for p in self.policies if p.key != key)))[1]


def _order_forgives_missing(reorder: Any) -> Any:
    def ordered(self: Any, keys: Any) -> Any:
        listed = list(keys)
        missing = [p.key for p in self.scoped if p.key not in listed]
        return reorder(self, listed + missing)

    return ordered


def _order_ignored(reorder: Any) -> Any:
    """Answers as if the order were applied, but keeps the ranks as they were."""
    return lambda self, keys: (self, reorder(self, keys)[1])


def _order_refused_beside_a_default(reorder: Any) -> Any:
    def ordered(self: Any, keys: Any) -> Any:
        if self.default is not None:
            raise _state().InvalidOrder("Default policy key is not allowed in ordering", "order-default-key")
        return reorder(self, keys)

    return ordered


def _crashes_on_non_ascii(body: Any) -> Any:
    async def read(self: Any, request: Any) -> Any:
        data = await body(self, request)
        if any(ord(char) > 127 for char in str(data)):
            raise RuntimeError("the storage layer cannot encode this")
        return data

    return read


def _error_without_code(error: Any) -> Any:
    return lambda failure: _app()._json(failure.status, {"message": failure.message}, failure.headers)


def _racy_submit(submit: Any) -> Any:
    """The operation runs on the project as it was when the request came, and is written 10 ms later."""

    def racing(self: Any, project: str, operation: Any) -> Any:
        snapshot = self._cache.get(project, _state().Project())
        try:
            after, result = operation(snapshot)
        except Exception:  # noqa: BLE001 - refused: let the real path answer it
            return submit(self, project, operation)
        answered: Future[Any] = Future()

        def write_later() -> None:
            time.sleep(0.01)  # a slow storage round trip: every request arriving meanwhile races
            written = submit(self, project, lambda state: (after, result))
            written.add_done_callback(lambda done: answered.set_result(done.result()))

        threading.Thread(target=write_later, daemon=True).start()
        return answered

    return racing


def _store() -> Any:
    from validator.server.store import Store

    return Store


def _state_patch(name: str, make: Callable[[Any], Any]) -> Callable[[], None]:
    return _patch(lambda: _state().Project, name, make)


def _app_patch(owner: str, name: str, make: Callable[[Any], Any]) -> Callable[[], None]:
    return _patch(lambda: getattr(_app(), owner) if owner else _app(), name, make)


def _wrapping(wrapper: Wrapper) -> Callable[[], Wrapper]:
    return lambda: wrapper


def _rankless() -> None:
    state = _state()
    original = state.Policy.to_json
    state.Policy.to_json = lambda self: {k: v for k, v in original(self).items() if k != "rank"}


def _unbounded() -> None:
    app = _app()
    original = app.schema_errors
    app.schema_errors = lambda validator, body: (
        e for e in original(validator, body) if e.keyword != "maximum"
    )


def _racy() -> None:
    _patch(_store, "submit", _racy_submit)()


V = Variant
ZOO: Mapping[str, Variant] = {
    "accepts-any-token": V("auth", frozenset({"unauthenticated"}), _wrapping(_headers(_any_token))),
    "ignores-beta-header": V("headers", frozenset({"beta-header"}), _wrapping(_headers(_beta_always))),
    "reader-may-write": V(
        "roles", frozenset({"reader-cannot-write"}), _wrapping(_headers(_reader_is_writer))
    ),
    "405-without-allow": V(
        "headers", frozenset({"method-not-allowed"}), _wrapping(_responses(_without_allow))
    ),
    "413-as-400": V(
        "status codes", frozenset({"payload-too-large"}), _wrapping(_responses(_status(413, 400)))
    ),
    "create-answers-200": V(
        "status codes",
        frozenset({"oracle:valid-accepted", "schemathesis:status_code_conformance"}),
        _wrapping(_responses(_status(201, 200))),
    ),
    "conflicts-as-400": V(
        "status codes",
        frozenset({"oracle:unique-keys", "oracle:one-default"}),
        _wrapping(_responses(_status(409, 400))),
    ),
    "malformed-json-is-500": V(
        "robustness", frozenset({"malformed-bodies"}), _wrapping(_responses(_status(400, 500)))
    ),
    "ignores-content-type": V(
        "content type", frozenset({"malformed-bodies"}), _wrapping(_headers(_json_whatever_sent))
    ),
    "errors-as-text": V(
        "error shape", frozenset({"unauthenticated"}), _wrapping(_responses(_errors_as_text))
    ),
    "error-without-code": V(
        "error shape",
        frozenset({"unauthenticated", "oracle:error-shape", "schemathesis:release_policy_error_body"}),
        _app_patch("", "_error", _error_without_code),
    ),
    "projects-shared": V("isolation", frozenset({"isolation"}), _wrapping(_requests(_one_project))),
    "any-project": V("status codes", frozenset({"unknown-project"}), _wrapping(_requests(_any_project))),
    "list-ignores-exclude-default": V("list", frozenset({"oracle:list"}), _wrapping(_requests(_no_query))),
    "allocation-unbounded": V(
        "validation gap",
        frozenset(
            {
                "sweep:PostReleasePolicy:guardedReleaseConfig.stages[0].allocation:maximum",
                "oracle:invalid-rejected",
                "schemathesis:negative_data_rejection",
            }
        ),
        _unbounded,
    ),
    "rank-missing": V(
        "response shape",
        frozenset({"oracle:ranks", "oracle:response-schema", "schemathesis:response_schema_conformance"}),
        _rankless,
    ),
    "put-not-stored": V(
        "persistence",
        frozenset({"oracle:read-your-writes", "oracle:ranks"}),
        _state_patch("update", _put_not_stored),
    ),
    "duplicate-key-overwrites": V(
        "uniqueness",
        frozenset({"oracle:unique-keys"}),
        _state_patch("create", _create_overwrites),
    ),
    "two-defaults": V(
        "default policy",
        frozenset({"oracle:one-default"}),
        _state_patch("_refuse_second_default", lambda original: lambda self, key: None),
    ),
    "new-rank-collides": V("ranks", frozenset({"oracle:ranks"}), _state_patch("create", _rank_collides)),
    "order-forgives-missing": V(
        "order",
        frozenset({"oracle:order-rejects"}),
        _state_patch("reorder", _order_forgives_missing),
    ),
    "order-ignored": V(
        "order",
        frozenset({"sweep:PostReleasePoliciesOrder:inside", "oracle:ranks", "oracle:order-applies"}),
        _state_patch("reorder", _order_ignored),
    ),
    "order-refused-beside-a-default": V(
        "order",
        frozenset({"sweep:PostReleasePoliciesOrder:inside", "oracle:order-applies", "oracle:valid-accepted"}),
        _state_patch("reorder", _order_refused_beside_a_default),
    ),
    "put-merges": V("PUT semantics", frozenset({"oracle:put-replaces"}), _state_patch("update", _put_merges)),
    "delete-leaves-gap": V(
        "delete",
        frozenset({"oracle:ranks", "oracle:delete-removes"}),
        _state_patch("delete", _delete_leaves_gap),
    ),
    "unicode-crashes": V(
        "robustness",
        frozenset({"oracle:valid-accepted", "schemathesis:not_a_server_error"}),
        _app_patch("_Endpoint", "_body", _crashes_on_non_ascii),
    ),
    "racy-writes": V("concurrency", frozenset({"concurrent-writes"}), _racy),
}


# Servers for the nightly job's tests: a real API limits its rate and drifts from the spec. Each records
# every request it gets (``GET /__log``: arrival time, token, method, path, status), so a test counts
# from the server's side.


@dataclass(frozen=True)
class Nightly:
    #: ``serve --rate-limit``'s rate (None: unlimited) and what the server does besides.
    rate_limit: str | None
    breaks: Callable[[], Wrapper | None]


def _limited_without(*names: bytes) -> Wrapper:
    """429s that carry neither of ``names`` (the headers the reference server's limiter sends)."""

    def strip(message: Message) -> Message:
        if message["status"] != 429:
            return message
        return {**message, "headers": [(k, v) for k, v in message["headers"] if k.lower() not in names]}

    return _responses(strip)


def _created_at() -> None:
    """LaunchDarkly adds a member to every policy it answers."""
    state = _state()
    original = state.Policy.to_json
    state.Policy.to_json = lambda self: {**original(self), "createdAt": 1767225600000}


def _new_release_method() -> None:
    """LaunchDarkly answers a release method the spec does not list."""
    state = _state()
    original = state.Policy.to_json
    state.Policy.to_json = lambda self: {**original(self), "releaseMethod": "canary-release"}


NIGHTLY: Mapping[str, Nightly] = {
    "recorded": Nightly(None, lambda: None),
    "limited": Nightly("20/s", lambda: None),
    "limited-reset-only": Nightly("20/s", _wrapping(_limited_without(b"retry-after"))),
    "limited-no-headers": Nightly("20/s", _wrapping(_limited_without(b"retry-after", b"x-ratelimit-reset"))),
    "drift-member": Nightly(None, _created_at),
    "drift-status": Nightly(None, _wrapping(_responses(_status(201, 202)))),
    "drift-enum": Nightly(None, _new_release_method),
}


def recording(app: ASGIApp) -> ASGIApp:
    """``app``, recording each request and answering ``GET /__log`` with the record (not recorded)."""
    log: list[dict[str, Any]] = []

    async def recorded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        if scope["path"] == "/__log":
            body = json.dumps(log).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        entry = {
            "at": time.monotonic(),
            "token": dict(scope["headers"]).get(b"authorization", b"").decode("latin-1"),
            "method": scope["method"],
            "path": scope["path"],
            "status": 0,
        }
        log.append(entry)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
            await send(message)

        await app(scope, receive, sending)

    return recorded
