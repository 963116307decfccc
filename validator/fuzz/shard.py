"""One shard of a fuzz run: which part of the run's work this runner does (``--shard I/N``).

The partition is by name, never by time, so every runner computes the same
one: the distinct names of a kind of work (swept constraints, probes,
Schemathesis operations) are sorted and dealt round the shards, which keeps
them within one item of even; the oracle's search batches go round the shards
(batch ``b`` of shard ``i`` is seeded as batch ``b * N + i`` of one long run).
The tour is one fixed sequence, so it is the first shard's. ``N`` shards
together do the work of one run ``N`` times as long, with no overlap.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

_SPELLING = re.compile(r"(\d+)/(\d+)")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based, as CI matrices count) of ``count``."""

    index: int = 1
    count: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.index <= self.count:
            raise ValueError(f"shard {self.index}/{self.count}: I must be between 1 and N")

    @property
    def whole(self) -> bool:
        return self.count == 1

    @property
    def first(self) -> bool:
        return self.index == 1

    def mine(self, items: Iterable[T], name: Callable[[T], str] = str) -> list[T]:
        """The items this shard owns, in their order; items of one name go to one shard together."""
        listed = list(items)
        if self.whole:
            return listed
        names = sorted({name(item) for item in listed})
        dealt = {each: position % self.count for position, each in enumerate(names)}
        return [item for item in listed if dealt[name(item)] == self.index - 1]

    def batch_seed(self, seed: int, batch: int) -> int:
        """The seed of this shard's ``batch``-th oracle batch: batch ``batch * N + I - 1`` of one run."""
        return seed * 1009 + batch * self.count + self.index - 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


WHOLE = Shard()


def parse(text: str) -> Shard:
    """``"2/4"`` as a :class:`Shard`; ValueError names what is wrong."""
    matched = _SPELLING.fullmatch(text.strip())
    if not matched:
        raise ValueError(f"--shard takes I/N (e.g. 2/4), not {text!r}")
    return Shard(int(matched[1]), int(matched[2]))
