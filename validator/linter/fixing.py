"""Apply the safe fixes of the rule table to files, pass after pass until nothing is left to fix.

A pass parses the text, asks each enabled rule that has a fixer for its
problems and their edits, and applies those that do not overlap; the next
pass sees the result. So fixing a fixed file changes nothing.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path as FilePath

from validator.documents import DocumentError, decode, parse
from validator.findings import Finding, Severity
from validator.linter import fixes, suppressions
from validator.linter.config import LintConfig
from validator.linter.model import Edit, Kind, Source, kind_of
from validator.linter.registry import RULES
from validator.linter.runner import collect

#: A fix never enables another more than a couple of times; this only bounds a pathological file.
MAX_PASSES = 10


@dataclass(frozen=True)
class FixedFile:
    """A file the fixes changed: its bytes before and after, and the rule of each fix applied."""

    path: str
    original: bytes
    fixed: bytes
    rules: tuple[str, ...]


def fix_bytes(
    raw: bytes, name: str, kind: Kind | None, rules: Mapping[str, Severity | None]
) -> tuple[bytes, tuple[str, ...]]:
    """The content with every safe fix of the enabled rules applied, and the rule of each fix."""
    try:
        text = decode(raw)
    except DocumentError:
        return raw, ()
    applied: list[str] = []
    for _ in range(MAX_PASSES):
        try:
            document = parse(text, name)
        except DocumentError:
            break
        source = Source(text, document, kind_of(document.data, kind))
        silenced = () if name.lower().endswith(".json") else suppressions.scan(text)
        found: list[tuple[str, list[Edit]]] = []
        for rule in RULES:
            if rule.fix is None or rule.file_check is None or rules.get(rule.info.id) is None:
                continue
            for path, _ in rule.file_check(document.data, source.kind):
                line, column = document.position(path)
                where = Finding(name, line, column, "", rule.info.id, "error", "")
                if not any(suppression.covers(where) for suppression in silenced):
                    found.append((rule.info.id, list(rule.fix(source, path))))
        text, taken = fixes.apply(text, [edits for _, edits in found])
        if not taken:
            break
        applied.extend(found[index][0] for index in taken)
    bom = codecs.BOM_UTF8 if raw.startswith(codecs.BOM_UTF8) else b""
    return (bom + text.encode("utf-8") if applied else raw), tuple(applied)


def fix(
    paths: Iterable[str | os.PathLike[str]], *, kind: Kind | None = None, config: LintConfig | None = None
) -> tuple[FixedFile, ...]:
    """The files among ``paths`` that safe fixes would change (nothing is written). Raises LintPathError."""
    config = config or LintConfig()
    changed = []
    for path in collect(paths):
        try:
            raw = FilePath(path).read_bytes()
        except OSError:
            continue  # the lint that follows reports it
        name = str(path)
        fixed, rules = fix_bytes(raw, name, kind or config.kind_for(name), config.rules_for(name))
        if rules:
            changed.append(FixedFile(name, raw, fixed, rules))
    return tuple(changed)
