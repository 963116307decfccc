"""The SARIF reporter (checked against the official SARIF 2.1.0 schema, offline) and the GitHub one."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from jsonschema.validators import validator_for

from validator.findings import Finding, RuleInfo
from validator.reporters import REPORTERS, Report
from validator.sarif import artifact_uri, render_sarif, rule_name

VERSION = "7.8.9"
"""Not the package's own: the SARIF driver states whatever version it is given."""
SCHEMA_PATH = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"

RULES = {
    "unknown-field": RuleInfo(
        "unknown-field",
        "error",
        "A field the request schema does not have. Typos included.",
        "The API ignores unknown fields without an error.",
    ),
    "contract": RuleInfo("contract", "error", "Anything the API's request schema rejects."),
    "name-style": RuleInfo("name-style", "warning", "Names read as a sentence, not as a key."),
    "stage-allocation": RuleInfo("stage-allocation", "error", "Stage allocations only ever grow."),
}
"""Given out of order on purpose: the SARIF rules list is sorted by id, whatever the mapping's order."""

FINDINGS = [
    Finding(
        "policies/prod release.yaml",
        3,
        5,
        "$.guardedReleaseConfig.stages[1].allocation",
        "stage-allocation",
        "error",
        "allocation 30000 is below the previous stage's 50000",
    ),
    Finding("policies/prod release.yaml", 7, 1, "$.name", "name-style", "warning", "odd name"),
    Finding("b.json", 1, 2, "$.scope", "not-a-known-rule", "warning", "no such rule in the mapping"),
    Finding("sub\\dir\\c.yaml", 12, 9, "$['odd key']", "contract", "error", "required property 'name'"),
]


def schema_validator() -> Any:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def sarif(report: Report) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(REPORTERS["sarif"](report))
    return log


def schema_errors(log: dict[str, Any]) -> list[str]:
    return [f"{list(error.absolute_path)}: {error.message}" for error in schema_validator().iter_errors(log)]


def test_the_stored_schema_is_sarif_2_1_0() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert "2.1.0" in schema["$id"]
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert schema["properties"]["version"]["enum"] == ["2.1.0"]
    assert {"result", "reportingDescriptor", "logicalLocation", "region"} <= set(schema["definitions"])


def test_the_schema_catches_a_broken_log() -> None:
    log = sarif(Report(FINDINGS, RULES, files_checked=3, tool_version=VERSION))
    log["runs"][0]["results"][0]["level"] = "fatal"
    del log["runs"][0]["tool"]["driver"]["name"]
    log["runs"][0]["results"][1]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    assert len(schema_errors(log)) == 3


def test_sarif_with_findings_validates_against_the_schema() -> None:
    assert schema_errors(sarif(Report(FINDINGS, RULES, files_checked=3, tool_version=VERSION))) == []


def test_empty_sarif_validates_against_the_schema() -> None:
    log = sarif(Report([], RULES, files_checked=1, tool_version=VERSION))
    assert schema_errors(log) == []
    assert log["runs"][0]["results"] == []
    assert len(log["runs"][0]["tool"]["driver"]["rules"]) == 4
    nothing = sarif(Report([], {}, files_checked=0, tool_version=VERSION))
    assert schema_errors(nothing) == []
    assert nothing["runs"][0]["tool"]["driver"]["rules"] == []


def test_sarif_log_and_driver() -> None:
    log = sarif(Report(FINDINGS, RULES, files_checked=3, tool_version=VERSION))
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "release-policy"
    assert driver["version"] == "7.8.9"
    assert driver["informationUri"] == "https://pypi.org/project/release-policy-validator/"


def test_sarif_text_is_indented_json() -> None:
    text = render_sarif(Report(FINDINGS[:1], RULES, files_checked=1, tool_version=VERSION), VERSION)
    assert text.startswith('{\n  "$schema": ')
    assert text == REPORTERS["sarif"](Report(FINDINGS[:1], RULES, files_checked=1, tool_version=VERSION))


def test_sarif_describes_every_rule_sorted_by_id() -> None:
    log = sarif(Report(FINDINGS[:1], RULES, files_checked=1, tool_version=VERSION))
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == ["contract", "name-style", "stage-allocation", "unknown-field"]
    assert rules[1] == {
        "id": "name-style",
        "name": "NameStyle",
        "shortDescription": {"text": "Names read as a sentence, not as a key."},
        "fullDescription": {"text": "Names read as a sentence, not as a key."},
        "help": {"text": "Names read as a sentence, not as a key."},
        "defaultConfiguration": {"level": "warning"},
    }
    assert rules[0]["defaultConfiguration"] == {"level": "error"}
    assert rules[3] == {
        "id": "unknown-field",
        "name": "UnknownField",
        "shortDescription": {"text": "A field the request schema does not have."},
        "fullDescription": {"text": "A field the request schema does not have. Typos included."},
        "help": {
            "text": "A field the request schema does not have. Typos included.\n\n"
            "The API ignores unknown fields without an error."
        },
        "defaultConfiguration": {"level": "error"},
    }


