"""``release-policy fuzz``: exit codes, the summary, reports, and every usage error as a message."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.fuzz.zoo_server import variant_server
from tests.server.live import READER, WRITER, LiveServer, free_port
from validator.cli import main


@pytest.mark.slow
def test_the_bundled_server_passes_with_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reports = tmp_path / "reports"
    code = main(
        ["fuzz", "--max-time", "20", "--seed", "3", "--report", "junit,json", "--report-dir", str(reports)]
    )
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "no violation; rerun with --seed 3" in out
    assert "seed 3" in err  # progress goes to stderr
    suite = ET.parse(reports / "junit.xml").getroot()  # noqa: S314 - our own output
    assert suite.get("failures") == "0"
    assert {case.get("name") for case in suite.iter("testcase")} >= {
        "unauthenticated",
        "oracle",
        "schemathesis",
    }
    summary = json.loads((reports / "fuzz.json").read_text())
    assert summary["violations"] == []
    assert summary["stats"]["oracle sequences"] > 0
    assert summary["stats"]["schemathesis test cases"] > 0


@pytest.mark.slow
def test_a_broken_server_exits_1_with_reproductions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with variant_server("two-defaults") as url:
        code = main([
            "fuzz", "--url", url, "--token", WRITER, "--reader-token", READER, "--project", "default",
            "--project", "other", "--max-examples", "20", "--seed", "1", "--report-dir", str(tmp_path),
        ])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 1
    assert "VIOLATION tour:one-default" in out  # the state tour reaches the rule in every run
    assert "A project has at most one" in out
    scripts = sorted(tmp_path.glob("*tour_one_default.sh"))
    tests = sorted(tmp_path.glob("test_*tour_one_default.py"))
    assert len(scripts) == 1
    assert len(tests) == 1
    assert WRITER not in scripts[0].read_text()  # credentials are masked
    assert WRITER not in tests[0].read_text()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--url", "ftp://example"], "--url must start with http"),
        (["--url", "http://127.0.0.1:1"], "needs a writer token"),
        (["--token", "t"], "go with --url"),
        (["--report", "html"], "unknown report 'html'"),
        (["--max-time", "0"], "--max-time and --timeout must be positive"),
        (["--timeout", "-1"], "--max-time and --timeout must be positive"),
        (["--max-examples", "0"], "--max-examples must be at least 1"),
    ],
)
def test_usage_errors_exit_2(arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fuzz", *arguments]) == 2
    assert message in capsys.readouterr().err


def test_a_server_that_is_not_there_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assert main(["fuzz", "--url", url, "--token", "t"]) == 2
    assert f"cannot connect to {url}" in capsys.readouterr().err


def test_a_refused_token_exits_2(server: LiveServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fuzz", "--url", server.url, "--token", "not-a-token"]) == 2
    assert "refused the token (401)" in capsys.readouterr().err


def test_a_project_in_use_is_left_alone_unless_reset(
    server: LiveServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import httpx

    body = {"key": "keep-me", "name": "keep", "releaseMethod": "guarded-release"}
    headers = {"Authorization": WRITER, "LD-API-Version": "beta"}
    assert httpx.post(server.policies(), json=body, headers=headers).status_code == 201
    assert main(["fuzz", "--url", server.url, "--token", WRITER, "--max-time", "5"]) == 2
    assert "holds 1 policy" in capsys.readouterr().err
    assert httpx.get(f"{server.policies()}/keep-me", headers=headers).status_code == 200
    arguments = ["--max-time", "8", "--reset", "--report-dir", str(tmp_path)]
    assert main(["fuzz", "--url", server.url, "--token", WRITER, *arguments]) == 0
    assert httpx.get(server.policies(), headers=headers).json()["totalCount"] == 0


@pytest.mark.slow
def test_max_examples_makes_a_seed_replay_the_same_run(tmp_path: Path) -> None:
    def run(directory: Path) -> dict[str, object]:
        code = main(
            ["fuzz", "--max-examples", "5", "--seed", "9", "--report", "json", "--report-dir", str(directory)]
        )
        assert code == 0
        report = json.loads((directory / "fuzz.json").read_text())
        stats: dict[str, object] = report["stats"]
        stats.pop("seconds")
        return stats

    first, second = run(tmp_path / "a"), run(tmp_path / "b")
    assert first == second
    assert first["oracle sequences"] == 5
