"""SARIF 2.1.0 output, as GitHub code scanning reads it: every rule described, every finding a result.

Standard library only. The log validates against the OASIS SARIF 2.1.0 JSON schema (the tests check it
against a stored copy).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from validator.findings import Finding, Report, RuleInfo

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOOL_NAME = "release-policy"
INFORMATION_URI = "https://pypi.org/project/release-policy-validator/"

_WORD_SEPARATORS = re.compile(r"[^A-Za-z0-9]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def rule_name(rule_id: str) -> str:
    """``duplicate-key`` -> ``DuplicateKey``: the readable name SARIF viewers show beside the id."""
    words = [word for word in _WORD_SEPARATORS.split(rule_id) if word]
    return "".join(word[0].upper() + word[1:] for word in words) or rule_id


def artifact_uri(file: str) -> str:
    """A finding's file as a relative URI reference: POSIX separators, unsafe characters percent-encoded."""
    path = file.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return quote(path, safe="/")


def _first_sentence(text: str) -> str:
    return _SENTENCE_END.split(text.strip(), maxsplit=1)[0]


def _descriptor(info: RuleInfo) -> dict[str, Any]:
    why = info.why.strip()
    help_text = f"{info.summary}\n\n{why}" if why else info.summary
    return {
        "id": info.id,
        "name": rule_name(info.id),
        "shortDescription": {"text": _first_sentence(info.summary) or info.id},
        "fullDescription": {"text": info.summary or info.id},
        "help": {"text": help_text or info.id},
        "defaultConfiguration": {"level": info.severity},
    }


def _result(finding: Finding, rule_index: dict[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {"ruleId": finding.rule}
    if finding.rule in rule_index:
        result["ruleIndex"] = rule_index[finding.rule]
    result["level"] = finding.severity
    result["message"] = {"text": finding.message}
    result["locations"] = [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": artifact_uri(finding.file)},
                # The schema wants both at least 1; a finding about a whole file still points at its start.
                "region": {"startLine": max(finding.line, 1), "startColumn": max(finding.column, 1)},
            },
            "logicalLocations": [{"fullyQualifiedName": finding.path, "kind": "member"}],
        }
    ]
    return result


def sarif_log(report: Report, version: str) -> dict[str, Any]:
    """The SARIF log as a JSON-ready dict: one run, all rules sorted by id, one result per finding.

    ``version`` is the tool's, as the driver states it.
    """
    rule_ids = sorted(report.rules)
    rules = [report.rules[rule_id] for rule_id in rule_ids]
    rule_index = {rule_id: index for index, rule_id in enumerate(rule_ids)}
    driver = {
        "name": TOOL_NAME,
        "version": version,
        "informationUri": INFORMATION_URI,
        "rules": [_descriptor(info) for info in rules],
    }
    return {
        "$schema": SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {"driver": driver},
                "results": [_result(finding, rule_index) for finding in report.findings],
            }
        ],
    }


def render_sarif(report: Report, version: str) -> str:
    """The SARIF 2.1.0 log as JSON text, indented by two."""
    return json.dumps(sarif_log(report, version), indent=2, ensure_ascii=False)
