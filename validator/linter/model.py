"""What the linter works on: the kinds of body, a parsed policy file, and the shape of a rule."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from validator.documents import Document
from validator.findings import Path, RuleInfo

Kind = Literal["create", "update", "order"]
KINDS: tuple[Kind, ...] = ("create", "update", "order")
OPERATIONS: dict[Kind, str] = {
    "create": "PostReleasePolicy",
    "update": "PutReleasePolicy",
    "order": "PostReleasePoliciesOrder",
}
Problem = tuple[Path, str]


@dataclass(frozen=True)
class PolicyFile:
    """One parsed file and the request body kind it holds."""

    document: Document
    kind: Kind

    @property
    def body(self) -> Any:
        return self.document.data


FileCheck = Callable[[Any, Kind], Iterator[Problem]]
ProjectCheck = Callable[[Sequence[PolicyFile]], Iterator[tuple[PolicyFile, Path, str]]]


@dataclass(frozen=True)
class LintRule:
    """A rule: its description, and the one function that finds it (none: the reader does)."""

    info: RuleInfo
    file_check: FileCheck | None = None
    project_check: ProjectCheck | None = None
