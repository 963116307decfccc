"""A count with its noun, singular or plural as the count needs: ``1 policy``, ``2 policies``."""

from __future__ import annotations


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``counted(1, "file")`` is ``1 file``; ``counted(2, "policy", "policies")`` is ``2 policies``."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"
