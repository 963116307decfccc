"""Findings spelled as JSONPath, and the text and JSON reporters."""

from __future__ import annotations

import json

import pytest

from validator.counts import counted
from validator.findings import Finding, RuleInfo, dotted_path, json_path
from validator.reporters import REPORTERS, Report

FINDINGS = [
    Finding("a.yaml", 3, 5, "$.stages[1].allocation", "stage-allocation", "error", "too big"),
    Finding("a.yaml", 7, 1, "$.name", "name-style", "warning", "odd"),
]
VERSION = "0.1.0"
RULES = {"stage-allocation": RuleInfo("stage-allocation", "error", "why")}


@pytest.mark.parametrize(
    ("segments", "expected"),
    [
        ((), "$"),
        (("a", 0, "b_c"), "$.a[0].b_c"),
        (("/api/v2", "post"), "$['/api/v2'].post"),
        (("it's", "a\\b"), "$['it\\'s']['a\\\\b']"),
        (("$ref",), "$['$ref']"),
    ],
)
def test_json_path(segments: tuple[str | int, ...], expected: str) -> None:
    assert json_path(segments) == expected


def test_dotted_path() -> None:
    assert dotted_path(("guardedReleaseConfig", "stages", 1, "allocation")) == (
        "guardedReleaseConfig.stages[1].allocation"
    )
    assert dotted_path((0, "key")) == "[0].key"
    assert dotted_path(()) == ""


def test_text_reporter() -> None:
    text = REPORTERS["text"](Report(FINDINGS, RULES, files_checked=2, tool_version=VERSION))
    assert text.splitlines() == [
        "a.yaml:3:5: error [stage-allocation] too big ($.stages[1].allocation)",
        "a.yaml:7:1: warning [name-style] odd ($.name)",
        "1 error, 1 warning in 2 files",
    ]


def test_text_reporter_colours_only_when_asked() -> None:
    coloured = REPORTERS["text"](Report(FINDINGS, RULES, files_checked=1, tool_version=VERSION, color=True))
    assert "\033[31merror\033[0m" in coloured
    assert "\033[" not in REPORTERS["text"](Report(FINDINGS, RULES, files_checked=1, tool_version=VERSION))


def test_text_reporter_clean() -> None:
    assert (
        REPORTERS["text"](Report([], RULES, files_checked=1, tool_version=VERSION)) == "no problems in 1 file"
    )


def test_json_reporter() -> None:
    payload = json.loads(REPORTERS["json"](Report(FINDINGS, RULES, files_checked=2, tool_version=VERSION)))
    assert payload["summary"] == {"errors": 1, "warnings": 1, "files": 2}
    assert payload["findings"][0] == {
        "file": "a.yaml",
        "line": 3,
        "column": 5,
        "path": "$.stages[1].allocation",
        "rule": "stage-allocation",
        "severity": "error",
        "message": "too big",
    }


@pytest.mark.parametrize(
    ("count", "noun", "plural", "expected"),
    [(0, "file", None, "0 files"), (1, "file", None, "1 file"), (2, "file", None, "2 files"),
     (1, "policy", "policies", "1 policy"), (2, "policy", "policies", "2 policies")],
)  # fmt: skip
def test_counted(count: int, noun: str, plural: str | None, expected: str) -> None:
    assert counted(count, noun, plural) == expected


def test_text_summary_counts_in_the_singular() -> None:
    one_each = REPORTERS["text"](Report(FINDINGS, RULES, files_checked=1, tool_version=VERSION))
    assert one_each.splitlines()[-1] == "1 error, 1 warning in 1 file"
