"""``release-policy serve``: the reference server under uvicorn, configured from options and environment."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import uvicorn

from validator.server.app import Role, ServerConfig, create_app
from validator.server.store import Store

#: Tokens may come from the environment: argv is visible to other users of the machine.
TOKENS_VARIABLE = "RELEASE_POLICY_TOKENS"
READER_TOKENS_VARIABLE = "RELEASE_POLICY_READER_TOKENS"


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    db: str
    projects: Sequence[str]
    tokens: Sequence[str]
    reader_tokens: Sequence[str]
    durable: bool = False


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


def banner(options: ServeOptions, generated: str | None, projects: Iterable[str]) -> str:
    base = f"http://{options.host}:{options.port}"
    project = next(iter(projects))
    token = generated or "$TOKEN"
    lines = [
        f"release-policy reference server on {base} (database: {options.db})",
        f"projects: {', '.join(projects)}",
    ]
    if generated:
        lines.append(f"generated writer token: {generated}")
    lines += [
        "try:",
        f"  curl -s -H 'Authorization: {token}' -H 'LD-API-Version: beta' \\",
        f"    {base}/api/v2/projects/{project}/release-policies",
    ]
    return "\n".join(lines)


def build(options: ServeOptions) -> tuple[uvicorn.Server, Store, str]:
    """The server (not started), its store, and the banner to show."""
    tokens, generated = resolve_tokens(options, dict(os.environ))
    projects = list(dict.fromkeys(options.projects or ["default"]))
    store = Store(options.db, durable=options.durable)
    app = create_app(store, ServerConfig(tokens, frozenset(projects)), close_store=True)
    config = uvicorn.Config(
        app,
        host=options.host,
        port=options.port,
        log_level="warning",
        access_log=False,  # paths carry policy keys only, but keep logs quiet by default
        timeout_keep_alive=5,
        limit_concurrency=1000,
        h11_max_incomplete_event_size=16 * 1024,
    )
    return uvicorn.Server(config), store, banner(options, generated, projects)
