"""The server under test, and a client that records every exchange so a violation can be replayed.

A violation is only useful with the requests that show it; every request a
probe makes goes through :class:`Session`, which keeps them in order. The
server may be broken in any way, so a request always ends in an
:class:`Exchange`: an answer that hangs, stops, or is too large to read is
recorded with what went wrong, never raised.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx

from validator import spec as spec_module
from validator.fuzz.coverage import Tally
from validator.fuzz.pacing import Gate

#: The collection's path, from the spec, with ``{project}`` to format.
BASE = spec_module.bundled().base_path.replace("{projectKey}", "{project}")
#: The most of one answer the fuzzer reads: far above any answer the contract allows it to cause
#: (a body is at most 1 MiB), far below what would hurt it to hold.
MAX_ANSWER_BYTES = 4 * 1024 * 1024
TOO_LARGE = f"the answer is larger than {MAX_ANSWER_BYTES // 2**20} MiB; the fuzzer read no further"


@dataclass(frozen=True)
class Target:
    """Where the server is and how to call it. ``projects[1]``, if given, is used to test isolation."""

    url: str
    token: str
    projects: Sequence[str] = ("default",)
    reader_token: str | None = None
    #: Seconds one request may take, answer included: a server that hangs costs no more than this.
    timeout: float = 10.0

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
    #: Why there is no answer, or only part of one (then ``response_body`` is empty); "" if complete.
    problem: str = ""

    def json(self) -> Any:
        """The answer's JSON; ValueError if it has none: incomplete, not JSON, NaN, an overflowing number."""
        if self.problem:
            raise ValueError(self.problem)
        try:
            return json.loads(self.response_body, parse_constant=_not_json, parse_float=_finite)
        except RecursionError:
            raise ValueError("the JSON is nested too deeply to read") from None

    def member(self, name: str) -> Any:
        """The answer's member ``name``; None if it lacks it or is not a JSON object."""
        try:
            body = self.json()
        except ValueError:
            return None
        return body.get(name) if isinstance(body, dict) else None

    def items(self) -> list[dict[str, Any]]:
        """The objects in a list answer's ``items``; none if the answer is no such list."""
        items = self.member("items")
        return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _finite(text: str) -> float:
    # 1e400 is valid JSON, but as a float it is infinite and every comparison or int() of it misleads.
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"the number {text[:40]} is out of range")
    return number


@dataclass(frozen=True)
class _Answer:
    status: int = 0
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    problem: str = ""


#: The key prefix of a session that was given none (a run gives its own: ``run.key_prefix``).
DEFAULT_PREFIX = "rpv"


@dataclass
class Owned:
    """The keys a run created in its project: the cleanup deletes these and nothing else.

    ``created`` is every key the run asked to create, answered or not (a lost answer may still have
    created it); ``held`` those it may hold now, which size the cleanup's share of ``--max-requests``.
    """

    created: set[str] = field(default_factory=set)
    held: set[str] = field(default_factory=set)

    def asked(self, key: str) -> None:
        self.created.add(key)

    def answered(self, method: str, key: str, status: int) -> None:
        """Follow what the project holds: a create answered 201 (or not at all), a delete 204 or 404."""
        if method == "POST" and status in (0, 201):
            self.held.add(key)
        elif method == "DELETE" and status in (204, 404):
            self.held.discard(key)

    def reserve(self) -> int:
        """The requests the cleanup needs at most: a list, a DELETE a held key (and one for a create
        under way), a list to check."""
        return 3 + len(self.held)


@dataclass
class Session:
    """An HTTP client for one probe run that records every exchange."""

    target: Target
    exchanges: list[Exchange] = field(default_factory=list)
    #: Where the run counts what it exercised (every answer, every step the model predicted).
    tally: Tally = field(default_factory=Tally)
    #: Answers over the read cap so far.
    oversized: int = 0
    #: Paces every request, holds the budget, waits out 429s (shared with Schemathesis' phases).
    gate: Gate = field(default_factory=Gate)
    #: The keys this run created (Schemathesis' creates included, through its hooks).
    owned: Owned = field(default_factory=Owned)
    #: What every key the run chooses begins with, so a person (or a later cleanup) can tell the
    #: run's policies on a shared project; ``run.key_prefix`` makes one per run.
    prefix: str = DEFAULT_PREFIX
    #: One pooled client: a new connection per request would make a search several times slower.
    #: Redirects are not followed: the contract has none, so a 3xx is a wrong status to report.
    client: httpx.Client = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(timeout=self.target.timeout, follow_redirects=False)

    def key(self, name: str) -> str:
        """A key of this run: ``name`` behind the run's prefix."""
        return f"{self.prefix}-{name}"

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
        key = self._key(method, url, content)
        if key is not None and method == "POST":
            self.owned.asked(key)
        answer = self._send_until_not_limited(method, url, sent, content)
        if key is not None:
            self.owned.answered(method, key, answer.status)
        exchange = Exchange(
            method, url, tuple(sent.items()), content, answer.status,
            answer.headers, answer.body, answer.problem,
        )  # fmt: skip
        self.exchanges.append(exchange)
        self.tally.answer(method, url, exchange.status)
        self.oversized += answer.problem == TOO_LARGE
        return exchange

    def _key(self, method: str, url: str, content: bytes | None) -> str | None:
        """The policy key a create or a delete in the run's project names, if it is one."""
        collection = self.target.policies()
        if method == "DELETE" and url.startswith(collection + "/"):
            return unquote(url.removeprefix(collection + "/"))
        if method != "POST" or url != collection or content is None:
            return None
        try:
            key = json.loads(content).get("key")
        except (ValueError, AttributeError, RecursionError):
            return None
        return key if isinstance(key, str) else None

    def _send_until_not_limited(
        self, method: str, url: str, headers: dict[str, str], content: bytes | None
    ) -> _Answer:
        """The answer that is not a 429: the contract's client waits as told and sends the same request
        again, so no source ever sees one (and the oracle's model never moves for one)."""
        in_a_row = 0
        while True:
            self.gate.admit()
            answer = self._send(method, url, headers, content)
            if answer.status != 429:
                return answer
            self.tally.answer(method, url, 429)
            in_a_row += 1
            self.gate.limited_wait(answer.headers, in_a_row)

    def _send(self, method: str, url: str, headers: dict[str, str], content: bytes | None) -> _Answer:
        status, timeout = 0, self.target.timeout
        received: tuple[tuple[str, str], ...] = ()
        deadline = time.monotonic() + timeout
        try:
            with self.client.stream(method, url, headers=headers, content=content) as response:
                status, received = response.status_code, tuple(response.headers.items())
                return _Answer(status, received, *_read(response, deadline, timeout))
        except httpx.TimeoutException:
            problem = f"no complete answer within {timeout:g} s"
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            # One line: the text may come from the server, and reports quote it in comments.
            problem = "the connection failed: " + (" ".join(str(error).split()) or type(error).__name__)
        return _Answer(status, received, problem=problem)


def _read(response: httpx.Response, deadline: float, timeout: float) -> tuple[bytes, str]:
    """The body, unless it is larger than the cap or arrives slower than the deadline (then why not).

    The client's timeout bounds each read, not the whole answer: a server that drips a byte at a
    time would never trip it, so the deadline is checked between chunks.
    """
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            return b"", TOO_LARGE
        if time.monotonic() > deadline:
            return b"", f"no complete answer within {timeout:g} s"
        chunks.append(chunk)
    return b"".join(chunks), ""
