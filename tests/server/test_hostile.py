"""Hostile input: each gets its documented 4xx or a closed connection; never a 5xx, a crash or a hang."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.server.live import WRITER, LiveServer

HEADERS = {"Authorization": WRITER, "LD-API-Version": "beta", "Content-Type": "application/json"}


def still_serving(server: LiveServer) -> None:
    answer = httpx.get(server.policies(), headers=HEADERS, timeout=10)
    assert answer.status_code == 200


def post(server: LiveServer, content: bytes, suffix: str = "") -> httpx.Response:
    return httpx.post(server.policies() + suffix, headers=HEADERS, content=content, timeout=30)


@pytest.mark.parametrize(
    ("content", "suffix", "status", "words"),
    [
        (b"{not json", "", 400, "Invalid JSON body"),
        (b'{"key": "k", "name": "caf\xe9"}', "", 400, "not UTF-8"),
        (b"\x00\x01\x02", "", 400, "binary"),
        (b"", "", 400, "empty"),
        (b'["a"]', "", 400, "is not of type"),
        (b'"text"', "", 400, "is not of type"),
        (b'{"keys": ["a"]}', "/order", 400, "is not of type"),
        (b"[" * 100_000 + b"]" * 100_000, "", 400, "nesting"),
        (b'{"key": "k", "name": "n", "x": 1e400}', "", 400, "1e400"),
        (b'{"key": "k", "name": "n", "x": NaN}', "", 400, "NaN"),
        (b'{"key": "k", "name": "n", "x": -Infinity}', "", 400, "Infinity"),
        (b'{"key": "k", "name": "n", "releaseMethod": "guarded-release", "guardedReleaseConfig": '
         b'{"minSampleSize": 1e400}}', "", 400, "1e400"),
        (b"x" * (10 * 1024 * 1024), "", 413, "larger than"),
    ],
)  # fmt: skip
def test_hostile_bodies(server: LiveServer, content: bytes, suffix: str, status: int, words: str) -> None:
    answer = post(server, content, suffix)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert words in answer.json()["message"]
    still_serving(server)


def test_huge_integers_are_exact_or_refused(server: LiveServer) -> None:
    body = (
        b'{"key": "big", "name": "n", "releaseMethod": "progressive-release", "scope": {"viewKeys": ["v"]},'
        b' "progressiveReleaseConfig": {"stages": [{"allocation": 1,'
        b' "durationMillis": 9223372036854775807}]}}'
    )
    assert post(server, body).json()["progressiveReleaseConfig"]["stages"][0]["durationMillis"] == 2**63 - 1
    too_big = body.replace(b"9223372036854775807", b"1" + b"0" * 400)
    assert "greater than the maximum" in post(server, too_big).json()["message"]


@contextmanager
def raw_connection(server: LiveServer) -> Iterator[socket.socket]:
    host, port = server.url.removeprefix("http://").split(":")
    connection = socket.create_connection((host, int(port)), timeout=10)
    try:
        yield connection
    finally:
        connection.close()


def head(length: int) -> bytes:
    return (
        "POST /api/v2/projects/default/release-policies HTTP/1.1\r\nHost: test\r\n"
        f"Authorization: {WRITER}\r\nLD-API-Version: beta\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


def test_half_sent_body_is_answered_after_the_body_timeout(server: LiveServer) -> None:
    with raw_connection(server) as connection:
        connection.sendall(head(100) + b'{"key": "slow"')
        started = time.monotonic()
        still_serving(server)  # one slow client holds nothing up
        answer = connection.recv(65536)
        assert answer.startswith(b"HTTP/1.1 400")
        assert b"did not arrive within" in answer
        assert time.monotonic() - started < 9  # the live server's body timeout is 1 s
    assert httpx.get(server.policies() + "/slow", headers=HEADERS).status_code == 404


def test_slow_headers_hold_nothing_up(server: LiveServer) -> None:
    with raw_connection(server) as connection:
        connection.sendall(b"GET /api/v2/projects/default/release-policies HTTP/1.1\r\nHost: te")
        for _ in range(3):
            still_serving(server)
    still_serving(server)


def test_oversized_headers_close_or_refuse(server: LiveServer) -> None:
    with raw_connection(server) as connection:
        connection.sendall(
            b"GET /api/v2/projects/default/release-policies HTTP/1.1\r\nHost: t\r\nX-Big: "
            + b"a" * (64 * 1024)
            + b"\r\n\r\n"
        )
        answer = connection.recv(65536)
        assert answer == b"" or answer.startswith((b"HTTP/1.1 4", b"HTTP/1.0 4"))
    still_serving(server)


def test_garbage_instead_of_http(server: LiveServer) -> None:
    with raw_connection(server) as connection:
        connection.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 100)  # a TLS hello
        answer = connection.recv(65536)
        assert answer == b"" or answer.startswith(b"HTTP/1.1 4")
    still_serving(server)


def test_a_client_that_vanishes_mid_body_loses_nothing(server: LiveServer) -> None:
    with raw_connection(server) as connection:
        connection.sendall(head(1000) + b'{"key": "gone", "name": "n"')
    still_serving(server)
    assert httpx.get(server.policies() + "/gone", headers=HEADERS).status_code == 404
