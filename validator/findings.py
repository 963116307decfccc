"""The result types: a checker's Finding, a run's Report; and JSONPath spelling of locations."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]
PathSegment = str | int
Path = tuple[PathSegment, ...]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, order=True)
class Finding:
    """One problem at one place of one file. Lines and columns are 1-based."""

    file: str
    line: int
    column: int
    path: str
    rule: str
    severity: Severity
    message: str


@dataclass(frozen=True)
class RuleInfo:
    """What a rule is called, how bad its findings are, what it catches and why it exists."""

    id: str
    severity: Severity
    summary: str
    why: str = ""


@dataclass(frozen=True)
class Report:
    """What one run found, and what a reporter needs to describe it."""

    findings: Sequence[Finding]
    rules: Mapping[str, RuleInfo]
    files_checked: int
    #: The tool's version, which some formats (SARIF) state; passed in so no reporter imports the package top.
    tool_version: str
    color: bool = False

    def count(self, severity: str) -> int:
        return sum(1 for finding in self.findings if finding.severity == severity)


def json_path(segments: Iterable[PathSegment]) -> str:
    """Spell a location as JSONPath: ``$.stages[1]['odd key']``."""
    parts = ["$"]
    for segment in segments:
        if isinstance(segment, int):
            parts.append(f"[{segment}]")
        elif _IDENTIFIER.match(segment):
            parts.append(f".{segment}")
        else:
            escaped = segment.replace("\\", "\\\\").replace("'", "\\'")
            parts.append(f"['{escaped}']")
    return "".join(parts)


def dotted_path(segments: Iterable[PathSegment]) -> str:
    """Spell a location inside a body as the API's messages do: ``stages[1].allocation``."""
    return json_path(segments)[1:].lstrip(".")
