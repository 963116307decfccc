"""Run the lint rules: collect files, parse each with positions, check each, then each directory."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path as FilePath

from validator.documents import DocumentError, decode, parse
from validator.findings import Finding, json_path
from validator.linter.model import Kind, PolicyFile
from validator.linter.registry import RULE_INFO, RULES

EXTENSIONS = (".json", ".yaml", ".yml")
#: From this many files on, the files are split among worker processes.
PARALLEL_FROM = 200


class LintPathError(Exception):
    """A path given to the linter that does not exist."""


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


def _finding(file: PolicyFile, rule: str, path: tuple[str | int, ...], message: str) -> Finding:
    line, column = file.document.position(path)
    return Finding(file.document.file, line, column, json_path(path), rule, RULE_INFO[rule].severity, message)


def _read(raw: bytes, name: str, kind: Kind | None) -> PolicyFile | Finding:
    try:
        document = parse(decode(raw), name)
    except DocumentError as error:
        severity = RULE_INFO[error.rule].severity
        return Finding(name, error.line, error.column, "$", error.rule, severity, error.message)
    return PolicyFile(document, kind or ("order" if isinstance(document.data, list) else "create"))


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


def lint_bytes(raw: bytes, name: str = "<input>", kind: Kind | None = None) -> tuple[Finding, ...]:
    """Lint one file's content on its own (no project rules). Never raises for any input."""
    read = _read(raw, name, kind)
    return (read,) if isinstance(read, Finding) else tuple(sorted(_check(read)))


def collect(paths: Iterable[str | os.PathLike[str]]) -> list[FilePath]:
    """The files to lint: each file given, and the JSON/YAML files under each directory (not hidden ones)."""
    found: dict[FilePath, None] = {}
    for given in paths:
        path = FilePath(given)
        if path.is_dir():
            for root, directories, names in os.walk(path):
                directories[:] = sorted(d for d in directories if not d.startswith("."))
                for name in sorted(names):
                    if name.lower().endswith(EXTENSIONS):
                        found[FilePath(root, name)] = None
        elif path.exists():
            found[path] = None
        else:
            raise LintPathError(f"{given}: no such file or directory")
    return list(found)


def _lint_path(path: FilePath, kind: Kind | None) -> tuple[PolicyFile | None, list[Finding]]:
    """One file's own findings, and the parsed file for the project rules (None if unreadable)."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        return None, [Finding(str(path), 1, 1, "$", "syntax", "error", f"cannot read: {error.strerror}")]
    read = _read(raw, str(path), kind)
    if isinstance(read, Finding):
        return None, [read]
    return read, _check(read)


def _lint_chunk(chunk: list[FilePath], kind: Kind | None) -> list[tuple[PolicyFile | None, list[Finding]]]:
    return [_lint_path(path, kind) for path in chunk]


def _lint_paths(
    files: list[FilePath], kind: Kind | None, jobs: int
) -> list[tuple[PolicyFile | None, list[Finding]]]:
    # Forked workers inherit the loaded spec and compiled validators, so a worker costs a few
    # milliseconds; below PARALLEL_FROM files that is not worth it. A process with threads
    # is not forked (fork would copy their locks); it lints serially instead.
    if jobs < 2 or len(files) < PARALLEL_FROM:
        return _lint_chunk(files, kind)
    import multiprocessing  # only here: its import alone costs a cold run several milliseconds
    import threading

    if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        return _lint_chunk(files, kind)
    size = -(-len(files) // jobs)
    chunks = [files[start : start + size] for start in range(0, len(files), size)]
    # This process lints the first chunk itself while the workers lint the others.
    with multiprocessing.get_context("fork").Pool(len(chunks) - 1) as pool:
        pending = [pool.apply_async(_lint_chunk, (chunk, kind)) for chunk in chunks[1:]]
        results = _lint_chunk(chunks[0], kind)
        for other in pending:
            results.extend(other.get())
    return results


def lint(
    paths: Iterable[str | os.PathLike[str]], *, kind: Kind | None = None, jobs: int | None = None
) -> LintResult:
    """Lint files and directories; files in one directory form one project. Raises only LintPathError.

    ``jobs`` caps the worker processes (default: one per CPU); large runs are split among them.
    """
    files = collect(paths)
    findings: list[Finding] = []
    projects: dict[FilePath, list[PolicyFile]] = {}
    for path, (read, found) in zip(files, _lint_paths(files, kind, jobs or os.cpu_count() or 1), strict=True):
        findings.extend(found)
        if read is not None:
            projects.setdefault(path.parent.resolve(), []).append(read)
    for members in projects.values():
        findings.extend(_project_findings(members))
    return LintResult(tuple(sorted(findings)), len(files))


def _project_findings(members: Sequence[PolicyFile]) -> list[Finding]:
    return [
        _finding(file, rule.info.id, path, message)
        for rule in RULES
        if rule.project_check is not None
        for file, path, message in rule.project_check(members)
    ]
