"""``release-policy serve``: the reference server under uvicorn, configured from options and environment.

The port is bound before anything is announced, so the banner means the server
listens. With several workers, uvicorn's supervisor runs them on the bound
socket; each worker builds its app from the options the parent leaves in its
environment (tokens included: argv is visible to other users, a process's
environment is not).
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import socket
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

import uvicorn
from starlette.applications import Starlette
from uvicorn.supervisors import Multiprocess

from validator.server.app import Role, ServerConfig, create_app
from validator.server.ratelimit import parse_rate
from validator.server.store import Storage, Store, is_postgres, redact

#: Tokens may come from the environment: argv is visible to other users of the machine.
TOKENS_VARIABLE = "RELEASE_POLICY_TOKENS"
READER_TOKENS_VARIABLE = "RELEASE_POLICY_READER_TOKENS"
#: How the parent hands the resolved options to its workers.
_WORKER_VARIABLE = "RELEASE_POLICY_SERVE_WORKER"
#: How long a stop (SIGTERM, SIGINT) waits for requests in flight before closing their connections.
DRAIN_SECONDS = 30


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    db: str
    projects: Sequence[str]
    tokens: Sequence[str]
    reader_tokens: Sequence[str]
    durable: bool = False
    workers: int = 1
    #: Projects on demand: at most this many, beside ``projects``. None: only ``projects`` exist.
    max_projects: int | None = None
    #: ``--rate-limit``: each token's requests a second, as ``20/s`` (see ``ratelimit``). None: no limit.
    rate_limit: str | None = None


@dataclass(frozen=True)
class _Resolved:
    """What every worker needs: the options, with the tokens resolved once (a generated one too)."""

    db: str
    durable: bool
    tokens: dict[str, Role]
    projects: list[str]
    max_projects: int | None
    connections: int = field(default=8)
    rate_limit: str | None = None


def _split(value: str | None) -> list[str]:
    return [token.strip() for token in (value or "").split(",") if token.strip()]


def resolve_tokens(options: ServeOptions, environment: dict[str, str]) -> tuple[dict[str, Role], str | None]:
    """Writer and reader tokens from options and environment; a generated writer token if none is given."""
    writers = [*options.tokens, *_split(environment.get(TOKENS_VARIABLE))]
    readers = [*options.reader_tokens, *_split(environment.get(READER_TOKENS_VARIABLE))]
    generated = None
    if not writers:
        generated = secrets.token_urlsafe(24)
        writers = [generated]
    tokens: dict[str, Role] = dict.fromkeys(readers, "reader")
    tokens.update(dict.fromkeys(writers, "writer"))
    return tokens, generated


def usage_problem(options: ServeOptions) -> str | None:
    """Why these options cannot work together, if they cannot (the CLI checks each option alone)."""
    if options.workers > 1 and not is_postgres(options.db) and options.db in ("", ":memory:"):
        return (
            "--workers above 1 needs a database file or PostgreSQL: each worker would have"
            " its own in-memory database"
        )
    if options.workers > 1 and options.rate_limit:
        return "--rate-limit needs --workers 1: each worker process would keep its own count"
    if options.rate_limit:
        try:
            parse_rate(options.rate_limit)
        except ValueError as error:
            return f"--rate-limit: {error}"
    return None


def _authorization(options: ServeOptions, generated: str | None) -> str:
    """The curl ``-H`` argument, quoted so that it works when pasted into a POSIX shell."""
    if generated or options.tokens:
        return shlex.quote(f"Authorization: {generated or options.tokens[0]}")
    # The writer tokens are in the environment: let the shell take the first one from there.
    return f'"Authorization: ${{{TOKENS_VARIABLE}%%,*}}"'


def banner(options: ServeOptions, generated: str | None, projects: Iterable[str]) -> str:
    base = f"http://{options.host}:{options.port}"
    shown = list(projects)
    workers = f", {options.workers} workers" if options.workers > 1 else ""
    lines = [f"release-policy reference server on {base} (database: {redact(options.db)}{workers})"]
    if options.max_projects is not None:
        lines.append(f"projects: {', '.join(shown)}, and up to {options.max_projects} more on demand")
    else:
        lines.append(f"projects: {', '.join(shown)}")
    if options.rate_limit:
        limit = parse_rate(options.rate_limit)
        lines.append(f"rate limit: {limit} per token, burst {limit.burst} (429 beyond)")
    if generated:
        lines.append(f"generated writer token: {generated}")
    lines += [
        "try:",
        f"  curl -s -H {_authorization(options, generated)} -H 'LD-API-Version: beta' \\",
        f"    {base}/api/v2/projects/{shown[0]}/release-policies",
    ]
    return "\n".join(lines)


def open_store(db: str, *, durable: bool = False, connections: int = 8) -> Storage:
    """The store of ``db``: a ``postgresql://`` URL, or a SQLite file (or ``:memory:``)."""
    if is_postgres(db):
        from validator.server.pgstore import PostgresStore  # needs the [postgres] extra

        return PostgresStore(db, connections=connections)
    return Store(db, durable=durable)


