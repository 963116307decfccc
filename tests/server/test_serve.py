"""``release-policy serve``: tokens, the start-up banner, and clear errors for what cannot work."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.server.live import free_port
from validator.cli import main
from validator.server.serve import ServeOptions, banner, resolve_tokens


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


def test_unusable_database_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--db", str(tmp_path / "missing" / "x.db"), "--token", "t"]) == 2
    assert "cannot open the database" in capsys.readouterr().err


def test_busy_port_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port), "--db", ":memory:", "--token", "t"]) == 2
    assert "cannot listen on 127.0.0.1:" in capsys.readouterr().err


def test_serve_prints_the_banner_and_stops_cleanly_on_sigint(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "validator", "serve", "--port", str(port), "--db", str(tmp_path / "s.db")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert process.stdout is not None
        shown = [process.stdout.readline() for _ in range(3)]  # the banner's first lines
        assert shown[0].startswith(f"release-policy reference server on http://127.0.0.1:{port}")
        assert shown[2].startswith("generated writer token: ")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # until uvicorn listens (and handles SIGINT itself)
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            time.sleep(0.05)
    finally:
        process.send_signal(subprocess.signal.SIGINT)  # type: ignore[attr-defined]
        _, err = process.communicate(timeout=30)
    # uvicorn shuts down gracefully, then lets the signal through: the conventional 128 + SIGINT.
    assert process.returncode == 130, err
    assert err.strip().endswith("release-policy: interrupted")
    assert "Traceback" not in err
    assert (tmp_path / "s.db").exists()
    assert not (tmp_path / "s.db-wal").exists()  # the store was closed, its log checkpointed
