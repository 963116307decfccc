"""The server's store: SQLite, one writer thread, group commit, state rules from ``validator.state``.

Every operation is a pure function of a project's state (``Project -> (Project, result)``).
One worker thread owns the connection and runs operations one at a time, so
concurrent requests can never interleave inside one; operations that arrive
together share one transaction, so they share one commit (one WAL sync), and
each is answered only after that commit. In WAL mode with ``synchronous=NORMAL``
a committed transaction survives the process being killed; only an operating
system crash can lose the latest ones (``--durable`` syncs every commit).
"""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

from validator.state import Policy, Project

#: 2 added the projects made on demand. A database of a newer version is refused.
SCHEMA_VERSION = 2
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS policies ("
    " project TEXT NOT NULL, key TEXT NOT NULL, id TEXT NOT NULL UNIQUE,"
    " rank INTEGER NOT NULL, fields TEXT NOT NULL, PRIMARY KEY (project, key))",
    "CREATE TABLE IF NOT EXISTS projects (key TEXT PRIMARY KEY)",
)
#: The most operations committed together; bounds the time the first one waits.
MAX_BATCH = 256

Result = TypeVar("Result")
Operation = Callable[[Project], tuple[Project, Result]]


class StoreError(Exception):
    """The database failed; the operation was not applied."""


class ProjectLimitReached(Exception):
    """A project on demand was asked for, and the store holds its limit of them already."""

    def __init__(self, project: str, limit: int) -> None:
        super().__init__(
            f"Unknown project {project}: this server holds its limit of projects on demand ({limit})"
        )


def newer_schema(where: str, found: int, known: int) -> StoreError:
    return StoreError(
        f"{where} has schema version {found}; this server knows up to {known}: use a newer release"
    )


def is_postgres(db: str) -> bool:
    return db.startswith(("postgresql://", "postgres://"))


def redact(db: str) -> str:
    """A database URL fit to print or log: the password, if any, replaced by ``***``."""
    if not is_postgres(db):
        return db
    parts = urlsplit(db)
    if parts.password is None:
        return db
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


class Storage(Protocol):
    """What the app needs of a store: this module's SQLite one, or ``pgstore``'s PostgreSQL one."""

    kind: str

    def submit(
        self, project: str, operation: Operation[Result], *, create_limit: int | None = None
    ) -> Future[Result]:
        """Apply an operation to a project atomically; the future resolves after the commit.

        With ``create_limit`` the project is one made on demand: made on first use if fewer than
        that many exist, else the future fails with :class:`ProjectLimitReached`.
        """
        ...

    def ping(self) -> Future[None]:
        """Resolves once the database has answered; fails with :class:`StoreError` if it cannot."""
        ...

    def close(self) -> None: ...


def changes(before: Project, after: Project) -> tuple[list[str], list[Policy]]:
    """The keys an operation deleted and the policies it added or changed: what a store writes."""
    old = {policy.key: policy for policy in before.policies}
    new = {policy.key: policy for policy in after.policies}
    return sorted(old.keys() - new.keys()), [p for key, p in new.items() if old.get(key) != p]


@dataclass
class _Job:
    project: str
    operation: Operation[Any]
    future: Future[Any]
    create_limit: int | None = None


