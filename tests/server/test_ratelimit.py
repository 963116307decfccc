"""``serve --rate-limit``: the token bucket, and the 429 the contract's ``rate-limited`` rule describes."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.server.live import BASE, WRITER, LiveServer, live_server
from validator import spec as spec_module
from validator.server.ratelimit import Limiter, RateLimit, parse_rate
from validator.server.serve import ServeOptions, usage_problem

URL = BASE.format(project="default")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("text", "limit"), [("20/s", RateLimit(20, 5)), ("1/s", RateLimit(1, 1)), (" 2.5 / s", RateLimit(2.5, 1))]
)
def test_a_rate_reads_with_its_burst(text: str, limit: RateLimit) -> None:
    assert parse_rate(text) == limit


@pytest.mark.parametrize("text", ["20", "0/s", "-1/s", "20/m", "fast"])
def test_a_bad_rate_says_what_a_rate_looks_like(text: str) -> None:
    with pytest.raises(ValueError, match="like 20/s"):
        parse_rate(text)


def test_the_bucket_allows_the_burst_then_the_rate_and_keeps_tokens_apart() -> None:
    clock = Clock()
    limiter = Limiter(RateLimit(4, 2), clock=clock)
    assert [limiter.wait("a") for _ in range(3)] == [0.0, 0.0, 0.25]
    assert limiter.wait("b") == 0.0  # another token has its own bucket
    clock.now += 0.25
    assert limiter.wait("a") == 0.0
    assert limiter.wait("a") == pytest.approx(0.25)
    clock.now += 10  # a quiet spell refills to the burst, no further
    assert [limiter.wait("a") for _ in range(3)] == [0.0, 0.0, 0.25]


@pytest.fixture
def served() -> Iterator[LiveServer]:
    with live_server(rate_limit=RateLimit(1, 1)) as server:
        yield server


@pytest.fixture
def client(served: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url) as client:
        yield client


def test_over_the_limit_is_the_contracts_429_with_both_headers(client: httpx.Client) -> None:
    first = client.get(URL, headers={"Authorization": WRITER, "LD-API-Version": "beta"})
    before = time.time()
    limited = client.get(URL, headers={"Authorization": WRITER, "LD-API-Version": "beta"})
    assert first.status_code == 200
    assert limited.status_code == 429
    assert limited.json()["code"] == spec_module.bundled().error_codes[429] == "rate_limited"
    assert limited.headers["Retry-After"] == "1"
    reset = int(limited.headers["X-Ratelimit-Reset"]) / 1000
    assert before < reset <= time.time() + 1.01


def test_the_limit_comes_after_the_token_and_before_every_other_check(client: httpx.Client) -> None:
    assert client.get(URL, headers={"LD-API-Version": "beta"}).status_code == 401  # no token: not counted
    assert client.get(URL, headers={"Authorization": WRITER}).status_code == 403  # the one allowed
    # Limited now: no beta header, a method not served, an unknown project all answer 429 first.
    assert client.get(URL, headers={"Authorization": WRITER}).status_code == 429
    assert client.delete(URL, headers={"Authorization": WRITER, "LD-API-Version": "beta"}).status_code == 429
    unknown = URL.replace("/default/", "/nowhere/")
    assert client.get(unknown, headers={"Authorization": WRITER, "LD-API-Version": "beta"}).status_code == 429
    assert client.get(URL, headers={"Authorization": "nobody"}).status_code == 401


def test_a_429_changes_nothing(served: LiveServer, client: httpx.Client) -> None:
    store = served.store
    headers = {"Authorization": WRITER, "LD-API-Version": "beta"}
    assert client.get(URL, headers=headers).status_code == 200
    body = {"key": "limited", "name": "Limited", "releaseMethod": "progressive-release"}
    assert client.post(URL, headers=headers, json=body).status_code == 429
    assert store.submit("default", lambda project: (project, project.policies)).result() == ()


def test_serve_refuses_a_limit_it_cannot_keep() -> None:
    options = ServeOptions("127.0.0.1", 0, ":memory:", [], [], [], rate_limit="fast")
    assert "like 20/s" in (usage_problem(options) or "")
    shared = ServeOptions("127.0.0.1", 0, "x.db", [], [], [], workers=2, rate_limit="20/s")
    assert "--workers 1" in (usage_problem(shared) or "")
