"""Run the lint rules: collect files, parse each with positions, check each, then each directory.

Then the configuration chooses rules and severities per file and the YAML
suppressions silence what they name; with no configuration file and no
suppression comment that last step costs nothing.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import TYPE_CHECKING

from validator.documents import DocumentError, decode, parse
from validator.findings import Finding, Severity, json_path
from validator.linter.model import Kind, PolicyFile, ProjectView, kind_of
from validator.linter.registry import RULE_INFO, RULES

if TYPE_CHECKING:  # both load only when a run has a configuration or a suppression
    from validator.linter.config import LintConfig
    from validator.linter.suppressions import Suppression

EXTENSIONS = (".json", ".yaml", ".yml")
#: From this many files on, the files are split among worker processes.
PARALLEL_FROM = 200


class LintPathError(Exception):
    """A path given to the linter that does not exist or holds no policy file."""


@dataclass(frozen=True)
class LintResult:
    findings: tuple[Finding, ...]
    files_checked: int

    @property
    def errors(self) -> int:
        return sum(1 for finding in self.findings if finding.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for finding in self.findings if finding.severity == "warning")


@dataclass(frozen=True)
class _Checked:
    """A file's own findings, the parsed file for the project rules (None if unreadable), its suppressions."""

    read: PolicyFile | None
    findings: list[Finding]
    suppressions: tuple[Suppression, ...] = ()


def _finding(file: PolicyFile, rule: str, path: tuple[str | int, ...], message: str) -> Finding:
    line, column = file.document.position(path)
    return Finding(file.document.file, line, column, json_path(path), rule, RULE_INFO[rule].severity, message)


def _read(raw: bytes, name: str, kind: Kind | None) -> tuple[PolicyFile | Finding, tuple[Suppression, ...]]:
    """The parsed file (or the finding that says why it cannot be), and its suppression comments."""
    suppressions: tuple[Suppression, ...] = ()
    try:
        text = decode(raw)
        # JSON has no comments; a YAML file without the marker has no directive (and costs no import).
        if not name.lower().endswith(".json") and "release-policy:" in text:
            from validator.linter import suppressions as suppressions_module

            suppressions = suppressions_module.scan(text)
        document = parse(text, name)
    except DocumentError as error:
        severity = RULE_INFO[error.rule].severity
        return Finding(name, error.line, error.column, "$", error.rule, severity, error.message), suppressions
    return PolicyFile(document, kind_of(document.data, kind)), suppressions


def _check(file: PolicyFile) -> list[Finding]:
    findings = [
        _finding(
            file, "duplicate-key", path, f"key {path[-1]!r} occurs more than once; only the last value counts"
        )
        for path in file.document.duplicate_keys
    ]
    for rule in RULES:
        if rule.file_check is not None:
            findings.extend(
                _finding(file, rule.info.id, path, message)
                for path, message in rule.file_check(file.body, file.kind)
            )
    return findings


def lint_bytes(
    raw: bytes, name: str = "<input>", kind: Kind | None = None, config: LintConfig | None = None
) -> tuple[Finding, ...]:
    """Lint one file's content on its own (no project rules). Never raises for any input."""
    read, suppressions = _read(raw, name, kind or (config.kind_for(name) if config else None))
    findings = [read] if isinstance(read, Finding) else _check(read)
    return tuple(sorted(_configured(findings, {name: suppressions}, config)))


def collect(paths: Iterable[str | os.PathLike[str]]) -> list[FilePath]:
    """The files to lint: each file given, and the JSON/YAML files under each directory (not hidden ones)."""
    found: dict[FilePath, None] = {}
    for given in paths:
        path = FilePath(given)
        if path.is_dir():
            before = len(found)
            for root, directories, names in os.walk(path):
                directories[:] = sorted(d for d in directories if not d.startswith("."))
                found.update((FilePath(root, name), None) for name in sorted(names) if _is_policy_file(name))
            if len(found) == before:
                raise LintPathError(f"{given}: no policy files here (*.json, *.yaml, *.yml)")
        elif path.exists():
            found[path] = None
        else:
            raise LintPathError(f"{given}: no such file or directory")
    return list(found)


def _is_policy_file(name: str) -> bool:
    return name.lower().endswith(EXTENSIONS)


def _lint_path(path: FilePath, kind: Kind | None) -> _Checked:
    try:
        raw = path.read_bytes()
    except OSError as error:
        return _Checked(
            None, [Finding(str(path), 1, 1, "$", "syntax", "error", f"cannot read: {error.strerror}")]
        )
    read, suppressions = _read(raw, str(path), kind)
    if isinstance(read, Finding):
        return _Checked(None, [read], suppressions)
    return _Checked(read, _check(read), suppressions)


Job = tuple[FilePath, Kind | None]


