"""Fixtures of the server tests: a live server per test over each store, and clients with the contract's
headers. PostgreSQL runs as one cluster for the whole session; each test gets an empty database."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.server.live import READER, WRITER, LiveServer, live_server
from tests.server.postgres import Cluster, cluster
from tests.server.processes import ServerProcess

#: The stores the contract is proved on; PostgreSQL's tests start a cluster, so they are slow.
STORES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)]


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    with cluster() as running:
        yield running


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every server test here runs on each store (tests/fuzz imports ``server`` and gets SQLite)."""
    if "server" in metafunc.fixturenames and not getattr(metafunc.module, "SQLITE_ONLY", False):
        metafunc.parametrize("server", STORES, indirect=True)


@pytest.fixture
def postgres_url(postgres: Cluster) -> str:
    """The session cluster's database, emptied for this test."""
    postgres.reset()
    return postgres.url


def empty_database(request: pytest.FixtureRequest, kind: str, sqlite: str = ":memory:") -> str:
    """A database URL or path, empty: SQLite's ``sqlite``, or the session cluster's database, reset."""
    if kind != "postgresql":
        return sqlite
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def spawned() -> Iterator[list[ServerProcess]]:
    """Every ``serve`` process a test starts (``processes.start``); any still running at the end is killed."""
    started: list[ServerProcess] = []
    yield started
    for process in started:
        process.kill()


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    with live_server(db=empty_database(request, getattr(request, "param", "sqlite"))) as running:
        yield running


@pytest.fixture
def writer(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(headers={"Authorization": WRITER, "LD-API-Version": "beta"}, timeout=30) as client:
        yield client


@pytest.fixture
def reader(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(headers={"Authorization": READER, "LD-API-Version": "beta"}, timeout=30) as client:
        yield client
