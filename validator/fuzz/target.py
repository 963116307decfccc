"""The server under test, and a client that records every exchange so a violation can be replayed.

A violation is only useful with the requests that show it; every request a
probe makes goes through :class:`Session`, which keeps them in order.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

BASE = "/api/v2/projects/{project}/release-policies"


@dataclass(frozen=True)
class Target:
    """Where the server is and how to call it. ``projects[1]``, if given, is used to test isolation."""

    url: str
    token: str
    projects: Sequence[str] = ("default",)
    reader_token: str | None = None

    def policies(self, project: str | None = None) -> str:
        return self.url.rstrip("/") + BASE.format(project=project or self.projects[0])


@dataclass(frozen=True)
class Exchange:
    """One request and the answer it got (``status`` 0: no answer, the connection failed)."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    status: int
    response_headers: tuple[tuple[str, str], ...]
    response_body: bytes

    def json(self) -> Any:
        return json.loads(self.response_body)


@dataclass
class Session:
    """An HTTP client for one probe run that records every exchange."""

    target: Target
    timeout: float = 30.0
    exchanges: list[Exchange] = field(default_factory=list)
    #: One pooled client: a new connection per request would make a search several times slower.
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30.0), repr=False)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def headers(
        self, role: str | None = "writer", *, token: str | None = None, beta: str | None = "beta"
    ) -> dict[str, str]:
        """The contract's headers as ``role`` ("writer", "reader", or None for no token) or with ``token``."""
        chosen = (
            token
            if token is not None
            else {"writer": self.target.token, "reader": self.target.reader_token}.get(role or "")
        )
        headers = {}
        if chosen is not None:
            headers["Authorization"] = chosen
        if beta is not None:
            headers["LD-API-Version"] = beta
        return headers

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
    ) -> Exchange:
        sent = dict(self.headers() if headers is None else headers)
        if json_body is not None:
            content = json.dumps(json_body).encode()
            sent.setdefault("Content-Type", "application/json")
        try:
            response = self.client.request(method, url, headers=sent, content=content, timeout=self.timeout)
            exchange = Exchange(
                method, url, tuple(sent.items()), content, response.status_code,
                tuple(response.headers.items()), response.content,
            )  # fmt: skip
        except httpx.HTTPError:
            exchange = Exchange(method, url, tuple(sent.items()), content, 0, (), b"")
        self.exchanges.append(exchange)
        return exchange
