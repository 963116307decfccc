"""Reports CI reads: merging shards' JSON reports (the CLI's fuzz merge), SARIF located in the spec and
valid against the official schema, the Markdown summary in $GITHUB_STEP_SUMMARY."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.test_reporters_sarif_github import schema_validator
from validator import contract
from validator import spec as spec_module
from validator.cli import main
from validator.fuzz.coverage import Coverage
from validator.fuzz.fingerprint import fingerprint
from validator.fuzz.reports import json_report
from validator.fuzz.run import FuzzResult
from validator.fuzz.sarif_fuzz import sarif
from validator.fuzz.steps import Step
from validator.fuzz.target import Exchange
from validator.fuzz.violation import Violation

BASE = "http://127.0.0.1:9/api/v2/projects/default/release-policies"


def _exchange(method: str, path: str, status: int, body: str | None = None) -> Exchange:
    return Exchange(method, BASE + path, (), None if body is None else body.encode(), status, (), b"")


TWO_DEFAULTS = Violation(
    "one-default", "a second default policy was created", (_exchange("POST", "", 201, '{"key": "a"}'),) * 2,
    "oracle:one-default",
)  # fmt: skip
TOO_LONG = Violation(
    "invalid-rejected", "a key of 257 characters was accepted", (_exchange("POST", "", 201),),
    "sweep:PostReleasePolicy:key:maxLength",
)  # fmt: skip
NO_ALLOW = Violation("method-not-allowed", "no Allow header", (_exchange("PATCH", "/k", 405),), "405")


def _coverage(reached: bool) -> Coverage:
    return Coverage((("PostReleasePolicy", "201", True), ("PostReleasePolicy", "409", reached)), (), ())


def _result(*violations: Violation, reached: bool = False, shard: int = 1) -> FuzzResult:
    stats = {"seconds": 3.0 * shard, "oracle sequences": 10, "shard": shard, "shards": 2}
    steps = {"oracle:one-default": (Step("create", body='{"key": "a"}'),)}
    return FuzzResult(violations, {}, (), stats, steps, _coverage(reached))


def _write(path: Path, result: FuzzResult, seed: int = 7) -> str:
    path.write_text(json_report(result, seed))
    return str(path)


def test_merge_keeps_each_violation_once_unites_coverage_and_writes_every_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The same rule broken the same way, seen by both shards with other keys and messages: one violation.
    other_keys = replace(
        TWO_DEFAULTS, message="b twice", exchanges=(_exchange("POST", "", 201, '{"key":"b"}'),)
    )
    first = _write(tmp_path / "1.json", _result(TWO_DEFAULTS, TOO_LONG))
    second = _write(tmp_path / "2.json", _result(other_keys, NO_ALLOW, reached=True, shard=2))
    summary = tmp_path / "step-summary.md"
    out = tmp_path / "merged"
    argv = ["fuzz", "merge", first, second, "--report", "json,junit,sarif,markdown", "--report-dir", str(out)]
    code = main([*argv, "--summary", str(summary)])
    assert code == 1
    merged = json.loads((out / "fuzz.json").read_text())
    assert [v["check"] for v in merged["violations"]] == [
        "oracle:one-default",
        "sweep:PostReleasePolicy:key:maxLength",
        "405",
    ]
    assert merged["violations"][0]["steps"] == [
        {"kind": "create", "key": "", "body": '{"key": "a"}', "exclude_default": False}
    ]
    assert merged["coverage"]["missing"] == []
    assert merged["stats"] == {"shards merged": 2, "seconds": 6.0, "oracle sequences": 20}
    assert "3 violation(s); rerun with --seed 7" in capsys.readouterr().out
    assert (out / "junit.xml").read_text().count("<failure") == 3
    assert summary.read_text().startswith("## release-policy fuzz: 3 violations")
    assert (out / "summary.md").read_text() == summary.read_text()


def test_a_drift_label_survives_the_merge_and_shows_in_the_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    label = "GET answered 418, which the spec does not document for GetReleasePolicy"
    drifted = replace(_result(NO_ALLOW), drift={fingerprint(NO_ALLOW): label})
    first, second = _write(tmp_path / "1.json", drifted), _write(tmp_path / "2.json", _result(shard=2))
    out = tmp_path / "merged"
    assert main(["fuzz", "merge", first, second, "--report", "json,markdown", "--report-dir", str(out)]) == 1
    merged = json.loads((out / "fuzz.json").read_text())
    assert [v["drift"] for v in merged["violations"]] == [label]
    assert f"**drift**: {label}" in next(out.glob("*.md")).read_text()
    assert "drift" in capsys.readouterr().out


def test_merge_refuses_what_is_not_one_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = _write(tmp_path / "1.json", _result(), seed=1)
    second = _write(tmp_path / "2.json", _result(), seed=2)
    (tmp_path / "junk.json").write_text('{"seed": 1}')
    assert main(["fuzz", "merge", first, second]) == 2
    assert "different runs (seeds 1, 2)" in capsys.readouterr().err
    assert main(["fuzz", "merge", first, str(tmp_path / "junk.json")]) == 2
    assert "junk.json is not a fuzz JSON report" in capsys.readouterr().err
    assert main(["fuzz", "merge"]) == 2
    assert main(["fuzz", "merged", first]) == 2
    assert "not 'merged'" in capsys.readouterr().err


def test_the_fingerprint_ignores_keys_bodies_and_messages_but_not_the_sequence() -> None:
    moved = replace(TWO_DEFAULTS, message="other", exchanges=(_exchange("POST", "", 201, "{}"),) * 3)
    assert fingerprint(moved) == fingerprint(TWO_DEFAULTS)  # repeats of one operation are one
    longer = replace(TWO_DEFAULTS, exchanges=(*TWO_DEFAULTS.exchanges, _exchange("GET", "", 200)))
    assert fingerprint(longer) != fingerprint(TWO_DEFAULTS)
    assert fingerprint(replace(TWO_DEFAULTS, check="tour:one-default")) != fingerprint(TWO_DEFAULTS)
    probe_a = replace(NO_ALLOW, exchanges=(_exchange("PATCH", "/rpv-probe-1", 405),))
    assert fingerprint(probe_a) == fingerprint(NO_ALLOW)


def _line_of(start: int) -> str:
    return spec_module.bundled_path().read_text(encoding="utf-8").splitlines()[start - 1].strip()


def test_sarif_has_a_rule_per_contract_rule_and_locates_results_in_the_spec() -> None:
    log: dict[str, Any] = json.loads(sarif(_result(TWO_DEFAULTS, TOO_LONG, NO_ALLOW), 7))
    schema_validator().validate(log)
    run = log["runs"][0]
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == sorted(
        rule.id for rule in contract.RULES
    )
    located = [result["locations"][0]["physicalLocation"] for result in run["results"]]
    assert {place["artifactLocation"]["uri"] for place in located} == {"spec/release-policies.yaml"}
    lines = [_line_of(place["region"]["startLine"]) for place in located]
    assert lines[0] == "post:"  # the create operation the sequence reached
    assert lines[1].startswith("maxLength:")  # the key's constraint in the create schema
    assert lines[2] == "/api/v2/projects/{projectKey}/release-policies/{policyKey}:"  # the path: no PATCH
    assert [result["ruleId"] for result in run["results"]] == [
        "one-default",
        "invalid-rejected",
        "method-not-allowed",
    ]


def test_a_clean_run_is_a_valid_sarif_log_without_results() -> None:
    log = json.loads(sarif(_result(), 1))
    schema_validator().validate(log)
    assert log["runs"][0]["results"] == []
