"""The reference server's HTTP adapter: the contract's sections 2 and 3 (spec/CONTRACT.md) over Starlette.

The order of checks is the contract's: 401 (token), 403 (beta header), 405
(method), 403 (a reader writing), 404 (project, then policy), 413 (size),
400 (content type, JSON, schema, order), 409 (state). Routes, methods, error
codes and the body limit come from the spec, state rules from
``validator.state``, storage from the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from validator import spec as spec_module
from validator.documents import DocumentError, decode
from validator.json_reader import parse_json
from validator.schema_errors import schema_errors
from validator.schema_shapes import drop_undeclared
from validator.server import ratelimit
from validator.server.store import ProjectLimitReached, Storage, StoreError
from validator.state import Project, StateError, stored_fields

Role = Literal["writer", "reader"]
READ_METHODS = frozenset({"GET", "HEAD"})
BETA_MESSAGE = "LD-API-Version must be beta: release policies are a beta resource"


class HTTPError(Exception):
    """An answer other than success: the contract's status and message (the code is the spec's)."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message = status, message
        self.headers = dict(headers or {})


@dataclass(frozen=True)
class ErrorAnswer:
    status: int
    code: str
    message: str
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ServerConfig:
    """Who may call, and which projects exist."""

    tokens: Mapping[str, Role]
    projects: frozenset[str] = field(default_factory=lambda: frozenset({"default"}))
    #: How long a request body may take to arrive: a slow or half-sent body is answered 400.
    body_timeout: float = 10.0
    #: Projects on demand: any well-formed key is a project, empty on first use, up to this many
    #: beside ``projects``. None: only ``projects`` exist.
    max_projects: int | None = None
    #: ``serve --rate-limit``: each token's requests a second (429 beyond). None: no limit.
    rate_limit: ratelimit.RateLimit | None = None


def _json(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
        headers=dict(headers or {}),
    )


def _error(answer: ErrorAnswer) -> Response:
    body = {"code": answer.code, "message": answer.message, "id": uuid.uuid4().hex}
    return _json(answer.status, body, answer.headers)


def _answer_error(request: Request, error: HTTPError) -> Response:
    contract: spec_module.Spec = request.app.state.spec
    return _error(ErrorAnswer(error.status, contract.error_codes[error.status], error.message, error.headers))


def _role(config: ServerConfig, presented: str | None) -> Role:
    if not presented:
        raise HTTPError(401, "Missing access token: send it in the Authorization header")
    found: Role | None = None
    for token, role in config.tokens.items():
        # Every token is compared, in constant time, so timing tells nothing about which matched.
        if hmac.compare_digest(token.encode(), presented.encode()):
            found = role
    if found is None:
        raise HTTPError(401, "Invalid access token")
    return found


def _limit(request: Request) -> None:
    """The contract's ``rate-limited`` rule: right after the token check, before any other."""
    limiter: ratelimit.Limiter | None = request.app.state.limiter
    wait = limiter.wait(request.headers["authorization"]) if limiter is not None else 0.0
    if wait:
        raise HTTPError(429, ratelimit.MESSAGE, ratelimit.headers(wait, time.time()))


