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


def kind_of(data: Any, kind: Kind | None) -> Kind:
    """The body kind given, else what the data looks like: an array is an order, an object a create."""
    return kind or ("order" if isinstance(data, list) else "create")


@dataclass(frozen=True)
class PolicyFile:
    """One parsed file and the request body kind it holds."""

    document: Document
    kind: Kind

    @property
    def body(self) -> Any:
        return self.document.data


@dataclass(frozen=True, eq=False)
class ProjectView:
    """The files of one directory the run was shown; ``whole``: all of the directory's policy files."""

    files: Sequence[PolicyFile]
    whole: bool = True


FileCheck = Callable[[Any, Kind], Iterator[Problem]]
ProjectProblem = tuple[PolicyFile, Path, str]
#: Called with the rule's own id: the project rules share one replay of the directory.
ProjectCheck = Callable[[str, ProjectView], Iterator[ProjectProblem]]


@dataclass(frozen=True, order=True)
class Edit:
    """Replace ``text[start:end]`` with ``replacement``: a fix touches nothing else of the file."""

    start: int
    end: int
    replacement: str = ""


@dataclass(frozen=True)
class Source:
    """A parsed file with its text, as a fixer sees it."""

    text: str
    document: Document
    kind: Kind


#: Given a problem's path, the edits that fix it safely; none when no fix is certain.
Fixer = Callable[[Source, Path], Sequence[Edit]]


@dataclass(frozen=True)
class LintRule:
    """A rule: its description, the one function that finds it (none: the reader does), and its fix."""

    info: RuleInfo
    file_check: FileCheck | None = None
    project_check: ProjectCheck | None = None
    #: A safe fix for the file check's problems, beside the rule it fixes.
    fix: Fixer | None = None
