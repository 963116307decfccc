"""Bounded delta debugging: the shortest failing sequence within a number of replays.

Hypothesis' own shrinker replays a stateful example thousands of times; over
HTTP that took minutes. A sequence of requests shrinks well by removing
chunks (ddmin), then by trimming each body, with a fixed replay budget.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
#: Replays a candidate; answers the failing prefix it ran (the failure may come earlier), or None.
Attempt = Callable[[Sequence[T]], "Sequence[T] | None"]


def ddmin(items: Sequence[T], attempt: Attempt[T], budget: int) -> tuple[list[T], int]:
    """A smaller sequence that still fails, and the replays left of ``budget``."""
    current = list(items)
    parts = 2
    while len(current) > 1 and budget > 0:
        size = -(-len(current) // parts)
        for start in range(0, len(current), size):
            if budget <= 0:
                break
            budget -= 1
            failing = attempt(current[:start] + current[start + size :])
            if failing is not None:
                current, parts = list(failing), max(parts - 1, 2)
                break
        else:
            if parts >= len(current):
                break
            parts = min(len(current), parts * 2)
    return current, budget


def simplify(
    items: Sequence[T], variants: Callable[[T], Sequence[T]], attempt: Attempt[T], budget: int
) -> list[T]:
    """Each item replaced, again and again, by the first of its simpler ``variants`` that still fails."""
    current = list(items)
    index = 0
    while index < len(current) and budget > 0:
        for variant in variants(current[index]):
            if budget <= 0:
                break
            budget -= 1
            failing = attempt([*current[:index], variant, *current[index + 1 :]])
            if failing is not None:
                current = list(failing)
                break
        else:
            index += 1
    return current
