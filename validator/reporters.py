"""Output formats for findings, chosen by name. A reporter turns a Report into text; it never prints."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

from validator.counts import counted
from validator.findings import Report

# Callers name the Report where they pick a reporter.
__all__ = ["REPORTERS", "Report", "render_github", "render_json", "render_text"]

_COLORS = {"error": "\033[31m", "warning": "\033[33m"}
_BOLD, _RESET = "\033[1m", "\033[0m"


def _summary(report: Report) -> str:
    files = counted(report.files_checked, "file")
    if not report.findings:
        return f"no problems in {files}"
    counts = f"{counted(report.count('error'), 'error')}, {counted(report.count('warning'), 'warning')}"
    return f"{counts} in {files}"


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
    lines.append(_summary(report))
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


def _command_data(text: str) -> str:
    """Escape a workflow command's message the way the Actions runner unescapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _command_property(text: str) -> str:
    """Escape a workflow command's property value: as data, and ``:`` and ``,`` too."""
    return _command_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: Report) -> str:
    """GitHub Actions annotations: ``::error file=F,line=L,col=C,title=T::message (path)``, one a line.

    A plain summary line closes the output; the runner shows it in the log and makes no annotation of it.
    """
    lines = []
    for finding in report.findings:
        properties = {
            "file": finding.file.replace("\\", "/"),
            "line": str(finding.line),
            "col": str(finding.column),
            "title": f"release-policy [{finding.rule}]",
        }
        spelled = ",".join(f"{name}={_command_property(value)}" for name, value in properties.items())
        message = _command_data(f"{finding.message} ({finding.path})")
        lines.append(f"::{finding.severity} {spelled}::{message}")
    lines.append(f"release-policy: {_summary(report)}")
    return "\n".join(lines)


def _sarif(report: Report) -> str:
    from validator.sarif import render_sarif  # loaded only when asked for: it is not on the lint path

    return render_sarif(report, report.tool_version)


REPORTERS: dict[str, Callable[[Report], str]] = {
    "text": render_text,
    "json": render_json,
    "sarif": _sarif,
    "github": render_github,
}