def test_sarif_results() -> None:
    log = sarif(Report(FINDINGS, RULES, files_checked=3, tool_version=VERSION))
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    results = log["runs"][0]["results"]
    assert len(results) == 4
    assert results[0] == {
        "ruleId": "stage-allocation",
        "ruleIndex": 2,
        "level": "error",
        "message": {"text": "allocation 30000 is below the previous stage's 50000"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": "policies/prod%20release.yaml"},
                    "region": {"startLine": 3, "startColumn": 5},
                },
                "logicalLocations": [
                    {"fullyQualifiedName": "$.guardedReleaseConfig.stages[1].allocation", "kind": "member"}
                ],
            }
        ],
    }
    assert [result["level"] for result in results] == ["error", "warning", "warning", "error"]
    for result in results:
        if "ruleIndex" in result:
            assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    assert results[1]["ruleIndex"] == 1
    assert results[3]["ruleIndex"] == 0


def test_sarif_result_of_an_unknown_rule_has_no_rule_index() -> None:
    result = sarif(Report(FINDINGS, RULES, files_checked=3, tool_version=VERSION))["runs"][0]["results"][2]
    assert result["ruleId"] == "not-a-known-rule"
    assert "ruleIndex" not in result


def test_sarif_location_of_a_windows_path() -> None:
    log = sarif(Report(FINDINGS, RULES, files_checked=3, tool_version=VERSION))
    location = log["runs"][0]["results"][3]["locations"][0]
    assert location["physicalLocation"] == {
        "artifactLocation": {"uri": "sub/dir/c.yaml"},
        "region": {"startLine": 12, "startColumn": 9},
    }
    assert location["logicalLocations"] == [{"fullyQualifiedName": "$['odd key']", "kind": "member"}]


# RFC 3986 relative-ref characters: unreserved, sub-delims, ":", "@", "/" and percent-encoded octets.
_URI_REFERENCE = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-F]{2})*")


@pytest.mark.parametrize(
    ("file", "uri"),
    [
        ("a.yaml", "a.yaml"),
        ("policies/prod release.yaml", "policies/prod%20release.yaml"),
        ("./policies/a.yaml", "policies/a.yaml"),
        ("sub\\dir\\c.yaml", "sub/dir/c.yaml"),
        ("100%.yaml", "100%25.yaml"),
        ("odd#name?.yaml", "odd%23name%3F.yaml"),
        ("c:d.yaml", "c%3Ad.yaml"),
        ("résumé.yaml", "r%C3%A9sum%C3%A9.yaml"),
    ],
)
def test_artifact_uri(file: str, uri: str) -> None:
    assert artifact_uri(file) == uri
    assert _URI_REFERENCE.fullmatch(uri)
    assert urlsplit(uri).scheme == ""
    assert unquote(uri) == file.replace("\\", "/").removeprefix("./")


@pytest.mark.parametrize(
    ("rule_id", "name"),
    [("duplicate-key", "DuplicateKey"), ("syntax", "Syntax"), ("a_b.c", "ABC"), ("--", "--")],
)
def test_rule_name(rule_id: str, name: str) -> None:
    assert rule_name(rule_id) == name


def test_github_lines() -> None:
    text = REPORTERS["github"](Report(FINDINGS[:2], RULES, files_checked=2, tool_version=VERSION))
    assert text.splitlines() == [
        "::error file=policies/prod release.yaml,line=3,col=5,title=release-policy [stage-allocation]"
        "::allocation 30000 is below the previous stage's 50000"
        " ($.guardedReleaseConfig.stages[1].allocation)",
        "::warning file=policies/prod release.yaml,line=7,col=1,title=release-policy [name-style]"
        "::odd name ($.name)",
        "release-policy: 1 error, 1 warning in 2 files",
    ]


def test_github_escapes_data_and_properties() -> None:
    finding = Finding(
        "dir,1/100%: a.yaml",
        4,
        2,
        "$['a:b,c']",
        "contract",
        "error",
        "50% off: a, b\r\nand c",
    )
    lines = REPORTERS["github"](Report([finding], RULES, files_checked=1, tool_version=VERSION)).splitlines()
    assert lines[0] == (
        "::error file=dir%2C1/100%25%3A a.yaml,line=4,col=2,title=release-policy [contract]"
        "::50%25 off: a, b%0D%0Aand c ($['a:b,c'])"
    )
    assert len(lines) == 2


def test_github_summary_is_not_a_command() -> None:
    text = REPORTERS["github"](Report([], RULES, files_checked=1, tool_version=VERSION))
    assert text == "release-policy: no problems in 1 file"
    assert not text.startswith("::")


def test_github_title_property_is_escaped() -> None:
    finding = Finding("a.yaml", 1, 1, "$", "odd:rule,id", "warning", "m")
    line = REPORTERS["github"](Report([finding], {}, files_checked=1, tool_version=VERSION)).splitlines()[0]
    assert line == "::warning file=a.yaml,line=1,col=1,title=release-policy [odd%3Arule%2Cid]::m ($)"


def test_every_reporter_is_registered() -> None:
    assert {"text", "json", "sarif", "github"} <= set(REPORTERS)
