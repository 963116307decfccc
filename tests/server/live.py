"""A real uvicorn server on loopback, in a thread of the test process, started and stopped by the test."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

from validator.server import ServerConfig, Storage, create_app
from validator.server.ratelimit import RateLimit
from validator.server.serve import open_store

WRITER, READER = "writer-token", "reader-token"
PROJECTS = frozenset({"default", "other"})
BASE = "/api/v2/projects/{project}/release-policies"


@dataclass(frozen=True)
class LiveServer:
    url: str
    store: Storage

    def policies(self, project: str = "default") -> str:
        return self.url + BASE.format(project=project)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def live_server(
    db: str = ":memory:",
    wrap: Callable[[ASGIApp], ASGIApp] | None = None,
    rate_limit: RateLimit | None = None,
) -> Iterator[LiveServer]:
    """The reference server on a free loopback port (``db``: SQLite or a PostgreSQL URL); ``wrap`` may
    put a broken layer around it; ``rate_limit`` is ``serve --rate-limit``'s."""
    store = open_store(db)
    app: ASGIApp = create_app(
        store,
        ServerConfig({WRITER: "writer", READER: "reader"}, PROJECTS, body_timeout=1.0, rate_limit=rate_limit),
    )
    if wrap is not None:
        app = wrap(app)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", timeout_keep_alive=5)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", store)
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        store.close()
