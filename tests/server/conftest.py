"""Fixtures of the server tests: a live server per test, and clients with the contract's headers."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.server.live import READER, WRITER, LiveServer, live_server


@pytest.fixture
def server() -> Iterator[LiveServer]:
    with live_server() as running:
        yield running


@pytest.fixture
def writer(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(headers={"Authorization": WRITER, "LD-API-Version": "beta"}, timeout=30) as client:
        yield client


@pytest.fixture
def reader(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(headers={"Authorization": READER, "LD-API-Version": "beta"}, timeout=30) as client:
        yield client
