"""A fuzz run's violations as SARIF 2.1.0, written by the linter's own writer (``validator.sarif``).

One rule per contract rule (``validator.contract``), described in the contract's words; each result is
located in the spec: a swept constraint at its keyword in the request schema, any other violation at the
operation its last request reached (or the path, for a method no operation serves).
"""

from __future__ import annotations

import json
import re
from importlib import metadata
from pathlib import Path

from validator import contract
from validator import spec as spec_module
from validator.findings import Finding, Report, RuleInfo
from validator.findings import Path as SpecPath
from validator.fuzz.fingerprint import operation
from validator.fuzz.run import FuzzResult
from validator.fuzz.violation import Violation
from validator.sarif import sarif_log
from validator.spec import Spec, to_pointer

_MEMBERS = re.compile(r"[^.\[\]]+")
_COMBINATIONS = ("allOf", "anyOf", "oneOf")


def _schema_place(document: Spec, at: SpecPath, members: list[str], keyword: str) -> SpecPath | None:
    """Where ``keyword`` is written for the body member ``members`` below the schema at ``at``."""
    at = document.follow(at)
    node = document.get(at)
    if not isinstance(node, dict):
        return None
    if not members and keyword in node:
        return (*at, keyword)
    if members:
        head, rest = members[0], members[1:]
        if head.isdigit() and "items" in node:
            found = _schema_place(document, (*at, "items"), rest, keyword)
            if found:
                return found
        if head in node.get("properties", {}):
            found = _schema_place(document, (*at, "properties", head), rest, keyword)
            if found:
                return found
    for combination in _COMBINATIONS:
        for index in range(len(node.get(combination, ()))):
            found = _schema_place(document, (*at, combination, str(index)), members, keyword)
            if found:
                return found
    return None


def location(violation: Violation, document: Spec) -> SpecPath:
    """The place in the spec a violation concerns."""
    if violation.check.startswith("sweep:"):
        operation_id, _, rest = violation.check.removeprefix("sweep:").partition(":")
        where, _, keyword = rest.removesuffix(":inside").rpartition(":")
        found = document.operations.get(operation_id)
        if found is not None and found.request_schema is not None:
            members = [] if where == "body" else _MEMBERS.findall(where)
            place = _schema_place(document, found.request_schema, members, keyword.partition("=")[0])
            return place or document.follow(found.request_schema)
    reached = operation(violation.exchanges[-1]) if violation.exchanges else ""
    for each in document.operations.values():
        if reached == each.operation_id:
            return ("paths", each.path, each.method.lower())
        if reached.endswith(f" on {each.operation_id}"):
            return ("paths", each.path)
    return ("paths",)


def _relative(file: str) -> str:
    """The spec's path as code scanning wants it: relative to the working directory when inside it."""
    try:
        return str(Path(file).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return Path(file).name


def _finding(violation: Violation, document: Spec) -> Finding:
    place = location(violation, document)
    line, column = document.document.position(place)
    return Finding(
        file=_relative(document.file), line=line, column=column, path=to_pointer(place),
        rule=violation.rule, severity="error", message=f"{violation.check}: {violation.message}",
    )  # fmt: skip


def sarif(result: FuzzResult, seed: int) -> str:
    """The SARIF log of a fuzz run (``seed`` is in the reports that replay it, not here)."""
    document = spec_module.bundled()
    # Every rule, broken or not: code scanning closes the alerts of rules a later run no longer breaks.
    rules = {rule.id: RuleInfo(rule.id, "error", rule.text) for rule in contract.RULES}
    findings = [_finding(violation, document) for violation in result.violations]
    try:
        version = metadata.version("release-policy-validator")
    except metadata.PackageNotFoundError:
        version = "0"
    report = Report(findings, rules, files_checked=1, tool_version=version)
    return json.dumps(sarif_log(report, version), indent=2, ensure_ascii=False)
