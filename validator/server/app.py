"""The reference server's HTTP adapter: CONTRACT.md sections 2 and 3 over Starlette.

The order of checks is the contract's: 401 (token), 403 (beta header), 405
(method), 403 (a reader writing), 404 (project, then policy), 413 (size),
400 (content type, JSON, schema, order), 409 (state). Schemas come from the
spec, state rules from ``validator.state``, storage from the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from starlette.applications import Starlette
from starlette.endpoints import HTTPEndpoint
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from validator import spec as spec_module
from validator.documents import DocumentError, decode
from validator.json_reader import parse_json
from validator.schema_errors import schema_errors
from validator.schema_shapes import drop_undeclared
from validator.server.store import Store, StoreError
from validator.state import Project, StateError, stored_fields

BASE = "/api/v2/projects/{projectKey}/release-policies"
MAX_BODY = 1024 * 1024
Role = Literal["writer", "reader"]
READ_METHODS = frozenset({"GET", "HEAD"})


class HTTPError(Exception):
    """An answer other than success: the contract's status, code and message."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = dict(headers or {})


@dataclass(frozen=True)
class ServerConfig:
    """Who may call, and which projects exist."""

    tokens: Mapping[str, Role]
    projects: frozenset[str] = field(default_factory=lambda: frozenset({"default"}))
    #: How long a request body may take to arrive: a slow or half-sent body is answered 400.
    body_timeout: float = 10.0


def _json(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
        headers=dict(headers or {}),
    )


def _error(error: HTTPError) -> Response:
    body = {"code": error.code, "message": error.message, "id": uuid.uuid4().hex}
    return _json(error.status, body, error.headers)


def _role(config: ServerConfig, presented: str | None) -> Role:
    if not presented:
        raise HTTPError(401, "unauthorized", "Missing access token: send it in the Authorization header")
    found: Role | None = None
    for token, role in config.tokens.items():
        # Every token is compared, in constant time, so timing tells nothing about which matched.
        if hmac.compare_digest(token.encode(), presented.encode()):
            found = role
    if found is None:
        raise HTTPError(401, "unauthorized", "Invalid access token")
    return found


