"""The nightly job against servers like LaunchDarkly's: rate-limited (with both headers, one, or none),
drifting from the spec, a budget, a run cancelled by SIGTERM. Every server records what it got
(``zoo.NIGHTLY``), so limits and budgets are counted on the server's side.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fuzz.zoo_server import variant_server
from tests.server.live import READER, WRITER
from tests.support import REPOSITORY
from validator.cli import main
from validator.fuzz.pacing import Pace
from validator.fuzz.run import FuzzOptions, FuzzResult, fuzz
from validator.fuzz.target import Target
from validator.server.ratelimit import parse_rate

pytestmark = pytest.mark.slow

HEADERS = {"Authorization": WRITER, "LD-API-Version": "beta"}
POLICIES = "/api/v2/projects/default/release-policies"


def _log(url: str) -> list[dict[str, Any]]:
    log: list[dict[str, Any]] = httpx.get(url + "/__log").json()
    return log


def _keys(url: str) -> list[str]:
    """The project's keys, read as any client of a limited server must: waiting out its 429s."""
    for _ in range(100):
        answer = httpx.get(url + POLICIES, headers=HEADERS)
        if answer.status_code != 429:
            return [item["key"] for item in answer.json()["items"]]
        time.sleep(0.05)  # the writer's bucket refills at 20/s
    raise AssertionError("the server kept answering 429")


def _fuzz(url: str, sources: str, pace: Pace | None = None, examples: int = 5) -> FuzzResult:
    options = FuzzOptions(
        seed=7, max_time=600, oracle_sequences=examples, phase_examples=2, fixed_work=True,
        sources=frozenset(sources.split(",")), pace=pace or Pace(),
    )  # fmt: skip
    return fuzz(Target(url, WRITER, ("default", "other"), READER), options)


def _most_in_any_span(times: list[float], per_second: float) -> float:
    """How far the answers that passed exceed ``per_second * span`` over their worst span."""
    times = sorted(times)
    return max(
        j - i + 1 - per_second * (times[j] - times[i])
        for i in range(len(times))
        for j in range(i, len(times))
    )


@pytest.mark.parametrize(
    ("server", "sources"),
    [
        ("limited", "probes,tour,oracle,schemathesis"),  # Schemathesis' requests pass the same gate
        ("limited-reset-only", "probes,tour,oracle"),
        ("limited-no-headers", "probes,tour,oracle"),
    ],
)
def test_a_rate_limited_server_is_waited_out_with_no_finding(server: str, sources: str) -> None:
    limit = parse_rate("20/s")
    with variant_server(server) as url:
        result = _fuzz(url, sources, Pace(gentle=True))
        log = _log(url)
        left = _keys(url)
    assert [(v.check, v.message) for v in result.violations] == []
    assert result.errors == ()
    limited = sum(1 for entry in log if entry["status"] == 429)
    assert limited > 0, "the run never met the limit: the test proves nothing"
    assert result.stats["rate-limited"] == limited  # the summary reports the limiting it met
    assert result.stats["seconds waited"] > 0
    passed = [entry["at"] for entry in log if entry["token"] == WRITER and entry["status"] != 429]
    assert _most_in_any_span(passed, limit.per_second) <= limit.burst + 1  # + 1: the clocks' rounding
    # The gentle profile: one oversized body, no burst of concurrent writes.
    assert sum(1 for entry in log if entry["status"] == 413) == 1
    assert "gentle" in result.skipped["concurrent-writes"]
    assert left == []


def test_the_budget_holds_on_the_server_and_a_stopped_run_keeps_its_findings() -> None:
    with variant_server("drift-status") as url:
        result = _fuzz(url, "tour,probes", Pace(max_requests=60))
        log = _log(url)
        left = _keys(url)
    assert len(log) == result.stats["requests sent"] <= 60
    assert len(log) >= 55  # it used the budget, keeping only the cleanup's share
    assert any("stopped early, --max-requests 60 spent" in error for error in result.errors)
    assert [v.check for v in result.violations] == ["tour:valid-accepted"]  # found before the budget ran out
    assert left == []


def test_sigterm_deletes_what_the_run_created_and_nothing_else(tmp_path: Path) -> None:
    with variant_server("recorded") as url:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "validator", "fuzz", "--url", url, "--token", WRITER, "--seed", "3",
                "--only", "schemathesis", "--max-examples", "50", "--rate-limit", "100/s",
                "--report-dir", str(tmp_path),
            ],
            cwd=REPOSITORY, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            for _ in range(20_000):  # until the run holds a policy of its own (a loopback GET each)
                if _keys(url) or process.poll() is not None:
                    break
            held = _keys(url)
            assert held, "the run never created a policy"
            foreign = {"key": "someone-else", "name": "theirs", "releaseMethod": "progressive-release"}
            assert httpx.post(url + POLICIES, headers=HEADERS, json=foreign).status_code == 201
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=60)
        finally:
            process.kill()
        left = _keys(url)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert left == ["someone-else"]


@pytest.mark.parametrize(
    ("server", "changed"),
    [
        ("drift-member", "PostReleasePolicy 201 has member(s) the spec does not declare: $.createdAt"),
        ("drift-status", "PostReleasePolicy answered 202, a status the spec does not document for it"),
        ("drift-enum", "PostReleasePolicy 201 has value(s) the spec does not list: 'canary-release'"),
    ],
)
def test_drift_is_labelled_in_text_json_and_junit(
    server: str, changed: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with variant_server(server) as url:
        code = main([
            "fuzz", "--url", url, "--token", WRITER, "--seed", "1", "--only", "tour",
            "--report", "json,junit", "--report-dir", str(tmp_path),
        ])  # fmt: skip
    text = capsys.readouterr().out
    assert code == 1
    assert f"the server changed, the spec does not know it: {changed}" in text
    assert "DRIFT tour:" in text
    assert "1 of them drift" in text
    report = json.loads((tmp_path / "fuzz.json").read_text())
    assert [v["drift"][: len(changed)] for v in report["violations"]] == [changed]
    failures = ET.parse(tmp_path / "junit.xml").getroot().findall(".//failure")  # noqa: S314 - our own output
    assert [(f.get("type"), (f.get("message") or "")[: len(changed) + 7]) for f in failures] == [
        ("drift", f"drift: {changed}")
    ]