class Store:
    """Projects of policies in one SQLite database (a file, or ``:memory:``)."""

    kind = "sqlite"

    def __init__(self, path: str, *, durable: bool = False) -> None:
        self.path = path
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._cache: dict[str, Project] = {}
        connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        connection.execute("PRAGMA busy_timeout=5000")
        self._connection = connection
        self._migrate()
        self._data_version = self._version()
        self._worker = threading.Thread(target=self._run, name="release-policy-store", daemon=True)
        self._worker.start()

    def _migrate(self) -> None:
        with self._connection:
            for statement in _SCHEMA:
                self._connection.execute(statement)
            row = self._connection.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
            if row is None:
                self._connection.execute(
                    "INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
                )
            elif int(row[0]) > SCHEMA_VERSION:
                raise newer_schema(self.path, int(row[0]), SCHEMA_VERSION)
            else:  # older versions only lacked tables, made above
                self._connection.execute(
                    "UPDATE meta SET value = ? WHERE name = 'schema_version'", (str(SCHEMA_VERSION),)
                )

    def submit(
        self, project: str, operation: Operation[Result], *, create_limit: int | None = None
    ) -> Future[Result]:
        """Queue an operation on a project; the future resolves after its commit (see ``Storage``)."""
        future: Future[Result] = Future()
        self._jobs.put(_Job(project, operation, future, create_limit))
        return future

    def ping(self) -> Future[None]:
        """Through the writer thread, so a stuck writer shows as unhealthy too."""
        return self.submit("", lambda state: (state, None))

    def close(self) -> None:
        """Finish the queued operations and close the database; closing twice is harmless."""
        if self._worker.is_alive():
            self._jobs.put(None)
            self._worker.join(timeout=30)
        self._connection.close()

    def _version(self) -> int:
        """Changes whenever another connection commits to the database (never for this one's commits)."""
        version: int = self._connection.execute("PRAGMA data_version").fetchone()[0]
        return version

    def _load(self, project: str) -> Project:
        if project not in self._cache:
            rows = self._connection.execute(
                "SELECT id, key, rank, fields FROM policies WHERE project = ?", (project,)
            ).fetchall()
            self._cache[project] = Project(tuple(Policy(i, k, r, json.loads(f)) for i, k, r, f in rows))
        return self._cache[project]

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            batch = [job]
            while len(batch) < MAX_BATCH:
                try:
                    more = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._jobs.put(None)  # stop after this batch
                    break
                batch.append(more)
            self._commit(batch)

    def _commit(self, batch: list[_Job]) -> None:
        # A caller that stopped waiting (asyncio.wrap_future cancels the future when the request's
        # task is cancelled) gets no answer, so its operation is skipped. Every other future is
        # marked running, so it can no longer be cancelled: set_result and set_exception on a
        # cancelled future raise InvalidStateError, which would kill this, the only writer thread.
        batch = [job for job in batch if job.future.set_running_or_notify_cancel()]
        if not batch:
            return
        outcomes: list[tuple[_Job, Any, BaseException | None]] = []
        states: dict[str, Project] = {}
        try:
            self._connection.execute("BEGIN IMMEDIATE")
            # Another connection (a second server on the same file) committed since this one last
            # looked: the cached projects are stale, and writing from them would break the ranks.
            version = self._version()
            if version != self._data_version:
                self._cache.clear()
                self._data_version = version
            for job in batch:
                try:
                    if job.create_limit is not None:
                        self._make_on_demand(job.project, job.create_limit)
                    before = states.get(job.project) or self._load(job.project)
                    after, result = job.operation(before)
                except Exception as error:  # noqa: BLE001 - a refused operation fails alone
                    outcomes.append((job, None, error))
                    continue
                self._write(job.project, before, after)
                states[job.project] = after
                outcomes.append((job, result, None))
            self._connection.execute("COMMIT")
        except Exception as error:  # noqa: BLE001 - the worker outlives any failure, or requests would hang
            if self._connection.in_transaction:
                self._connection.execute("ROLLBACK")
            self._cache.clear()  # reload what the database really holds
            for job in batch:
                job.future.set_exception(StoreError(f"database error: {error}"))
            return
        self._cache.update(states)
        for job, result, failure in outcomes:
            if failure is None:
                job.future.set_result(result)
            else:
                job.future.set_exception(failure)

    def _make_on_demand(self, project: str, limit: int) -> None:
        known = "SELECT 1 FROM projects WHERE key = ?"
        if self._connection.execute(known, (project,)).fetchone() is not None:
            return
        if self._connection.execute("SELECT count(*) FROM projects").fetchone()[0] >= limit:
            raise ProjectLimitReached(project, limit)
        self._connection.execute("INSERT INTO projects VALUES (?)", (project,))

    def _write(self, project: str, before: Project, after: Project) -> None:
        if before is after:
            return
        deleted, written = changes(before, after)
        for key in deleted:
            self._connection.execute("DELETE FROM policies WHERE project = ? AND key = ?", (project, key))
        for policy in written:
            self._connection.execute(
                "INSERT INTO policies (project, key, id, rank, fields) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (project, key)"
                " DO UPDATE SET rank = excluded.rank, fields = excluded.fields",
                (project, policy.key, policy.id, policy.rank, json.dumps(policy.fields)),
            )