def _integral(value: Any) -> Any:
    """1000.0 sent for an integer is stored as 1000: clients with strict integer types read it back."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integral(item) for item in value]
    if isinstance(value, dict):
        return {key: _integral(item) for key, item in value.items()}
    return value


class _Endpoint(HTTPEndpoint):
    """Runs the contract's checks in order, then the method's handler."""

    allowed: ClassVar[tuple[str, ...]] = ()
    operation_ids: ClassVar[Mapping[str, str]] = {}

    async def dispatch(self) -> None:
        request = Request(self.scope, receive=self.receive)
        try:
            response = await self._answer(request)
        except HTTPError as error:
            response = _error(error)
        except StateError as error:
            response = _error(HTTPError(error.status, error.code, error.message))
        except StoreError as error:
            response = _error(HTTPError(500, "internal_error", str(error)))
        await response(self.scope, self.receive, self.send)

    async def _answer(self, request: Request) -> Response:
        config: ServerConfig = request.app.state.config
        role = _role(config, request.headers.get("authorization"))
        if request.headers.get("ld-api-version") != "beta":
            raise HTTPError(
                403, "forbidden", "LD-API-Version must be beta: release policies are a beta resource"
            )
        method = "GET" if request.method == "HEAD" else request.method
        if method not in self.allowed:
            allow = ", ".join(self.allowed)
            message = f"{request.method} is not allowed here; allowed: {allow}"
            raise HTTPError(405, "method_not_allowed", message, {"Allow": allow})
        if role == "reader" and method not in READ_METHODS:
            raise HTTPError(403, "forbidden", "A reader token may only read release policies")
        project = request.path_params["projectKey"]
        if project not in config.projects:
            raise HTTPError(404, "not_found", f"Unknown project {project}")
        handler: Callable[[Request, str], Awaitable[Response]] = getattr(self, method.lower())
        return await handler(request, project)

    async def _run(self, request: Request, project: str, operation: Callable[[Project], Any]) -> Any:
        store: Store = request.app.state.store
        return await asyncio.wrap_future(store.submit(project, operation))

    async def _policy_exists(self, request: Request, project: str) -> None:
        key = str(request.path_params["policyKey"])
        await self._run(request, project, lambda state: (state, state.get(key)))

    async def _body(self, request: Request) -> Any:
        """The request's JSON body, validated against the operation's schema, unknown fields dropped."""
        raw = await _read_body(request)
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            raise HTTPError(
                400, "invalid_request", "The body must be JSON, sent as Content-Type: application/json"
            )
        try:
            body = parse_json(decode(raw), "body").data
        except DocumentError as error:
            raise HTTPError(400, "invalid_request", f"Invalid JSON body: {error.message}") from None
        contract = spec_module.bundled()
        operation = contract.operations[self.operation_ids[request.method]]
        errors = [
            error.api_message()
            for error in schema_errors(contract.request_validator(operation.operation_id), body)
        ]
        if errors:
            raise HTTPError(400, "invalid_request", "; ".join(errors))
        assert operation.request_schema is not None
        return _integral(drop_undeclared(contract, contract.get(operation.request_schema), body))


async def _read_body(request: Request) -> bytes:
    timeout = request.app.state.config.body_timeout
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise HTTPError(413, "payload_too_large", f"The request body is larger than {MAX_BODY} bytes")
    chunks: list[bytes] = []
    size = 0

    async def receive_all() -> None:
        nonlocal size
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY:
                raise HTTPError(413, "payload_too_large", f"The request body is larger than {MAX_BODY} bytes")
            chunks.append(chunk)

    try:
        await asyncio.wait_for(receive_all(), timeout)
    except asyncio.TimeoutError:
        raise HTTPError(
            400, "invalid_request", f"The request body did not arrive within {timeout:g} s"
        ) from None
    return b"".join(chunks)


class PolicyCollection(_Endpoint):
    allowed = ("GET", "POST")
    operation_ids: ClassVar[Mapping[str, str]] = {"POST": "PostReleasePolicy"}

    async def get(self, request: Request, project: str) -> Response:
        flag = request.query_params.get("excludeDefault", "false").lower()
        if flag not in ("true", "false"):
            raise HTTPError(400, "invalid_request", "excludeDefault must be true or false")
        policies = await self._run(request, project, lambda s: (s, s.listing(exclude_default=flag == "true")))
        return _json(200, {"items": [p.to_json() for p in policies], "totalCount": len(policies)})

    async def post(self, request: Request, project: str) -> Response:
        body = await self._body(request)
        new_id = str(uuid.uuid4())
        policy = await self._run(
            request, project, lambda s: s.create(new_id, body["key"], stored_fields(body))
        )
        return _json(201, policy.to_json())


class PolicyOrder(_Endpoint):
    allowed = ("POST",)
    operation_ids: ClassVar[Mapping[str, str]] = {"POST": "PostReleasePoliciesOrder"}

    async def post(self, request: Request, project: str) -> Response:
        keys = await self._body(request)
        ordered = await self._run(request, project, lambda s: s.reorder(keys))
        return _json(200, [p.to_json() for p in ordered])


class PolicyItem(_Endpoint):
    allowed = ("GET", "PUT", "DELETE")
    operation_ids: ClassVar[Mapping[str, str]] = {"PUT": "PutReleasePolicy"}

    async def get(self, request: Request, project: str) -> Response:
        key = str(request.path_params["policyKey"])
        policy = await self._run(request, project, lambda s: (s, s.get(key)))
        return _json(200, policy.to_json())

    async def put(self, request: Request, project: str) -> Response:
        key = str(request.path_params["policyKey"])
        try:
            body = await self._body(request)
        except HTTPError:
            # An unknown policy is a 404 before a 413 or a 400; checked only here, so a good
            # request makes one trip to the store (the update itself answers 404 if it is gone).
            await self._policy_exists(request, project)
            raise
        policy = await self._run(request, project, lambda s: s.update(key, stored_fields(body)))
        return _json(200, policy.to_json())

    async def delete(self, request: Request, project: str) -> Response:
        key = str(request.path_params["policyKey"])
        await self._run(request, project, lambda s: (s.delete(key), None))
        return Response(status_code=204)


async def _not_found(request: Request, exc: Exception) -> Response:
    return _error(HTTPError(404, "not_found", f"No such resource: {request.url.path}"))


async def _internal(request: Request, exc: Exception) -> Response:
    return _error(HTTPError(500, "internal_error", "Internal server error"))


def create_app(store: Store, config: ServerConfig, *, close_store: bool = False) -> Starlette:
    """The ASGI app; tests and the fuzzer run it in-process, ``release-policy serve`` under uvicorn.

    With ``close_store`` the app closes the store when the server shuts down: uvicorn runs the
    lifespan's end on SIGTERM too, before it lets the signal end the process.
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if close_store:
                await asyncio.to_thread(store.close)

    app = Starlette(
        lifespan=lifespan,
        routes=[
            Route(BASE, PolicyCollection),
            Route(BASE + "/order", PolicyOrder),
            Route(BASE + "/{policyKey}", PolicyItem),
        ],
        exception_handlers={404: _not_found, 405: _not_found, 500: _internal, Exception: _internal},
    )
    app.state.store = store
    app.state.config = config
    return app
