"""Output formats for findings, chosen by name. A reporter turns a Report into text; it never prints."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from validator.findings import Finding, RuleInfo

_COLORS = {"error": "\033[31m", "warning": "\033[33m"}
_BOLD, _RESET = "\033[1m", "\033[0m"


@dataclass(frozen=True)
class Report:
    """What one run found, and what a reporter needs to describe it."""

    findings: Sequence[Finding]
    rules: Mapping[str, RuleInfo]
    files_checked: int
    color: bool = False

    def count(self, severity: str) -> int:
        return sum(1 for finding in self.findings if finding.severity == severity)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def render_text(report: Report) -> str:
    """``file:line:col: severity [rule] message (path)``, one a line, then a summary line."""
    lines = []
    for finding in report.findings:
        severity: str = finding.severity
        if report.color:
            severity = f"{_COLORS[finding.severity]}{severity}{_RESET}"
        location = f"{finding.file}:{finding.line}:{finding.column}"
        if report.color:
            location = f"{_BOLD}{location}{_RESET}"
        lines.append(f"{location}: {severity} [{finding.rule}] {finding.message} ({finding.path})")
    files = _plural(report.files_checked, "file")
    if report.findings:
        summary = f"{_plural(report.count('error'), 'error')}, {_plural(report.count('warning'), 'warning')}"
        lines.append(f"{summary} in {files}")
    else:
        lines.append(f"no problems in {files}")
    return "\n".join(lines)


def render_json(report: Report) -> str:
    """``{"findings": [...], "summary": {...}}``, each finding with exactly its fields."""
    payload = {
        "findings": [dataclasses.asdict(finding) for finding in report.findings],
        "summary": {
            "errors": report.count("error"),
            "warnings": report.count("warning"),
            "files": report.files_checked,
        },
    }
    return json.dumps(payload, indent=2, ensure_ascii=False)


REPORTERS: dict[str, Callable[[Report], str]] = {
    "text": render_text,
    "json": render_json,
}