def _app(resolved: _Resolved, store: Storage) -> Starlette:
    config = ServerConfig(
        resolved.tokens,
        frozenset(resolved.projects),
        max_projects=resolved.max_projects,
        rate_limit=parse_rate(resolved.rate_limit) if resolved.rate_limit else None,
    )
    return create_app(store, config, close_store=True)


def worker_app() -> Starlette:
    """The app of one worker process (uvicorn's factory), from the options its parent left."""
    resolved = _Resolved(**json.loads(os.environ[_WORKER_VARIABLE]))
    return _app(resolved, open_store(resolved.db, durable=resolved.durable, connections=resolved.connections))


@dataclass
class Prepared:
    """A server ready to run on its bound socket, and the banner to show once it is bound."""

    config: uvicorn.Config
    sock: socket.socket
    banner: str
    store: Storage | None  # the single process's store; workers open their own

    def run(self) -> None:
        """Serve until stopped (SIGINT, SIGTERM), draining requests in flight."""
        try:
            if self.config.workers > 1:
                Multiprocess(self.config, sockets=[self.sock]).run()
            else:
                uvicorn.Server(self.config).run(sockets=[self.sock])
        finally:
            self.sock.close()
            if self.store is not None:
                self.store.close()


def prepare(options: ServeOptions) -> Prepared:
    """Open the database (StoreError if it cannot be used) and bind the port (OSError if busy)."""
    tokens, generated = resolve_tokens(options, dict(os.environ))
    projects = list(dict.fromkeys(options.projects or ["default"]))
    resolved = _Resolved(
        options.db, options.durable, tokens, projects, options.max_projects, rate_limit=options.rate_limit
    )
    store = open_store(options.db, durable=options.durable)  # made and checked once, here, for every worker
    if options.workers > 1:
        store.close()
        os.environ[_WORKER_VARIABLE] = json.dumps(asdict(resolved))
        config = _config("validator.server.serve:worker_app", options)
        kept: Storage | None = None
    else:
        config = _config(_app(resolved, store), options)
        kept = store
    try:
        sock = listen(options.host, options.port, config.backlog)
    except OSError:
        if kept is not None:
            kept.close()
        raise
    return Prepared(config, sock, banner(options, generated, projects), kept)


def _config(app: Starlette | str, options: ServeOptions) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        factory=isinstance(app, str),
        workers=options.workers,
        host=options.host,
        port=options.port,
        log_level="warning",
        access_log=False,  # paths carry policy keys only, but keep logs quiet by default
        timeout_keep_alive=5,
        timeout_graceful_shutdown=DRAIN_SECONDS,
        limit_concurrency=1000,
        h11_max_incomplete_event_size=16 * 1024,
    )


def listen(host: str, port: int, backlog: int) -> socket.socket:
    """A listening socket: connections queue from here on, before uvicorn accepts them."""
    family, kind, protocol, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, protocol)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)  # the workers serve it
    return sock