def _lint_chunk(chunk: list[Job]) -> list[_Checked]:
    return [_lint_path(path, kind) for path, kind in chunk]


def _lint_paths(jobs: list[Job], workers: int) -> list[_Checked]:
    # Forked workers inherit the loaded spec and compiled validators, so a worker costs a few
    # milliseconds; below PARALLEL_FROM files that is not worth it. A process with threads
    # is not forked (fork would copy their locks); it lints serially instead.
    if workers < 2 or len(jobs) < PARALLEL_FROM:
        return _lint_chunk(jobs)
    import multiprocessing  # only here: its import alone costs a cold run several milliseconds
    import threading

    if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        return _lint_chunk(jobs)
    size = -(-len(jobs) // workers)
    chunks = [jobs[start : start + size] for start in range(0, len(jobs), size)]
    # This process lints the first chunk itself while the workers lint the others.
    with multiprocessing.get_context("fork").Pool(len(chunks) - 1) as pool:
        pending = [pool.apply_async(_lint_chunk, (chunk,)) for chunk in chunks[1:]]
        results = _lint_chunk(chunks[0])
        for other in pending:
            results.extend(other.get())
    return results


def lint(
    paths: Iterable[str | os.PathLike[str]],
    *,
    kind: Kind | None = None,
    jobs: int | None = None,
    config: LintConfig | None = None,
) -> LintResult:
    """Lint files and directories; files in one directory form one project.

    Raises only LintPathError. ``kind`` overrides the configuration's kinds; ``jobs`` caps the worker
    processes (default: one per CPU); large runs are split among them.
    """
    if isinstance(paths, (str, os.PathLike)):
        raise TypeError("lint() takes a list of paths, not one path")
    paths = list(paths)
    files = collect(paths)
    kinds = config is not None and config.kinds
    work = [(path, kind or (config.kind_for(str(path)) if kinds and config else None)) for path in files]
    findings: list[Finding] = []
    suppressions: dict[str, tuple[Suppression, ...]] = {}
    projects: dict[FilePath, dict[str, PolicyFile]] = {}
    for (path, _), checked in zip(work, _lint_paths(work, jobs or os.cpu_count() or 1), strict=True):
        findings.extend(checked.findings)
        if checked.suppressions:
            suppressions[str(path)] = checked.suppressions
        if checked.read is not None:
            projects.setdefault(path.parent.resolve(), {})[path.name] = checked.read
    given = [FilePath(path).resolve() for path in paths if FilePath(path).is_dir()]
    for directory, shown in projects.items():
        members = tuple(shown.values())
        # Only the order rule depends on seeing the whole directory; others need no listing of it.
        has_order = any(member.kind == "order" for member in members)
        view = ProjectView(members, not has_order or _whole(directory, shown.keys(), given))
        findings.extend(_project_findings(view))
    return LintResult(tuple(sorted(_configured(findings, suppressions, config))), len(files))


def _whole(directory: FilePath, shown: Iterable[str], given: Sequence[FilePath]) -> bool:
    """Whether the run saw every policy file of the directory."""
    if any(directory == root or root in directory.parents for root in given):
        return True
    names = set(shown)
    with os.scandir(directory) as entries:
        return all(
            entry.name in names for entry in entries if entry.is_file() and _is_policy_file(entry.name)
        )


def _project_findings(view: ProjectView) -> list[Finding]:
    return [
        _finding(file, rule.info.id, path, message)
        for rule in RULES
        if rule.project_check is not None
        for file, path, message in rule.project_check(rule.info.id, view)
    ]


def _configured(
    findings: Sequence[Finding], suppressions: Mapping[str, Sequence[Suppression]], config: LintConfig | None
) -> list[Finding]:
    """The findings each file's rules keep, at their configured severity, less what is suppressed.

    With no configuration and no suppression (the common case) neither module is even imported.
    """
    if not any(suppressions.values()) and (config is None or config.is_default):
        return list(findings)
    from validator.linter import suppressions as suppressions_module
    from validator.linter.config import LintConfig

    config = config or LintConfig()
    by_file: dict[str, list[Finding]] = {file: [] for file in suppressions}
    for finding in findings:
        by_file.setdefault(finding.file, []).append(finding)
    kept: list[Finding] = []
    for file, found in by_file.items():
        rules = config.rules_for(file)
        left, unused = suppressions_module.apply(_chosen(found, rules), suppressions.get(file, ()), file)
        kept.extend(left)
        kept.extend(_chosen(unused, rules))
    return kept


def _chosen(findings: Iterable[Finding], rules: Mapping[str, Severity | None]) -> list[Finding]:
    chosen = []
    for finding in findings:
        severity = rules[finding.rule]
        if severity is not None:
            chosen.append(
                finding if severity == finding.severity else dataclasses.replace(finding, severity=severity)
            )
    return chosen
