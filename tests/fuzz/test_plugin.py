"""The pytest plugin: the contract checks as tests of another suite, against a URL or the reference server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.zoo_server import variant_server
from tests.server.live import READER, WRITER


def _pytest(directory: Path, *options: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RELEASE_POLICY_")}
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", "--release-policy-max-time=8"]
    return subprocess.run(
        [*command, *options],
        cwd=directory, env=environment, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def _own_suite(directory: Path) -> Path:
    (directory / "test_own.py").write_text("def test_own():\n    assert True\n")
    return directory


@pytest.mark.slow
def test_without_the_option_a_suite_is_left_alone(tmp_path: Path) -> None:
    run = _pytest(_own_suite(tmp_path))
    assert run.returncode == 0, run.stdout
    assert "1 passed" in run.stdout
    assert "contract_tests" not in run.stdout


@pytest.mark.slow
def test_the_checks_join_a_suite_against_the_reference_server(tmp_path: Path) -> None:
    run = _pytest(_own_suite(tmp_path), "--release-policy")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "PASSED test_own.py::test_own" in run.stdout
    for check in (
        "test_boundary_sweep",
        "test_probe[unauthenticated]",
        "test_probe[isolation]",
        "test_oracle",
        "test_schemathesis_phases",
    ):
        assert f"PASSED ::{check}" in run.stdout, run.stdout


@pytest.mark.slow
def test_a_broken_server_fails_the_check_that_covers_it(tmp_path: Path) -> None:
    with variant_server("reader-may-write") as url:
        run = _pytest(
            _own_suite(tmp_path), "--release-policy-url", url, "--release-policy-token", WRITER,
            "--release-policy-reader-token", READER,
        )  # fmt: skip
    assert run.returncode == 1, run.stdout
    assert "FAILED" in run.stdout
    assert "test_probe[reader-cannot-write]" in run.stdout
    assert "A reader may call the two GET operations" in run.stdout
    assert "PASSED test_own.py::test_own" in run.stdout


@pytest.mark.slow
def test_a_validation_gap_fails_the_boundary_sweep(tmp_path: Path) -> None:
    with variant_server("/components/schemas/ReleasePolicyName/maxLength") as url:
        run = _pytest(
            _own_suite(tmp_path), "--release-policy-url", url, "--release-policy-token", WRITER,
            "-k", "boundary_sweep or own",
        )  # fmt: skip
    assert run.returncode == 1, run.stdout
    assert "FAILED ::test_boundary_sweep" in run.stdout or "test_boundary_sweep FAILED" in run.stdout
    assert "name:maxLength" in run.stdout


@pytest.mark.slow
def test_a_missing_token_is_a_usage_error(tmp_path: Path) -> None:
    run = _pytest(_own_suite(tmp_path), "--release-policy-url", "http://127.0.0.1:9")
    assert run.returncode != 0
    assert "needs --release-policy-token" in run.stdout + run.stderr


@pytest.mark.slow
def test_under_xdist_each_worker_is_a_shard_and_the_merge_reports_each_violation_once(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    with variant_server("two-defaults") as url:
        run = _pytest(
            _own_suite(tmp_path), "-n", "2", "--release-policy-url", url, "--release-policy-token", WRITER,
            "--release-policy-reader-token", READER, "--release-policy-project", "default",
            "--release-policy-project", "other", "--release-policy-seed", "515",
            "--release-policy-max-examples", "8", "--release-policy-report-dir", str(reports),
        )  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 passed" in run.stdout  # the suite's own test; the contract is one run, not test items
    # Each worker ran its shard of one seed, and the merge keeps each violation once, whichever shards
    # found it (shard 1's tour finds the broken rule whatever the seed; the oracle's shards may too).
    shards = [json.loads((reports / f"shard-{index}-of-2.json").read_text()) for index in (1, 2)]
    assert [(shard["seed"], shard["stats"]["shard"], shard["stats"]["shards"]) for shard in shards] == [
        (515, 1, 2),
        (515, 2, 2),
    ]
    assert any(v["check"] == "tour:one-default" for v in shards[0]["violations"])
    merged = json.loads((reports / "fuzz.json").read_text())
    prints = [v["fingerprint"] for v in merged["violations"]]
    assert sorted(prints) == sorted(
        {p for shard in shards for p in (v["fingerprint"] for v in shard["violations"])}
    )  # every shard's violation, each once
    assert merged["stats"]["oracle sequences"] == 16
    assert run.stdout.count("VIOLATION tour:one-default:") == 1
    assert "release-policy contract checks, the shards merged" in run.stdout
    assert "coverage: " in run.stdout


@pytest.mark.slow
def test_under_xdist_against_a_url_each_worker_needs_a_project_of_its_own(tmp_path: Path) -> None:
    run = _pytest(
        _own_suite(tmp_path), "-n", "2", "--release-policy-url", "http://127.0.0.1:9",
        "--release-policy-token", WRITER,
    )  # fmt: skip
    assert run.returncode == pytest.ExitCode.USAGE_ERROR, run.stdout + run.stderr
    assert "give --release-policy-project 2 times" in run.stdout + run.stderr
