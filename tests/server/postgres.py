"""A PostgreSQL cluster of the test session's own: Debian's server in a temporary directory, on loopback.

``initdb`` refuses to run as root, so as root the cluster belongs to the
``postgres`` user. The cluster asks for a password, so the tests see that a
password in a database URL is never shown.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.server.live import free_port

#: The newest Debian PostgreSQL server installed (15 on bookworm).
BINARIES = max(
    Path("/usr/lib").glob("postgresql/*/bin"), key=lambda path: int(path.parent.name), default=Path()
)
PASSWORD = "pg-secret-4711"  # noqa: S105 - a loopback test cluster's
START_SECONDS = 60


@dataclass(frozen=True)
class Cluster:
    directory: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres:{PASSWORD}@127.0.0.1:{self.port}/postgres"

    def _as_owner(self, *command: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)

    def pg_ctl(self, *arguments: str) -> None:
        subprocess.run(
            self._as_owner(str(BINARIES / "pg_ctl"), "-D", str(self.directory / "data"), *arguments),
            check=True,
            capture_output=True,
            timeout=START_SECONDS,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.pg_ctl("-w", "-t", str(START_SECONDS), "-l", str(self.directory / "log"), "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("-w", "-m", mode, "stop")

    def sql(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(statement)

    def reset(self) -> None:
        """An empty database: the store's tables dropped (the next store makes them again)."""
        self.sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")


@contextmanager
def cluster() -> Iterator[Cluster]:
    directory = Path(tempfile.mkdtemp(prefix="release-policy-pg-"))
    try:
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres", "postgres")
        password_file = directory / "password"
        password_file.write_text(PASSWORD, encoding="utf-8")
        if os.geteuid() == 0:
            shutil.chown(password_file, "postgres", "postgres")
        running = Cluster(directory, free_port())
        subprocess.run(
            running._as_owner(
                str(BINARIES / "initdb"),
                "-D",
                str(directory / "data"),
                "-U",
                "postgres",
                "--auth=scram-sha-256",
                f"--pwfile={password_file}",
                "--no-sync",
            ),
            check=True,
            capture_output=True,
            timeout=START_SECONDS,
        )
        running.start()
        try:
            yield running
        finally:
            running.stop("immediate")
    finally:
        shutil.rmtree(directory, ignore_errors=True)
