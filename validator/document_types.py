"""What a read document is: JSON data plus the line and column of every key and value, and its errors.

Its own module so that ``documents`` (which picks a reader) and the readers
(``json_reader``, ``yaml_reader``, which build a :class:`Document`) both
depend on it rather than on each other.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from validator.findings import Path

#: Nodes visited while building one document; aliases are expanded, so this
#: is what stops a "billion laughs" file from eating the machine.
MAX_NODES = 200_000
#: Deeper than any policy or API description needs, far below the stack.
MAX_DEPTH = 200

Position = tuple[int, int]
PositionTable = dict[Path, Position]


class DocumentError(Exception):
    """A file that cannot be read as a JSON or YAML document; ``rule`` names the kind of problem."""

    def __init__(self, message: str, line: int = 1, column: int = 1, rule: str = "syntax") -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.rule = rule


@dataclass(frozen=True)
class Document:
    """JSON data with the 1-based position of each key and each value."""

    file: str
    data: Any
    #: Paths whose key occurs again in the same object; the last value wins.
    duplicate_keys: tuple[Path, ...]
    #: Computes (key positions, value positions) on first use: clean files never need them.
    locate: Callable[[], tuple[PositionTable, PositionTable]] = field(repr=False, compare=False)

    @functools.cached_property
    def _tables(self) -> tuple[PositionTable, PositionTable]:
        return self.locate()

    @property
    def key_positions(self) -> PositionTable:
        return self._tables[0]

    @property
    def value_positions(self) -> PositionTable:
        return self._tables[1]

    def position(self, path: Path, *, of: str = "key") -> Position:
        """Where ``path`` is written, or its nearest ancestor that is (for missing members)."""
        table = self.key_positions if of == "key" else self.value_positions
        for end in range(len(path), -1, -1):
            found = table.get(path[:end])
            if found is not None:
                return found
        return (1, 1)


def known_tables(
    key_positions: PositionTable, value_positions: PositionTable
) -> tuple[PositionTable, PositionTable]:
    """A ``locate`` for readers that find positions while parsing (a ``functools.partial`` of it pickles)."""
    return key_positions, value_positions


def non_finite(text: str, line: int, column: int) -> DocumentError:
    return DocumentError(
        f"{text} is not a number JSON allows (NaN and infinities have no JSON form)",
        line,
        column,
        rule="non-finite-number",
    )
