"""A real Redis (Debian's ``redis-server``) on a free loopback port in a temporary directory, for the
failure store's tests; stopped when the test is done."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def redis_server(directory: Path) -> Iterator[str]:
    """The ``redis://`` URL of a fresh, empty Redis that keeps nothing on disk."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is missing: apt-get install redis-server (.ci/run installs it)")
    port = _free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory), "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
        for _ in range(200):  # until it answers (a few hundred ms at most), or it exits
            try:
                client.ping()
                break
            except redis.ConnectionError:
                try:
                    process.wait(0.05)
                except subprocess.TimeoutExpired:
                    continue
                pytest.fail(f"redis-server exited with {process.returncode}")
        else:
            pytest.fail("redis-server never answered in 10 s")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)
