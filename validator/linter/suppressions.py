"""Suppressions written where a finding stands, in YAML comments, and the ones that suppress nothing.

``# release-policy: ignore[rule-a, rule-b]`` silences those rules on its own
line and the line below; ``# release-policy: ignore-file[rule]`` before the
document's first line silences them in the whole file. A suppression (or one
rule of it) that silences nothing is itself a finding, ``unused-suppression``,
as ruff's RUF100 reports a stale ``noqa``: suppressions must not outlive the
problem they excused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from validator.findings import Finding
from validator.linter.registry import RULE_INFO

MARK = "release-policy:"
_DIRECTIVE = re.compile(r"(?:^|\s)#\s*release-policy:\s*(ignore(?:-file)?)\[([^\]]*)\]")


@dataclass(frozen=True)
class Suppression:
    """One rule silenced by one comment: in the whole file, or on ``line`` and the line below."""

    line: int
    column: int
    rule: str
    whole_file: bool
    #: An ignore-file below the document's first line: it silences nothing.
    misplaced: bool = False

    def covers(self, finding: Finding) -> bool:
        if self.misplaced or finding.rule != self.rule:
            return False
        return self.whole_file or self.line <= finding.line <= self.line + 1


def scan(text: str) -> tuple[Suppression, ...]:
    """Every suppression in a YAML text (cheap when there is none)."""
    if MARK not in text:
        return ()
    found: list[Suppression] = []
    at_top = True
    for number, line in enumerate(text.splitlines(), start=1):
        match = _DIRECTIVE.search(line)
        if match is not None:
            whole_file = match.group(1) == "ignore-file"
            rules = [rule.strip() for rule in match.group(2).split(",")]
            column = line.index("#", match.start()) + 1
            found.extend(
                Suppression(number, column, rule, whole_file, misplaced=whole_file and not at_top)
                for rule in rules
            )
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and stripped not in ("---", "%YAML 1.2", "%YAML 1.1"):
            at_top = False
    return tuple(found)


def apply(
    findings: Sequence[Finding], suppressions: Iterable[Suppression], file: str
) -> tuple[list[Finding], list[Finding]]:
    """The findings left, and an ``unused-suppression`` warning for each suppression that silenced none."""
    pending = list(suppressions)
    used: set[Suppression] = set()
    kept = []
    for finding in findings:
        covering = [suppression for suppression in pending if suppression.covers(finding)]
        used.update(covering)
        if not covering:
            kept.append(finding)
    unused = [
        Finding(
            file,
            suppression.line,
            suppression.column,
            "$",
            "unused-suppression",
            RULE_INFO["unused-suppression"].severity,
            f"the suppression of {suppression.rule!r} silences nothing here; remove it"
            + (" (ignore-file belongs before the document's first line)" if suppression.misplaced else ""),
        )
        for suppression in pending
        if suppression not in used
    ]
    return kept, unused
