"""The server's PostgreSQL store: one transaction per operation, a row lock per project.

Every server process (a worker or a replica) has a pool of connections and
applies operations in threads, so operations on different projects run in
parallel. A write locks its project's row in ``projects`` (``SELECT ... FOR
UPDATE``) before it reads the policies, so writes on one project are serialized
across every process and replica, each reading what the last committed. A read
needs no lock: it is one statement, so it sees one committed state. An
operation that turns out to change nothing on that snapshot (a read, or a write
the state rules refuse) is answered from it; any other is applied again under
the lock. Nothing is cached between operations, so no process serves a stale
state. Needs the ``[postgres]`` extra.
"""

from __future__ import annotations

import json
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from validator.server.store import (
    Operation,
    ProjectLimitReached,
    Result,
    StoreError,
    changes,
    newer_schema,
    redact,
)
from validator.state import Policy, Project

SCHEMA_VERSION = 1
#: Taken while the schema is made, and while a project on demand is counted and added.
_SCHEMA_LOCK, _PROJECTS_LOCK = 7_140_001, 7_140_002
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS release_policy_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS release_policy_projects ( key TEXT PRIMARY KEY, on_demand BOOLEAN NOT NULL)",
    "CREATE TABLE IF NOT EXISTS release_policies ("
    " project TEXT NOT NULL REFERENCES release_policy_projects (key), key TEXT NOT NULL,"
    " id TEXT NOT NULL UNIQUE, rank INTEGER NOT NULL, fields TEXT NOT NULL, PRIMARY KEY (project, key))",
)
#: One statement, so one snapshot: whether the project exists, then its policies (if any).
_SNAPSHOT = (
    "SELECT p.key IS NOT NULL, x.id, x.key, x.rank, x.fields FROM (SELECT 1) AS one"
    " LEFT JOIN release_policy_projects AS p ON p.key = %(project)s"
    " LEFT JOIN release_policies AS x ON x.project = %(project)s"
)
#: How long a request waits for a connection (the database down) or a statement (the database stuck).
WAIT_SECONDS = 5.0


class PostgresStore:
    """Projects of policies in a PostgreSQL database, shared by any number of server processes."""

    kind = "postgresql"

    def __init__(self, url: str, *, connections: int = 8) -> None:
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=connections,
            timeout=WAIT_SECONDS,
            open=False,
            name="release-policy",
            check=ConnectionPool.check_connection,  # a connection the database dropped is replaced
            kwargs={
                "autocommit": True,  # a snapshot is one statement; a write, one explicit transaction
                "connect_timeout": int(WAIT_SECONDS),
                "options": f"-c statement_timeout={int(WAIT_SECONDS * 1000)}",
            },
        )
        self._threads = ThreadPoolExecutor(connections, thread_name_prefix="release-policy-store")
        try:
            self._pool.open(wait=True, timeout=WAIT_SECONDS)
            self._migrate()
        except (psycopg.Error, PoolTimeout) as error:
            self.close()
            raise StoreError(f"cannot use the database {redact(url)}: {_first_line(error)}") from None

    def submit(
        self, project: str, operation: Operation[Result], *, create_limit: int | None = None
    ) -> Future[Result]:
        return self._threads.submit(self._guarded, self._apply, project, operation, create_limit)

    def ping(self) -> Future[None]:
        return self._threads.submit(self._guarded, self._ping)

    def close(self) -> None:
        self._threads.shutdown(wait=True)
        self._pool.close()

    def _guarded(self, work: Any, *arguments: Any) -> Any:
        """``work``, with every database failure (down, dropped, stuck) a :class:`StoreError`."""
        try:
            return work(*arguments)
        except (psycopg.Error, PoolTimeout) as error:
            raise StoreError(f"database error: {_first_line(error)}") from None

    def _ping(self) -> None:
        with self._pool.connection() as connection:
            connection.execute("SELECT 1")

    def _migrate(self) -> None:
        with self._pool.connection() as connection, connection.transaction():
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            for statement in _SCHEMA:
                connection.execute(statement)
            row = connection.execute(
                "SELECT value FROM release_policy_meta WHERE name = 'schema_version'"
            ).fetchone()
            if row is None:
                connection.execute(
                    "INSERT INTO release_policy_meta VALUES ('schema_version', %s)", (str(SCHEMA_VERSION),)
                )
            elif int(row[0]) > SCHEMA_VERSION:
                raise newer_schema("the database", int(row[0]), SCHEMA_VERSION)

    def _apply(self, project: str, operation: Operation[Result], create_limit: int | None) -> Result:
        with self._pool.connection() as connection:
            exists, before = _snapshot(connection, project)
            if exists or create_limit is None:
                after, result = operation(before)  # refused: answered from the snapshot
                if after is before:
                    return result
            with connection.transaction():
                _lock(connection, project, create_limit)
                _, before = _snapshot(connection, project)
                after, result = operation(before)
                deleted, written = changes(before, after)
                for key in deleted:
                    connection.execute(
                        "DELETE FROM release_policies WHERE project = %s AND key = %s", (project, key)
                    )
                for policy in written:
                    connection.execute(
                        "INSERT INTO release_policies (project, key, id, rank, fields)"
                        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (project, key)"
                        " DO UPDATE SET rank = excluded.rank, fields = excluded.fields",
                        (project, policy.key, policy.id, policy.rank, json.dumps(policy.fields)),
                    )
            return result


def _snapshot(connection: psycopg.Connection[Any], project: str) -> tuple[bool, Project]:
    rows = connection.execute(_SNAPSHOT, {"project": project}).fetchall()
    policies = tuple(Policy(i, k, r, json.loads(f)) for _, i, k, r, f in rows if k is not None)
    return bool(rows[0][0]), Project(policies)


def _lock(connection: psycopg.Connection[Any], project: str, create_limit: int | None) -> None:
    """Lock the project's row, making it first if it is new (a project on demand within the limit)."""
    lock = "SELECT 1 FROM release_policy_projects WHERE key = %s FOR UPDATE"
    if connection.execute(lock, (project,)).fetchone() is not None:
        return
    if create_limit is not None:
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (_PROJECTS_LOCK,))
        if connection.execute(lock, (project,)).fetchone() is not None:
            return  # made by another process meanwhile
        row = connection.execute("SELECT count(*) FROM release_policy_projects WHERE on_demand").fetchone()
        if row is not None and row[0] >= create_limit:
            raise ProjectLimitReached(project, create_limit)
    connection.execute(
        "INSERT INTO release_policy_projects VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (project, create_limit is not None),
    )
    connection.execute(lock, (project,))


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
