"""Real ``release-policy serve`` processes on loopback, started by a test (the ``spawned`` fixture kills
any left running), and plain sockets to tell which worker process a connection reached."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.server.live import BASE, READER, WRITER, free_port
from tests.support import REPOSITORY
from validator.server.serve import READER_TOKENS_VARIABLE, TOKENS_VARIABLE

HEADERS = {"Authorization": WRITER, "LD-API-Version": "beta"}
START_SECONDS = 20.0
REQUEST_SECONDS = 10.0
#: Connections opened, at most, 50 ms apart, to find every worker of a server: the kernel picks the
#: worker, and a worker still starting accepts nothing.
CONNECTION_ATTEMPTS = 400


@dataclass
class ServerProcess:
    popen: subprocess.Popen[bytes]
    url: str
    log: Path

    def policies(self, project: str = "default") -> str:
        return self.url + BASE.format(project=project)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def terminate(self) -> int:
        """SIGTERM, then the exit status once the process has drained and ended."""
        self.popen.send_signal(signal.SIGTERM)
        return self.popen.wait(timeout=START_SECONDS)


def start(
    spawned: list[ServerProcess],
    db: Path | str,
    log: Path,
    projects: Sequence[str] = ("default",),
    *options: str,
    token_in_environment: bool = True,
) -> ServerProcess:
    """``release-policy serve`` on a free loopback port, once it answers a list request (writer token
    ``WRITER``, reader token ``READER``)."""
    port = free_port()
    command = [sys.executable, "-m", "validator", "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--db", str(db), *(f"--project={project}" for project in projects), *options]
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in (TOKENS_VARIABLE, READER_TOKENS_VARIABLE)
    }
    environment[READER_TOKENS_VARIABLE] = READER
    if token_in_environment:
        environment[TOKENS_VARIABLE] = WRITER
    else:
        command += ["--token", WRITER]
    with log.open("ab") as sink:
        popen = subprocess.Popen(
            command, cwd=REPOSITORY, env=environment, stdout=sink, stderr=subprocess.STDOUT
        )
    process = ServerProcess(popen, f"http://127.0.0.1:{port}", log)
    spawned.append(process)
    deadline = time.monotonic() + START_SECONDS
    with httpx.Client(headers=HEADERS, timeout=2) as client:
        while True:
            if popen.poll() is not None:
                raise AssertionError(f"the server exited with {popen.returncode}:\n{process.output()}")
            try:
                if client.get(process.policies(projects[0])).status_code == 200:
                    return process
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the server did not answer within {START_SECONDS} s:\n{process.output()}"
                )
            time.sleep(0.05)


def call(connection: socket.socket, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One request over a kept-alive raw connection (so it stays with one worker): status and JSON."""
    payload = b"" if body is None else json.dumps(body).encode()
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(payload)}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in HEADERS.items())
    connection.sendall(head.encode() + b"Content-Type: application/json\r\n\r\n" + payload)
    data = b""
    while b"\r\n\r\n" not in data:
        data += _received(connection)
    answer_head, _, answer = data.partition(b"\r\n\r\n")
    lengths = [
        line.split(b":", 1)[1]
        for line in answer_head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    ]
    length = int(lengths[0]) if lengths else 0
    while len(answer) < length:
        answer += _received(connection)
    return int(answer_head[9:12]), json.loads(answer) if answer else None


def _received(connection: socket.socket) -> bytes:
    chunk = connection.recv(65536)
    if not chunk:
        raise ConnectionError("the server closed the connection")
    return chunk


@contextmanager
def one_connection_per_worker(server: ServerProcess, workers: int) -> Iterator[dict[int, socket.socket]]:
    """A kept-alive connection to each worker process, by its pid (``/healthz`` says which it reached);
    new connections until each worker has one, bounded."""
    port = int(server.url.rsplit(":", 1)[1])
    found: dict[int, socket.socket] = {}
    try:
        for _ in range(CONNECTION_ATTEMPTS):
            connection = socket.create_connection(("127.0.0.1", port), timeout=REQUEST_SECONDS)
            pid = call(connection, "GET", "/healthz")[1]["process"]
            assert isinstance(pid, int)
            if pid in found:
                connection.close()
                time.sleep(0.05)
            else:
                found[pid] = connection
            if len(found) == workers:
                break
        assert len(found) == workers, f"{CONNECTION_ATTEMPTS} connections reached only {sorted(found)}"
        yield found
    finally:
        for connection in found.values():
            connection.close()


def closed_by_server(connection: socket.socket) -> bool:
    """Whether the server closes this idle connection (waits for it, at most REQUEST_SECONDS)."""
    try:
        return connection.recv(1) == b""
    except TimeoutError:
        return False