def _integral(value: Any) -> Any:
    """1000.0 sent for an integer is stored as 1000: clients with strict integer types read it back."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integral(item) for item in value]
    if isinstance(value, dict):
        return {key: _integral(item) for key, item in value.items()}
    return value


Handler = Callable[["_Endpoint", Request, str], Awaitable[Response]]


class _Endpoint:
    """One path of the spec: runs the contract's checks in order, then the operation's handler."""

    def __init__(self, operations: Mapping[str, str]) -> None:
        #: Method -> operationId, as the spec lists them.
        self.operations = operations

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive=receive)
        try:
            response = await self._answer(request)
        except HTTPError as error:
            response = _answer_error(request, error)
        except StateError as error:
            response = _answer_error(request, HTTPError(error.status, error.message))
        except ProjectLimitReached as error:
            response = _answer_error(request, HTTPError(404, str(error)))
        except StoreError as error:
            response = _answer_error(request, HTTPError(500, str(error)))
        await response(scope, receive, send)

    async def _answer(self, request: Request) -> Response:
        config: ServerConfig = request.app.state.config
        role = _role(config, request.headers.get("authorization"))
        _limit(request)
        if request.headers.get("ld-api-version") != "beta":
            raise HTTPError(403, BETA_MESSAGE)
        method = "GET" if request.method == "HEAD" else request.method
        if method not in self.operations:
            allow = ", ".join(self.operations)
            message = f"{request.method} is not allowed here; allowed: {allow}"
            raise HTTPError(405, message, {"Allow": allow})
        if role == "reader" and method not in READ_METHODS:
            raise HTTPError(403, "A reader token may only read release policies")
        project = request.path_params["projectKey"]
        if project not in config.projects and not _on_demand(request, project):
            raise HTTPError(404, f"Unknown project {project}")
        return await HANDLERS[self.operations[method]](self, request, project)

    async def _run(self, request: Request, project: str, operation: Callable[[Project], Any]) -> Any:
        store: Storage = request.app.state.store
        config: ServerConfig = request.app.state.config
        if project in config.projects:
            future = store.submit(project, operation)
        else:  # a project on demand: the store makes it on first use, within the limit
            future = store.submit(project, operation, create_limit=config.max_projects)
        return await asyncio.wrap_future(future)

    async def _policy_exists(self, request: Request, project: str) -> None:
        key = str(request.path_params["policyKey"])
        await self._run(request, project, lambda state: (state, state.get(key)))

    async def _body(self, request: Request) -> Any:
        """The request's JSON body, validated against the operation's schema, unknown fields dropped."""
        raw = await _read_body(request)
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            raise HTTPError(400, "The body must be JSON, sent as Content-Type: application/json")
        try:
            body = parse_json(decode(raw), "body").data
        except DocumentError as error:
            raise HTTPError(400, f"Invalid JSON body: {error.message}") from None
        contract: spec_module.Spec = request.app.state.spec
        operation = contract.operations[self.operations[request.method]]
        errors = [
            error.api_message()
            for error in schema_errors(contract.request_validator(operation.operation_id), body)
        ]
        if errors:
            raise HTTPError(400, "; ".join(errors))
        assert operation.request_schema is not None
        return _integral(drop_undeclared(contract, contract.get(operation.request_schema), body))


def _on_demand(request: Request, project: str) -> bool:
    """Whether ``project`` may be served on demand: the option is on and the key is a resource key."""
    config: ServerConfig = request.app.state.config
    contract: spec_module.Spec = request.app.state.spec
    return config.max_projects is not None and contract.schema_validator("ResourceKey").is_valid(project)


async def _read_body(request: Request) -> bytes:
    timeout = request.app.state.config.body_timeout
    limit: int = request.app.state.spec.max_body_bytes
    too_large = HTTPError(413, f"The request body is larger than {limit} bytes")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0

    async def receive_all() -> None:
        nonlocal size
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)

    try:
        await asyncio.wait_for(receive_all(), timeout)
    except asyncio.TimeoutError:
        raise HTTPError(400, f"The request body did not arrive within {timeout:g} s") from None
    return b"".join(chunks)


def _policy_key(request: Request) -> str:
    return str(request.path_params["policyKey"])


async def _list(endpoint: _Endpoint, request: Request, project: str) -> Response:
    flag = request.query_params.get("excludeDefault", "false").lower()
    if flag not in ("true", "false"):
        raise HTTPError(400, "excludeDefault must be true or false")
    policies = await endpoint._run(request, project, lambda s: (s, s.listing(exclude_default=flag == "true")))
    return _json(200, {"items": [p.to_json() for p in policies], "totalCount": len(policies)})


async def _create(endpoint: _Endpoint, request: Request, project: str) -> Response:
    body = await endpoint._body(request)
    new_id = str(uuid.uuid4())
    policy = await endpoint._run(
        request, project, lambda s: s.create(new_id, body["key"], stored_fields(body))
    )
    return _json(201, policy.to_json())


async def _order(endpoint: _Endpoint, request: Request, project: str) -> Response:
    keys = await endpoint._body(request)
    ordered = await endpoint._run(request, project, lambda s: s.reorder(keys))
    return _json(200, [p.to_json() for p in ordered])


async def _get(endpoint: _Endpoint, request: Request, project: str) -> Response:
    key = _policy_key(request)
    policy = await endpoint._run(request, project, lambda s: (s, s.get(key)))
    return _json(200, policy.to_json())


async def _put(endpoint: _Endpoint, request: Request, project: str) -> Response:
    key = _policy_key(request)
    try:
        body = await endpoint._body(request)
    except HTTPError:
        # An unknown policy is a 404 before a 413 or a 400; checked only here, so a good
        # request makes one trip to the store (the update itself answers 404 if it is gone).
        await endpoint._policy_exists(request, project)
        raise
    policy = await endpoint._run(request, project, lambda s: s.update(key, stored_fields(body)))
    return _json(200, policy.to_json())


async def _delete(endpoint: _Endpoint, request: Request, project: str) -> Response:
    key = _policy_key(request)
    await endpoint._run(request, project, lambda s: (s.delete(key), None))
    return Response(status_code=204)


#: The handler of each operation of the spec, by operationId.
HANDLERS: Mapping[str, Handler] = {
    "GetReleasePolicies": _list,
    "PostReleasePolicy": _create,
    "PostReleasePoliciesOrder": _order,
    "GetReleasePolicy": _get,
    "PutReleasePolicy": _put,
    "DeleteReleasePolicy": _delete,
}


async def _health(request: Request) -> Response:
    """For load balancers: 200 while the database answers, 503 (with the reason) while it does not.
    ``process`` tells workers apart (which one a keep-alive connection reached)."""
    store: Storage = request.app.state.store
    answer = {"database": store.kind, "process": os.getpid()}
    try:
        await asyncio.wrap_future(store.ping())
    except StoreError as error:
        return _json(503, {"status": "unavailable", **answer, "problem": str(error)})
    return _json(200, {"status": "ok", **answer})


async def _not_found(request: Request, exc: Exception) -> Response:
    return _answer_error(request, HTTPError(404, f"No such resource: {request.url.path}"))


async def _internal(request: Request, exc: Exception) -> Response:
    return _answer_error(request, HTTPError(500, "Internal server error"))


def routes(contract: spec_module.Spec) -> list[Route]:
    """A route per path of the spec; literal paths (``/order``) before templated ones that match them."""
    missing = [op for op in contract.operations if op not in HANDLERS]
    if missing:
        raise ValueError(f"the server has no handler for {', '.join(missing)}")
    paths = sorted(contract.routes, key=lambda path: path.count("{"))
    return [Route(path, _Endpoint(contract.routes[path])) for path in paths]


def create_app(
    store: Storage,
    config: ServerConfig,
    *,
    close_store: bool = False,
    contract: spec_module.Spec | None = None,
) -> Starlette:
    """The ASGI app; tests and the fuzzer run it in-process, ``release-policy serve`` under uvicorn.

    With ``close_store`` the app closes the store when the server shuts down: uvicorn runs the
    lifespan's end on SIGTERM too, before it lets the signal end the process. ``contract`` is the
    bundled spec unless a test gives a changed copy.
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if close_store:
                await asyncio.to_thread(store.close)

    contract = contract or spec_module.bundled()
    app = Starlette(
        lifespan=lifespan,
        routes=[Route("/healthz", _health, methods=["GET"]), *routes(contract)],
        exception_handlers={404: _not_found, 405: _not_found, 500: _internal, Exception: _internal},
    )
    app.state.store = store
    app.state.config = config
    app.state.spec = contract
    app.state.limiter = ratelimit.Limiter(config.rate_limit) if config.rate_limit else None
    return app
