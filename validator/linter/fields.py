"""Fields a request schema does not know, found by walking the body alongside the spec's schema.

The request schemas accept unknown fields because the API ignores them; that
silence is what makes a typo like ``rollbackOnRegresion`` dangerous. The known
names come from the schema itself (following ``$ref``, ``allOf`` and the
``anyOf`` branch that fits the value), so nothing is restated here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from validator.findings import Path
from validator.schema_shapes import shape
from validator.spec import Spec


@dataclass(frozen=True)
class UnknownField:
    path: Path
    name: str
    known: tuple[str, ...]

    def suggestion(self) -> str | None:
        """The known field the author most likely meant, if any is close."""
        close = self._close(1)
        return close[0] if close else None

    def unique_suggestion(self) -> str | None:
        """The one known field close to this name; None when none is, or several are (no safe rename)."""
        close = self._close(2)
        return close[0] if len(close) == 1 else None

    def _close(self, count: int) -> list[str]:
        folded = [name for name in self.known if name.lower() == self.name.lower()]
        if folded:
            return folded
        import difflib  # only for the rare unknown field: not on every run's import path

        return difflib.get_close_matches(self.name, self.known, n=count, cutoff=0.75)


def unknown_fields(spec: Spec, schema: dict[str, Any], body: Any) -> Iterator[UnknownField]:
    """Every object member of ``body`` that ``schema`` does not declare, at any depth."""
    stack: list[tuple[dict[str, Any], Any, Path]] = [(schema, body, ())]
    reported: set[Path] = set()  # a member declared by two applicable schemas is walked twice
    while stack:
        current, value, path = stack.pop()
        if not isinstance(value, (dict, list)):
            continue
        declared, items = shape(spec, current, value)
        if isinstance(value, dict):
            for name, member in value.items():
                if name in declared:
                    stack.extend((child, member, (*path, name)) for child in declared[name])
                elif declared and (*path, name) not in reported:
                    reported.add((*path, name))
                    yield UnknownField((*path, name), name, tuple(sorted(declared)))
        else:
            for index, item in enumerate(value):
                stack.extend((child, item, (*path, index)) for child in items)
