"""The bundled reference server, served in-process for a fuzz run that names no ``--url``.

It is the real thing: the Starlette app over a SQLite file, under uvicorn on a
free loopback port, in a thread; stopped, and its database deleted, on exit.
"""

from __future__ import annotations

import secrets
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from validator.fuzz.target import Target

#: The projects of the embedded default: two, so that isolation is tested too.
PROJECTS = ("default", "other")


class LocalServerError(Exception):
    """The in-process server did not start."""


@contextmanager
def reference_server(*, start_timeout: float = 30.0) -> Iterator[Target]:
    """A :class:`Target` for a fresh reference server with a writer and a reader token."""
    import uvicorn

    from validator.server import ServerConfig, Store, create_app

    writer, reader = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    with tempfile.TemporaryDirectory(prefix="release-policy-fuzz-") as directory:
        store = Store(str(Path(directory) / "fuzz.db"))
        app = create_app(store, ServerConfig({writer: "writer", reader: "reader"}, frozenset(PROJECTS)))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical", lifespan="off")
        )
        thread = threading.Thread(target=server.run, name="reference-server", daemon=True)
        thread.start()
        deadline = time.monotonic() + start_timeout
        try:
            while not server.started:
                if time.monotonic() > deadline or not thread.is_alive():
                    raise LocalServerError("the in-process reference server did not start")
                time.sleep(0.01)
            yield Target(f"http://127.0.0.1:{port}", writer, PROJECTS, reader)
        finally:
            server.should_exit = True
            thread.join(timeout=30)
            store.close()
