"""``release-policy serve``: tokens, the start-up banner, and clear errors for what cannot work."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.server.live import free_port
from tests.support import REPOSITORY
from validator.cli import main
from validator.server.serve import TOKENS_VARIABLE, ServeOptions, banner, resolve_tokens
from validator.server.store import redact


def options(**changes: object) -> ServeOptions:
    base = {
        "host": "127.0.0.1",
        "port": 8080,
        "db": ":memory:",
        "projects": [],
        "tokens": [],
        "reader_tokens": [],
    }
    return ServeOptions(**{**base, **changes})  # type: ignore[arg-type]


def test_tokens_from_options_and_environment() -> None:
    tokens, generated = resolve_tokens(
        options(tokens=["w1"], reader_tokens=["r1"]),
        {"RELEASE_POLICY_TOKENS": "w2, w3", "RELEASE_POLICY_READER_TOKENS": "r2"},
    )
    assert generated is None
    assert tokens == {"w1": "writer", "w2": "writer", "w3": "writer", "r1": "reader", "r2": "reader"}


def test_a_writer_token_is_generated_when_none_is_given() -> None:
    tokens, generated = resolve_tokens(options(reader_tokens=["r"]), {})
    assert generated is not None
    assert len(generated) >= 32
    assert tokens == {"r": "reader", generated: "writer"}
    assert resolve_tokens(options(), {})[1] != generated


def test_banner_shows_url_token_and_a_curl_example() -> None:
    text = banner(options(port=9000), "secret", ["default", "staging"])
    assert "http://127.0.0.1:9000" in text
    assert "generated writer token: secret" in text
    assert "curl -s -H 'Authorization: secret' -H 'LD-API-Version: beta'" in text
    assert "http://127.0.0.1:9000/api/v2/projects/default/release-policies" in text


def test_a_password_in_the_database_url_is_never_shown() -> None:
    url = "postgresql://ci:hunter2@db.internal:5432/mock"
    assert redact(url) == "postgresql://ci:***@db.internal:5432/mock"
    assert redact("postgresql://ci@db.internal/mock") == "postgresql://ci@db.internal/mock"
    assert redact("release-policies.db") == "release-policies.db"
    text = banner(options(db=url, workers=2, max_projects=50), None, ["default"])
    assert "hunter2" not in text
    assert "(database: postgresql://ci:***@db.internal:5432/mock, 2 workers)" in text
    assert "projects: default, and up to 50 more on demand" in text


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (["--port", "99999"], "'99999' is not a port: use 1 to 65535"),
        (["--port", "0"], "'0' is not a port"),
        (["--port=-1"], "is not a port"),
        (["--project", "no spaces"], "'no spaces' is not a project key"),
        (["--project=-leading-dash"], "is not a project key"),
        (["--workers", "0"], "'0' is not a positive whole number"),
        (["--max-projects", "many"], "'many' is not a positive whole number"),
    ],
)
def test_ill_formed_options_are_usage_errors(
    arguments: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--db", ":memory:", *arguments]) == 2
    captured = capsys.readouterr()
    assert words in captured.err
    assert captured.out == ""


def test_several_workers_on_one_memory_database_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--db", ":memory:", "--workers", "2", "--token", "t"]) == 2
    assert "needs a database file or PostgreSQL" in capsys.readouterr().err


def test_unusable_database_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--db", str(tmp_path / "missing" / "x.db"), "--token", "t"]) == 2
    assert "cannot open the database" in capsys.readouterr().err


def test_busy_port_is_one_line_and_nothing_else(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port), "--db", ":memory:", "--token", "t"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # no banner for a server that never listened
    assert captured.err.splitlines() == [
        f"release-policy: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


def _default_sigint() -> None:
    """A suite started in the background (``pytest &``) inherits SIGINT ignored; the server must not."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
def test_banner_once_listening_its_curl_works_and_sigint_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    environment = {**os.environ, TOKENS_VARIABLE: "first-token,second-token"}
    process = subprocess.Popen(
        [sys.executable, "-m", "validator", "serve", "--port", str(port), "--db", str(tmp_path / "s.db")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env={**environment, "PYTHONPATH": str(REPOSITORY)},
        preexec_fn=_default_sigint,  # noqa: PLW1509 - no threads are started before it runs
    )
    try:
        assert process.stdout is not None
        shown = [process.stdout.readline() for _ in range(5)]
        assert shown[0].startswith(f"release-policy reference server on http://127.0.0.1:{port}")
        # The banner means the port is open: a connection now succeeds, no retry.
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        command = "".join(shown[3:5])  # as pasted: two lines, joined by the shell
        assert re.match(r"\s*curl -s ", command), shown
        pasted = subprocess.run(
            ["sh", "-c", command], env=environment, capture_output=True, text=True, check=False
        )
        assert pasted.stdout == '{"items":[],"totalCount":0}', pasted
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    # uvicorn shuts down gracefully, then lets the signal through: the conventional 128 + SIGINT.
    assert process.returncode == 130, err
    assert err.strip().endswith("release-policy: interrupted")
    assert "Traceback" not in err
    assert (tmp_path / "s.db").exists()
    assert not (tmp_path / "s.db-wal").exists()  # the store was closed, its log checkpointed
