"""A broken server never crashes the fuzzer: each kind of garbage is a violation with evidence, or exit 2.

Each test serves the reference server behind one garbage mode of
``garbage_server.py``. The fast tests run the fuzzer's own parts (the probes
and the oracle, with the recording client and the judge) on garbage from the
very first request, and the whole run on garbage during the preflight (a
connection error). The slow ones run everything, Schemathesis included, with
the preflight answered correctly.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.fuzz.garbage_server import PREFLIGHT, garbage_server
from tests.server.live import READER, WRITER
from validator.fuzz.oracle import run_oracle
from validator.fuzz.probes import run_probes
from validator.fuzz.run import FuzzOptions, FuzzResult, TargetError, fuzz
from validator.fuzz.target import MAX_ANSWER_BYTES, Session, Target
from validator.fuzz.violation import Violation

#: Short, so that a hung request costs little; far above what the reference server needs on loopback.
TIMEOUT = 0.2


def target(url: str) -> Target:
    return Target(url, WRITER, ("default", "other"), READER, timeout=TIMEOUT)


def probes_and_oracle(mode: str) -> list[Violation]:
    """The probes and three oracle sequences against ``mode``'s garbage from the first request on."""
    with garbage_server(mode, after=0) as url, Session(target(url)) as session:
        violations, _ = run_probes(session)
        oracle = run_oracle(session, seed=1, max_examples=3, max_time=600, shrink_budget=10, body_pool=4)
    return [*violations, *oracle.violations]


def assert_evidence(violations: list[Violation] | tuple[Violation, ...]) -> None:
    assert violations
    for violation in violations:
        assert violation.rule
        assert violation.message
        assert violation.exchanges, violation.check
        assert all(len(exchange.response_body) <= MAX_ANSWER_BYTES for exchange in violation.exchanges)


@pytest.mark.parametrize(
    ("mode", "shown"),
    [
        ("not-json", "body is not JSON: "),
        ("not-object", "not an object"),
        ("wrong-types", "does not fit the Error schema"),
        ("too-deep", "nested too deeply to read"),
        ("closes", "answered nothing (the connection failed: "),
        pytest.param(
            "hangs", f"answered nothing (no complete answer within {TIMEOUT:g} s)", marks=pytest.mark.slow
        ),
        ("redirect", "answered 30"),
        ("huge", f"larger than {MAX_ANSWER_BYTES // 2**20} MiB; the fuzzer read no further"),
        ("mixed", "answered"),
    ],
)
def test_garbage_is_a_violation_with_its_evidence(mode: str, shown: str) -> None:
    violations = probes_and_oracle(mode)
    assert_evidence(violations)
    assert any(shown in violation.message for violation in violations), [v.message for v in violations]


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("closes", "cannot connect to"),
        ("hangs", "cannot connect to"),
        ("redirect", "answered 30[27], expected 200"),
    ],
)
def test_garbage_in_the_preflight_is_a_connection_error(mode: str, message: str) -> None:
    with garbage_server(mode, after=0) as url, pytest.raises(TargetError, match=message):
        fuzz(
            target(url),
            FuzzOptions(seed=1, max_time=600, oracle_sequences=2, phase_examples=1, fixed_work=True),
        )


def full_run(mode: str) -> FuzzResult:
    options = FuzzOptions(seed=1, max_time=600, oracle_sequences=20, phase_examples=2, fixed_work=True)
    with garbage_server(mode) as url:
        return fuzz(target(url), options)


@pytest.mark.slow
@pytest.mark.parametrize(
    "mode", ["not-json", "not-object", "wrong-types", "closes", "redirect", "mixed", "hangs", "huge"]
)
def test_a_whole_run_on_garbage_reports_violations(mode: str) -> None:
    result = full_run(mode)
    assert_evidence(result.violations)
    if mode == "huge":  # Schemathesis would read each 50 MB answer whole: its phases are skipped, and said so
        assert any("answers over the read cap" in error for error in result.errors)


@pytest.mark.slow
def test_json_nested_too_deep_stops_no_run_and_prints_no_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    died: list[str] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: died.append(repr(args.exc_value)))
    result = full_run("too-deep")
    assert_evidence(result.violations)
    assert died == []  # nothing reached the process's hook, which prints a traceback
    # Schemathesis' worker dies on such an answer (4.32 catches only ValueError and kin while it
    # records responses): the run says so among its errors and goes on.
    assert any("a Schemathesis worker stopped: RecursionError" in error for error in result.errors)


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "after"), [("closes", PREFLIGHT), ("redirect", 0)])
def test_the_command_exits_1_or_2_without_a_traceback(mode: str, after: int, tmp_path: Path) -> None:
    with garbage_server(mode, after) as url:
        done = subprocess.run(
            [
                sys.executable, "-m", "validator", "fuzz", "--url", url, "--token", WRITER,
                "--reader-token", READER, "--project", "default", "--project", "other",
                "--max-time", "3", "--seed", "1", "--report-dir", str(tmp_path),
            ],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
    assert done.returncode in (1, 2), done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "internal error" not in done.stderr
