"""Reproductions: the curl script replays the violation, the pytest test fails on it and passes when fixed."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.zoo_server import variant_server
from tests.server.live import READER, WRITER
from validator import contract
from validator.fuzz.oracle import run_oracle
from validator.fuzz.probes import run_probes
from validator.fuzz.reports import write_reproductions
from validator.fuzz.run import FuzzResult
from validator.fuzz.target import Exchange, Session, Target
from validator.fuzz.violation import Violation

# Reproductions run as the user runs them: zoo servers and pytest in processes of their own.
pytestmark = pytest.mark.slow


def _pytest(test: Path, url: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run a written reproduction as its docstring says: against ``url``, or the reference server."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RELEASE_POLICY_")}
    if url:
        environment.update(RELEASE_POLICY_URL=url, RELEASE_POLICY_TOKEN=WRITER)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)],
        cwd=test.parent, env=environment, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def _written(
    violations: tuple[Violation, ...], steps: dict[str, tuple[object, ...]], url: str, out: Path
) -> list[Path]:
    result = FuzzResult(violations, {}, (), {}, steps)  # type: ignore[arg-type]
    return write_reproductions(result, Target(url, WRITER, ("default", "other"), READER), 11, out)


@pytest.fixture(scope="module")
def two_defaults(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The curl script and pytest test of the oracle's one-default violation, found on its zoo variant."""
    out = tmp_path_factory.mktemp("reports")
    with variant_server("two-defaults") as url, Session(Target(url, WRITER)) as session:
        result = run_oracle(session, seed=1, max_examples=100, max_time=120)
    found = tuple(v for v in result.violations if v.check == "oracle:one-default")
    assert found
    script, test = _written(found, dict(result.steps), url, out)
    return script, test


def test_the_curl_script_replays_the_violation_with_masked_credentials(
    two_defaults: tuple[Path, Path],
) -> None:
    script = two_defaults[0]
    text = script.read_text()
    assert WRITER not in text
    assert "$RELEASE_POLICY_TOKEN" in text
    assert f"# rule: one-default: {contract.words('one-default')[:40]}" in text
    statuses = {}
    for name in ("two-defaults", "correct"):
        with variant_server(name) as url:
            environment = {**os.environ, "RELEASE_POLICY_URL": url, "RELEASE_POLICY_TOKEN": WRITER}
            run = subprocess.run(
                ["sh", str(script)], env=environment, capture_output=True, text=True, timeout=60, check=True
            )
        statuses[name] = run.stdout.split()
    # the last request is the second default policy: accepted by the broken server, refused by the contract
    assert statuses["two-defaults"][-1] == "201"
    assert statuses["correct"][-1] == "409"
    assert statuses["two-defaults"][:-1] == statuses["correct"][:-1]


def test_the_curl_script_refuses_to_run_without_a_token(two_defaults: tuple[Path, Path]) -> None:
    environment = {k: v for k, v in os.environ.items() if k != "RELEASE_POLICY_TOKEN"}
    run = subprocess.run(
        ["sh", str(two_defaults[0])], env=environment, capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode != 0
    assert "set RELEASE_POLICY_TOKEN" in run.stderr


def test_the_pytest_reproduction_fails_on_the_bug_and_passes_on_the_reference(
    two_defaults: tuple[Path, Path],
) -> None:
    test = two_defaults[1]
    assert WRITER not in test.read_text()
    with variant_server("two-defaults") as url:
        broken = _pytest(test, url)
    assert broken.returncode == 1, broken.stdout
    assert "1 failed" in broken.stdout  # the reproduction alone, not the contract suite
    assert "A project has at most one" in broken.stdout
    fixed = _pytest(test)  # no URL: the in-process reference server
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr


def test_a_probe_reproduction_reruns_the_probe(tmp_path: Path) -> None:
    with variant_server("accepts-any-token") as url:
        with Session(Target(url, WRITER, ("default", "other"), READER)) as session:
            violations, _ = run_probes(session, only="unauthenticated")
        assert violations
        script, test = _written(tuple(violations[:1]), {}, url, tmp_path)
        last = script.read_text().splitlines()[-1]
        assert "Authorization" not in last  # the request without a token, that was answered 200
        broken = _pytest(test, url)
    assert broken.returncode == 1, broken.stdout
    assert contract.words("auth")[:40] in broken.stdout
    assert _pytest(test).returncode == 0


def test_a_request_reproduction_judges_the_last_answer(tmp_path: Path) -> None:
    """Schemathesis' findings replay as requests; the last answer is judged by the spec alone."""
    url = "http://127.0.0.1:9"
    body = b'{"key": "k", "name": "n", "releaseMethod": "guarded-release", "guardedReleaseConfig": '
    body += b'{"stages": [{"allocation": 100001, "durationMillis": 0}]}}'
    exchange = Exchange(
        "POST", f"{url}/api/v2/projects/default/release-policies",
        (("Authorization", WRITER), ("LD-API-Version", "beta"), ("Content-Type", "application/json")),
        body, 201, (), b"",
    )  # fmt: skip
    violation = Violation(
        "invalid-rejected", "accepted an allocation above 100000", (exchange,), "schemathesis:negative"
    )
    _, test = _written((violation,), {}, url, tmp_path)
    assert WRITER not in test.read_text()
    with variant_server("allocation-unbounded") as broken_url:
        broken = _pytest(test, broken_url)
    assert broken.returncode == 1, broken.stdout
    assert "a body the schema rejects was accepted" in broken.stdout
    assert _pytest(test).returncode == 0


def test_what_a_server_sent_never_runs_as_code_in_a_reproduction(tmp_path: Path) -> None:
    """A message quotes the server: quotes, line breaks and NULs must stay inert in both files."""
    url = "http://127.0.0.1:9"
    hostile = 'name is \'"""; print("INJECTED"); """\'\ntouch /tmp/rpv-injected\r\x00 end'
    exchange = Exchange("GET", f"{url}/api/v2/projects/default/release-policies", (), None, 200, (), b"")
    violation = Violation("echo", hostile, (exchange,), "oracle:echo")
    script, test = _written((violation,), {"oracle:echo": ()}, url, tmp_path)
    source = test.read_text()
    tree = ast.parse(source)  # no NUL, no broken string
    assert [type(node).__name__ for node in tree.body] == ["ImportFrom", "FunctionDef"]
    header = script.read_text().split("set -u")[0]
    assert all(line.startswith("#") for line in header.splitlines())
